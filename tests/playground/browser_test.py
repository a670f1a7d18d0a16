#!/usr/bin/env python3
"""The playground's browser test: the built page in headless Chromium, against the native tutorial.

    browser_test.py SERVED_FOLDER COURSE_BACKPROP [--save-screenshot FILE] [--chromium PATH]

SERVED_FOLDER holds the built page (index.html, app.js, worker.js, style.css, playground.js,
playground.wasm); COURSE_BACKPROP is the native tutorial's binary. The folder is served by
`python3 -m http.server` on 127.0.0.1 (loading over file:// was flaky) and:

1. headless Chromium with --virtual-time-budget and --dump-dom runs index.html?selftest, whose
   self-test writes one `key=value` line per result into <pre id="selftest-log"> (the whole
   self-test runs on the page's thread: virtual time does not wait for a Web Worker). Checked:
   status=done; every course figure of the slides' example (forward in/a, loss, Deltas, dLoss/dw,
   updated weights) and of Exercise 1 against the native tutorial's printout, to its printed
   digits (6 decimals; 6 significant digits for the graph table's loss and gradients), with the
   page's set of figures exactly the expected one; the XOR run at 100% training accuracy within
   its step limit; the engine's shape error naming matmul and two shapes; the engine's errors for
   a NaN input, a wrong array length and an unknown dataset; ag::gradcheck passed.
2. headless Chromium takes a screenshot of the normal page after 2000 training steps (?inline:
   trained on the page's thread, for the same reason), and one at step 0, each checked to be a PNG
   of the window's size and not blank (decoded with zlib: many distinct colours, no colour
   covering almost all of it, the heat map's blue and orange there).

Exit status: 0 every check passed, 1 a check failed, 2 the test could not run (a missing file, a
process that did not start or timed out). Every process started here is killed at the end.
Python's standard library only.
"""

import argparse
import html
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import zlib

PAGE_FILES = ["index.html", "app.js", "worker.js", "style.css", "playground.js", "playground.wasm"]
UNITS = ["h1", "h2", "h3", "h4", "y"]
WEIGHTS = ["x1,h1", "x1,h2", "x2,h1", "x2,h2", "h1,h3", "h1,h4", "h2,h3", "h2,h4", "h3,y", "h4,y"]
# The figures the page's self-test reports for each of "course" (the slides' example) and
# "exercise" (Exercise 1): exactly these, no more, no fewer.
PAGE_FIGURES = (
    [f"{k}_{u}" for u in UNITS for k in ("in", "a")]
    + ["loss"]
    + [f"Delta_{u}" for u in UNITS]
    + [f"dLoss/dw_{{{w}}}" for w in WEIGHTS]
    + [f"updated.w_{{{w}}}" for w in WEIGHTS]
)
NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"


class TestError(Exception):
    """The test could not run (exit status 2)."""


# ---------------------------------------------------------------------------------------------
# Processes: each in its own process group, killed with its children at the end.
def run(cmd, timeout, **kwargs):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.communicate()
        raise TestError(f"timed out after {timeout} s: {' '.join(cmd)}")
    finally:
        kill_group(proc)  # the browser's helper processes, if any are left
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class Server:
    """python3 -m http.server on a free port of 127.0.0.1, serving folder."""

    def __init__(self, folder):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", folder, str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(self.url + "index.html", timeout=2) as r:
                    r.read()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise TestError("the HTTP server did not start")
                time.sleep(0.1)

    def close(self):
        kill_group(self.proc)
        self.proc.wait(timeout=10)


def chromium_command(chromium, headless, profile, extra):
    return [chromium, f"--headless={headless}", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}"] + extra


# ---------------------------------------------------------------------------------------------
# The native tutorial's figures, as printed (strings, so that their digits are known).
def native_figures(binary):
    code, out, err = run([binary], timeout=60)
    if code != 0:
        raise TestError(f"{binary} exited with {code}: {err.strip()}")

    def section(start, end):
        i = out.find(start)
        if i < 0:
            raise TestError(f"the native output has no '{start}'")
        j = out.find(end, i + len(start))
        return out[i:j if j >= 0 else len(out)]

    figures = {}  # page key -> (printed text, kind): kind "fixed" (6 decimals) or "g6" (6 significant)
    forward = section("Forward pass", "\n\n")
    for m in re.finditer(rf"in_(\w+)\s*=\s*{NUMBER}\s+a_\1\s*=\s*{NUMBER}", forward):
        figures[f"course.in_{m[1]}"] = (m[2], "fixed")
        figures[f"course.a_{m[1]}"] = (m[3], "fixed")
    for m in re.finditer(rf"Delta_(\w+)\s*=\s*{NUMBER}", section("Deltas, Delta_j", "\n\n")):
        figures[f"course.Delta_{m[1]}"] = (m[2], "fixed")
    for m in re.finditer(rf"w_\{{(\w+,\w+)\}}\s*=\s*{NUMBER}", section("After one step", "\n\n")):
        figures[f"course.updated.w_{{{m[1]}}}"] = (m[2], "fixed")

    # The graph table: the loss is its last row's value, dLoss/dw the grads of the leaves that
    # carry one (w1, w2, w3 in order, each row-major as the module's arrays).
    table = section("  id  op", "\n\n")
    rows = [line for line in table.splitlines()[1:] if line.strip()]
    last = re.match(r"\s*\d+\s+\S+\s+\[\]\s+\S*\s*" + NUMBER, rows[-1])
    if not last:
        raise TestError(f"cannot read the loss from the graph table's last row: {rows[-1]!r}")
    figures["course.loss"] = (last[1], "g6")
    leaves = []
    for line in rows:
        m = re.match(r"\s*\d+\s+leaf \(grad\)\s+\[([\d, ]*)\]\s+(.*)$", line)
        if m:
            size = math.prod(int(d) for d in m[1].split(","))
            numbers = re.findall(NUMBER, m[2])
            if len(numbers) != 2 * size:
                raise TestError(f"cannot read a leaf's value and grad from {line!r}")
            leaves.append(numbers[size:])
    if [len(g) for g in leaves] != [4, 4, 2]:
        raise TestError(f"expected three weight leaves of 4, 4 and 2 values, found {leaves}")
    for w, g in zip(WEIGHTS, leaves[0] + leaves[1] + leaves[2]):
        figures[f"course.dLoss/dw_{{{w}}}"] = (g, "g6")

    exercise = out[out.find("Exercise 1:"):]
    m = re.search(rf"in_y = {NUMBER}, a_y = g\(in_y\) = {NUMBER}", exercise)
    if not m:
        raise TestError("cannot read Exercise 1's in_y and a_y")
    figures["exercise.in_y"], figures["exercise.a_y"] = (m[1], "fixed"), (m[2], "fixed")
    for m in re.finditer(rf"Delta_(\w+) = {NUMBER}", exercise):
        figures[f"exercise.Delta_{m[1]}"] = (m[2], "fixed")
    updated = exercise[exercise.find("after the update for z"):]
    for m in re.finditer(rf"w_\{{(\w+,\w+)\}}\s*=\s*{NUMBER}", updated):
        figures[f"exercise.updated.w_{{{m[1]}}}"] = (m[2], "fixed")

    expected = 10 + 5 + 10 + 1 + 10 + 2 + 5 + 10
    if len(figures) != expected:
        raise TestError(f"read {len(figures)} figures from the native output, expected {expected}: {sorted(figures)}")
    return figures


def agrees(page_value, printed, kind):
    """Whether the page's double rounds to the native printout (to within half its last digit)."""
    native = float(printed)
    if kind == "fixed":
        decimals = len(printed.split(".")[1]) if "." in printed else 0
        half = 0.5 * 10.0 ** -decimals
    else:  # %g with 6 significant digits
        if native == 0:
            return abs(page_value) < 1e-300
        half = 0.5 * 10.0 ** (math.floor(math.log10(abs(native))) - 5)
    return abs(page_value - native) <= half * (1 + 1e-9) + 1e-15


# ---------------------------------------------------------------------------------------------
def self_test(chromium, url, budget_ms, timeout):
    """The page's self-test results {key: text} and the attempts' notes."""
    notes = []
    for headless in ("new", "old"):
        profile = tempfile.mkdtemp(prefix="playground-chromium-")
        try:
            cmd = chromium_command(chromium, headless, profile,
                                   [f"--virtual-time-budget={budget_ms}", "--dump-dom", url + "index.html?selftest"])
            start = time.monotonic()
            code, out, err = run(cmd, timeout=timeout)
            took = time.monotonic() - start
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        box = re.search(r'<div id="selftest"([^>]*)>\s*<pre id="selftest-log">(.*?)</pre>', out, re.S)
        if box and "data-status=\"pending\"" not in box[1]:
            results = {}
            for line in html.unescape(box[2]).splitlines():
                key, sep, value = line.partition("=")
                if sep:
                    results[key] = value
            print(f"  headless={headless}: the self-test's DOM after {took:.1f} s ({len(results)} lines)")
            return results
        notes.append(f"headless={headless}: exit {code}, no finished self-test in the DOM "
                     f"({len(out)} bytes; stderr: {err.strip()[-300:]!r})")
    raise TestError("the self-test did not run: " + "; ".join(notes))


def check_self_test(results, native):
    failures = []

    def fail(message):
        failures.append(message)
        print("  FAIL " + message)

    status = results.get("status")
    if status != "done":
        fail(f"status={status}: {results.get('reason', '(no reason given)')}")
        return failures
    print("  status=done")

    # The page's figure set, exactly.
    for prefix in ("course", "exercise"):
        numeric = {k for k in results if k.startswith(prefix + ".") and re.fullmatch(NUMBER, results[k])
                   and not k.endswith("_error")}
        expected = {f"{prefix}.{f}" for f in PAGE_FIGURES}
        if numeric != expected:
            fail(f"{prefix}: the page reports {len(numeric)} figures, expected {len(expected)}; "
                 f"missing {sorted(expected - numeric)}, unexpected {sorted(numeric - expected)}")
    short = [k for k in results if re.fullmatch(r"(course|exercise)\..*", k) and re.fullmatch(NUMBER, results[k])
             and significant_digits(results[k]) < 8 and not exact_short(float(results[k]))]
    if short:
        fail(f"figures with fewer than 8 significant digits: {short}")

    compared = 0
    for key, (printed, kind) in sorted(native.items()):
        if key not in results:
            fail(f"{key}: missing from the page (native {printed})")
            continue
        try:
            value = float(results[key])
        except ValueError:
            fail(f"{key}: the page reports {results[key]!r}, not a number")
            continue
        compared += 1
        if not agrees(value, printed, kind):
            fail(f"{key}: the page's {results[key]} does not round to the native {printed}")
    bad = len([f for f in failures if "does not round" in f])
    print(f"  {compared} figures against the native tutorial ({len(native)} expected): {compared - bad} agree "
          "(forward, loss, Deltas, dLoss/dw and updated weights of the slides' example; Exercise 1's in_y, a_y, "
          "Deltas and updated weights)")

    steps, limit = to_float(results.get("xor.steps")), to_float(results.get("xor.step_limit"))
    accuracy = to_float(results.get("xor.train_accuracy"))
    if accuracy == 1.0 and steps is not None and limit is not None and steps <= limit:
        print(f"  XOR ({results.get('xor.config')}): 100% training accuracy after {int(steps)} steps "
              f"(test accuracy {to_float(results.get('xor.test_accuracy')):.3f})")
    else:
        fail(f"XOR: training accuracy {results.get('xor.train_accuracy')} after {results.get('xor.steps')} steps "
             f"(limit {results.get('xor.step_limit')})")

    message = results.get("shape_error", "")
    shapes = set(re.findall(r"\[[\d, ]*\]", message))
    if "matmul" in message and len(shapes) >= 2:
        print(f"  the shape error: {message!r}")
    else:
        fail(f"the shape error does not name matmul and two shapes: {message!r}")

    for key, what in (("course.nan_error", "a NaN input"), ("course.length_error", "a w3 of one value"),
                      ("trainer.config_error", "an unknown dataset")):
        if results.get(key):
            print(f"  the engine's error for {what}: {results[key]!r}")
        else:
            fail(f"no error reported for {what} ({key})")

    checked, max_error = to_float(results.get("gradcheck.checked")), to_float(results.get("gradcheck.max_error"))
    if results.get("gradcheck.passed") == "1" and checked and checked > 0 and max_error is not None and math.isfinite(max_error):
        print(f"  gradcheck passed: {int(checked)} parameters, largest error {max_error:.3g} "
              f"({results.get('gradcheck.message', '').split(chr(92) + 'n')[0]!r})")
    else:
        fail(f"gradcheck: passed={results.get('gradcheck.passed')} checked={results.get('gradcheck.checked')} "
             f"max_error={results.get('gradcheck.max_error')} {results.get('gradcheck.message', '')!r}")
    return failures


def significant_digits(text):
    mantissa = text.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mantissa)


def exact_short(value):
    """A value JavaScript prints with few digits because it is exactly that (0.5, -2, 0)."""
    return value == 0 or abs(value * 1024 - round(value * 1024)) == 0


def to_float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# PNG: decoded with zlib, enough to count colours.
def decode_png(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    if depth != 8 or interlace:
        raise ValueError(f"unsupported PNG: depth {depth}, interlace {interlace}")
    raw = zlib.decompress(b"".join(idat))
    bpp, stride = channels, width * channels
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def check_screenshot(path, width, height):
    failures = []
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return [f"no screenshot at {path}"]
    with open(path, "rb") as f:
        data = f.read()
    try:
        w, h, channels, rows = decode_png(data)
    except (ValueError, zlib.error, struct.error, TypeError, KeyError) as e:
        return [f"the screenshot is not a readable PNG: {e}"]
    counts = {}
    for row in rows[::2]:
        for i in range(0, len(row), 2 * channels):
            px = row[i:i + min(channels, 3)]
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    top = max(counts.values()) / total
    print(f"  screenshot {path}: {w}x{h}, {len(data)} bytes, {len(counts)} distinct colours in a sample of "
          f"{total} pixels, the commonest covering {100 * top:.1f}%")
    if (w, h) != (width, height):
        failures.append(f"the screenshot is {w}x{h}, expected {width}x{height}")
    if len(counts) < 200:
        failures.append(f"the screenshot looks blank: {len(counts)} distinct colours")
    if top > 0.9:
        failures.append(f"the screenshot looks blank: one colour covers {100 * top:.1f}% of it")
    # The training panel's heat map has to be there: many bluish and orangish pixels.
    blue = sum(n for px, n in counts.items() if len(px) == 3 and px[2] > px[0] + 40)
    orange = sum(n for px, n in counts.items() if len(px) == 3 and px[0] > px[2] + 40)
    print(f"  bluish pixels {100 * blue / total:.1f}%, orangish {100 * orange / total:.1f}%")
    if blue < 0.01 * total or orange < 0.01 * total:
        failures.append("the screenshot has hardly any blue or orange: the maps were not drawn")
    return failures


def screenshot(chromium, url, path, width, height, budget_ms, timeout):
    profile = tempfile.mkdtemp(prefix="playground-chromium-")
    try:
        if os.path.exists(path):
            os.remove(path)
        cmd = chromium_command(chromium, "new", profile, [
            f"--window-size={width},{height}", f"--virtual-time-budget={budget_ms}", f"--screenshot={path}", url])
        start = time.monotonic()
        code, _, err = run(cmd, timeout=timeout)
        print(f"  chromium --screenshot {url}: exit {code} after {time.monotonic() - start:.1f} s")
        if code != 0 and not os.path.exists(path):
            raise TestError(f"chromium --screenshot failed ({code}): {err.strip()[-300:]}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="the built page's folder (playground.js, playground.wasm, index.html, ...)")
    parser.add_argument("course_backprop", help="the native tutorial's binary")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--save-screenshot", metavar="FILE", help="keep the screenshot there (e.g. for the README)")
    parser.add_argument("--screenshot-steps", type=int, default=2000, help="training steps before the screenshot")
    args = parser.parse_args()

    missing = [f for f in PAGE_FILES if not os.path.isfile(os.path.join(args.folder, f))]
    if missing:
        print(f"browser_test: {args.folder} lacks {', '.join(missing)}", file=sys.stderr)
        return 2
    wasm = os.path.getsize(os.path.join(args.folder, "playground.wasm"))
    print(f"browser_test: {args.folder} (playground.wasm {wasm / 1024:.0f} kB), native {args.course_backprop}")

    failures = []
    server = None
    scratch = tempfile.mkdtemp(prefix="playground-test-")
    try:
        native = native_figures(args.course_backprop)
        print(f"  {len(native)} figures read from the native tutorial")
        server = Server(args.folder)
        print(f"  serving {args.folder} at {server.url}")
        print("self-test (index.html?selftest):")
        results = self_test(args.chromium, server.url, budget_ms=30000, timeout=90)
        failures += check_self_test(results, native)

        print("screenshot:")
        width, height = 1280, 1600
        # After training, and at step 0: the first frame's maps must stay on the canvas (a blank
        # drawn after them went unseen while a later frame painted over it).
        for steps in (args.screenshot_steps, 0):
            shot = (args.save_screenshot if steps == args.screenshot_steps and args.save_screenshot
                    else os.path.join(scratch, f"playground-{steps}.png"))
            url = f"{server.url}index.html?inline&steps={steps}"
            screenshot(args.chromium, url, shot, width, height, budget_ms=15000, timeout=90)
            shot_failures = check_screenshot(shot, width, height)
            for f in shot_failures:
                print("  FAIL " + f)
            failures += [f"at step {steps}: {f}" for f in shot_failures]
    except TestError as e:
        print(f"browser_test: could not run: {e}", file=sys.stderr)
        return 2
    finally:
        if server:
            server.close()
        shutil.rmtree(scratch, ignore_errors=True)

    if failures:
        print(f"browser_test: FAILED, {len(failures)} check(s):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    print("browser_test: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
