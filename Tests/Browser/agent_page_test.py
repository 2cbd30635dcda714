#!/usr/bin/env python3
"""Drives the agent page in headless Chromium against `rtms-relay demo` (relay + Zoom simulator).

Checks: the live log shows the status lines in order (newest first on screen), the per-channel counters
move and the meters show a level, Start/Stop/Pause/Resume enable and disable with the real stream state,
Pause/Resume/Stop/Start work through the relay and the simulated Zoom REST API, the page works inside
"Zoom" when the Zoom Apps SDK cannot load, and the browser console stays free of errors. Screenshots at
480x360 (Zoom's side panel) and 1280x800 go to the artifacts folder.
"""
import argparse
import os
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
    """The live log, oldest first (the page shows newest first), read in one script: the log grows while the
    test reads it, and element-by-element reads could mix two states."""
    texts = driver.execute_script(
        "return Array.from(document.querySelectorAll('#log li:not(.empty) .text'), e => e.innerText.trim())")
    return list(reversed(texts))


def button_states(driver):
    return {name: driver.find_element(By.ID, name).is_enabled() for name in ("start", "stop", "pause", "resume")}


def stream_state(driver):
    return driver.find_element(By.ID, "stream-state").get_attribute("data-state")


def chunk_counts(driver):
    counts = {}
    for element in driver.find_elements(By.CSS_SELECTOR, "#channels .chunks"):
        counts[element.get_attribute("data-channel")] = int(element.text.split()[0])
    return counts


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


def check_agent_page(driver, url, artifacts):
    driver.get(url)
    wait_for("the stream to be streaming", lambda: stream_state(driver) == "streaming", timeout=30)
    wait_for("live updates", lambda: driver.find_element(By.ID, "live").text == "Live", timeout=10)
    wait_for("100 audio chunks on both channels",
             lambda: sum(1 for line in log_lines(driver) if line.startswith("Received 100 audio chunks")) >= 2, timeout=20)

    # `lines` reverses the page's order, so finding them in the order they happened proves newest-on-top.
    lines = log_lines(driver)
    first = index_of(lines, "Starting RTMS connection")
    connected = index_of(lines, "RTMS connected", first)
    fifty = index_of(lines, "Received 50 audio chunks", connected)
    index_of(lines, "Received 100 audio chunks", fifty)
    levels = {li.get_attribute("data-level") for li in driver.find_elements(By.CSS_SELECTOR, "#log li")}
    expect({"info", "success"} <= levels, f"log lines are not coloured by type: {levels}")

    before = chunk_counts(driver)
    expect(len(before) == 2, f"expected two channels, have {before}")
    wait_for("the counters to move", lambda: all(chunk_counts(driver)[c] > before[c] + 20 for c in before), timeout=10)
    meters = [float(m.get_attribute("value")) for m in driver.find_elements(By.CSS_SELECTOR, "#channels meter")]
    expect(any(v > 0 for v in meters), f"level meters show nothing: {meters}")

    expect_buttons(driver, {"start": False, "stop": True, "pause": True, "resume": False}, "while streaming")
    viewport(driver, 480, 360)
    time.sleep(0.5)
    driver.save_screenshot(os.path.join(artifacts, "agent-page-480x360.png"))
    overflow = driver.execute_script("return document.documentElement.scrollWidth > window.innerWidth")
    expect(not overflow, "the page scrolls sideways at 480x360")

    # Keyboard: Pause is reachable and works with Enter.
    driver.find_element(By.ID, "pause").send_keys(Keys.ENTER)
    wait_for("paused", lambda: stream_state(driver) == "paused")
    expect_buttons(driver, {"start": False, "stop": True, "pause": False, "resume": True}, "while paused")
    wait_for("'RTMS paused' in the log", lambda: "RTMS paused" in log_lines(driver))

    driver.find_element(By.ID, "resume").click()
    wait_for("streaming again", lambda: stream_state(driver) == "streaming")
    wait_for("'RTMS resumed' in the log", lambda: "RTMS resumed" in log_lines(driver))
    expect_buttons(driver, {"start": False, "stop": True, "pause": True, "resume": False}, "after resume")

    driver.find_element(By.ID, "stop").click()
    wait_for("stopped", lambda: stream_state(driver) == "stopped")
    wait_for("'RTMS stopped' in the log", lambda: any(line.startswith("RTMS stopped") for line in log_lines(driver)))
    expect_buttons(driver, {"start": True, "stop": False, "pause": False, "resume": False}, "after stop")
    stopped = chunk_counts(driver)
    time.sleep(1.0)
    expect(chunk_counts(driver) == stopped, "counters still move after Stop")

    driver.find_element(By.ID, "start").click()
    wait_for("a new stream streaming", lambda: stream_state(driver) == "streaming", timeout=30)
    wait_for("counters of the new stream", lambda: len(chunk_counts(driver)) == 2 and min(chunk_counts(driver).values()) > 10, timeout=15)
    expect(sum(1 for line in log_lines(driver) if line == "Starting RTMS connection") == 2, "the second start is not in the log")

    viewport(driver, 1280, 800)
    time.sleep(0.5)
    driver.save_screenshot(os.path.join(artifacts, "agent-page-desktop.png"))
    errors = console_errors(driver)
    expect(not errors, f"console errors: {errors}")
    return len(log_lines(driver))


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
