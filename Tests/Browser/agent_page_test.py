#!/usr/bin/env python3
"""Drives the agent page in headless Chromium against `rtms-relay demo` (relay + Zoom simulator).

Checks, as an agent uses it: the call header names caller, queue, direction and agent, says REC, runs a
timer and counts audio chunks; the parties are labelled Agent and Customer, take turns, and the speaking
indicator follows; a live transcript line from each party, with auto-scroll that stops while the agent reads
further up; the activity log in plain words, newest first, without chunk counters or Zoom's codes;
Start/Stop/Pause/Resume enable and disable with the real stream state and work through the relay and the
simulated Zoom REST API; Stop asks first; the meters drop to zero and grey out when paused, stopped and
ended; after Ctrl-C ends the call the page says "Call ended", not "Reconnecting", and the timer stops; the
page works inside "Zoom" when the Zoom Apps SDK cannot load; the browser console stays free of errors.
Screenshots at 480x360 (Zoom's side panel) and 1280x800 go to the artifacts folder.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


class Failure(Exception):
    pass


# The page polls /api/engagements this often (app.js, POLL_MS).
POLL_SECONDS = 3


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, condition, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # the page may be mid-update
            last_error = error
        time.sleep(interval)
    raise Failure(f"timed out after {timeout:.0f} s waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


class Demo:
    """`rtms-relay demo` in a scratch folder, so ./data lands there."""

    def __init__(self, binary, seconds=240):
        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="rtms-browser-")
        self.stdout = open(os.path.join(self.folder, "stdout.log"), "w+")
        self.stderr = open(os.path.join(self.folder, "stderr.log"), "w+")
        self.process = subprocess.Popen(
            [binary, "demo", "--port", str(self.port), "--engagements", "1", "--seconds", str(seconds)],
            cwd=self.folder, stdout=self.stdout, stderr=self.stderr,
        )
        self.url = None

    def output(self):
        with open(self.stdout.name) as out, open(self.stderr.name) as err:
            return out.read(), err.read()

    def wait_ready(self):
        def ready():
            if self.process.poll() is not None:
                out, err = self.output()
                raise Failure(f"demo exited with {self.process.returncode}:\n{out}\n{err[-3000:]}")
            out, _ = self.output()
            for line in out.splitlines():
                if "open http://" in line:
                    return line.split("open ", 1)[1].split(" ", 1)[0]
            return None
        self.url = wait_for("the demo to print its URL", ready, timeout=60)
        return self.url

    def stop(self):
        """SIGINT by pid, as Ctrl-C; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise Failure("demo did not exit within 20 s of SIGINT")
        return self.process.returncode


def make_driver(width, height, user_agent=None):
    options = Options()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    if user_agent:
        options.add_argument(f"--user-agent={user_agent}")
    # Nothing outside loopback: the Zoom SDK script must fail to load, as it does outside the Zoom client.
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_window_size(width, height)
    return driver


def viewport(driver, width, height):
    """Resizes so the *viewport* (not the window) is width x height."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(width + (width - inner[0]), height + (height - inner[1]))


def log_lines(driver):
    """The activity log, oldest first (the page shows newest first), read in one script: the log grows while the
    test reads it, and element-by-element reads could mix two states."""
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll('#log li:not(.empty) .text'), e => e.innerText.trim())")
    return list(reversed(texts))


def transcript_lines(driver):
    """[(role, label, text)] of the transcript panel, oldest first."""
    return [tuple(row) for row in driver.execute_script(
        "return Array.from(document.querySelectorAll('#transcript li:not(.empty)'),"
        " e => [e.dataset.role, e.querySelector('.who').innerText.trim(), e.querySelector('.said').innerText.trim()])")]


def channel_view(driver):
    """{channel: {name, chunks, meter, idle, speaking}} of the party rows, read in one script."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('#channels li:not(.empty)'), li => ({"
        " channel: li.querySelector('.chunks').dataset.channel, name: li.querySelector('.name').innerText.trim(),"
        " chunks: parseInt(li.querySelector('.chunks').innerText, 10), meter: li.querySelector('meter').value,"
        " idle: li.dataset.idle === 'true', speaking: li.querySelector('.speaking').dataset.speaking === 'true'}))")
    return {row["channel"]: row for row in rows}


def text_of(driver, element_id):
    return driver.find_element(By.ID, element_id).text.strip()


def button_states(driver):
    return {name: driver.find_element(By.ID, name).is_enabled() for name in ("start", "stop", "pause", "resume")}


def stream_state(driver):
    return driver.find_element(By.ID, "stream-state").get_attribute("data-state")


def chunk_counts(driver):
    return {channel: row["chunks"] for channel, row in channel_view(driver).items()}


def timer_seconds(driver):
    return int(driver.find_element(By.ID, "timer").get_attribute("data-seconds") or "0")


def chunk_total(driver):
    return int(driver.find_element(By.ID, "chunk-total").get_attribute("data-total") or "0")


def expect(condition, message):
    if not condition:
        raise Failure(message)


def expect_buttons(driver, expected, when):
    wait_for(f"buttons {expected} {when} (have {button_states(driver)})", lambda: button_states(driver) == expected, timeout=10)


def index_of(lines, prefix, start=0):
    for i in range(start, len(lines)):
        if lines[i].startswith(prefix):
            return i
    raise Failure(f"no log line starting with {prefix!r} after line {start}; log: {lines}")


def console_errors(driver, allowed=()):
    entries = driver.get_log("browser")
    return [e for e in entries if e["level"] == "SEVERE" and not any(a in e["message"] for a in allowed)]


def meters_down(driver):
    """Every party's meter at zero and greyed out."""
    view = channel_view(driver)
    return bool(view) and all(row["meter"] == 0 and row["idle"] and not row["speaking"] for row in view.values())


def check_agent_page(driver, url, artifacts):
    driver.get(url)
    wait_for("the stream to be streaming", lambda: stream_state(driver) == "streaming", timeout=30)
    wait_for("live updates", lambda: text_of(driver, "live") == "Live", timeout=10)

    # The call header: who, from the webhook and the participant events; recording; a running timer.
    wait_for("the caller in the header", lambda: text_of(driver, "caller").startswith("Caller ") and "not named" not in text_of(driver, "caller"), timeout=15)
    header = text_of(driver, "call-meta")
    expect("Inbound" in header and "queue Simulated Queue" in header and "agent " in header, f"call header lacks direction, queue or agent: {header!r}")
    expect(text_of(driver, "rec") == "REC", f"recording indicator says {text_of(driver, 'rec')!r} while streaming")
    first = timer_seconds(driver)
    wait_for("the timer to run", lambda: timer_seconds(driver) >= first + 2, timeout=15)
    total = chunk_total(driver)
    wait_for("the chunk counter in the header to move", lambda: chunk_total(driver) > total + 50, timeout=15)

    # Parties are labelled by role; they take turns, and the speaking indicator follows the levels.
    view = channel_view(driver)
    expect(len(view) == 2, f"expected two parties, have {view}")
    names = sorted(row["name"].split(" · ")[0] for row in view.values())
    expect(names == ["Agent", "Customer"], f"parties are not labelled Agent and Customer: {[r['name'] for r in view.values()]}")
    spoke, alone = set(), False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (len(spoke) == 2 and alone):
        speaking = [c for c, row in channel_view(driver).items() if row["speaking"]]
        spoke.update(speaking)
        alone = alone or len(speaking) == 1
        time.sleep(0.1)
    expect(len(spoke) == 2 and alone, f"speaking indicator: parties seen speaking {spoke}, one at a time seen: {alone}")

    # A live transcript line from each party, labelled.
    wait_for("a transcript line from each party",
             lambda: {role for role, _, _ in transcript_lines(driver)} >= {"agent", "customer"}, timeout=40)
    for role, label, text in transcript_lines(driver):
        expect(label == {"agent": "Agent", "customer": "Customer"}.get(role), f"transcript line {text!r} labelled {label!r} for role {role}")
        expect(text, "an empty transcript line")

    # The activity log: plain words in order (newest first on screen), no chunk counters, Zoom's codes translated.
    lines = log_lines(driver)
    connecting = index_of(lines, "Connecting to Zoom to record")
    index_of(lines, "Recording (L16, 16 kHz, mono)", connecting)
    expect(any(line.startswith("Customer answered") for line in lines), f"no 'Customer answered' in the log: {lines}")
    expect(not any("audio chunks" in line or re.search(r"\b[A-Z]+_[A-Z_]+\b", line) for line in lines),
           f"chunk counters or raw Zoom codes in the log: {lines}")
    levels = {li.get_attribute("data-level") for li in driver.find_elements(By.CSS_SELECTOR, "#log li")}
    expect({"info", "success"} <= levels, f"log lines are not coloured by type: {levels}")
    expect(driver.find_element(By.ID, "recordings-link").get_attribute("href").endswith("/recordings"), "no link to the recordings page")

    expect_buttons(driver, {"start": False, "stop": True, "pause": True, "resume": False}, "while streaming")
    viewport(driver, 1280, 800)
    time.sleep(0.5)
    driver.save_screenshot(os.path.join(artifacts, "agent-page-desktop.png"))

    viewport(driver, 480, 360)
    time.sleep(0.5)
    driver.save_screenshot(os.path.join(artifacts, "agent-page-480x360.png"))
    overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
    expect(not overflow, "the page scrolls sideways at 480x360")

    # Auto-scroll stops while the agent reads further up, and "jump to latest" brings it back.
    wait_for("the transcript to overflow its box", lambda: driver.execute_script(
        "const t = document.getElementById('transcript'); return t.scrollHeight > t.clientHeight + 20"), timeout=60)
    driver.execute_script("const t = document.getElementById('transcript'); t.scrollTop = 0; t.dispatchEvent(new Event('scroll'))")
    count = len(transcript_lines(driver))
    wait_for("a new transcript line while scrolled up", lambda: len(transcript_lines(driver)) > count, timeout=30)
    expect(driver.execute_script("return document.getElementById('transcript').scrollTop") == 0, "the transcript scrolled while the agent read further up")
    latest = driver.find_element(By.ID, "latest")
    expect(latest.is_displayed(), "no 'jump to latest' while new lines arrive below")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", latest)
    latest.click()
    wait_for("the transcript at its newest line", lambda: driver.execute_script(
        "const t = document.getElementById('transcript'); return t.scrollTop + t.clientHeight >= t.scrollHeight - 24"), timeout=5)
    viewport(driver, 1280, 800)

    # Keyboard: Pause is reachable and works with Enter. Paused: the indicator says since when, the meters drop.
    driver.find_element(By.ID, "pause").send_keys(Keys.ENTER)
    wait_for("paused", lambda: stream_state(driver) == "paused")
    expect_buttons(driver, {"start": False, "stop": True, "pause": False, "resume": True}, "while paused")
    wait_for("'Recording paused' in the log", lambda: "Recording paused" in log_lines(driver))
    wait_for("'Paused since …'", lambda: text_of(driver, "rec").startswith("Paused since "), timeout=5)
    wait_for("meters at zero and grey while paused", lambda: meters_down(driver), timeout=5)

    driver.find_element(By.ID, "resume").click()
    wait_for("streaming again", lambda: stream_state(driver) == "streaming")
    wait_for("'Recording resumed' in the log", lambda: "Recording resumed" in log_lines(driver))
    wait_for("meters live again", lambda: any(not row["idle"] for row in channel_view(driver).values()), timeout=10)
    expect_buttons(driver, {"start": False, "stop": True, "pause": True, "resume": False}, "after resume")

    # Stop asks first: "Keep recording" changes nothing, "Stop recording" stops.
    driver.find_element(By.ID, "stop").click()
    dialog = driver.find_element(By.ID, "stop-dialog")
    wait_for("the Stop confirmation", lambda: dialog.get_attribute("open") is not None, timeout=5)
    driver.save_screenshot(os.path.join(artifacts, "agent-page-stop-confirmation.png"))
    driver.find_element(By.ID, "stop-cancel").click()
    wait_for("the confirmation to close", lambda: dialog.get_attribute("open") is None, timeout=5)
    time.sleep(1.0)
    expect(stream_state(driver) == "streaming", f"'Keep recording' changed the stream to {stream_state(driver)}")
    driver.find_element(By.ID, "stop").click()
    wait_for("the Stop confirmation again", lambda: dialog.get_attribute("open") is not None, timeout=5)
    driver.find_element(By.ID, "stop-confirm").click()
    wait_for("stopped", lambda: stream_state(driver) == "stopped")
    wait_for("'Recording stopped' in the log", lambda: any(line.startswith("Recording stopped") for line in log_lines(driver)))
    expect(text_of(driver, "rec") == "Recording stopped", f"recording indicator after Stop: {text_of(driver, 'rec')!r}")
    expect_buttons(driver, {"start": True, "stop": False, "pause": False, "resume": False}, "after stop")
    wait_for("meters at zero and grey after Stop", lambda: meters_down(driver), timeout=5)
    stopped = chunk_counts(driver)
    time.sleep(1.0)
    expect(chunk_counts(driver) == stopped, "counters still move after Stop")

    driver.find_element(By.ID, "start").click()
    wait_for("a new stream streaming", lambda: stream_state(driver) == "streaming", timeout=30)
    wait_for("counters of the new stream", lambda: len(chunk_counts(driver)) == 2 and min(chunk_counts(driver).values()) > 10, timeout=15)
    expect(sum(1 for line in log_lines(driver) if line == "Connecting to Zoom to record") == 2, "the second start is not in the log")
    errors = console_errors(driver)
    expect(not errors, f"console errors: {errors}")
    return len(log_lines(driver))


def check_call_ended(driver, demo, artifacts):
    """The demo stopped by Ctrl-C ends its call: the page says 'Call ended' (not 'Reconnecting') once the relay is
    gone too, the timer stops and the meters drop."""
    demo.stop()
    wait_for("'Call ended'", lambda: text_of(driver, "live") == "Call ended", timeout=20)
    wait_for("'Call ended' in the log", lambda: "Call ended" in log_lines(driver), timeout=5)
    wait_for("meters at zero and grey after the call", lambda: meters_down(driver), timeout=5)
    stopped_at = timer_seconds(driver)
    time.sleep(POLL_SECONDS + 2)
    expect(text_of(driver, "live") == "Call ended", f"after the relay went away the page says {text_of(driver, 'live')!r}")
    expect(timer_seconds(driver) == stopped_at, "the timer runs after the call ended")
    expect_buttons(driver, {"start": False, "stop": False, "pause": False, "resume": False}, "after the call ended")
    driver.save_screenshot(os.path.join(artifacts, "agent-page-call-ended.png"))


def check_zoom_without_sdk(url, artifacts):
    """Inside the Zoom client (by user agent) with the SDK unreachable: the page says so and falls back."""
    driver = make_driver(480, 360, user_agent="Mozilla/5.0 ZoomApps/1.0 (test; SDK blocked)")
    try:
        driver.get(url)
        wait_for("the SDK fallback message", lambda: "pick an engagement instead" in driver.find_element(By.ID, "message").text, timeout=15)
        wait_for("the engagement picker", lambda: driver.find_element(By.ID, "picker").is_displayed())
        wait_for("streaming", lambda: stream_state(driver) == "streaming", timeout=20)
        driver.save_screenshot(os.path.join(artifacts, "agent-page-zoom-no-sdk.png"))
        # The blocked script itself is the only error allowed.
        errors = console_errors(driver, allowed=("appssdk.zoom.us",))
        expect(not errors, f"console errors without the SDK: {errors}")
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--artifacts", required=True)
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)

    demo = Demo(args.binary)
    driver = None
    ok = False
    try:
        url = demo.wait_ready()
        print(f"demo ready at {url} (folder {demo.folder})")
        driver = make_driver(1280, 800)
        lines = check_agent_page(driver, url, args.artifacts)
        print(f"agent page: ok ({lines} log lines; start/stop/pause/resume verified)")
        check_zoom_without_sdk(url, args.artifacts)
        print("inside Zoom without the SDK: ok")
        check_call_ended(driver, demo, args.artifacts)
        print("call ended: ok")
        ok = True
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if driver is not None:
            driver.save_screenshot(os.path.join(args.artifacts, "agent-page-failure.png"))
    finally:
        if driver is not None:
            driver.quit()
        try:
            status = demo.stop()
        except Failure as failure:
            print(f"FAIL: {failure}", file=sys.stderr)
            status, ok = -1, False
        out, err = demo.output()
        with open(os.path.join(args.artifacts, "browser-demo.log"), "w") as log:
            log.write(out + "\n--- stderr ---\n" + err)
        if ok and status != 0:
            print(f"FAIL: demo exited with {status} after SIGINT; see artifacts/browser-demo.log", file=sys.stderr)
            ok = False
        recordings = os.path.join(demo.folder, "data", "recordings")
        wavs = [f for _, _, files in os.walk(recordings) for f in files if f.endswith(".wav")]
        if ok and not wavs:
            print("FAIL: the demo wrote no WAV files under data/recordings", file=sys.stderr)
            ok = False
        if ok and not os.path.exists(os.path.join(demo.folder, "data", "archive.sqlite")):
            print("FAIL: the demo wrote no data/archive.sqlite", file=sys.stderr)
            ok = False
        if ok:
            print(f"demo exited 0; {len(wavs)} WAV file(s) and the archive in {demo.folder}/data")
            shutil.rmtree(demo.folder, ignore_errors=True)
    print("browser test: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
