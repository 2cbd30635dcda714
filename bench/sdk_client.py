#!/usr/bin/env python3
"""The job `rtms-relay bench --sinks wav` does, done with Zoom's official RTMS SDK (PyPI rtms==1.1.0).

Reads the ready file of `rtms-relay simulate --ready-file F` (the streams the simulator started), joins every
stream with its own rtms.Client, the clients spread over an rtms.EventLoopPool (the SDK's pattern for many
streams: "1 thread per ~25 clients"), and writes one WAV per party per stream (16 kHz mono 16-bit, Python's
`wave` module; like the relay's WAV sink it writes each party's audio once a second, not once a frame). Once every stream has delivered audio and a warm-up has passed, it measures a window: frames
received, and this process's CPU (user + system, getrusage RUSAGE_SELF: the Python code and the SDK's C threads).

It prints `{"window_start": true}` and `{"window_done": true}` on lines of their own as the window opens and
closes (so a driver can sample the simulator's CPU over the same window and then hang up), then keeps receiving until every stream has left (the
simulator hangs up on SIGTERM) or no audio arrives for --quiet seconds, and prints one JSON object with the
window's figures and the totals. Exit status 0 = every stream joined and delivered audio, 1 otherwise.

    python bench/sdk_client.py --ready-file ready.json --client-id ID --client-secret SECRET --out-dir wavs
"""
import argparse
import json
import math
import os
import resource
import sys
import threading
import time
import wave


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def safe_name(text):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:80] or "_"


class Stream:
    """One rtms.Client: its WAV files (one per party), its counts and its latency histogram."""

    def __init__(self, index, details, out_dir, histogram, flush_bytes, rtms):
        self.index = index
        self.details = details
        self.folder = os.path.join(out_dir, f"{index:05d}-{safe_name(details['rtms_stream_id'])}")
        os.makedirs(self.folder, exist_ok=True)
        self.writers = {}
        self.pending = {}
        self.last_timestamp = {}
        self.gap_frames = 0
        self.flush_bytes = flush_bytes
        self.frames = 0
        self.bytes = 0
        self.join_reason = None
        self.left = False
        self.histogram = histogram
        self.client = rtms.Client()
        self.client.set_audio_params(rtms.AudioParams(2, 1, 1, 1, 2, 20, 320))  # L16, 16 kHz, mono, per party, 20 ms
        self.client.on_join_confirm(self.on_join)
        self.client.on_audio_data(self.on_audio)
        self.client.on_leave(self.on_leave)

    def on_join(self, reason):
        self.join_reason = reason

    def on_audio(self, data, size, timestamp, metadata):
        writer = self.writers.get(metadata.userName)
        if writer is None:
            writer = wave.open(os.path.join(self.folder, safe_name(metadata.userName) + ".wav"), "wb")
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(16000)
            self.writers[metadata.userName] = writer
            self.pending[metadata.userName] = bytearray()
        # Batched like the relay's WAV sink: one write (and header patch) per party per --flush-frames frames.
        pending = self.pending[metadata.userName]
        pending += data
        if len(pending) >= self.flush_bytes:
            writer.writeframes(pending)
            pending.clear()
        self.frames += 1
        self.bytes += size
        # Frames missing in the middle of a party's audio: its timestamps advance 20 ms a frame.
        last = self.last_timestamp.get(metadata.userName)
        if last is not None and timestamp - last > 20:
            self.gap_frames += (timestamp - last) // 20 - 1
        self.last_timestamp[metadata.userName] = timestamp
        # Latency from the frame's Zoom timestamp (when the simulator scheduled it) to written, like the relay's.
        latency = int(time.time() * 1000) - timestamp
        self.histogram[min(max(latency, 0), len(self.histogram) - 1)] += 1

    def on_leave(self, reason):
        self.left = True

    def close(self):
        for name, writer in self.writers.items():
            writer.writeframes(self.pending[name])
            writer.close()
        self.writers.clear()


def quantile(histogram, q):
    total = sum(histogram)
    if total == 0:
        return None
    rank = math.ceil(q * total)
    seen = 0
    for millis, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return millis
    return len(histogram) - 1


def wait_for_file(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(path) as handle:
                return json.load(handle)
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.1)
    raise SystemExit(f"error: no ready file at {path} within {timeout:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ready-file", required=True, help="the simulator's --ready-file (waited for)")
    parser.add_argument("--client-id", required=True, help="the simulator's OAuth client id (signs the join)")
    parser.add_argument("--client-secret", required=True, help="the simulator's OAuth client secret")
    parser.add_argument("--out-dir", required=True, help="folder for the WAV files and the SDK's log")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after every stream delivers audio, before measuring")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measurement window")
    parser.add_argument("--threads", type=int, default=0,
                        help="EventLoopPool threads (default: one per 25 streams, the SDK's scaling guidance)")
    parser.add_argument("--poll-interval", type=float, default=0.01, help="EventLoop poll interval in seconds (SDK default 0.01)")
    parser.add_argument("--flush-frames", type=int, default=50,
                        help="frames buffered per party before each WAV write (50 = 1 s, like the relay's header patch)")
    parser.add_argument("--quiet", type=float, default=5.0,
                        help="after the window, stop once no audio arrived for this many seconds (or every stream left)")
    parser.add_argument("--connect-timeout", type=float, default=0,
                        help="seconds for every stream to deliver audio (default: 30 + 1 per 20 streams)")
    args = parser.parse_args()
    if args.seconds <= 0 or args.warmup < 0 or args.quiet <= 0 or args.threads < 0 or args.poll_interval <= 0 \
            or args.flush_frames < 1:
        parser.error("--seconds, --quiet, --poll-interval and --flush-frames must be positive; --warmup and --threads 0 or more")

    os.makedirs(os.path.join(args.out_dir, "logs"), exist_ok=True)
    os.environ["SSB_HOME"] = os.path.abspath(args.out_dir)  # the C SDK writes its log under $SSB_HOME/logs
    os.environ.setdefault("ZM_RTMS_LOG_LEVEL", "error")  # the Python layer logs every join to stdout at info
    for var in ("ZM_RTMS_CLIENT", "ZM_RTMS_SECRET", "ZM_RTMS_CA"):
        os.environ.pop(var, None)
    import rtms  # after the environment: the SDK reads it at import and initialization

    ready = wait_for_file(args.ready_file, 120)
    details = ready["streams"]
    if not details:
        raise SystemExit("error: the ready file lists no streams")
    histogram = [0] * 10_001  # latency in ms, 0..10 s (the last bucket holds everything later)
    streams = [Stream(i, d, args.out_dir, histogram, 640 * args.flush_frames, rtms) for i, d in enumerate(details)]
    threads = args.threads or max(1, math.ceil(len(streams) / 25))
    pool = rtms.EventLoopPool(threads=threads, poll_interval=args.poll_interval)
    for stream in streams:
        pool.add(stream.client)
        stream.client.join(engagement_id=stream.details["engagement_id"], rtms_stream_id=stream.details["rtms_stream_id"],
                           server_urls=stream.details["server_urls"], client=args.client_id, secret=args.client_secret,
                           timeout=15000)
    for loop in pool.loops:
        loop.start()

    def total_frames():
        return sum(s.frames for s in streams)

    result = {"streams": len(streams), "threads": threads, "poll_interval": args.poll_interval, "warmup": args.warmup}
    connect_timeout = args.connect_timeout or 30 + len(streams) / 20
    deadline = time.monotonic() + connect_timeout
    while any(s.frames == 0 for s in streams):
        if time.monotonic() > deadline:
            waiting = [s for s in streams if s.frames == 0]
            result["error"] = (f"{len(waiting)} of {len(streams)} streams delivered no audio within {connect_timeout:.0f} s "
                               f"(join reasons: {sorted({str(s.join_reason) for s in waiting})})")
            break
        time.sleep(0.05)

    if "error" not in result:
        time.sleep(args.warmup)
        for i in range(len(histogram)):
            histogram[i] = 0
        start_time, start_cpu, start_frames = time.monotonic(), cpu_seconds(), total_frames()
        print(json.dumps({"window_start": True}), flush=True)
        time.sleep(args.seconds)
        stop_time, stop_cpu, stop_frames = time.monotonic(), cpu_seconds(), total_frames()
        window = stop_time - start_time
        frames = stop_frames - start_frames
        result.update({
            "window_seconds": window, "window_frames": frames, "frames_per_second": frames / window,
            "offered_frames_per_second": 100 * len(streams), "cpu_seconds": stop_cpu - start_cpu,
            "cpu_seconds_per_million_frames": (stop_cpu - start_cpu) / max(1, frames) * 1e6,
            "latency_ms": {"p50": quantile(histogram, 0.5), "p99": quantile(histogram, 0.99),
                           "max": max((i for i, c in enumerate(histogram) if c), default=None)},
            "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        })
        print(json.dumps({"window_done": True}), flush=True)
        # Until the calls end: every stream left, or no audio for --quiet seconds.
        last, last_change = total_frames(), time.monotonic()
        while not all(s.left for s in streams) and time.monotonic() - last_change < args.quiet:
            time.sleep(0.1)
            now = total_frames()
            if now != last:
                last, last_change = now, time.monotonic()

    pool.stop()
    for loop in pool.loops:
        loop.join(timeout=5)
    for stream in streams:
        stream.close()
    result.update({
        "frames_received": total_frames(), "streams_left": sum(s.left for s in streams),
        "gap_frames": sum(s.gap_frames for s in streams),
        "streams_with_audio": sum(s.frames > 0 for s in streams),
        "wav_files": sum(len(os.listdir(s.folder)) for s in streams), "wav_bytes": sum(s.bytes for s in streams),
    })
    print(json.dumps(result, sort_keys=True), flush=True)
    # The SDK's C threads may still hold sockets; do not wait for them to unwind.
    sys.stdout.flush()
    os._exit(1 if "error" in result else 0)


if __name__ == "__main__":
    main()
