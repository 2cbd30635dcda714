#!/usr/bin/env bash
# Conformance with Zoom's official RTMS SDK: bash Tests/Conformance/run.sh path/to/rtms-relay
# Creates .venv/ in the repository root with rtms==1.1.0, then runs the SDK against the simulator over
# ws:// and wss://. Exits non-zero on any mismatch.
set -euo pipefail
if [ $# -ne 1 ]; then echo "usage: $0 RTMS_RELAY_BINARY" >&2; exit 2; fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BINARY="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
[ -x "$BINARY" ] || { echo "error: $1 is not an executable" >&2; exit 2; }
VENV="$ROOT/.venv"
if ! "$VENV/bin/python" -c "import rtms" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet rtms==1.1.0
fi
"$VENV/bin/python" "$ROOT/Tests/Conformance/conformance.py" "$BINARY" --tls none
"$VENV/bin/python" "$ROOT/Tests/Conformance/conformance.py" "$BINARY" --tls generated
