#!/usr/bin/env python3
"""Conformance test: Zoom's official RTMS SDK (PyPI rtms==1.1.0) joins the simulator and must receive the
simulated audio byte for byte, and the simulated transcript segment by segment.

The script plays the app: it serves the webhook endpoint the simulator posts to (checking every signature,
answering url_validation), takes the stream details from the signed voice_rtms_started, joins with the SDK
asking for audio and transcripts, checks each audio frame against the formula of SimulatedAudio.frame and each
transcript segment against the turns of SimulatedConversation, and waits for the signed stop webhooks.
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
SEGMENTS = 2  # the first turn of each party
NAMES = ["Sim Agent", "Sim Caller"]

failures = []


def fail(message):
    failures.append(message)
    print(f"FAIL: {message}", flush=True)


# Mirror of SimulatedConversation (the script and its timeline) in Swift.
LINES = [
    (0, "Thanks for calling Northwind, this is Alex. How can I help?"),
    (1, "Hi Alex, I was charged twice for one order and I need a refund."),
    (0, "I'm sorry about that. Could you read me the invoice number, please?"),
    (1, "Sure, the invoice number is four seven two nine one."),
    (0, "Thanks. I can see two payments of forty nine dollars on the same day."),
    (1, "Right, I only ordered once, so one of them is a mistake."),
    (0, "I've issued a refund for the duplicate payment just now."),
    (1, "Great. How long will it take to show up on my card?"),
    (0, "Usually three to five business days, depending on your bank."),
    (1, "Okay. Could you also send me a corrected invoice?"),
    (0, "Yes, I'll email a new invoice to the address on your account."),
    (1, "Perfect, that's the one I use for all my orders."),
    (0, "Is there anything else I can help you with today?"),
    (1, "No, that's everything. Thanks for sorting it out so quickly."),
    (0, "You're welcome. Have a great day, and thanks for calling Northwind."),
    (1, "You too, bye."),
]
PAUSE_FRAMES = 25
FRAMES_PER_SYLLABLE = 10
SAMPLES_PER_FRAME = 320


def build_script():
    """(number, party, text, first frame, end frame) of each turn of one pass through the script."""
    turns, end = [], 0
    for number, (party, text) in enumerate(LINES):
        start = end + PAUSE_FRAMES
        end = start + (4 * len(text.split()) + 1) // 3 * FRAMES_PER_SYLLABLE
        turns.append((number, party, text, start, end))
    return turns


SCRIPT = build_script()
CYCLE_FRAMES = SCRIPT[-1][4]

# Mirror of SimulatedAudio in Swift: integer arithmetic only, every division with a non-negative dividend.
VOICE_PERIODS = [120, 84]
SYLLABLE_PEAKS = [9000, 12000, 7500, 10500]
SYLLABLE_INFLECTIONS = [0, 1, 2, 1]


def noise(channel, n):
    x = (2 * n + channel) & 0xFFFFFFFF
    x ^= x >> 16
    x = (x * 0x7FEB352D) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x846CA68B) & 0xFFFFFFFF
    x ^= x >> 16
    return x % 7 - 3


def voice(channel, line, t):
    syllable_samples = FRAMES_PER_SYLLABLE * SAMPLES_PER_FRAME
    syllable, q = divmod(t, syllable_samples)
    stress = (syllable + line) % len(SYLLABLE_PEAKS)
    amplitude = SYLLABLE_PEAKS[stress] * min(q, syllable_samples - q) // (syllable_samples // 2)
    period = VOICE_PERIODS[channel] + VOICE_PERIODS[channel] // 20 * SYLLABLE_INFLECTIONS[stress]
    phase = t % period
    rising = 4 * phase if phase < period // 2 else 4 * period - 4 * phase
    return rising * amplitude // period - amplitude


def frame(channel, index):
    """Mirror of SimulatedAudio.frame(channel:index:) in Swift."""
    position = index % CYCLE_FRAMES
    turn = next((t for t in SCRIPT if t[3] <= position < t[4] and t[1] == channel), None)
    out = bytearray()
    for i in range(SAMPLES_PER_FRAME):
        n = position * SAMPLES_PER_FRAME + i
        sample = noise(channel, n)
        if turn:
            sample += voice(channel, turn[0], n - turn[3] * SAMPLES_PER_FRAME)
        out += sample.to_bytes(2, "little", signed=True)
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
    segments = []
    joined = []
    left = []
    loop = rtms.EventLoop()
    client = rtms.Client()
    client.set_audio_params(rtms.AudioParams(2, 1, 1, 1, 2, 20, 320))  # L16, 16 kHz, mono, multi-stream, 20 ms
    client.enable_transcript(True)

    def done():
        return all(len(v) >= FRAMES_PER_CHANNEL for v in received.values()) and len(segments) >= SEGMENTS

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
        if done():
            loop.stop()

    def on_transcript(data, size, timestamp, metadata):
        segments.append((bytes(data)[:size].decode("utf-8", "replace"), metadata.userName, metadata.startTs, metadata.endTs))
        if done():
            loop.stop()

    client.on_join_confirm(on_join)
    client.on_audio_data(on_audio)
    client.on_transcript_data(on_transcript)
    client.on_leave(lambda reason: left.append(reason))
    loop.add(client)
    payload = started["payload"]
    client.join(engagement_id=payload["engagement_id"], rtms_stream_id=payload["rtms_stream_id"],
                server_urls=payload["server_urls"], client=CLIENT_ID, secret=CLIENT_SECRET, timeout=15000)
    watchdog = threading.Timer(40, loop.stop)
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
        exact = True
        if abs(now_ms - t0) > 120_000:
            fail(f"channel {channel}: timestamp {t0} is not epoch ms near now")
            exact = False
        for j, (data, size, timestamp) in enumerate(frames):
            if size != 640 or data != frame(channel, start + j):
                fail(f"channel {channel}: frame {j} differs from SimulatedAudio.frame({channel}, {start + j})")
                exact = False
                break
            if timestamp != t0 + 20 * j:
                fail(f"channel {channel}: frame {j} timestamp {timestamp}, expected {t0 + 20 * j}")
                exact = False
                break
        if exact:
            print(f"channel {channel}: {len(frames)} frames byte-exact, timestamps +20 ms", flush=True)

    # The stream's frame 0 is the agent's first frame, which the SDK gets from the buffer (checked above).
    origin = received[0][0][2] if received[0] and frame(0, 0) == received[0][0][0] else None
    if len(segments) < SEGMENTS:
        fail(f"only {len(segments)} transcript segments: {segments}")
    for number, (text, name, start, end) in enumerate(segments[:SEGMENTS]):
        _, party, line, first, last = SCRIPT[number]
        if text != line or name != NAMES[party]:
            fail(f"transcript segment {number}: {name!r} said {text!r}, expected {NAMES[party]!r}: {line!r}")
        # The SDK passes start_time and end_time on as startTs and endTs.
        if origin is not None and (start, end) != (origin + 20 * first, origin + 20 * last):
            fail(f"transcript segment {number}: times {start}..{end}, expected {origin + 20 * first}..{origin + 20 * last}")
    timed = "timed like their turns" if origin is not None else "times not checked (no frame 0)"
    print(f"transcript: {len(segments)} segments, the script's lines from the party speaking, {timed}", flush=True)


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
    command = [args.binary, "simulate", "--relay", relay, "--calls", "1", "--seconds", "15", "--tls", args.tls,
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
