"""A student draws a 1 and a 0 with the mouse on the Inside page; an MNIST model reads each stroke."""

import math
import re

import pytest
import torch

from core import data as D
from core.checkpoint import checkpoint_bytes
from core.config import TrainConfig
from core.events import Done
from core.train import train
from tests.conftest import require_real

SAYS = re.compile(r"The model says: (\S+)")


CONFIGS = {  # one epoch on the real MNIST each, a few seconds: the MLP shows saliency, softmax its evidence maps
    "mlp": TrainConfig(dataset="mnist", model="mlp", optimizer="adam", lr=0.003, batch_size=100, epochs=1, hidden=128),
    "softmax": TrainConfig(dataset="mnist", model="softmax", optimizer="sgd", lr=0.1, batch_size=100, epochs=1),
}


@pytest.fixture(params=list(CONFIGS))
def mnist_checkpoint(request, tmp_path):
    """A model trained on the real MNIST through the core API, saved as the app saves one."""
    ds = D.load("mnist", require_real("mnist"), allow_download=False)
    torch.manual_seed(0)
    cfg = CONFIGS[request.param]
    done = [e for e in train(cfg, dataset=ds) if isinstance(e, Done)][0]
    assert done.test_acc > 0.9
    path = tmp_path / f"mnist-{request.param}.pt"
    path.write_bytes(checkpoint_bytes(cfg.to_dict(), done.weights, done.test_acc))
    return path


def prediction(page) -> str:
    said = page.get_by_text("The model says:")
    return said.first.inner_text() if said.count() else ""


def stroke(page, points) -> float:
    """Draw one stroke through `points` (page pixels); seconds from mouse.up to the prediction text changing.

    200 ms of it are the canvas's own wait: streamlit-drawable-canvas 0.13.0 debounces what it sends by 200 ms."""
    before = prediction(page)
    page.evaluate(
        """() => { window.__t = {}; const up = () => { window.__t.up = performance.now(); };
        window.addEventListener('mouseup', up, {capture: true, once: true}); }"""
    )
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p, steps=2)
    page.mouse.up()
    page.wait_for_function(
        """(before) => {
        const el = [...document.querySelectorAll('h4')].find(h => h.innerText.includes('The model says:'));
        const now = el ? el.innerText : '';
        if (now !== before && now !== '') { window.__t.changed = performance.now(); return true; } return false; }""",
        arg=before,
        polling="raf",
        timeout=30_000,
    )
    t = page.evaluate("() => window.__t")
    return (t["changed"] - t["up"]) / 1000


def test_draw_a_one_and_a_zero(browser, server, mnist_checkpoint):
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.goto(f"{server}/results")
        page.get_by_text("Load a saved checkpoint instead").click()
        page.locator("input[type=file]").first.set_input_files(str(mnist_checkpoint))
        page.get_by_text(f"Loaded {mnist_checkpoint.name}").wait_for()
        page.get_by_role("link", name="Inside", exact=True).click()
        page.get_by_role("tab", name="Predict an image").click()
        page.get_by_text("Draw", exact=True).click()
        page.get_by_text("Draw a digit (mouse, finger or pen)").wait_for()
        canvas = page.locator("canvas").last  # Fabric's upper canvas, which takes the mouse
        canvas.wait_for()
        page.wait_for_timeout(500)
        box = canvas.bounding_box()
        left, top, side = box["x"], box["y"], box["width"]
        cx, cy = left + side / 2, top + side / 2

        one = [(cx + 8 - 16 * i / 40, top + 40 + 200 * i / 40) for i in range(41)]  # a slightly slanted bar
        latency_one = stroke(page, one)
        said = SAYS.search(prediction(page)).group(1)
        assert said == "1", said

        page.get_by_role("button", name="Clear").click()
        page.get_by_text("Draw a digit (mouse, finger or pen)").wait_for()
        page.wait_for_timeout(500)
        box = page.locator("canvas").last.bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        zero = [(cx + 65 * math.sin(2 * math.pi * i / 60), cy - 95 * math.cos(2 * math.pi * i / 60)) for i in range(63)]
        latency_zero = stroke(page, zero)
        said = SAYS.search(prediction(page)).group(1)
        print(f"\n{mnist_checkpoint.stem}: mouse.up to prediction {latency_one:.3f} s (1), {latency_zero:.3f} s (0)")
        assert said == "0", said
    finally:
        context.close()
