"""How fast the pages answer a click, measured in chromium on a warm server (the class is already using it).

    python bench/page_speed.py               # real Fashion-MNIST in $DATA_DIR (default ../shared/data)
    python bench/page_speed.py --repeats 5

Each figure: from the click until the page shows what was asked for and Streamlit's script run has finished
(its status widget gone), median over the repeats (min-max after it). Target: every one under 1 s.
1. Page switches through the top bar (a tour of every page, after one tour to warm up).
2. The first Results visit after a Fashion-MNIST run (a fresh tab each repeat; the dataset is already loaded).
3. Uploading a picture on Inside > Predict an image, until its probabilities are drawn.
4. The class board's presenter toggle.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATA_DIR", str(ROOT.parent / "shared" / "data"))

from PIL import Image, ImageDraw  # noqa: E402

from core import data as D  # noqa: E402
from tests.e2e.conftest import CHROMIUM, FLAGS, free_port, open_page, pick, start_server, type_into  # noqa: E402

PAGES = [
    ("Data", "Look at the data first"),
    ("Results", "What did it learn?"),
    ("Inside", "Inside the model"),
    ("Compare", "Compare runs"),
    ("Race", "Same-seed race"),
    ("Board", "Class board"),
    ("Train", "Train a classifier, watch it learn"),
]
IDLE = "() => !document.querySelector('[data-testid=stStatusWidget]')"


def settle(page, t0: float, what) -> float:
    """Seconds from t0 until `what` is visible and the script run is over (no status widget for 100 ms)."""
    what.wait_for(timeout=60_000)
    while True:
        page.wait_for_function(IDLE, timeout=60_000, polling=20)
        done = time.perf_counter()
        page.wait_for_timeout(100)
        if page.evaluate(IDLE):
            return done - t0


def switches(page, repeats: int) -> dict[str, list[float]]:
    out = {name: [] for name, _ in PAGES}
    for tour in range(repeats + 1):
        for name, heading in PAGES:
            t0 = time.perf_counter()
            open_page(page, name)
            took = settle(page, t0, page.get_by_role("heading", name=heading).first)
            if tour:  # the first tour warms each page up
                out[name].append(took)
    return out


def png() -> bytes:
    img = Image.new("L", (140, 140), 255)
    ImageDraw.Draw(img).ellipse([30, 20, 110, 120], outline=0, width=14)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def show(name: str, seconds: list[float]) -> None:
    print(
        f"{name:44} {statistics.median(seconds):6.2f} s   ({min(seconds):.2f}-{max(seconds):.2f}, n={len(seconds)})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    D.load("fashion-mnist")  # fail early, here, if the files are missing
    from playwright.sync_api import sync_playwright

    db = Path(tempfile.mkdtemp(prefix="page-speed-")) / "runs.db"
    port = free_port()
    server = start_server(port, {"RUNS_DB": str(db)})
    url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(url)
            pick(page, "Dataset", D.REGISTRY["fashion-mnist"].title)
            page.get_by_text("Full speed", exact=True).click()
            type_into(page, "Epochs", 1)
            page.get_by_role("button", name="▶ Start training").click()
            page.get_by_text("Done:").wait_for(timeout=120_000)
            run_url = page.url  # ?job=... and the settings: a fresh tab on it shows this run
            for name, seconds in switches(page, args.repeats).items():
                show(f"switch to {name}", seconds)

            first = []
            for _ in range(args.repeats):
                tab = browser.new_page(viewport={"width": 1280, "height": 720})
                tab.goto(run_url)
                tab.get_by_text("Done:").wait_for(timeout=60_000)
                settle(tab, time.perf_counter(), tab.get_by_text("Done:"))
                t0 = time.perf_counter()
                open_page(tab, "Results")
                first.append(settle(tab, t0, tab.get_by_role("heading", name="Confusion matrix")))
                tab.close()
            show("first Results visit (Fashion-MNIST run)", first)

            open_page(page, "Inside")
            page.get_by_role("tab", name="Predict an image").click()
            uploads = []
            for i in range(args.repeats + 1):
                page.get_by_text("A test image", exact=True).click()
                settle(page, time.perf_counter(), page.get_by_text("Test image #").first)
                page.get_by_text("Upload your own").click()
                settle(page, time.perf_counter(), page.get_by_test_id("stFileUploaderDropzone"))
                t0 = time.perf_counter()
                page.locator("input[type=file]").set_input_files(
                    {"name": f"drawing{i}.png", "mimeType": "image/png", "buffer": png()}
                )
                took = settle(page, t0, page.get_by_text("Your image, as the model sees it"))
                if i:
                    uploads.append(took)
            show("image upload on Inside", uploads)

            open_page(page, "Board")
            settle(page, time.perf_counter(), page.get_by_role("heading", name="Class board").first)
            toggles = []
            for _ in range(args.repeats):
                for heading in ("Class board: Fashion-MNIST clothing", "Class board"):
                    t0 = time.perf_counter()
                    page.get_by_text("Presenter view").click()
                    toggles.append(settle(page, t0, page.get_by_role("heading", name=heading, exact=True)))
            show("presenter toggle (on and off)", toggles)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
