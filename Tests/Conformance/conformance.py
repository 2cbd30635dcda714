#!/usr/bin/env python3
"""Conformance test: Zoom's official RTMS SDK (PyPI rtms==1.1.0) joins the simulator and must receive the
simulated audio byte for byte.

The script plays the app: it serves the webhook endpoint the simulator posts to (checking every signature,
answering url_validation), takes the stream details from the signed voice_rtms_started, joins with the SDK,
checks each audio frame against the formula of SimulatedAudio.frame, and waits for the signed stop webhooks.
Exit status 0 = conformant, 1 = any mismatch.
"""
import argparse
import hashlib
import hmac
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "CONFCLIENTID"
CLIENT_SECRET = "CONFCLIENTSECRET"
SECRET_TOKEN = "CONFWEBHOOKSECRET"
FRAMES_PER_CHANNEL = 150  # 3 s of audio per party
NAMES = ["Sim Agent", "Sim Caller"]

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}", flush=True)


def frame(channel, index):
    """Mirror of SimulatedAudio.frame(channel:index:) in Swift."""
    period = 40 if channel == 0 else 64
    gain = 10 + index % 250
    out = bytearray()
    for i in range(320):
        phase = i % period
        tri = 4 * phase - period if phase < period // 2 else 3 * period - 4 * phase
        out += (tri * gain).to_bytes(2, "little", signed=True)
    return bytes(out)


events = queue.Queue()


class WebhookHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        ts = self.headers.get("x-zm-request-timestamp", "")
        expected = "v0=" + hmac.new(SECRET_TOKEN.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, self.headers.get("x-zm-signature", "")) and ts.isdigit() \
            and abs(time.time() - int(ts)) <= 300
        if not ok:
            fail(f"bad webhook signature on {body[:80]!r}")
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(body)
        events.put(event)
        if event["event"] == "endpoint.url_validation":
            plain = event["payload"]["plainToken"]
            answer = json.dumps({"plainToken": plain, "encryptedToken": hmac.new(
                SECRET_TOKEN.encode(), plain.encode(), hashlib.sha256).hexdigest()}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        else:
            self.send_response(204)
            self.end_headers()


def wait_event(name, timeout):
    deadline = time.time() + timeout
    seen = []
    while time.time() < deadline:
        try:
            event = events.get(timeout=max(0.05, deadline - time.time()))
        except queue.Empty:
            break
        seen.append(event["event"])
        if event["event"] == name:
            return event, seen
    fail(f"no {name} webhook within {timeout}s (saw {seen})")
    return None, seen


def run_sdk(started, tls, ca_path):
    if tls != "none":
        os.environ["ZM_RTMS_CA"] = ca_path
    import rtms  # imported late: the CA variable is read when the SDK initializes

    received = {0: [], 1: []}
    joined = []
    left = []
    loop = rtms.EventLoop()
    client = rtms.Client()
    client.set_audio_params(rtms.AudioParams(2, 1, 1, 1, 2, 20, 320))  # L16, 16 kHz, mono, multi-stream, 20 ms

    def on_join(reason):
        joined.append(reason)
        if reason != 0:
            loop.stop()

    def on_audio(data, size, timestamp, metadata):
        name = metadata.userName
        if name not in NAMES:
            fail(f"audio from unknown user_name {name!r}")
            loop.stop()
            return
        received[NAMES.index(name)].append((bytes(data), size, timestamp))
        if all(len(v) >= FRAMES_PER_CHANNEL for v in received.values()):
            loop.stop()

    client.on_join_confirm(on_join)
    client.on_audio_data(on_audio)
    client.on_leave(lambda reason: left.append(reason))
    loop.add(client)
    payload = started["payload"]
    client.join(engagement_id=payload["engagement_id"], rtms_stream_id=payload["rtms_stream_id"],
                server_urls=payload["server_urls"], client=CLIENT_ID, secret=CLIENT_SECRET, timeout=15000)
    watchdog = threading.Timer(30, loop.stop)
    watchdog.start()
    loop.run()
    watchdog.cancel()
    client.leave()

    if joined != [0]:
        fail(f"on_join_confirm reasons {joined}, expected [0]")
    now_ms = time.time() * 1000
    for channel, frames in received.items():
        if len(frames) < FRAMES_PER_CHANNEL:
            fail(f"channel {channel}: only {len(frames)} frames")
            continue
        first = frames[0][0]
        start = next((k for k in range(250) if frame(channel, k) == first), None)
        if start is None:
            fail(f"channel {channel}: first frame matches no simulated frame")
            continue
        t0 = frames[0][2]
        if abs(now_ms - t0) > 120_000:
            fail(f"channel {channel}: timestamp {t0} is not epoch ms near now")
        for j, (data, size, timestamp) in enumerate(frames):
            if size != 640 or data != frame(channel, start + j):
                fail(f"channel {channel}: frame {j} differs from SimulatedAudio.frame({channel}, {start + j})")
                break
            if timestamp != t0 + 20 * j:
                fail(f"channel {channel}: frame {j} timestamp {timestamp}, expected {t0 + 20 * j}")
                break
        print(f"channel {channel}: {len(frames)} frames byte-exact, timestamps +20 ms", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--tls", choices=["none", "generated"], default="none")
    args = parser.parse_args()
    for var in ("ZM_RTMS_CLIENT", "ZM_RTMS_SECRET", "ZM_RTMS_CA"):
        os.environ.pop(var, None)
    work = tempfile.mkdtemp(prefix="rtms-conformance-")
    os.makedirs(os.path.join(work, "logs"), exist_ok=True)
    os.environ["SSB_HOME"] = work  # the C SDK writes its log under $SSB_HOME/logs
    ca_path = os.path.join(work, "ca.pem")

    server = ThreadingHTTPServer(("127.0.0.1", 0), WebhookHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    relay = f"http://127.0.0.1:{server.server_address[1]}"
    command = [args.binary, "simulate", "--relay", relay, "--calls", "1", "--seconds", "9", "--tls", args.tls,
               "--ca-out", ca_path, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
               "--secret-token", SECRET_TOKEN, "--keep-alive", "1", "--log-level", "warning"]
    print(f"[{args.tls}] starting: {' '.join(command)}", flush=True)
    simulator = subprocess.Popen(command)
    try:
        started, seen = wait_event("contact_center.voice_rtms_started", 60)
        if "endpoint.url_validation" not in seen:
            fail(f"no url_validation before the stream started (saw {seen})")
        if "contact_center.engagement_started" not in seen:
            fail(f"no engagement_started before the stream started (saw {seen})")
        if started:
            url = started["payload"]["server_urls"]
            scheme = "wss://" if args.tls != "none" else "ws://"
            if not url.startswith(scheme):
                fail(f"server_urls {url} does not use {scheme}")
            run_sdk(started, args.tls, ca_path)
            stopped, _ = wait_event("contact_center.voice_rtms_stopped", 30)
            if stopped and stopped["payload"].get("rtms_stream_id") != started["payload"]["rtms_stream_id"]:
                fail("voice_rtms_stopped names another stream")
        rc = simulator.wait(timeout=30)
        if rc != 0:
            fail(f"simulator exited with {rc}")
    finally:
        if simulator.poll() is None:
            simulator.kill()
        server.shutdown()
    if failures:
        print(f"[{args.tls}] NOT CONFORMANT: {len(failures)} failure(s)", flush=True)
        sys.exit(1)
    print(f"[{args.tls}] conformant", flush=True)


if __name__ == "__main__":
    main()
