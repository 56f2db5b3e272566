"""Opens HTML reports in headless Chromium over the DevTools protocol and checks them.

For each page: it loads with no console message of level error or warning and no request other than the page's own
file:// URL; it draws the given number of charts; every chart's SVG has a non-zero size and draws as many
series (g.series) as its data-series-count says (at least one), each series with at least one mark; a PNG screenshot
of the whole page is written beside it (or to the given path).

The expected count is exact: the number of charts the report command said it drew.
Usage: report_browser.py CHROMIUM PAGE.html:CHARTS[:SCREENSHOT.png[:MAX_HEIGHT]] ...
Prints "report-browser: N passed" and exits 1 on the first failure."""
import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket  # websocket-client

CHECK_JS = r"""
(() => {
  const charts = [...document.querySelectorAll('svg.chart')].map(svg => {
    const box = svg.getBoundingClientRect();
    const series = [...svg.querySelectorAll('g.series')];
    return {
      id: svg.id, width: box.width, height: box.height,
      declared: Number(svg.dataset.seriesCount), drawn: series.length,
      empty: series.filter(g => g.querySelectorAll('path,rect,circle').length === 0).map(g => g.dataset.name),
      title: (svg.querySelector('title') || {}).textContent || '',
      desc: (svg.querySelector('desc') || {}).textContent || '',
    };
  });
  return JSON.stringify({charts, height: document.documentElement.scrollHeight,
    scripts: document.querySelectorAll('script').length,
    external: [...document.querySelectorAll('[src],link[href]')].map(e => e.src || e.href)});
})()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="report-browser-")
        self.port = free_port()
        self.process = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={self.profile}", f"--remote-debugging-port={self.port}",
             "--remote-allow-origins=*", "--window-size=1200,900", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=2) as r:
                    targets = [t for t in json.load(r) if t.get("type") == "page"]
                if targets:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("chromium did not open its DevTools port in 30 s")
            time.sleep(0.2)
        self.ws = websocket.create_connection(targets[0]["webSocketDebuggerUrl"], timeout=30)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            for i, e in enumerate(self.events):
                if e.get("method") == event:
                    del self.events[i]
                    return e
            self.ws.settimeout(max(deadline - time.time(), 0.1))
            self.events.append(json.loads(self.ws.recv()))
        raise RuntimeError(f"no {event} in {seconds} s")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            subprocess.run(["rm", "-rf", self.profile])


def check(browser, page, expected, screenshot, max_height=16000):
    url = "file://" + os.path.abspath(page)
    browser.events.clear()
    browser.call("Page.enable")
    browser.call("Network.enable")
    browser.call("Runtime.enable")
    browser.call("Log.enable")
    browser.call("Page.navigate", url=url)
    browser.wait_for("Page.loadEventFired")
    time.sleep(0.3)
    result = json.loads(browser.call("Runtime.evaluate", expression=CHECK_JS, returnByValue=True)["result"]["value"])
    # Drain what arrived meanwhile.
    browser.call("Runtime.evaluate", expression="1")
    failures = []
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    others = [r for r in requests if r != url]
    if others:
        failures.append(f"network requests besides the page: {others}")
    for e in browser.events:
        if e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] in ("error", "warning", "assert"):
            failures.append(f"console {e['params']['type']}: {e['params']['args']}")
        if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning"):
            failures.append(f"log {e['params']['entry']['level']}: {e['params']['entry']['text']}")
        if e.get("method") == "Runtime.exceptionThrown":
            failures.append(f"exception: {e['params']['exceptionDetails'].get('text')}")
    if result["scripts"] or result["external"]:
        failures.append(f"scripts {result['scripts']}, external references {result['external']}")
    charts = result["charts"]
    if len(charts) != expected:
        failures.append(f"{len(charts)} charts drawn, the report says {expected}")
    for c in charts:
        if not (c["width"] > 0 and c["height"] > 0):
            failures.append(f"{c['id']} ({c['title']}): size {c['width']}×{c['height']}")
        if c["drawn"] != c["declared"] or c["drawn"] < 1:
            failures.append(f"{c['id']} ({c['title']}): {c['drawn']} series drawn, {c['declared']} declared")
        if c["empty"]:
            failures.append(f"{c['id']} ({c['title']}): series without marks: {c['empty']}")
        if not c["desc"]:
            failures.append(f"{c['id']} ({c['title']}): no text alternative")
    height = min(int(result["height"]), max_height)
    browser.call("Emulation.setDeviceMetricsOverride", width=1200, height=height, deviceScaleFactor=1, mobile=False)
    shot = browser.call(
        "Page.captureScreenshot", format="png", captureBeyondViewport=True,
        clip={"x": 0, "y": 0, "width": 1200, "height": height, "scale": 1})
    with open(screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    browser.call("Emulation.clearDeviceMetricsOverride")
    return failures, len(charts)


def main():
    binary = sys.argv[1]
    browser = Browser(binary)
    passed = 0
    try:
        for spec in sys.argv[2:]:
            parts = spec.split(":")
            page, expected = parts[0], int(parts[1])
            screenshot = parts[2] if len(parts) > 2 else os.path.splitext(page)[0] + ".png"
            max_height = int(parts[3]) if len(parts) > 3 else 16000
            failures, count = check(browser, page, expected, screenshot, max_height)
            if failures:
                print(f"report-browser: FAIL {page}:")
                for f in failures:
                    print(f"  {f}")
                sys.exit(1)
            print(f"report-browser: ok {page}: {count} charts, screenshot {screenshot}")
            passed += 1
    finally:
        browser.close()
    print(f"report-browser: {passed} passed")


if __name__ == "__main__":
    main()
