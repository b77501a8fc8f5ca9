"""A person's view: train digits from the Train page, watch the chart grow, read the Results page."""

import time
from pathlib import Path

from core.checkpoint import load_checkpoint
from tests.conftest import until
from tests.e2e.conftest import type_into

JS_POINTS = """() => { const el = document.querySelector('.js-plotly-plot');
  return el && el._fullData && el._fullData.length ? el._fullData[0].x.length : 0; }"""


JS_LAST_X = """() => { const x = document.querySelector('.js-plotly-plot')._fullData[0].x;
  return x[x.length - 1]; }"""
JS_XRANGE = """() => { const ax = document.querySelector('.js-plotly-plot').layout.xaxis;
  return [ax.range, ax.autorange]; }"""


def test_train_digits_live_then_results(page, server):
    feed, sent = [], []  # live-feed fetches; messages the page sends Streamlit (a fragment rerun is one)
    page.on("request", lambda r: feed.append(r.url) if "/api/live/" in r.url else None)
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(time.time())))
    page.goto(server)
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    # slow motion: about a second per epoch on any machine, so the run outlasts the checks below (at full
    # speed, 40 epochs of batch 2 could end before them)
    page.get_by_text("Slow motion", exact=True).click()
    type_into(page, "Batch size", 2)
    type_into(page, "Epochs", 20)
    # before Start, the view that will show the run: its heading, and empty charts where the curves will go
    page.get_by_text("Ready: Softmax regression on").wait_for()
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    page.evaluate("""() => { window.idleCharts = [...document.querySelectorAll('.js-plotly-plot')];
        window.idleTop = window.idleCharts[0].getBoundingClientRect().top + window.scrollY; }""")
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Running:").wait_for()

    # the loss chart gains points while the job runs (the view fetches the live feed about every second)
    seen = []  # (points on the loss chart, job shown as running) every ~0.6 s

    def five_looks_while_running() -> bool:
        page.wait_for_timeout(600)
        seen.append((page.evaluate(JS_POINTS), page.get_by_text("Running:").is_visible()))
        return len([r for _, r in seen if r]) >= 5

    until(five_looks_while_running, 20, 0)
    while_running = [n for n, running in seen if running]
    assert len(while_running) >= 2 and while_running[-1] > while_running[0] > 0, seen
    # Start drew into the same charts, where they were: nothing rebuilt, nothing moved (no flicker)
    kept, moved = page.evaluate("""() => [
        window.idleCharts.length === 2 && window.idleCharts.every(c => c.isConnected),
        Math.abs(document.querySelector('.js-plotly-plot').getBoundingClientRect().top + window.scrollY
                 - window.idleTop)]""")
    assert kept and moved < 1, (kept, moved)

    # a student zooms into the loss curve: the zoom survives the live refreshes while points keep arriving
    box = page.locator(".js-plotly-plot").first.bounding_box()
    page.mouse.move(box["x"] + 150, box["y"] + 150)
    page.mouse.down()
    page.mouse.move(box["x"] + 320, box["y"] + 260, steps=5)
    page.mouse.up()
    page.wait_for_timeout(50)
    zoomed, before = page.evaluate(JS_XRANGE), page.evaluate(JS_LAST_X)
    assert zoomed[1] is False, zoomed
    t0, fetched = time.time(), len(feed)
    page.wait_for_timeout(2500)  # two refreshes
    assert page.get_by_text("Running:").is_visible()
    assert page.evaluate(JS_XRANGE) == zoomed and page.evaluate(JS_LAST_X) > before  # newer batches drawn
    # the refreshes came from the live feed, with no Streamlit rerun asked for meanwhile
    assert len(feed) - fetched >= 2 and not [t for t in sent if t > t0], (feed[-3:], sent)

    # the student switches to another tab: the hidden page stops fetching and drawing, and resumes on return
    hide = """(hidden) => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => hidden});
        document.dispatchEvent(new Event('visibilitychange')); }"""
    page.evaluate(hide, True)
    page.wait_for_timeout(300)  # a fetch already on its way when the tab was hidden
    hidden_from = len(feed)
    page.wait_for_timeout(2200)
    assert len(feed) == hidden_from and page.get_by_text("Running:").is_visible(), feed[hidden_from:]
    page.evaluate(hide, False)
    page.wait_for_timeout(500)
    assert len(feed) > hidden_from

    page.get_by_text("Done:").wait_for(timeout=120_000)
    page.get_by_text("Test accuracy").first.wait_for()  # visible

    page.get_by_role("link", name="Results").click()
    page.get_by_role("heading", name="Confusion matrix").wait_for()
    page.locator(".stPlotlyChart").nth(1).wait_for()
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
        .some(el => el.data && el.data.some(t => t.type === 'heatmap'))""")  # the confusion matrix, drawn

    # the trained weights download as a checkpoint the app itself accepts
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the trained weights").click()
    ckpt = load_checkpoint(Path(download.value.path()).read_bytes())
    assert ckpt.config.dataset == "digits" and ckpt.test_acc > 0.5


# Plotly's redraws of empty charts (the view before Start) take 4 s each, as a first draw can on a slow laptop
# while plotly.js loads: the click's newer view, with the run's live feed and its first points, is drawn and
# starts following the feed while that older draw still waits.
SLOW_EMPTY_DRAWS = """(() => {
  let plotly;
  Object.defineProperty(window, "Plotly", { configurable: true, get: () => plotly, set: (p) => {
    const react = p.react;
    p.react = async function (host, data, ...rest) {
      if (data.every(t => !t.x || (Array.isArray(t.x) && !t.x.length))) await new Promise(r => setTimeout(r, 4000));
      return react.call(this, host, data, ...rest);
    };
    plotly = p;
  }});
})()"""


def test_an_older_draw_finishing_late_does_not_stop_the_newer_view_following_its_run(page, server):
    feed = []
    page.on("request", lambda r: feed.append(r.url) if "/api/live/" in r.url else None)
    page.add_init_script(SLOW_EMPTY_DRAWS)
    page.goto(server)
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    page.get_by_text("Slow motion", exact=True).click()  # 15 s of training whatever the machine: it outlasts
    type_into(page, "Epochs", 15)  # the empty charts' slow draws (2 x 4 s)
    page.get_by_role("button", name="▶ Start training").click()  # while those still draw
    page.get_by_text("Running:").wait_for()
    # once the older draws are over, the view still follows the run to its end, and the page then redraws
    page.get_by_text("Done:").wait_for(timeout=90_000)
    assert feed, "the view never asked the live feed"
