#!/usr/bin/env python3
"""rtms-relay against Zoom's official RTMS SDK (PyPI rtms==1.1.0), same machine, same run (issue 10 part 3).

For every call count N it runs, one after the other:
  relay: `rtms-relay bench --calls N --seconds S --warmup W --sinks wav --json` (the relay in-process, the simulator
         in a child process);
  sdk:   `rtms-relay simulate --calls N --ready-file ...` plus bench/sdk_client.py (one rtms.Client per stream,
         one WAV per party per stream) with the same window and warm-up;
and reports CPU seconds per million frames for each, their ratio, and whether each kept up in real time:
frames/s >= 99% of offered (100 per call) and no frame lost. Then it steps the call count up for each side
until it fails (doubling, then halving the interval), within a time budget, to find the most calls each
sustains. Prints a table and writes everything to --out as JSON.

    .venv/bin/python bench/compare.py --relay-binary .build/release/rtms-relay --out bench-result.json
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

CLIENT_ID = "BENCHSDKCLIENT"
CLIENT_SECRET = "bench-sdk-client-secret"
HERE = os.path.dirname(os.path.abspath(__file__))


def load_average():
    with open("/proc/loadavg") as handle:
        return [float(x) for x in handle.read().split()[:3]]


def process_cpu(pid):
    """User + system CPU seconds of a child process, from /proc/PID/stat (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def verdict(args, result, hangup_allowance_per_call=0):
    """Real time: frames/s >= 99% of offered, p99 latency at most --max-p99-ms, and nothing lost (the SDK side:
    nothing but what it drops at hang-up).

    The official SDK client leaves on the stop message, so whatever it has not read by then is lost: 1 to 4
    frames per call here even with a p99 latency of 10 ms. Its check lets sent-minus-received reach
    HANGUP_ALLOWANCE_PER_CALL frames a call (50 ms of audio per party). The relay reads every socket until Zoom
    closes it, so it gets no allowance. Loss inside a stream never passes (relay: a sink dropped or failed
    events; SDK: a gap in a party's timestamps). The latency bound catches a receiver that keeps pace but
    seconds behind (its frames/s look fine).
    """
    p99 = result["latency_ms"].get("p99")
    return (result["frames_per_second"] >= 0.99 * result["offered_frames_per_second"]
            and result["hangup_lost"] <= hangup_allowance_per_call * result["calls"] and result["stream_lost"] == 0
            and p99 is not None and p99 <= args.max_p99_ms)


HANGUP_ALLOWANCE_PER_CALL = 5  # SDK side only: frames a call at hang-up (50 ms per party, the p99 target)


def run_relay(args, calls):
    """`rtms-relay bench --sinks wav --json`; the relay's own figures."""
    command = [args.relay_binary, "bench", "--calls", str(calls), "--seconds", str(args.seconds),
               "--warmup", str(args.warmup), "--sinks", "wav", "--json"]
    load = load_average()
    started = time.monotonic()
    result = {"side": "relay", "calls": calls, "load_before": load}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.seconds + args.warmup + 300)
    except subprocess.TimeoutExpired:
        result.update(ok=False, error="rtms-relay bench did not finish in time", wall_seconds=time.monotonic() - started)
        return result
    result["wall_seconds"] = time.monotonic() - started
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        result.update(ok=False, error=(done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1])
        return result
    bench = json.loads(lines[-1])
    fps, offered, lost = bench["frames_per_second"], bench["offered_frames_per_second"], bench["frames_lost"]
    hangup_lost = max(0, bench["frames_sent"] - bench["frames_received"])
    sink_lost = lost - hangup_lost  # `rtms-relay bench`: frames_lost = sent - received + the most any sink lost
    result.update({
        "window_seconds": bench["window_seconds"], "frames_per_second": fps, "offered_frames_per_second": offered,
        "cpu_seconds": bench["relay_cpu_seconds"], "cpu_seconds_per_million_frames": bench["relay_cpu_seconds_per_million_frames"],
        "simulator_cpu_seconds": bench.get("simulator_cpu_seconds"), "frames_sent": bench["frames_sent"],
        "frames_received": bench["frames_received"], "frames_lost": lost, "latency_ms": bench["latency_ms"],
        "peak_rss_bytes": bench["peak_rss_bytes"], "hangup_lost": hangup_lost, "stream_lost": sink_lost, "bench": bench,
    })
    result["ok"] = verdict(args, result)
    return result


def run_sdk(args, calls):
    """The simulator and bench/sdk_client.py as two child processes; the SDK client's own figures."""
    folder = tempfile.mkdtemp(prefix=f"rtms-sdk-bench-{calls}-")
    ready, summary = os.path.join(folder, "ready.json"), os.path.join(folder, "summary.json")
    load = load_average()
    started = time.monotonic()
    result = {"side": "sdk", "calls": calls, "load_before": load, "folder": folder}
    with open(os.path.join(folder, "simulator.log"), "w") as sim_log, open(os.path.join(folder, "sdk_client.log"), "w") as client_log:
        simulator = subprocess.Popen(
            [args.relay_binary, "simulate", "--calls", str(calls), "--ready-file", ready, "--summary-file", summary,
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET, "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=sim_log)
        client = subprocess.Popen(
            [args.python, os.path.join(HERE, "sdk_client.py"), "--ready-file", ready, "--client-id", CLIENT_ID,
             "--client-secret", CLIENT_SECRET, "--out-dir", os.path.join(folder, "recordings"),
             "--warmup", str(args.warmup), "--seconds", str(args.seconds)] + (["--threads", str(args.sdk_threads)] if args.sdk_threads else []),
            stdout=subprocess.PIPE, stderr=client_log, text=True)
        try:
            lines = []
            # The client marks its window's start and end on stdout: the simulator's CPU over the same window.
            sim_cpu_start = sim_cpu_stop = None
            for line in client.stdout:
                lines.append(line)
                if '"window_start"' in line:
                    sim_cpu_start = process_cpu(simulator.pid)
                if '"window_done"' in line:
                    sim_cpu_stop = process_cpu(simulator.pid)
                    break
            simulator.send_signal(signal.SIGTERM)  # hang up every call; the simulator writes its summary
            simulator.wait(timeout=120)
            lines += client.stdout.readlines()
            client.wait(timeout=60)
        except subprocess.TimeoutExpired as error:
            lines.append(json.dumps({"error": f"{error.cmd[1] if len(error.cmd) > 1 else error.cmd[0]} did not exit in time; see {folder}"}))
        finally:
            for process in (client, simulator):
                if process.poll() is None:
                    process.kill()
                    process.wait()
    result["wall_seconds"] = time.monotonic() - started
    objects = [json.loads(line) for line in lines if line.startswith("{")]
    final = objects[-1] if objects and not ({"window_start", "window_done"} & objects[-1].keys()) else None
    if final is None or "error" in final or "frames_per_second" not in final:
        result.update(ok=False, error=(final or {}).get("error") or f"sdk client exit status {client.returncode}; see {folder}")
        return result
    try:
        with open(summary) as handle:
            sent = json.load(handle)["audio_frames_sent"]
    except (OSError, ValueError, KeyError):
        result.update(ok=False, error=f"the simulator wrote no summary; see {folder}")
        return result
    fps, offered = final["frames_per_second"], final["offered_frames_per_second"]
    hangup_lost = max(0, sent - final["frames_received"])
    sim_cpu = sim_cpu_stop - sim_cpu_start if sim_cpu_start is not None and sim_cpu_stop is not None else None
    result.update({
        "window_seconds": final["window_seconds"], "frames_per_second": fps, "offered_frames_per_second": offered,
        "cpu_seconds": final["cpu_seconds"], "cpu_seconds_per_million_frames": final["cpu_seconds_per_million_frames"],
        "simulator_cpu_seconds": sim_cpu, "frames_sent": sent, "frames_received": final["frames_received"],
        "frames_lost": hangup_lost + final["gap_frames"], "latency_ms": final["latency_ms"],
        "peak_rss_bytes": final["peak_rss_bytes"], "threads": final["threads"], "hangup_lost": hangup_lost,
        "stream_lost": final["gap_frames"], "client": final,
    })
    result["ok"] = verdict(args, result, HANGUP_ALLOWANCE_PER_CALL)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
        del result["folder"]
    return result


def describe(result):
    if result is None:
        return "-"
    if "error" in result:
        return "error"
    return "yes" if result["ok"] else "NO"


def print_row(calls, relay, sdk):
    def cpu(r):
        return f"{r['cpu_seconds_per_million_frames']:9.1f}" if r and "cpu_seconds_per_million_frames" in r else f"{'-':>9}"

    def fps(r):
        return f"{r['frames_per_second']:7.0f}" if r and "frames_per_second" in r else f"{'-':>7}"

    def p99(r):
        value = (r or {}).get("latency_ms", {}).get("p99") if r else None
        return f"{value:5d}" if isinstance(value, int) else f"{'-':>5}"

    def lost(r):
        return f"{r['frames_lost']:6d}" if r and "frames_lost" in r else f"{'-':>6}"

    ratio = f"{'-':>9}"
    if relay and sdk and relay.get("cpu_seconds_per_million_frames") and sdk.get("cpu_seconds_per_million_frames"):
        ratio = f"{sdk['cpu_seconds_per_million_frames'] / relay['cpu_seconds_per_million_frames']:9.2f}"
    load = (relay or sdk)["load_before"][0]
    print(f"{calls:6d} {calls * 100:8d} | {cpu(relay)} {fps(relay)} {p99(relay)} {lost(relay)} {describe(relay):>5} | "
          f"{cpu(sdk)} {fps(sdk)} {p99(sdk)} {lost(sdk)} {describe(sdk):>5} | {ratio} | {load:5.2f}", flush=True)


HEADER = (f"{'calls':>6} {'offered':>8} | {'relay CPU':>9} {'fps':>7} {'p99':>5} {'lost':>6} {'ok?':>5} | "
          f"{'SDK CPU':>9} {'fps':>7} {'p99':>5} {'lost':>6} {'ok?':>5} | {'SDK/relay':>9} | {'load':>5}\n"
          f"{'':6} {'frames/s':>8} | {'s/Mframe':>9} {'':7} {'ms':>5} {'':6} {'':5} | {'s/Mframe':>9} {'':7} {'ms':>5} {'':6} {'':5} | "
          f"{'CPU/frame':>9} | {'1-min':>5}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--relay-binary", required=True, help="rtms-relay executable (use a release build)")
    parser.add_argument("--calls", default="10,50,100,200", help="comma-separated call counts, run for both sides")
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window of every run")
    parser.add_argument("--warmup", type=float, default=5.0, help="warm-up of every run, after every call is connected")
    parser.add_argument("--budget-minutes", type=float, default=14.0,
                        help="stop starting runs once this much time has passed (the search for the maximum stops first)")
    parser.add_argument("--max-calls", type=int, default=2000, help="upper bound of the search for the maximum")
    parser.add_argument("--max-p99-ms", type=int, default=200,
                        help="p99 latency a run may have and still count as real time (SPEC's target is 50 on a quiet machine)")
    parser.add_argument("--no-search", action="store_true", help="only the listed call counts")
    parser.add_argument("--sdk-threads", type=int, default=0, help="SDK EventLoopPool threads (default: one per 25 calls)")
    parser.add_argument("--python", default=sys.executable, help="Python with rtms==1.1.0 installed, for sdk_client.py")
    parser.add_argument("--keep", action="store_true",
                        help="keep every SDK run's folder (WAV files, logs); a failed run's folder is always kept")
    parser.add_argument("--out", default="bench-compare.json", help="JSON result file")
    args = parser.parse_args()
    try:
        counts = sorted({int(x) for x in args.calls.split(",") if x.strip()})
    except ValueError:
        parser.error(f"--calls must be comma-separated integers, got {args.calls!r}")
    if not counts or counts[0] < 1 or args.seconds <= 0 or args.warmup < 0 or args.max_calls < 1:
        parser.error("--calls must be positive integers; --seconds and --max-calls positive; --warmup 0 or more")
    if not os.access(args.relay_binary, os.X_OK):
        parser.error(f"--relay-binary {args.relay_binary} is not an executable")
    if subprocess.run([args.python, "-c", "import rtms"], capture_output=True).returncode != 0:
        parser.error(f"{args.python} cannot import rtms (pip install rtms==1.1.0)")
    args.relay_binary = os.path.abspath(args.relay_binary)

    began = time.monotonic()
    budget = args.budget_minutes * 60
    runs = {"relay": {}, "sdk": {}}
    runners = {"relay": run_relay, "sdk": run_sdk}
    durations = {"relay": [], "sdk": []}

    def affordable(side, calls):
        """Whether a run fits in what is left of the budget: its expected wall time grows with the call count."""
        past = durations[side]
        expected = max((d / c * calls for c, d in past), default=args.seconds + args.warmup + 15)
        expected = max(expected, args.seconds + args.warmup + 5)
        return time.monotonic() - began + expected <= budget

    def run(side, calls):
        result = runners[side](args, calls)
        runs[side][calls] = result
        durations[side].append((calls, result["wall_seconds"]))
        return result

    print(f"rtms-relay vs Zoom RTMS SDK (rtms==1.1.0): {args.seconds:g} s window, {args.warmup:g} s warm-up, "
          f"wav recordings; {os.cpu_count()} CPUs; load {load_average()}\n"
          f"real time = frames/s >= 99% of offered, p99 <= {args.max_p99_ms} ms, no loss in a stream, "
          f"no loss at hang-up (SDK: <= {HANGUP_ALLOWANCE_PER_CALL} frames a call)", flush=True)
    print(HEADER, flush=True)
    for calls in counts:
        for side in ("relay", "sdk"):
            if affordable(side, calls):
                run(side, calls)
        print_row(calls, runs["relay"].get(calls), runs["sdk"].get(calls))

    # The most calls each side sustains: from the listed runs, double until a run fails, then halve the interval.
    maxima = {}
    for side in ("relay", "sdk"):
        maxima[side] = {"searched": not args.no_search}
    if not args.no_search:
        pending = ["relay", "sdk"]
        while pending:
            for side in list(pending):
                passed = [c for c, r in runs[side].items() if r.get("ok")]
                failed = [c for c, r in runs[side].items() if not r.get("ok")]
                low = max([c for c in passed if all(f > c for f in failed)], default=0)
                high = min([c for c in failed if c > low], default=None)
                if high is None:
                    candidate = min(low * 2, args.max_calls) if low else None
                    if candidate is None or candidate == low:
                        pending.remove(side)
                        continue
                elif high - low > max(2, low // 10):
                    candidate = (low + high) // 2
                else:
                    pending.remove(side)
                    continue
                if not affordable(side, candidate):
                    pending.remove(side)
                    maxima[side]["stopped_by_budget"] = True
                    continue
                result = run(side, candidate)
                print_row(candidate, result if side == "relay" else None, result if side == "sdk" else None)
    for side in ("relay", "sdk"):
        passed = [c for c, r in runs[side].items() if r.get("ok")]
        failed = [c for c, r in runs[side].items() if not r.get("ok")]
        low = max([c for c in passed if all(f > c for f in failed)], default=0)
        high = min([c for c in failed if c > low], default=None)
        maxima[side].update(sustained=low, first_failure=high)

    print()
    for side, name in (("relay", "rtms-relay"), ("sdk", "Zoom SDK")):
        m = maxima[side]
        failure = f"fails at {m['first_failure']}" if m["first_failure"] else "no failure seen" + \
            (" (budget)" if m.get("stopped_by_budget") else f" (cap {args.max_calls})" if m["searched"] else "")
        print(f"most calls in real time  {name:10s} {m['sustained']:5d}  ({failure})")
    ratios = {c: runs["sdk"][c]["cpu_seconds_per_million_frames"] / runs["relay"][c]["cpu_seconds_per_million_frames"]
              for c in counts if c in runs["sdk"] and c in runs["relay"]
              and runs["sdk"][c].get("cpu_seconds_per_million_frames") and runs["relay"][c].get("cpu_seconds_per_million_frames")}
    if ratios:
        print("SDK CPU per frame / relay CPU per frame: " + ", ".join(f"{r:.2f} at {c}" for c, r in ratios.items()))
    for side in ("relay", "sdk"):
        for calls, result in sorted(runs[side].items()):
            if "error" in result:
                print(f"{side} at {calls} calls: {result['error']}")
    print(f"load average at the end: {load_average()}; total {time.monotonic() - began:.0f} s")

    report = {
        "window_seconds": args.seconds, "warmup_seconds": args.warmup, "cpus": os.cpu_count(),
        "max_p99_ms": args.max_p99_ms, "hangup_allowance_frames_per_call": HANGUP_ALLOWANCE_PER_CALL,
        "relay_binary": args.relay_binary, "calls": counts, "maxima": maxima,
        "cpu_ratio_sdk_over_relay": ratios,
        "runs": {side: [runs[side][c] for c in sorted(runs[side])] for side in runs},
        "load_at_end": load_average(), "total_seconds": time.monotonic() - began,
    }
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
