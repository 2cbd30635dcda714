# rtms-relay — the two commands: `make run` (the demo on embedded defaults) and `make test` (the whole suite).
# Both install what is missing first: Debian packages through apt, Python packages into .venv.

SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

# Debian packages the build and the tests need (C libraries for system-library targets, servers tests start).
APT_PACKAGES := libsqlite3-dev libhiredis-dev redis-server pkg-config chromium chromium-driver
BIN := .build/debug/rtms-relay

.PHONY: all deps build run serve test browser-test bench-compare soak fuzz sanitize clean

all: build

## deps: install missing Debian packages (needs root, as on the project's machines)
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## build: debug build of the executable and the tests
build: deps
	swift build --build-tests

## run: the demo: relay + simulated Zoom with one live call, on the embedded defaults (http://127.0.0.1:3001)
run: deps
	swift build --product rtms-relay
	$(BIN) demo

## serve: the relay alone on ./config.yaml or the embedded defaults
serve: deps
	swift build --product rtms-relay
	$(BIN) serve

# Python packages for the browser test, in .venv (the conformance test adds rtms==1.1.0 to the same venv).
.venv/.browser-deps:
	python3 -m venv .venv
	.venv/bin/pip install -q selenium
	touch $@

## browser-test: the agent page in headless Chromium against `rtms-relay demo`; screenshots in artifacts/
browser-test: build .venv/.browser-deps
	bash Tests/Browser/run.sh $(BIN)

## test: the whole suite — Swift tests (unit, server, end-to-end against the real binary and the simulator),
## Zoom's official RTMS SDK (PyPI rtms==1.1.0, in .venv) against the simulator over ws:// and wss://, and the
## agent page in headless Chromium
test: build
	python3 Tests/Structure/check.py
	# Serially: the end-to-end suites run real-time calls, and on two cores parallel suites starve each other.
	RTMS_RELAY_BIN=$(CURDIR)/$(BIN) swift test --skip-build --no-parallel
	# A sink in a package of its own, built and tested against this checkout (docs/writing-a-sink.md, section 9).
	swift test --package-path Tests/OutOfTreeSink
	bash Tests/Conformance/run.sh $(BIN)
	$(MAKE) browser-test

## bench-compare: rtms-relay against Zoom's official RTMS SDK (rtms==1.1.0, in .venv), same simulated calls,
## same run (release build; about 15 minutes; not part of `make test`). BENCH_ARGS passes options, e.g.
## BENCH_ARGS="--calls 10,50 --seconds 10 --no-search". Table on stdout, everything in bench-compare.json.
bench-compare: deps
	swift build -c release --product rtms-relay
	@.venv/bin/python -c "import rtms" 2>/dev/null || { python3 -m venv .venv && .venv/bin/pip install -q rtms==1.1.0; }
	.venv/bin/python bench/compare.py --relay-binary .build/release/rtms-relay --out bench-compare.json $(BENCH_ARGS)

## soak: 100 calls for 30 minutes through the real (release) binary, not part of `test`; RSS and descriptors must
## stay flat and no frame may be dropped. SOAK_CALLS / SOAK_MINUTES / SOAK_SAMPLE_SECONDS … (Tests/Soak/soak.py)
soak: deps
	swift build -c release --product rtms-relay
	python3 Tests/Soak/soak.py .build/release/rtms-relay

## fuzz: libFuzzer + AddressSanitizer on webhook bodies and signatures, RTMS frames, config files and
## x-zoom-app-context, and RTMS frames driven through the WAV, SQLite and web sinks, FUZZ_SECONDS (default 60) each from the seeds in Fuzz/Corpus; fails on any crash
## (new corpus entries, logs and crash inputs in .build-fuzz/run; see docs/reliability.md)
fuzz: deps
	bash Fuzz/run.sh

# Tests left out under ThreadSanitizer (--skip patterns), with the reasons in docs/reliability.md (## Sanitizers):
# real-time calls that TSan slows below Zoom's pace, so they time out or stop with audio still in flight.
TSAN_SKIP ?= EndToEndTests.ShutdownTests tlsWithCAFile
# Tests left out under AddressSanitizer, likewise: the 50-call shutdown tests cannot start their calls in time.
ASAN_SKIP ?= EndToEndTests.ShutdownTests

## sanitize: the Swift test suite under ThreadSanitizer, then under AddressSanitizer, then a LeakSanitizer run of
## the relay binary (full rebuilds in .build-tsan and .build-asan; slow); the end-to-end suites run the sanitized binary
sanitize: deps
	swift build --build-tests --sanitize=thread --build-path .build-tsan
	RTMS_RELAY_BIN=$(CURDIR)/.build-tsan/debug/rtms-relay TSAN_OPTIONS="suppressions=$(CURDIR)/Tests/Sanitizers/tsan-suppressions.txt $(TSAN_OPTIONS)" \
	  swift test --skip-build --sanitize=thread --build-path .build-tsan --no-parallel $(foreach s,$(TSAN_SKIP),--skip $(s))
	swift build --build-tests --sanitize=address --build-path .build-asan
	# Memory errors in the whole suite; leaks are checked on the relay binary below (see docs/reliability.md).
	RTMS_RELAY_BIN=$(CURDIR)/.build-asan/debug/rtms-relay ASAN_OPTIONS="detect_leaks=0 $(ASAN_OPTIONS)" \
	  swift test --skip-build --sanitize=address --build-path .build-asan --no-parallel $(foreach s,$(ASAN_SKIP),--skip $(s))
	# Leaks: the real binary runs relay + simulator with three live calls, ends them, and must exit 0.
	rm -rf .build-asan/leak-check && mkdir -p .build-asan/leak-check
	cd .build-asan/leak-check && ASAN_OPTIONS="detect_leaks=1 $(ASAN_OPTIONS)" \
	  LSAN_OPTIONS="suppressions=$(CURDIR)/Tests/Sanitizers/lsan-suppressions.txt $(LSAN_OPTIONS)" \
	  $(CURDIR)/.build-asan/debug/rtms-relay demo --port 3996 --engagements 3 --seconds 5

clean:
	rm -rf .build .venv
