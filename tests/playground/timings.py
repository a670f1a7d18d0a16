#!/usr/bin/env python3
"""The playground's timings in headless Chromium, through WebDriver, without virtual time.

    timings.py SERVED_FOLDER [--bench-playground PATH | --native-course-us US] [--strict]
               [--screenshot FILE] [--json FILE] [--chromedriver PATH] [--chromium PATH]

Serves SERVED_FOLDER (the built page) on 127.0.0.1 with `python3 -m http.server`, starts Debian's
chromedriver and headless Chromium, and opens index.html twice: first in the browser just started
(its interactive time printed), then, after about:blank and a second's pause, with the HTTP cache
disabled through the DevTools protocol, as a user of a running browser opens the page for the first
time. On that second load it calls the page's window.playgroundTimings() (POST
/session/{id}/execute/async of the W3C WebDriver protocol, spoken with urllib), which measures:
  - courseStepFiguresMicroseconds: M.courseStepFigures (the figures, no graph texts), compared with
    bench_playground's native "course step (figures)"; courseStepMicroseconds: M.courseStep on the
    slides' input (with the graph's table and DOT), after a warm-up until the mean of 200 calls
    settles: the median of five means of 2000 calls each, on the page's thread;
  - trainingStepsPer16ms: SGD steps of the 2-8-8-1 tanh network per 16 ms, in the Web Worker,
    at a full batch of 200 points (the target's case) and at the page's default batch of 10;
  - interactiveMilliseconds: from navigation start (performance.timeOrigin) to the module loaded,
    the course's figures shown and the first training frame drawn (window.playgroundReadyAt).
Then it plays the training panel for two seconds and records the page's animation frames (the
page must stay responsive while the worker trains), and drives the page's controls as a user
would (the course's buttons and inputs, the gradient check, a dataset, a step, a layer). Prints the figures with the .wasm size
(and gzipped) and checks the issue's targets: the course step within 3x of native (when
--native-course-us gives bench_playground's native figure; compared with M.courseStepFigures
called from JavaScript, M.timeCourseSteps printed beside it), at least 100 steps per 16 ms, interactive within
1000 ms, .wasm under 1 MB: PASS or FAIL for each.

Exit status: 0, or 1 when a target failed and --strict is given; 2 when the measurement could not
be made (a missing file, chromedriver or the page failing). Python's standard library only.
"""

import argparse
import base64
import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

# The browser test's server and process helpers.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_test import Server, TestError, kill_group, run  # noqa: E402

TIMINGS_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  for (let i = 0; i < 400 && !window.playgroundTimings; ++i) await new Promise((r) => setTimeout(r, 50));
  if (!window.playgroundTimings) throw new Error('window.playgroundTimings is not defined');
  return await window.playgroundTimings();
})().then((r) => done({ok: r}), (e) => done({error: String((e && e.stack) || e)}));
"""

# When the page became interactive (the first training frame drawn), without its other timings.
READY_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  for (let i = 0; i < 800 && !window.playgroundReadyAt; ++i) await new Promise((r) => setTimeout(r, 25));
  if (!window.playgroundReadyAt) throw new Error('the page did not become interactive within 20 s');
  return {interactiveMilliseconds: window.playgroundReadyAt, moduleReadyMilliseconds: window.playgroundModuleAt,
          courseReadyMilliseconds: window.playgroundCourseReadyAt};
})().then((r) => done({ok: r}), (e) => done({error: String((e && e.stack) || e)}));
"""

# Play at full speed for two seconds; record the page's animation frames and the step counter.
RESPONSIVE_SCRIPT = """
const done = arguments[arguments.length - 1];
(async () => {
  const speed = document.getElementById('speed');
  speed.value = '0';
  speed.dispatchEvent(new Event('change'));
  const steps = () => Number(document.getElementById('steps').textContent.replace(/,/g, ''));
  const before = steps();
  document.getElementById('play').click();
  const frames = [];
  const start = performance.now();
  await new Promise((resolve) => {
    const tick = (t) => {
      frames.push(t);
      if (performance.now() - start < 2000) requestAnimationFrame(tick); else resolve();
    };
    requestAnimationFrame(tick);
  });
  document.getElementById('play').click();
  await new Promise((r) => setTimeout(r, 200));
  let gap = 0;
  for (let i = 1; i < frames.length; ++i) gap = Math.max(gap, frames[i] - frames[i - 1]);
  return {frames: frames.length, seconds: (frames[frames.length - 1] - frames[0]) / 1000, longestFrameMs: gap,
          stepsBefore: before, stepsAfter: steps(), error: document.getElementById('train-error').hidden ? '' :
          document.getElementById('train-error').textContent};
})().then((r) => done({ok: r}), (e) => done({error: String((e && e.stack) || e)}));
"""


# The page's controls, driven as a user would (clicks and typing, through the DOM's events), each
# check a [name, passed, detail] triple.
UI_SCRIPT = r"""
const done = arguments[arguments.length - 1];
(async () => {
  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const cell = (fig) => document.querySelector(`#course [data-fig="${fig}"]`).textContent;
  const type = (el, text) => { el.value = text; el.dispatchEvent(new Event('input', {bubbles: true})); };
  const until = async (test, ms = 10000) => { const t = performance.now(); while (!test() && performance.now() - t < ms) await sleep(20); return test(); };
  const checks = [];
  const check = (name, ok, detail) => checks.push([name, !!ok, String(detail)]);

  $('course-slides').click();
  check("Slides' example: a_h1 and a_y", cell('a_h1') === '0.377541' && cell('a_y') === '0.648539', cell('a_h1') + ' ' + cell('a_y'));
  $('course-exercise').click();
  check('Exercise 1: x = [1, 2], y = 0, a_y < 0.5', $('in-x1').value === '1' && $('in-x2').value === '2' && $('in-y').value === '0' &&
        Number(cell('a_y')) < 0.5, `x1 ${$('in-x1').value}, a_y ${cell('a_y')}`);
  const updated = [...document.querySelectorAll('#weights-table td.updated')].map((td) => td.textContent);
  $('course-take').click();
  const now = [...document.querySelectorAll('#weights-table input')].map((el) => Number(el.value).toFixed(6));
  check('Take the step: the updated weights become the current ones', updated.length === 10 && updated.every((v, i) => v === now[i]),
        `${updated.join(' ')} -> ${now.join(' ')}`);
  $('course-slides').click();
  const w = document.querySelector('#weights-table input');
  type(w, '0.7');
  const edited = cell('a_h1');
  type(w, '0.5');
  check('editing w_{x1,h1} updates the figures', edited !== '0.377541' && cell('a_h1') === '0.377541', `a_h1 ${edited} then ${cell('a_h1')}`);
  type($('in-x1'), 'abc');
  const shown = !$('course-error').hidden && $('course-error').textContent;
  type($('in-x1'), '2');
  check("a bad input shows the engine's error", shown && $('course-error').hidden, shown);
  $('shape-error-button').click();
  check('the shape error is shown', /matmul/.test($('shape-error').textContent) && !$('shape-error').hidden, $('shape-error').textContent);
  check('the recorded graph is shown', /matmul/.test($('course-graph').textContent) && /sigmoid/.test($('course-graph').textContent),
        $('course-graph').textContent.split('\n').length + ' lines');

  $('gradcheck').click();
  await until(() => /passed|FAILED/.test($('gradcheck-result').textContent), 30000);
  check('Gradient check (in the worker)', /^passed/.test($('gradcheck-result').textContent), $('gradcheck-result').textContent);

  document.querySelector('#datasets [data-dataset="spirals"]').click();
  await until(() => $('steps').textContent === '0');
  $('step').click();
  const stepped = await until(() => $('steps').textContent === '1');
  check('dataset spirals, then Step: one step', stepped, 'steps ' + $('steps').textContent);
  const heat = () => Array.from($('heatmap').getContext('2d').getImageData(0, 0, 360, 360).data);
  const differ = (a, b) => a.reduce((n, v, i) => n + (Math.abs(v - b[i]) > 2 ? 1 : 0), 0);
  const plain = heat();
  document.querySelector('#network canvas.unit:not(:first-child)') &&
    document.querySelectorAll('#network .layer')[1].querySelector('canvas').dispatchEvent(new MouseEvent('mouseenter'));
  await sleep(150);
  const hovered = heat();
  document.querySelectorAll('#network .layer')[1].querySelector('canvas').dispatchEvent(new MouseEvent('mouseleave'));
  await sleep(150);
  const after = heat();
  check("pointing at a unit shows its map in the output's place", differ(hovered, plain) > 1000 && differ(after, plain) < 100,
        `${differ(hovered, plain)} values changed, ${differ(after, plain)} after`);
  const layers = document.querySelectorAll('#network .layer').length;
  $('add-layer').click();
  await sleep(300);
  check('+ layer: one more column of unit maps', document.querySelectorAll('#network .layer').length === layers + 1 &&
        $('train-error').hidden, `${layers} -> ${document.querySelectorAll('#network .layer').length} columns`);
  return checks;
})().then((r) => done({ok: r}), (e) => done({error: String((e && e.stack) || e)}));
"""


class WebDriver:
    def __init__(self, chromedriver, chromium, profile):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen([chromedriver, f"--port={port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.session = None
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.call("GET", "/status", timeout=2).get("ready"):
                    break
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise TestError(f"{chromedriver} did not start")
            time.sleep(0.1)
        args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1600", "--no-first-run",
                "--disable-extensions", f"--user-data-dir={profile}"]
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome",
                                                 "goog:chromeOptions": {"binary": chromium, "args": args}}}}
        self.session = self.call("POST", "/session", caps, timeout=60)["sessionId"]
        self.call("POST", f"/session/{self.session}/timeouts", {"script": 120000, "pageLoad": 60000})

    def call(self, method, path, body=None, timeout=150):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                reply = json.loads(r.read().decode())
        except urllib.error.HTTPError as e:
            reply = json.loads(e.read().decode() or "{}")
            raise TestError(f"WebDriver {method} {path}: {e.code} {reply.get('value', {}).get('message', '')[:500]}")
        return reply.get("value", reply)

    def execute_async(self, script):
        reply = self.call("POST", f"/session/{self.session}/execute/async", {"script": script, "args": []})
        if not isinstance(reply, dict) or "ok" not in reply:
            raise TestError(f"the page's script failed: {reply.get('error') if isinstance(reply, dict) else reply}")
        return reply["ok"]

    def cdp(self, command, params=None):  # a DevTools protocol command, through chromedriver
        return self.call("POST", f"/session/{self.session}/goog/cdp/execute", {"cmd": command, "params": params or {}})

    def close(self):
        if self.session:
            try:
                self.call("DELETE", f"/session/{self.session}", timeout=20)
            except (OSError, TestError):
                pass
        kill_group(self.proc)
        self.proc.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="the built page's folder")
    parser.add_argument("--native-course-us", type=float,
                        help="the native course step in microseconds (bench_playground's 'course step (figures)')")
    parser.add_argument("--bench-playground", metavar="PATH",
                        help="the native bench_playground: run first, its figures printed beside the browser's "
                             "(and its course step used when --native-course-us is not given)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--chromedriver", default=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    parser.add_argument("--chromium", default="/usr/lib/chromium/chromium" if os.path.exists(
        "/usr/lib/chromium/chromium") else (shutil.which("chromium") or "/usr/bin/chromium"))
    parser.add_argument("--json", metavar="FILE", help="also write the figures there")
    parser.add_argument("--screenshot", metavar="FILE", help="a PNG of the page after two seconds of training (WebDriver's)")
    args = parser.parse_args()

    wasm_path = os.path.join(args.folder, "playground.wasm")
    if not os.path.isfile(wasm_path) or not os.path.isfile(os.path.join(args.folder, "index.html")):
        print(f"timings: {args.folder} has no built page (index.html, playground.wasm)", file=sys.stderr)
        return 2
    with open(wasm_path, "rb") as f:
        wasm = f.read()
    wasm_gz = len(gzip.compress(wasm, 9))

    native = {}
    if args.bench_playground:
        try:
            code, out, err = run([args.bench_playground], timeout=120)
        except TestError as e:
            print(f"timings: {e}", file=sys.stderr)
            return 2
        if code != 0:
            print(f"timings: {args.bench_playground} exited with {code}: {err.strip()}", file=sys.stderr)
            return 2
        for line in out.splitlines():
            m = re.match(r"\s*(.+?)\s+([\d.]+) us\s*$", line)
            if m:
                native[m[1]] = float(m[2])
        print(f"native ({args.bench_playground}, one thread): " + ", ".join(f"{k} {v:.2f} us" for k, v in native.items()))
        if args.native_course_us is None and "course step (figures)" in native:
            args.native_course_us = native["course step (figures)"]

    server = driver = None
    profile = tempfile.mkdtemp(prefix="playground-webdriver-")
    try:
        server = Server(args.folder)
        driver = WebDriver(args.chromedriver, args.chromium, profile)
        start = time.monotonic()
        # The first page of a browser just started: Chromium's own start-up work shares the two
        # cores with the page (printed, not checked).
        driver.call("POST", f"/session/{driver.session}/url", {"url": server.url + "index.html"})
        try:
            first = driver.execute_async(READY_SCRIPT)
        except TestError as e:  # not a target: said, and the measurement goes on
            print(f"timings: the first page of the just-started browser: {e}", file=sys.stderr)
            first = {"interactiveMilliseconds": float("nan"), "moduleReadyMilliseconds": float("nan"),
                     "courseReadyMilliseconds": float("nan")}
        # The page as a user of a running browser opens it, every file downloaded and compiled
        # afresh (the HTTP cache, and with it V8's cache of compiled WebAssembly, disabled): the
        # load the interactive target is checked on, and the page every other figure comes from.
        driver.cdp("Network.enable")
        driver.cdp("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.call("POST", f"/session/{driver.session}/url", {"url": "about:blank"})
        time.sleep(1)
        driver.call("POST", f"/session/{driver.session}/url", {"url": server.url + "index.html"})
        t = driver.execute_async(TIMINGS_SCRIPT)
        live = driver.execute_async(RESPONSIVE_SCRIPT)
        if args.screenshot:  # the page after two seconds of training in the worker
            with open(args.screenshot, "wb") as f:
                f.write(base64.b64decode(driver.call("GET", f"/session/{driver.session}/screenshot")))
        ui = driver.execute_async(UI_SCRIPT)
        took = time.monotonic() - start
    except TestError as e:
        print(f"timings: could not measure: {e}", file=sys.stderr)
        return 2
    finally:
        if driver:
            driver.close()
        if server:
            server.close()
        shutil.rmtree(profile, ignore_errors=True)

    print(f"timings: {t.get('userAgent')}, page measured in {took:.1f} s (no virtual time)")
    runs = ", ".join(f"{r:.2f}" for r in t["courseStepMicrosecondsRuns"])
    print(f"  course step + graph  {t['courseStepMicroseconds']:8.2f} us   (M.courseStep, as the page calls it on each edit: "
          f"median of 5 means of {t['courseStepCalls']} calls, in the order run: {runs})")
    if t.get("courseStepFiguresMicroseconds") is not None:
        runs = ", ".join(f"{r:.2f}" for r in t["courseStepFiguresMicrosecondsRuns"])
        print(f"  course step          {t['courseStepFiguresMicroseconds']:8.2f} us   (M.courseStepFigures, the figures "
              f"as JavaScript objects: {runs})")
    if t.get("courseStepInsideWasmMicroseconds") is not None:
        print(f"  course step in wasm  {t['courseStepInsideWasmMicroseconds']:8.2f} us   (M.timeCourseSteps: the engine's side only)")
    print(f"  training, batch 200  {t['trainingStepsPer16ms']:8.1f} steps / 16 ms "
          f"({t['trainingMicrosecondsPerStepBatch200']:.1f} us a step)")
    print(f"  training, batch 10   {t['trainingStepsPer16msBatch10']:8.1f} steps / 16 ms "
          f"({t['trainingMicrosecondsPerStepBatch10']:.1f} us a step)   [{t['trainingNote']}]")
    print(f"  interactive          {t['interactiveMilliseconds']:8.0f} ms   (module {t['moduleReadyMilliseconds']:.0f} ms, "
          f"course shown {t['courseReadyMilliseconds']:.0f} ms, first training frame drawn; training in {t['trainingMode']}; "
          "in a running browser, no cache)")
    print(f"  interactive, first   {first['interactiveMilliseconds']:8.0f} ms   (module {first['moduleReadyMilliseconds']:.0f} ms, "
          f"course shown {first['courseReadyMilliseconds']:.0f} ms: the first page of a browser just started, "
          "its own start-up work alongside; not checked)")
    nav = t.get("navigation", {})
    if nav:
        loads = ", ".join(f"{name} {r['end']:.0f}" for name, r in sorted(nav.get("resources", {}).items(), key=lambda x: x[1]["end"]))
        print(f"                       (page received {nav.get('responseEnd', 0):.0f} ms, DOMContentLoaded "
              f"{nav.get('domContentLoaded', 0):.0f} ms, load {nav.get('load', 0):.0f} ms; files loaded at: {loads})")
    w = t.get("workerTimeline")
    if w:
        print(f"                       (the worker: started {w.get('workerStart', 0):.0f} ms, had playground.js "
              f"{w.get('script', 0):.0f} ms, got the compiled module {w.get('init', 0):.0f} ms, its instance "
              f"{w.get('module', 0):.0f} ms; the first training frame sent {(t.get('firstTrainingFrame') or {}).get('sent', 0):.0f} ms, "
              f"received {(t.get('firstTrainingFrame') or {}).get('received', 0):.0f} ms, drawn {t.get('firstTrainingFrameDrawn') or 0:.0f} ms)")
    print(f"  playground.wasm      {len(wasm) / 1024:8.0f} kB   ({wasm_gz / 1024:.0f} kB gzipped)")
    print(f"  playing flat out for {live['seconds']:.1f} s: {live['stepsAfter'] - live['stepsBefore']} steps shown, "
          f"{live['frames']} animation frames on the page, the longest {live['longestFrameMs']:.0f} ms")
    for e in t.get("trainingErrors", []) + ([live["error"]] if live.get("error") else []):
        print(f"  error: {e}")

    checks = []
    if args.native_course_us:
        # The same work on both sides: bench_playground's "course step (figures)" natively and
        # M.timeCourseSteps in the module; the JavaScript call (which also builds the graph's
        # table and DOT and the result object) is printed beside it.
        # The check takes the call from JavaScript (M.courseStepFigures, the figures as objects) when
        # the module has it: the step as a page sees it, not only the engine's side.
        inside = t.get("courseStepInsideWasmMicroseconds")
        figures = t.get("courseStepFiguresMicroseconds")
        call = (figures if figures is not None else t["courseStepMicroseconds"]) / args.native_course_us
        detail = f"{args.native_course_us} us native"
        if inside is not None:
            detail += f"; the engine's side alone, M.timeCourseSteps: {inside / args.native_course_us:.2f}x"
        checks.append((call <= 3, f"course step within 3x of native: {call:.2f}x from JavaScript ({detail})"))
    else:
        print("  (no --native-course-us: the course step's ratio to native is not checked)")
    checks.append((t["trainingStepsPer16ms"] >= 100,
                   f">= 100 training steps of 2-8-8-1 on 200 points per 16 ms: {t['trainingStepsPer16ms']:.0f} (full batch of 200)"))
    checks.append((t["interactiveMilliseconds"] < 1000, f"interactive within 1000 ms: {t['interactiveMilliseconds']:.0f} ms "
                   f"(a running browser, no cache; the first page of a fresh browser: {first['interactiveMilliseconds']:.0f} ms)"))
    checks.append((len(wasm) < 1024 * 1024, f".wasm under 1 MB: {len(wasm) / 1024:.0f} kB"))
    moved = live["stepsAfter"] > live["stepsBefore"]
    responsive = live["frames"] >= 30 and live["longestFrameMs"] < 250
    checks.append((moved and responsive and not live.get("error"),
                   f"training in the worker with the page responsive: {live['stepsAfter'] - live['stepsBefore']} steps, "
                   f"{live['frames']} frames in {live['seconds']:.1f} s, longest {live['longestFrameMs']:.0f} ms"))
    checks += [(ok, f"ui: {name} ({detail[:150]})".replace("\n", " / ")) for name, ok, detail in ui]
    for ok, text in checks:
        print(f"  {'PASS' if ok else 'FAIL'} {text}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"timings": t, "firstPage": first, "live": live, "wasmBytes": len(wasm), "wasmGzipBytes": wasm_gz}, f,
                      indent=2)
    failed = [text for ok, text in checks if not ok]
    if failed and args.strict:
        print(f"timings: {len(failed)} target(s) missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
