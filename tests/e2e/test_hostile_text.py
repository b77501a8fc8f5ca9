"""What a student types is shown as text everywhere: in Markdown (tables, alerts, button labels) and in plotly
(legends, hovers). Nothing they type becomes an image, a link or markup in another student's browser."""

from core.config import TrainConfig
from core.events import EpochEnd
from core.store import RunStore
from tests.e2e.conftest import free_port, start_server


def hostile_store(path, trap: str) -> dict[str, str]:
    """Four finished runs whose nicknames are an image, a link, markup and a bare address pointing at `trap`."""
    nicknames = {"url": f"{trap}/u", "b": "<b>bold</b>", "a": f"<a href='{trap}/evil'>g", "img": f"![]({trap}/x)"}
    store = RunStore(path)
    for i, (key, nick) in enumerate(nicknames.items()):  # the image and the link are the newest two: Compare's
        store.start(key, TrainConfig(lr=0.1 * (i + 1)), nick)
        for epoch in (1, 2):
            store.add_epoch(
                key,
                EpochEnd(
                    epoch=epoch,
                    epochs=2,
                    train_loss=1 / epoch,
                    train_acc=0.8,
                    val_loss=None,
                    val_acc=None,
                    test_loss=0.5,
                    test_acc=0.8 + i / 100,
                    epoch_s=0.1,
                    elapsed_s=0.2 * epoch,
                    eta_s=0.0,
                ),
            )
        store._write("UPDATE runs SET state='done', test_acc=?, started_at=? WHERE id=?", (0.8 + i / 100, i, key))
    return nicknames


def test_nicknames_are_text_on_the_board_and_on_compare(browser, tmp_path):
    trap = f"http://127.0.0.1:{free_port()}"  # nothing listens there: any request to it is the bug
    nicknames = hostile_store(tmp_path / "runs.db", trap)
    port = free_port()
    server = start_server(port, {"RUNS_DB": str(tmp_path / "runs.db")})
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if r.url.startswith(trap) else None)
    try:
        page.goto(f"http://127.0.0.1:{port}/board")
        page.get_by_role("heading", name="Class board").wait_for(timeout=60_000)
        page.get_by_text("Presenter view").click()
        page.locator("[data-testid=stTable]").first.wait_for()  # the ranking (the scatter's data table follows)
        page.locator(".js-plotly-plot").first.wait_for()
        page.wait_for_timeout(1000)
        table = page.locator("[data-testid=stTable]").first
        cells = [c.replace("\u2060", "") for c in table.locator("td").all_inner_texts()]  # the word joiner that keeps
        for nick in nicknames.values():  # an address from being linked is invisible: each nickname reads as typed
            assert cells.count(nick) == 1, (nick, cells)
        assert page.locator(f"a[href*='{trap[7:]}']").count() == 0  # a bare address typed as a nickname: no link
        hover = page.evaluate("() => document.querySelector('.js-plotly-plot').data.flatMap(t => t.text)")
        assert nicknames["a"].replace("<", "&lt;").replace(">", "&gt;") in hover  # plotly shows entities as text

        page.goto(f"http://127.0.0.1:{port}/compare")
        page.get_by_role("heading", name="Compare runs").wait_for()
        page.locator(".js-plotly-plot").nth(2).wait_for()
        page.wait_for_timeout(1000)
        legend = " ".join(page.evaluate("() => [...document.querySelectorAll('.legendtext')].map(e => e.textContent)"))
        assert nicknames["a"] in legend and nicknames["img"] in legend  # drawn as the characters typed
        buttons = " ".join(page.get_by_test_id("stDownloadButton").all_inner_texts()).replace("\u2060", "")
        assert nicknames["img"] in buttons  # the CSV buttons' labels

        main = page.locator("[data-testid=stMain]")
        assert (
            main.locator(f"img[src*='{trap[7:]}']").count() == 0 and page.locator(f"a[href*='{trap[7:]}']").count() == 0
        )
        assert page.locator(".js-plotly-plot a").count() == 0
        assert fetched == [], fetched
    finally:
        server.terminate()
        server.wait(10)
