#!/usr/bin/env bash
# Browser tests of the agent page and the recordings page: `Tests/Browser/run.sh .build/debug/rtms-relay`.
# Needs the Debian packages chromium and chromium-driver, and selenium in .venv (`make browser-test` installs them).
# Starts `rtms-relay demo` on a free port in a scratch folder (the page built into the binary), drives headless Chromium against it, saves
# screenshots to artifacts/, stops the demo by pid, and exits non-zero on any failure.
set -euo pipefail
binary=${1:?usage: Tests/Browser/run.sh PATH/TO/rtms-relay}
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$root/.venv/bin/python}
[ -x "$python" ] || { echo "error: $python not found; create it with: python3 -m venv .venv && .venv/bin/pip install selenium" >&2; exit 1; }
status=0
"$python" "$root/Tests/Browser/agent_page_test.py" --binary "$(realpath "$binary")" --artifacts "$root/artifacts" || status=1
"$python" "$root/Tests/Browser/recordings_page_test.py" --binary "$(realpath "$binary")" --artifacts "$root/artifacts" || status=1
exit $status
