"""A fresh tab's first page fetches the Train page's widget code up front, once each (guards
ui.compat.PreloadTrainWidgets against a Streamlit whose bundle or page is laid out otherwise; bench/first_page.py
times it)."""

from collections import Counter

from ui import compat


def test_the_train_page_names_its_widget_code_and_fetches_each_file_once(page, server):
    files = compat.widget_code()
    assert files
    page.goto(server)
    page.get_by_role("button", name="▶ Start training").wait_for()
    named = page.eval_on_selector_all(
        "head link[rel=modulepreload]", "links => links.map(l => l.getAttribute('href').split('/').pop())"
    )
    assert set(files) <= set(named)
    fetched = page.evaluate(
        "performance.getEntriesByType('resource').map(e => [e.name.split('/').pop(), e.responseStatus])"
    )
    counts = Counter(name for name, _ in fetched)
    assert all(counts[f] == 1 for f in files), {f: counts[f] for f in files if counts[f] != 1}
    assert all(status == 200 for name, status in fetched if name in files)
