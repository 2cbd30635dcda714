#!/usr/bin/env python3
"""Soak test (issue 11 part 4): the real `rtms-relay serve` fed by `rtms-relay simulate` with many calls for a long
time, sampling the relay's RSS and open file descriptors, and checking that no frame was dropped.

    python3 Tests/Soak/soak.py .build/debug/rtms-relay        # or: make soak

Environment (defaults are the issue's figures):
    SOAK_CALLS=100            concurrent two-party calls
    SOAK_MINUTES=30           how long the calls stream
    SOAK_SAMPLE_SECONDS=10    sampling period
    SOAK_WARMUP_SECONDS=120   growth is measured from the end of the warm-up (default: min(120, a fifth of the run))
    SOAK_RSS_GROWTH_MB=32     allowed RSS growth after warm-up (the highest sample of the last half of the run
                              against the warm-up baseline)
    SOAK_FD_SLACK=4           allowed open-descriptor growth after warm-up (scrapes open short-lived sockets)
    SOAK_WAV=0                1 adds the WAV sink (100 calls write ~6.4 MB/s: 11.5 GB in 30 minutes)
    SOAK_DIR                  where to run (default: a fresh temporary folder, kept for inspection)

It fails (exit 1) when RSS grows past the bound after warm-up, descriptors grow, any sink drops or fails an event,
or the archive shows a frame missing: each stream's archived frames must equal what the simulator says it sent
(its --summary-file, simulator-summary.json), and every party's frame count must equal its timestamp span / 20 ms
+ 1, with no gap. Samples go to samples.csv and the verdict to summary.txt in the run folder.
"""
import csv
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request


def env_number(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def get_health(port):
    try:
        return json.loads(get(f"http://127.0.0.1:{port}/health"))
    except urllib.error.HTTPError as error:  # 503 degraded still carries the report
        return json.loads(error.read().decode())


def metrics(port):
    """Sums each metric family over its labels: {name: total}."""
    totals = {}
    for line in get(f"http://127.0.0.1:{port}/metrics").splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, value = line.rpartition(" ")
        name = name_labels.split("{", 1)[0]
        try:
            totals[name] = totals.get(name, 0.0) + float(value)
        except ValueError:
            pass
    return totals


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for(what, condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"soak: timed out waiting for {what}")


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/rtms-relay")
    calls = int(env_number("SOAK_CALLS", 100))
    minutes = env_number("SOAK_MINUTES", 30)
    period = env_number("SOAK_SAMPLE_SECONDS", 10)
    duration = minutes * 60
    warmup = env_number("SOAK_WARMUP_SECONDS", min(120, duration / 5))
    rss_bound_kib = env_number("SOAK_RSS_GROWTH_MB", 32) * 1024
    fd_slack = int(env_number("SOAK_FD_SLACK", 4))
    with_wav = os.environ.get("SOAK_WAV", "0") == "1"
    folder = os.environ.get("SOAK_DIR") or tempfile.mkdtemp(prefix="rtms-soak-")
    os.makedirs(folder, exist_ok=True)

    port, sim_http = free_port(), free_port()
    sinks = ["  page: {type: web}", "  archive: {type: sqlite, path: data/archive.sqlite}"]
    if with_wav:
        sinks.append("  recordings: {type: wav, directory: data/recordings}")
    with open(os.path.join(folder, "config.yaml"), "w") as config:
        config.write(f"""server: {{host: 127.0.0.1, port: {port}, allow_anonymous: true}}
zoom:
  client_id: SOAKCLIENT
  client_secret: SOAKSECRET
  webhook_secret: SOAKWEBHOOKSECRET
  oauth_url: http://127.0.0.1:{sim_http}
  api_url: http://127.0.0.1:{sim_http}/v2
  rtms_allowed_hosts: ["127.0.0.1"]
  allow_insecure_rtms: true
token_store: {{path: data/tokens.sqlite}}
sinks:
""" + "\n".join(sinks) + "\n")

    print(f"soak: {calls} calls for {minutes:g} min, sampling every {period:g} s, warm-up {warmup:g} s, in {folder}", flush=True)
    relay_log = open(os.path.join(folder, "relay.log"), "w")
    relay = subprocess.Popen([binary, "serve", "--config", "config.yaml", "--log-level", "warning"], cwd=folder,
                             stdout=relay_log, stderr=subprocess.STDOUT)
    simulator = None
    try:
        wait_for("the relay to listen", lambda: get_health(port) is not None, 60)
        sim_dir = os.path.join(folder, "simulator")
        os.makedirs(sim_dir, exist_ok=True)
        simulator = subprocess.Popen([
            binary, "simulate", "--relay", f"http://127.0.0.1:{port}", "--calls", str(calls), "--http-port", str(sim_http),
            "--client-id", "SOAKCLIENT", "--client-secret", "SOAKSECRET", "--secret-token", "SOAKWEBHOOKSECRET",
            "--summary-file", os.path.join(folder, "simulator-summary.json"), "--log-level", "warning"], cwd=sim_dir, stdout=open(os.path.join(folder, "simulator.log"), "w"), stderr=subprocess.STDOUT)
        wait_for(f"{calls} streams", lambda: get_health(port)["streams"] == calls, 120)

        samples = []
        start = time.monotonic()
        with open(os.path.join(folder, "samples.csv"), "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["seconds", "rss_kib", "fds", "streams", "audio_frames", "dropped", "failed", "degraded", "queue_depth"])
            while True:
                elapsed = time.monotonic() - start
                totals = metrics(port)
                row = [round(elapsed), rss_kib(relay.pid), open_fds(relay.pid), int(totals.get("rtms_relay_streams_active", 0)),
                       int(totals.get("rtms_relay_audio_frames_total", 0)), int(totals.get("rtms_relay_sink_dropped_total", 0)),
                       int(totals.get("rtms_relay_sink_failed_total", 0)), int(totals.get("rtms_relay_sink_degraded", 0)),
                       int(totals.get("rtms_relay_sink_queue_depth", 0))]
                samples.append(row)
                writer.writerow(row)
                out.flush()
                print("soak: t=%4ds rss=%6.1f MB fds=%4d streams=%d frames=%d dropped=%d failed=%d degraded=%d queued=%d"
                      % (row[0], row[1] / 1024, *row[2:]), flush=True)
                if elapsed >= duration or relay.poll() is not None:
                    break
                time.sleep(max(0.0, min(period, duration - elapsed)))

        # Hang up every call (the simulator stops the streams), then stop the relay cleanly.
        simulator.send_signal(signal.SIGTERM)
        simulator.wait(timeout=60)
        wait_for("every stream stopped", lambda: get_health(port)["streams"] == 0, 60)
        wait_for("the sinks' queues drained", lambda: all(s["depth"] == 0 for s in get_health(port)["sinks"].values()), 60)
        final = metrics(port)
        per_sink = {name: (sink["dropped"], sink["failed"]) for name, sink in get_health(port)["sinks"].items()}
        relay.send_signal(signal.SIGTERM)
        status = relay.wait(timeout=30)
    finally:
        for process in (simulator, relay):
            if process and process.poll() is None:
                process.kill()

    failures = []
    after = [s for s in samples if s[0] >= warmup]
    if len(after) < 2:
        failures.append(f"too few samples after the warm-up ({len(after)}): run longer or sample more often")
    else:
        base_rss, base_fds = after[0][1], after[0][2]
        late = after[len(after) // 2:]
        rss_growth = max(s[1] for s in late) - base_rss
        fd_growth = max(s[2] for s in after) - base_fds
        if rss_growth > rss_bound_kib:
            failures.append(f"RSS grew {rss_growth / 1024:.1f} MB after warm-up (bound {rss_bound_kib / 1024:.0f} MB)")
        if fd_growth > fd_slack:
            failures.append(f"open descriptors grew by {fd_growth} after warm-up (slack {fd_slack})")
    if any(s[3] != calls for s in samples):
        failures.append(f"streams active varied: {sorted(set(s[3] for s in samples))}")
    if final.get("rtms_relay_sink_dropped_total", 0) or final.get("rtms_relay_sink_failed_total", 0):
        failures.append(f"sinks dropped {final.get('rtms_relay_sink_dropped_total', 0):.0f} and failed "
                        f"{final.get('rtms_relay_sink_failed_total', 0):.0f} events")
    if status != 0:
        failures.append(f"the relay exited {status} on SIGTERM")

    # Every party's audio is contiguous: frames = span / 20 ms + 1, and no gap, in the archive's statistics.
    db = sqlite3.connect(f"file:{os.path.join(folder, 'data/archive.sqlite')}?mode=ro", uri=True)
    parties = db.execute("SELECT stream_id, channel, frames, gaps, first_timestamp, last_timestamp FROM audio_channels").fetchall()
    archived_frames = sum(p[2] for p in parties)
    # What Zoom's side sent is the simulator's own count (its --summary-file), not a figure of the relay's.
    try:
        with open(os.path.join(folder, "simulator-summary.json")) as f:
            sent = json.load(f)
    except (OSError, ValueError) as error:
        sent = None
        failures.append(f"the simulator wrote no summary ({error})")
    sent_frames = sent["audio_frames_sent"] if sent else -1
    if sent:
        archived_per_stream = {}
        for p in parties:
            archived_per_stream[p[0]] = archived_per_stream.get(p[0], 0) + p[2]
        short = [(stream, frames, archived_per_stream.get(stream, 0)) for stream, frames in sorted(sent["audio_frames_sent_per_stream"].items())
                 if archived_per_stream.get(stream, 0) != frames]
        if short:
            failures.append(f"{len(short)} streams archived a frame count other than the simulator sent (stream, sent, archived): {short[:5]}")
        if len(sent["audio_frames_sent_per_stream"]) != calls:
            failures.append(f"the simulator reports {len(sent['audio_frames_sent_per_stream'])} streams, expected {calls}")
    if len(parties) != 2 * calls:
        failures.append(f"the archive has {len(parties)} parties, expected {2 * calls}")
    missing = [(p[0], p[1], (p[5] - p[4]) // 20 + 1 - p[2], p[3]) for p in parties if p[3] or (p[5] - p[4]) // 20 + 1 != p[2]]
    if missing:
        failures.append(f"{len(missing)} parties miss frames (stream, channel, missing, gaps): {missing[:5]}")

    lines = [
        f"calls {calls}, streamed {samples[-1][0] if samples else 0} s, {len(samples)} samples every {period:g} s, warm-up {warmup:g} s",
        f"RSS MB: first {samples[0][1] / 1024:.1f}, after warm-up {after[0][1] / 1024:.1f}, max {max(s[1] for s in samples) / 1024:.1f}, last {samples[-1][1] / 1024:.1f}" if after else "RSS: n/a",
        f"open fds: after warm-up {after[0][2]}, min {min(s[2] for s in after)}, max {max(s[2] for s in after)}, last {samples[-1][2]}" if after else "fds: n/a",
        f"audio frames sent by the simulator {sent_frames}, published {final.get('rtms_relay_audio_frames_total', 0):.0f}, archived per-party statistics {archived_frames}",
        f"sink events dropped {final.get('rtms_relay_sink_dropped_total', 0):.0f}, failed {final.get('rtms_relay_sink_failed_total', 0):.0f} "
        f"(per sink, dropped/failed: {per_sink}); relay exit {status}",
        "verdict: " + ("PASS" if not failures else "FAIL: " + "; ".join(failures)),
    ]
    with open(os.path.join(folder, "summary.txt"), "w") as summary:
        summary.write("\n".join(lines) + "\n")
    print("\n".join("soak: " + line for line in lines))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
