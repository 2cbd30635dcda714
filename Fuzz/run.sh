#!/usr/bin/env bash
# `make fuzz`: builds each libFuzzer target with -sanitize=fuzzer,address and runs it for FUZZ_SECONDS from its
# committed seed corpus (Fuzz/Corpus/<target>, read only). New corpus entries, logs and crash inputs go to
# FUZZ_OUT. Exits non-zero when any target finds a crash, a leak or a broken invariant.
# Usage: Fuzz/run.sh [target …]   (default: all; FUZZ_SECONDS=60, FUZZ_OUT=.build-fuzz/run, FUZZ_TIMEOUT=120)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
# Let libFuzzer report crashes itself: the Swift runtime's backtracer reads the stack in ways ASan flags.
export SWIFT_BACKTRACE=enable=no

seconds=${FUZZ_SECONDS:-60}
# Per-input limit in wall-clock seconds. Generous: on a shared, saturated machine a 100 KB frame that needs 0.8 s
# of CPU took 23 s of wall time; a real hang still fails the run.
timeout=${FUZZ_TIMEOUT:-120}
out=${FUZZ_OUT:-.build-fuzz/run}
build=.build-fuzz
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(webhook rtms-frame config app-context sink-path)

# Largest input per target: above the receiver's 64 KiB body limit for webhooks; for RTMS frames a 100+ ms batch of
# 48 kHz stereo audio (libFuzzer truncates longer seeds, such as the 100 KB frame, to this length); for the sink
# path a handshake and a few dozen small frames.
declare -A max_len=([webhook]=70000 [rtms-frame]=32768 [config]=16384 [app-context]=8192 [sink-path]=16384)

for target in "${targets[@]}"; do
    [ -n "${max_len[$target]:-}" ] || { echo "unknown fuzz target '$target'" >&2; exit 2; }
    RTMS_RELAY_FUZZ=1 swift build -c debug --product "fuzz-$target" --build-path "$build" \
        -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol" >&2
done

failed=()
for target in "${targets[@]}"; do
    mkdir -p "$out/corpus/$target" "$out/artifacts"
    echo "== fuzz-$target: ${seconds}s from Fuzz/Corpus/$target" >&2
    if "$build/debug/fuzz-$target" "$out/corpus/$target" "Fuzz/Corpus/$target" \
        -max_total_time="$seconds" -max_len="${max_len[$target]}" -dict="Fuzz/Dictionaries/$target.dict" \
        -timeout="$timeout" -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$out/artifacts/$target-" \
        >"$out/$target.log" 2>&1; then
        grep -E "^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)" "$out/$target.log" >&2 || true
    else
        failed+=("$target")
        tail -n 40 "$out/$target.log" >&2
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found problems in: ${failed[*]} (inputs in $out/artifacts, logs in $out)" >&2
    exit 1
fi
echo "fuzzing: no crashes in ${targets[*]} (${seconds}s each; logs in $out)" >&2
