#!/usr/bin/env bash
# The charts and report.html, checked for real:
#  1. a smoke run and a smoke threshold sweep, each with its report (`harness report` drawn again);
#  2. the charts drawn with every system font hidden are byte-identical to those drawn with fonts,
#     and the report's unit tests pass with the fonts hidden (the binary links no fontconfig);
#  3. each report.html loads in headless Chromium (Debian's package, installed here if missing)
#     with no console error, every chart image is decoded and shown, and every link of its index
#     lands on an anchor of the page.
# Usage: bash .ci/report-check.sh    (HARNESS=path/to/harness skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
check() { # check NAME COMMAND...: runs a check, counts it, never stops the script
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        echo "FAILED: $name"
    fi
}

if ! command -v chromium >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version

if [ -z "${HARNESS:-}" ]; then
    cargo build --release --locked -p harness
    HARNESS=target/release/harness
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. Run folders with their reports; the thresholds experiment's page under 2 MB.
"$HARNESS" --workload trees --size smoke --parents --repeat 2 --out "$work/run" >"$work/run.log" 2>&1
cat >"$work/sweep.toml" <<'EOF'
name = "report-check-sweep"
description = "generational gen-0 threshold against refcount, for the report check"
seed = 7
size = "smoke"
repeat = 2
workloads = ["cycles"]
strategies = ["generational", "refcount"]

[[sweep]]
param = "generational.threshold0"
values = [100, 700, 10000]
EOF
"$HARNESS" experiment "$work/sweep.toml" --out "$work/sweep" >"$work/sweep.log" 2>&1
for folder in run sweep; do
    check "harness report $folder" "$HARNESS" report "$work/$folder"
    check "$folder: report.html and charts written" \
        test -s "$work/$folder/report.html" -a -n "$(ls "$work/$folder/charts/"*.svg 2>/dev/null)"
done
check "sweep: a sweep chart" test -s "$work/sweep/charts/sweep-cycles.png"
# The charts GC papers use, for each workload configuration: MMU curves, time against peak memory.
for chart in run/charts/mmu-trees-smoke run/charts/tradeoff-trees-smoke sweep/charts/mmu-cycles-smoke \
    sweep/charts/tradeoff-cycles-smoke; do
    check "$chart (PNG and SVG)" test -s "$work/$chart.png" -a -s "$work/$chart.svg"
done
# The built-in `thresholds` experiment (about 90 charts at --size smoke): its page links the charts and stays small
# (it was 26 MB with every chart inlined).
"$HARNESS" experiment thresholds --size smoke --out "$work/thresholds" >"$work/thresholds.log" 2>&1
echo "thresholds: report.html $(stat -c %s "$work/thresholds/report.html") bytes, $(ls "$work/thresholds/charts/"*.png | wc -l) charts"
check "thresholds: report.html under 2 MB" test "$(stat -c %s "$work/thresholds/report.html")" -lt 2000000
"$HARNESS" --workload cycles --size smoke --strategy refcount --no-report --out "$work/bare" >"$work/bare.log" 2>&1
check "--no-report: no report.html, no charts" test ! -e "$work/bare/report.html" -a ! -e "$work/bare/charts"

# 2. Fonts hidden: a mount namespace with an empty tmpfs over every font folder (fontconfig then
#    finds none), or, where namespaces are not allowed, fontconfig pointed at an empty config.
mkdir -p "$work/nofonts"
cp "$work/run/"{runs.csv,pauses.csv,memory.csv,meta.json} "$work/nofonts/"
cat >"$work/fonts.conf" <<'EOF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><cachedir>/nonexistent</cachedir></fontconfig>
EOF
cat >"$work/hidden-fonts.sh" <<'EOF'
set -euo pipefail
for dir in /usr/share/fonts /usr/local/share/fonts "$HOME/.fonts" "$HOME/.local/share/fonts"; do
    if [ -d "$dir" ]; then mount -t tmpfs tmpfs "$dir"; fi
done
export FONTCONFIG_FILE=$WORK/fonts.conf
if command -v fc-list >/dev/null; then
    fonts=$(fc-list | wc -l)
    echo "fonts visible to fontconfig: $fonts"
    test "$fonts" -eq 0
fi
"$HARNESS" report "$WORK/nofonts" >/dev/null
cargo test --locked -q -p harness --bin harness report:: 2>&1 | grep "test result"
EOF
if unshare --mount --propagation private true 2>/dev/null; then
    check "charts and report tests with every font hidden (mount namespace)" \
        env WORK="$work" HARNESS="$(realpath "$HARNESS")" unshare --mount --propagation private bash "$work/hidden-fonts.sh"
else
    echo "no mount namespace here: hiding fonts from fontconfig with an empty configuration"
    check "charts and report tests with fontconfig finding no font" \
        env WORK="$work" HARNESS="$(realpath "$HARNESS")" bash -c \
        'export FONTCONFIG_FILE=$WORK/fonts.conf; "$HARNESS" report "$WORK/nofonts" >/dev/null && cargo test --locked -q -p harness --bin harness report::'
fi
same_pngs() {
    local png
    for png in "$work/run/charts/"*.png; do
        cmp -s "$png" "$work/nofonts/charts/$(basename "$png")" || { echo "differs: $(basename "$png")"; return 1; }
    done
}
check "PNG charts identical with and without system fonts" same_pngs
check "the harness links no fontconfig" bash -c "! ldd '$HARNESS' | grep -qi fontconfig"

# 3. Each page in headless Chromium, driven over --remote-debugging-pipe (the DevTools protocol
#    as NUL-separated JSON on file descriptors 3 and 4: no WebSocket, no extra package).
cat >"$work/browser_check.py" <<'EOF'
"""Loads report.html files in headless Chromium; fails on a console error or a chart not shown."""
import json, os, pathlib, select, subprocess, sys, tempfile, time

TIMEOUT_S = 60


class Chromium:
    def __init__(self):
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        profile = tempfile.mkdtemp(prefix="report-check-chromium-")
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--hide-scrollbars", f"--user-data-dir={profile}", "--remote-debugging-pipe"]
        shell = f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.process = subprocess.Popen(["sh", "-c", shell, "chromium", *flags], pass_fds=(to_browser_r, from_browser_w),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.next_id, self.buffer, self.events = 0, b"", []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        return self.wait(lambda m: m.get("id") == self.next_id)

    def wait(self, matches):
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "error" in message:
                    raise RuntimeError(f"DevTools error: {message['error']}")
                if matches(message):
                    return message.get("result", message.get("params"))
                self.events.append(message)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_browser], [], [], left)[0]:
                raise TimeoutError("no answer from Chromium")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe")
            self.buffer += chunk

    def close(self):
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        self.process.wait(timeout=10)


CHECK_PAGE = """JSON.stringify((() => {
  const charts = [...document.querySelectorAll('figure img')];
  const shown = img => img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0;
  const links = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
  return {charts: charts.length, not_shown: charts.filter(i => !shown(i)).map(i => i.alt),
          tables: document.querySelectorAll('table').length, title: document.title,
          index_links: document.querySelectorAll('nav#index a').length,
          broken_links: links.filter(id => !document.getElementById(id))};
})())"""


def console_errors(events, session):
    errors = []
    for event in events:
        if event.get("sessionId") != session:
            continue
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append(params["exceptionDetails"].get("text", "exception"))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(params["entry"].get("text", ""))
    return errors


def check(browser, page, screenshot):
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
    browser.events.clear()
    browser.send("Page.navigate", {"url": page.resolve().as_uri()}, session=session)
    browser.wait(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == session)
    result = browser.send("Runtime.evaluate", {"expression": CHECK_PAGE, "returnByValue": True}, session=session)
    found = json.loads(result["result"]["value"])
    expected = len(list((page.parent / "charts").glob("*.png")))
    problems = console_errors(browser.events, session)
    problems = [f"console error: {e}" for e in problems]
    if found["charts"] != expected:
        problems.append(f"{found['charts']} charts on the page, {expected} PNG files in charts/")
    problems += [f"chart not shown: {alt}" for alt in found["not_shown"]]
    if found["tables"] < 2:
        problems.append(f"{found['tables']} tables: the figures and overhead tables are missing")
    if found["index_links"] < 5:
        problems.append(f"{found['index_links']} links in the index: it is missing")
    problems += [f"link to #{id} lands on no anchor" for id in found["broken_links"]]
    if screenshot:
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        pathlib.Path(screenshot).write_bytes(__import__("base64").b64decode(shot["data"]))
    browser.send("Target.closeTarget", {"targetId": target})
    print(f"{page}: {found['charts']} charts on the page, {found['tables']} tables, "
          f"{found['index_links']} index links, "
          f"{len(problems)} problem(s)" + "".join(f"\n  {p}" for p in problems))
    return not problems


def main(pages):
    browser = Chromium()
    try:
        shots = os.environ.get("REPORT_SCREENSHOTS")
        results = [check(browser, pathlib.Path(p), shots and f"{shots}/{pathlib.Path(p).parent.name}.png")
                   for p in pages]
    finally:
        browser.close()
    return 0 if all(results) else 1


sys.exit(main(sys.argv[1:]))
EOF
for folder in run sweep thresholds; do
    check "report.html of $folder in headless Chromium" python3 "$work/browser_check.py" "$work/$folder/report.html"
done

echo "report-check: $passed passed, $failed failed"
test "$failed" -eq 0
