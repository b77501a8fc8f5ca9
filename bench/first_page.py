"""How fast a fresh tab's first page comes up, against Streamlit's own floor: the project's Train page and a bare
Streamlit app (a title, a slider and a button), timed side by side in one run.

    python bench/first_page.py                # 10 loads each, real data in $DATA_DIR (default ../shared/data)
    python bench/first_page.py --repeats 20
    python bench/first_page.py --also /tmp/before   # and another checkout (git worktree add /tmp/before HEAD~1)

Both servers run on 127.0.0.1 from this Python (`streamlit run ... --server.headless true`) and are warmed up with
one page load each first (in a class the server is already running: what is measured is a new tab's first page).
Then the loads alternate, project and bare app: each one a new browser context (no cache, no localStorage, a new
Streamlit session), navigated to the root URL; the clock stops once the page's main content is visible (the
Train page's Start button, the bare app's button) and Streamlit's script run is over (its status widget gone for
100 ms, as in bench/page_speed.py's settle(); checked in the page every 20 ms). Prints both medians and p90s and
the ratio of the medians. Target: the project's median within 1.2× of the bare app's. The machine's speed drifts:
compare only figures of one run. Results: bench/RESULTS.md, "First page of a fresh tab".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from tests.e2e.conftest import CHROMIUM, FLAGS, free_port, start_server, stop_server  # noqa: E402

BARE = """import streamlit as st

st.title("A bare Streamlit app")
st.slider("A slider", 0, 100, 50)
st.button("A button")
"""


# The button named `name` is visible (a box on the page, not hidden) and no script run is going on (Streamlit's
# status widget absent). Checked in the page every 20 ms: a locator's wait_for polls at growing intervals (up to
# 500 ms), which rounds each figure up to its next poll.
READY = """name => {
  const button = [...document.querySelectorAll("button")].find(b => b.innerText.trim() === name);
  if (!button || document.querySelector("[data-testid=stStatusWidget]")) return false;
  const box = button.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && getComputedStyle(button).visibility !== "hidden";
}"""


def first_page(browser, url: str, button: str, timeout_ms: int = 60_000) -> float:
    """Seconds from navigating a new browser context to `url` until the button named `button` is visible and the
    script run is over (no status widget for 100 ms, as bench/page_speed.py's settle() waits)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        t0 = time.perf_counter()
        page.goto(url, wait_until="commit")
        while True:
            page.wait_for_function(READY, arg=button, polling=20, timeout=timeout_ms)
            done = time.perf_counter()
            page.wait_for_timeout(100)
            if page.evaluate(READY, button):
                return done - t0
    finally:
        context.close()


def p90(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=10, method="inclusive")[-1] if len(seconds) > 1 else seconds[0]


def show(name: str, seconds: list[float]) -> None:
    print(
        f"{name:34} median {statistics.median(seconds):5.2f} s   p90 {p90(seconds):5.2f} s"
        f"   ({min(seconds):.2f}-{max(seconds):.2f}, n={len(seconds)})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        help="another checkout's app.py to time in the same run (a change's before)",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="first-page-"))
    bare = tmp / "bare" / "bare_app.py"
    bare.parent.mkdir()
    bare.write_text(BARE)
    project_port, bare_port = free_port(), free_port()
    servers = [start_server(project_port, {"RUNS_DB": str(tmp / "runs.db")})]
    try:
        servers.append(start_server(bare_port, script=bare))
        sides = {
            "Train page (this project)": (f"http://127.0.0.1:{project_port}/", "▶ Start training"),
            "bare Streamlit app": (f"http://127.0.0.1:{bare_port}/", "A button"),
        }
        for i, other in enumerate(args.also):  # the same page from another checkout, in the same alternation
            port = free_port()
            data = {"RUNS_DB": str(tmp / f"also{i}.db"), "DATA_DIR": os.environ["DATA_DIR"]}
            servers.append(start_server(port, data, script=Path(other).resolve() / "app.py"))
            sides[f"Train page ({other})"] = (f"http://127.0.0.1:{port}/", "▶ Start training")
        times = {name: [] for name in sides}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            for url, button in sides.values():  # warm-up: each server's first page (a cold disk: minutes), not counted
                first_page(browser, url, button, timeout_ms=300_000)
            for _ in range(args.repeats):
                for name, (url, button) in sides.items():
                    times[name].append(first_page(browser, url, button))
            browser.close()
    finally:
        for proc in servers:
            stop_server(proc)
    for name, seconds in times.items():
        show(name, seconds)
    project, bare_app, *others = times.values()
    ratio = statistics.median(project) / statistics.median(bare_app)
    print(f"ratio of the medians (project / bare): {ratio:.2f}× (target ≤ 1.2×)", flush=True)
    for name, seconds in zip(list(times)[2:], others):
        print(f"ratio of the medians ({name} / bare): {statistics.median(seconds) / statistics.median(bare_app):.2f}×")


if __name__ == "__main__":
    main()
