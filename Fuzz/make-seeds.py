#!/usr/bin/env python3
"""Writes the committed seed corpora under Fuzz/Corpus/<target>/ (run from the repository root).

The seeds are the real inputs each surface sees: webhook bodies (docs/zoom-rtms.md, "Webhooks and their
signature") and the simulator's, RTMS frames as Zoom's official SDK exchanges them (docs/zoom-rtms.md,
"What Zoom's SDK sends") and the simulator's, config.yaml.example and the embedded defaults,
and x-zoom-app-context plaintexts plus one header sealed the way Zoom does. File names are the content's SHA-1,
as libFuzzer names corpus entries. Needs python3-cryptography for the sealed header.
"""
import base64
import hashlib
import json
import os
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus")


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(ROOT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


# MARK: webhook — one salt byte (clock offset, which signature byte to alter), then the raw body.
WEBHOOKS = [
    # The signature test vector body of docs/zoom-rtms.md, "Webhooks and their signature".
    '{"event":"contact_center.voice_rtms_started","event_ts":1626230691572,"payload":{"engagement_id":"LjjdDBo5SkGneP8qY4SvuQ","rtms_stream_id":"609340fb2a7946909659956c8aa9250c","server_urls":"wss://127.0.0.1:8443/signal"}}',
    # §2 [D-api] example.
    '{"event":"contact_center.voice_rtms_interrupted","event_ts":1626230691572,"payload":{"engagement_id":"4444AAAiAAAAAiAiAiiAii==","rtms_stream_id":"609340fb2a7946909659956c8aa9250c"}}',
    # §12 url_validation test vector token.
    '{"event":"endpoint.url_validation","payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1700000000000}',
    '{"event":"meeting.rtms_started","event_ts":1700000000123,"payload":{"meeting_uuid":"2nUlQ6YaRx2O3wB+ErH3ug==","operator_id":"30R7kT7bTIKSNUFEuH_Qlg","rtms_stream_id":"03db704592624398931a588dd78200cb","server_urls":"wss://rtms.zoom.us"}}',
    '{"event":"meeting.rtms_stopped","event_ts":1700000000456,"payload":{"meeting_uuid":"2nUlQ6YaRx2O3wB+ErH3ug==","rtms_stream_id":"03db704592624398931a588dd78200cb","stop_reason":6}}',
    '{"event":"webinar.rtms_started","event_ts":1,"payload":{"webinar_uuid":"W==","rtms_stream_id":"s","server_urls":"wss://x","account_id":"a","is_original_host":true,"meeting_id":123,"webinar_id":456}}',
    '{"event":"session.rtms_stopped","event_ts":2,"payload":{"session_id":"sess","rtms_stream_id":"s","stop_reason":"24"}}',
    '{"event":"session.rtms_interrupted","event_ts":3,"payload":{"object":{"session_id":"sess","rtms_stream_id":"s"}}}',
    # Simulator shapes (sorted keys, no escaped slashes).
    '{"event":"contact_center.engagement_started","event_ts":1764090286000,"payload":{"account_id":"acct","object":{"channel":"voice","direction":"inbound","engagement_id":"eng-1","start_time":"2026-11-25T19:30:00Z"}}}',
    '{"event":"contact_center.engagement_ended","event_ts":1764090296000,"payload":{"account_id":"acct","object":{"channel":"voice","direction":"inbound","end_time":"2026-11-25T19:31:00Z","engagement_id":"eng-1"}}}',
    '{"event":"contact_center.voice_rtms_stopped","event_ts":1764090296001,"payload":{"engagement_id":"eng-1","rtms_stream_id":"st-1","stop_reason":1}}',
    '{"event":"meeting.rtms_concurrency_limited","event_ts":5,"payload":{"meeting_uuid":"m","nested":[1,2.5,-3e2,true,false,null,{"a":"\\u00e9\\n"}]}}',
    # A forged signature and timestamp as the first two lines of the body.
    'v0=245914316bd5b53337ecf599e4378fcd0d7c7e21e741f6544aedb8c639e42024\n1700000000\n{"event":"x"}',
]
for index, body in enumerate(WEBHOOKS):
    write("webhook", bytes([index * 37 % 256]) + body.encode())

# MARK: rtms-frame — one WebSocket message's bytes.
pcm = bytes((i * 7) % 256 for i in range(640))
b64 = base64.b64encode(pcm).decode()
FRAMES = [
    # What Zoom's official SDK receives, server → SDK (docs/zoom-rtms.md, "What Zoom's SDK sends").
    '{"msg_type": 2, "protocol_version": 1, "sequence": 3864086, "status_code": 0, "reason": "", "media_server": {"server_urls": {"audio": "ws://127.0.0.1:8765/data/audio", "video": "ws://127.0.0.1:8765/data/video", "transcript": "ws://127.0.0.1:8765/data/transcript", "deskshare": "ws://127.0.0.1:8765/data/deskshare", "chat": "ws://127.0.0.1:8765/data/chat", "all": "ws://127.0.0.1:8765/data/all"}}}',
    '{"msg_type": 4, "protocol_version": 1, "sequence": 3864106, "status_code": 0, "reason": "", "payload_encrypted": false, "media_params": {"audio": {"channel": 2, "codec": 4, "content_type": 2, "data_opt": 2, "sample_rate": 3, "send_rate": 20}}}',
    '{"msg_type": 8, "rtms_session_id": "SESSION1", "state": 1, "reason": 0, "timestamp": 1795557308605}',
    '{"msg_type": 9, "rtms_session_id": "SESSION1", "state": 2, "stop_reason": 0, "reason": 0, "timestamp": 1795557308605}',
    '{"msg_type": 12, "sequence": 1, "timestamp": 1795557311575}',
    '{"msg_type": 14, "content": {"user_id": 16778240, "user_name": "Alice", "data": "%s", "timestamp": 1795557308796}}' % b64,
    '{"msg_type": 15, "content": {"user_id": 16778240, "user_name": "Alice", "data": "/9j/4AAQSkZJRg==", "timestamp": 1795557308796}}',
    '{"msg_type": 17, "content": {"user_id": 16778240, "user_name": "Alice", "data": "hello world", "timestamp": 1795557308796, "start_time": 1795557307296, "end_time": 1795557308796}}',
    '{"msg_type": 6, "event": {"event_type": 3, "timestamp": 1795557308796, "participants": [{"user_id": 16778240, "user_name": "Alice"}, {"user_id": 16779264, "user_name": "Bob"}]}}',
    '{"msg_type": 6, "event": {"event_type": 2, "timestamp": 1795557308796, "user_id": 16778240, "user_name": "Alice"}}',
    '{"msg_type": 6, "event": {"event_type": 4, "timestamp": 1795557308796, "participants": [{"user_id": 16779264}]}}',
    '{"msg_type": 9, "rtms_session_id": "SESSION1", "state": 5, "stop_reason": 6, "reason": 6, "timestamp": 1795557308796}',
    '{"msg_type": 8, "rtms_session_id": "SESSION1", "state": 4, "reason": 6, "timestamp": 1795557308796}',
    # The SDK's styled output (binary frames): tabs, sorted keys, trailing newline.
    '{\n\t"msg_type" : 13,\n\t"sequence" : 1,\n\t"timestamp" : 1795557311575\n}\n',
    # Simulator ZCC audio (AudioFrameTemplates) and events.
    '{"msg_type":14,"content":{"user_id":0,"user_name":"Sim Agent","channel_id":"1","data":"%s","length":640,"timestamp":1738392033699}}' % b64,
    '{"msg_type":14,"content":{"user_id":"7","user_name":"A\\u00e9","data":"%s","timestamp":9}}' % b64.replace("/", "\\/"),
    '{"msg_type":14,"content":{"user_id":1,"user_name":null,"data":"data:audio/l16;base64,%s","timestamp":"12"}}' % b64,
    '{"msg_type":6,"event":{"event_type":12,"event_ts":1,"paticipant_info":{"channel_id":"2","display_name":"Caller"}}}',
    '{"msg_type":22,"status_code":0,"reason":"OK"}',
    '{"msg_type":"14","content":{"data":"AAAA","timestamp":1.0}}',
]
# Truncated, wrongly typed, deeply nested and large frames.
audio = FRAMES[14]
FRAMES += [
    audio[: len(audio) // 2],
    audio.replace('"channel_id":"1"', '"channel_id":1.5'),
    '{"msg_type":14,"content":{"data":"AAAA","timestamp":1,"x":' + "[" * 2000 + "]" * 2000 + "}}",
    '{"msg_type":6,"event":' + '{"a":' * 600 + "1" + "}" * 600 + "}",
    '{"msg_type":14,"content":{"user_id":2,"data":"%s","timestamp":3}}' % base64.b64encode(bytes(range(256)) * 300).decode(),
]
for frame in FRAMES:
    write("rtms-frame", frame)

# MARK: sink-path — a flag byte (bit 0: ingest's checks; bit 1: stereo mix; bits 2-4: max_channels - 1; bit 5: two
# streams), then RTMS messages separated by newlines, driven through the WAV, SQLite and web sinks.
def handshake(channel=1, sample_rate=1, send_rate=20):
    return '{"msg_type":4,"status_code":0,"media_params":{"audio":{"channel":%d,"codec":1,"sample_rate":%d,"send_rate":%d}}}' % (channel, sample_rate, send_rate)


def audio_frame(channel, timestamp, data=b64):
    return '{"msg_type":14,"content":{"user_id":0,"user_name":"P%s","channel_id":"%s","data":"%s","timestamp":%d}}' % (channel, channel, data, timestamp)


STOP = '{"msg_type":8,"state":4,"reason":6}'
T0 = 1738392033699
SINK_PATHS = {
    # Two parties, 20 ms apart, a gap, a late frame and a duplicate, then the stop.
    "call": [handshake()] + [audio_frame(c, T0 + 20 * i) for i in [0, 1, 2, 5, 3, 3] for c in ("1", "2")] + [STOP],
    # security review #3: a huge timestamp after a normal one (trapped in the WAV sink), and after it one more.
    "huge-timestamp": [handshake(), audio_frame("1", 1000), audio_frame("1", 999999999999999999), audio_frame("1", 1020), STOP],
    "negative-timestamp": [handshake(), audio_frame("1", T0), audio_frame("1", -5), audio_frame("1", -999999999999999999), audio_frame("1", T0 + 20)],
    "far-timestamp": [handshake(), audio_frame("1", T0), audio_frame("1", T0 + 90_000_000), audio_frame("2", T0 - 90_000_000), audio_frame("1", T0 + 20)],
    # A media server confirming absurd parameters (send_rate fed the WAV sink's tolerance).
    "huge-send-rate": [handshake(send_rate=999999999999999999), audio_frame("1", T0), audio_frame("1", T0 + 20)],
    "odd-format": [handshake(channel=0, sample_rate=99, send_rate=-1), audio_frame("1", T0), handshake(channel=65535), audio_frame("1", T0 + 20),
                   handshake(channel=-3, send_rate=0), audio_frame("1", T0 + 40)],
    # security review #12: a media server inventing channel ids (one WAV file each before the cap).
    "many-channels": [handshake()] + [audio_frame("c%d" % i, T0 + i) for i in range(50)],
    "transcript-and-events": [handshake(), FRAMES[7], FRAMES[8], FRAMES[17], audio_frame("1", T0), FRAMES[4], STOP, audio_frame("1", T0 + 20)],
}
for name, messages in SINK_PATHS.items():
    body = "\n".join(messages).encode()
    for flags in (0x00, 0x01, 0x03 | 0x1C, 0x20 | 0x04):
        write("sink-path", bytes([flags]) + body)

# MARK: config — config files.
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(repo, "config.yaml.example"), "rb") as f:
    write("config", f.read())
with open(os.path.join(repo, "Sources/RelayCore/Config/EmbeddedDefaults.swift")) as f:
    text = f.read()
    embedded = text.split('"""\n', 1)[1].rsplit('"""', 1)[0]
    write("config", "\n".join(line[8:] for line in embedded.splitlines()) + "\n")
CONFIGS = [
    "server:\n  prot: 3001\n",
    "zoom:\n  client_id: ${ZOOM_ID:-}\n  webhook_secret: ${ZOOM_SECRET_TOKEN}\n  rtms_allowed_hosts: ['*.zoom.us', localhost]\n",
    "sinks:\n  rec:\n    type: wav\n    directory: ${DATA_DIR}/rec\n    mix: stereo\n    queue: {capacity: 64, overflow: drop_oldest}\n",
    "server:\n  port: 1\n  port: 2\n",
    "token_store:\n  kind: redis\n  url: redis://127.0.0.1:6379/0\ncluster:\n  redis_url: redis://127.0.0.1:6379/1\n",
    "a: &x [1, 2]\nb: *x\n",
    "sinks:\n  r:\n    type: redis\n    url: redis://localhost\n  s:\n    type: sqlite\n    path: a.sqlite\n  j:\n    type: jsonl\n    path: \"x$${y}\"\n",
]
for config in CONFIGS:
    write("config", config)

# MARK: app-context — one choice byte (aad length, byte to alter), the aad, then a JSON plaintext or a header.
NOW = 1_764_090_286_000
CONTEXTS = [
    {"typ": "panel", "uid": "u-1", "aid": "acc-9", "ts": NOW - 2000},
    {"uid": "u", "ts": NOW, "exp": NOW + 60_000},
    {"uid": "u", "ts": NOW - 600_000},
    {"uid": "u", "ts": NOW, "exp": NOW - 1},
    {"uid": 5, "ts": NOW},
]
for index, context in enumerate(CONTEXTS):
    choice = index * 41 % 256
    write("app-context", bytes([choice]) + b"zoomzoom"[: choice % 8] + json.dumps(context).encode())

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:
    sys.exit("python3-cryptography is needed for the sealed header seed")
key = hashlib.sha256(b"client-secret-for-fuzzing").digest()
iv = bytes(range(12))
aad = b"zoom"
sealed = AESGCM(key).encrypt(iv, json.dumps(CONTEXTS[0]).encode(), aad)
ciphertext, tag = sealed[:-16], sealed[-16:]
header = bytes([len(iv)]) + iv + struct.pack("<H", len(aad)) + aad + struct.pack("<I", len(ciphertext)) + ciphertext + tag
write("app-context", bytes([0]) + base64.b64encode(header))
write("app-context", bytes([0]) + base64.urlsafe_b64encode(header).rstrip(b"="))
