#!/usr/bin/env python3
"""Drives the recordings page in headless Chromium, as a QA reviewer would, against `rtms-relay demo`.

After a few seconds of the demo's call, Stop ends its stream (so the WAVs are final), then the page must:
find the call by its agent and by a word from its transcript (and nothing for a word nobody said); open it
with both parties' audio and a speaker-labelled transcript; seek the player when a transcript line is clicked
(the audio's currentTime moves to the line, and the line is highlighted); play (currentTime advances); and
serve a download with 206 to a Range request. Screenshot: artifacts/recordings-page.png.
"""
import argparse
import json
import os
import re
import shutil
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

from agent_page_test import Demo, Failure, make_driver, viewport, wait_for


def api(url, path, method="GET", body=None):
    request = urllib.request.Request(url.rstrip("/") + path, method=method, data=body and json.dumps(body).encode())
    if body is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read() or b"{}")


def search(driver, **fields):
    form = driver.find_element(By.ID, "search")
    for name in ("from", "to", "agent", "caller", "engagement", "q"):
        element = form.find_element(By.NAME, name)
        driver.execute_script("arguments[0].value = ''", element)
        if name in fields:
            element.send_keys(fields[name])
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def result_ids(driver):
    return driver.execute_script("return Array.from(document.querySelectorAll('#results tr[data-engagement]'), r => r.dataset.engagement)")


def check_recordings_page(driver, url, artifacts):
    # The demo's call: wait for transcript lines from both parties in the archive, then stop its stream.
    calls = wait_for("the demo's call in /api/recordings", lambda: api(url, "/api/recordings")["calls"], timeout=60)
    engagement = calls[0]["engagement_id"]
    agent = calls[0]["agents"][0]["name"]

    def two_parties():
        lines = api(url, f"/api/recordings/{engagement}")["transcript"]
        return lines if {line["role"] for line in lines} == {"agent", "customer"} and len(lines) >= 3 else None
    transcript = wait_for("transcript lines from both parties in the archive", two_parties, timeout=90, interval=0.5)
    api(url, "/api/zoom/rtms/control", "POST", {"engagementId": engagement, "action": "stop"})
    wait_for("the stream to stop", lambda: all(s["state"] == "stopped" for s in api(url, f"/api/recordings/{engagement}")["segments"]), timeout=30)

    viewport(driver, 1280, 900)
    driver.get(url + "recordings")
    wait_for("the call in the unfiltered list", lambda: engagement in result_ids(driver))

    # Find it by agent, and by a word from what was said.
    search(driver, agent=agent.split()[-1].lower())
    wait_for(f"the call found by agent '{agent}'", lambda: result_ids(driver) == [engagement])
    word = max(re.findall(r"[A-Za-z]{5,}", transcript[1]["text"]), key=len)
    search(driver, q=word)
    wait_for(f"the call found by the word '{word}'", lambda: result_ids(driver) == [engagement])
    search(driver, q="xylophonequartz")
    wait_for("no call for a word nobody said", lambda: result_ids(driver) == [] and "No calls match" in driver.find_element(By.ID, "results").text)
    search(driver, q=word)
    wait_for("the call again", lambda: result_ids(driver) == [engagement])

    # Open it: both parties' audio, a labelled transcript.
    driver.find_element(By.CSS_SELECTOR, f"#results tr[data-engagement='{engagement}']").click()
    wait_for("the call view", lambda: driver.find_element(By.ID, "call").is_displayed())
    players = wait_for("two audio players with their duration", lambda: driver.execute_script(
        "const a = Array.from(document.querySelectorAll('#audio audio')); return a.length === 2 && a.every(x => x.duration > 1) ? a.length : 0"))
    roles = wait_for("speaker labels", lambda: set(driver.execute_script(
        "return Array.from(document.querySelectorAll('#transcript li .who'), e => e.textContent)")) >= {"Agent", "Customer"} or None)
    if players != 2 or not roles:
        raise Failure("the call view has no two-party player or no labelled transcript")

    # Click a transcript line: the player seeks to it and the line is highlighted.
    lines = driver.find_elements(By.CSS_SELECTOR, "#transcript li[data-offset]")
    target = lines[min(2, len(lines) - 1)]
    offset = float(target.get_attribute("data-offset"))
    if offset <= 0.5:
        raise Failure(f"the third transcript line starts at {offset} s; expected later in the call")
    target.click()
    seeked = wait_for(f"currentTime near {offset:.2f} s after the click", lambda: driver.execute_script(
        "const a = Array.from(document.querySelectorAll('#audio audio'), x => x.currentTime); return a.every(t => Math.abs(t - arguments[0]) < 0.3) ? a : null",
        offset))
    wait_for("the clicked line highlighted", lambda: "current" in target.get_attribute("class"))

    # Play: time moves on from the line.
    driver.find_element(By.ID, "play").click()
    wait_for("playback to advance", lambda: driver.execute_script("return document.querySelector('#audio audio').currentTime") > seeked[0] + 0.5, timeout=15)
    driver.save_screenshot(os.path.join(artifacts, "recordings-page.png"))
    driver.find_element(By.ID, "play").click()

    # A download link answers a Range request with 206 and the byte range.
    status = driver.execute_script("""
        const link = document.querySelector('#downloads a');
        return fetch(link.href, {headers: {Range: 'bytes=0-99'}}).then(async r => [r.status, r.headers.get('Content-Range'), (await r.arrayBuffer()).byteLength, r.headers.get('Content-Disposition')]);
    """)
    if status[0] != 206 or not (status[1] or "").startswith("bytes 0-99/") or status[2] != 100 or "attachment" not in (status[3] or ""):
        raise Failure(f"the download did not answer the Range request with 206: {status}")
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    if errors:
        raise Failure(f"the browser console has errors: {errors}")
    return engagement, word


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--artifacts", required=True)
    args = parser.parse_args()
    os.makedirs(args.artifacts, exist_ok=True)
    demo = Demo(args.binary, seconds=300)
    driver = None
    ok = False
    try:
        url = demo.wait_ready()
        driver = make_driver(1280, 900)
        engagement, word = check_recordings_page(driver, url, args.artifacts)
        print(f"recordings page: ok (found {engagement} by agent and by '{word}', seeked from the transcript, played, 206 download)")
        ok = True
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if driver is not None:
            driver.save_screenshot(os.path.join(args.artifacts, "recordings-page-failure.png"))
    finally:
        if driver is not None:
            driver.quit()
        demo.stop()
        out, err = demo.output()
        with open(os.path.join(args.artifacts, "recordings-demo.log"), "w") as log:
            log.write(out + "\n--- stderr ---\n" + err)
        if ok:
            shutil.rmtree(demo.folder, ignore_errors=True)
    print("recordings browser test: " + ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
