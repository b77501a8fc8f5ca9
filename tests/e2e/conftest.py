"""A real Streamlit server on 127.0.0.1 and Debian's chromium driven by playwright.

Outside CI a missing chromium skips these tests; under CI=true it fails them.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


def _need(condition: bool, why: str):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(why + " (CI must run the browser tests)")
        pytest.skip(why)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def type_into(page, label: str, value, settle_ms: int = 400) -> None:
    """Type a value into the Streamlit input labelled `label`, press Enter, and give the rerun time to land."""
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_timeout(settle_ms)


def pick(page, label: str, option: str) -> None:
    """Choose an option of a Streamlit selectbox (an ARIA combobox that filters as you type)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    if box.input_value() == option:
        return
    box.click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    if box.input_value() != option:
        raise RuntimeError(f"could not choose {option!r} in {label!r}")


def start_server(
    port: int,
    env: dict | None = None,
    log: Path | None = None,
    prefix: list[str] | None = None,
    address: str = "127.0.0.1",
    script: Path = ROOT / "app.py",
) -> subprocess.Popen:
    """streamlit run `script` (this project's app.py; a bench's own app) from its folder, bound to address:port
    (after `prefix`, e.g. taskset); returns once /_stcore/health answers on 127.0.0.1 (the tests only ever talk to
    loopback). A first start from a cold disk takes a while: a minute at most."""
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            *(prefix or []),
            sys.executable,
            "-m",
            "streamlit",
            "run",
            script.name,
            "--server.headless",
            "true",
            "--server.address",
            address,
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=script.parent,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit run {script} exited with {proc.returncode}")
    proc.kill()
    raise RuntimeError(f"streamlit run {script} did not become healthy within 60 s")


MENU = "Runs & class"  # app.py's menu in the top bar, holding the pages about several runs and the class


def open_page(page, name: str) -> None:
    """Go to a page through the top bar: its link, or the menu's item (a real ARIA menu: a button, then items)."""
    nav = page.get_by_test_id("stTopNav")
    link = nav.get_by_role("link", name=name, exact=True)
    if link.count():
        link.click()
        return
    nav.get_by_role("button", name=MENU).click()
    page.get_by_role("menuitem", name=name, exact=True).click()


def send_exercise(teacher, title: str, sweep: str, values: str, locked: str | None = None) -> None:
    """On the teacher's console: send an exercise (the teacher's Train settings) sweeping `sweep` over `values`,
    with the field `locked` locked; returns once the console says it is on."""
    teacher.get_by_label("Title", exact=True).fill(title)
    if locked:
        teacher.get_by_role("combobox", name="Lock these fields").click()
        teacher.keyboard.type(locked)
        teacher.keyboard.press("Enter")
        teacher.keyboard.press("Escape")
    teacher.get_by_role("combobox", name="Class experiment: sweep", exact=True).click()
    teacher.keyboard.type(sweep)
    teacher.keyboard.press("Enter")
    teacher.get_by_label("Its values, one per student in turn").fill(values)
    teacher.get_by_role("button", name="📣 Send to the class").click()
    teacher.get_by_text(f"On now: {title}").wait_for()


def stop_server(proc: subprocess.Popen) -> None:
    """End a server start_server started: politely, then for good after 10 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    proc = start_server(port, {"RUNS_DB": str(log.parent / "runs.db")}, log)
    yield f"http://127.0.0.1:{port}"
    stop_server(proc)


@pytest.fixture(scope="session")
def browser():
    _need(Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None, f"no chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "playwright is not installed")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1600, "height": 2200}, device_scale_factor=1)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()
