#!/usr/bin/env python3
"""Draws BENCHMARKS.md's chart: relay CPU per frame and p99 latency against calls, one line per build.

Reads bench/results.json (the medians the BENCHMARKS.md tables give, one series per build) and writes an SVG with
two panels side by side. Standard library only, so it runs anywhere `make` does:

    python3 bench/chart.py                      # bench/results.json -> docs/bench-chart.svg
    python3 bench/chart.py --data F --out G
"""
import argparse
import json
import math
from pathlib import Path
from xml.sax.saxutils import escape

COLOURS = ["#9a9a9a", "#1f6fd1", "#d1581f", "#2a9d4b"]
PANEL_W, PANEL_H, MARGIN = 420, 300, 56


def nice_ceiling(value):
    """The next 1, 2 or 5 × 10^n at or above value."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def panel(series, key, title, unit, x0, calls_max):
    points = [p for s in series for p in s["points"] if p.get(key) is not None]
    y_max = nice_ceiling(max(p[key] for p in points) * 1.1) if points else 1
    left, top = x0 + MARGIN, MARGIN / 2 + 20
    width, height = PANEL_W - MARGIN - 16, PANEL_H - MARGIN - 30

    def x(calls):
        return left + width * calls / calls_max

    def y(value):
        return top + height - height * value / y_max

    out = [f'<text x="{left + width / 2}" y="{top - 14}" text-anchor="middle" font-weight="bold">{escape(title)}</text>',
           f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top + height}" stroke="#333"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#333"/>']
    for i in range(6):
        value = y_max * i / 5
        out.append(f'<line x1="{left - 4}" y1="{y(value):.1f}" x2="{left + width}" y2="{y(value):.1f}" stroke="#e4e4e4"/>')
        out.append(f'<text x="{left - 8}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    for i in range(6):
        calls = calls_max * i / 5
        out.append(f'<text x="{x(calls):.1f}" y="{top + height + 18}" text-anchor="middle">{calls:g}</text>')
    out.append(f'<text x="{left + width / 2}" y="{top + height + 38}" text-anchor="middle">calls</text>')
    out.append(f'<text x="{x0 + 14}" y="{top + height / 2}" text-anchor="middle" transform="rotate(-90 {x0 + 14} {top + height / 2})">{escape(unit)}</text>')
    for index, s in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        pts = sorted((p["calls"], p[key]) for p in s["points"] if p.get(key) is not None)
        if not pts:
            continue
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{x(c):.1f},{y(v):.1f}" for c, v in pts)}"/>')
        out += [f'<circle cx="{x(c):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>' for c, v in pts]
    return out


def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(here / "results.json"))
    parser.add_argument("--out", default=str(here.parent / "docs" / "bench-chart.svg"))
    args = parser.parse_args()
    data = json.loads(Path(args.data).read_text())
    series = data["series"]
    calls_max = nice_ceiling(max(p["calls"] for s in series for p in s["points"]))
    body = panel(series, "cpu_us_per_frame", "relay CPU per frame (default sinks)", "µs per frame", 0, calls_max)
    body += panel(series, "p99_ms", "p99 latency, slowest sink", "ms", PANEL_W, calls_max)
    legend_y = PANEL_H + 22
    for index, s in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        lx = MARGIN + index * 260
        body.append(f'<rect x="{lx}" y="{legend_y - 10}" width="14" height="4" fill="{colour}"/>')
        body.append(f'<text x="{lx + 20}" y="{legend_y - 5}">{escape(s["label"])}</text>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * PANEL_W}" height="{PANEL_H + 34}" '
           f'font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/>'
           + "".join(body) + "</svg>\n")
    Path(args.out).write_text(svg)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
