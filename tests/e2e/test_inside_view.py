"""A person's view of the learned softmax templates after a digits run."""


def test_templates_after_a_digits_run(page, server):
    page.goto(server)
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Done:").wait_for(timeout=120_000)
    page.get_by_role("link", name="Inside", exact=True).click()
    page.get_by_text("learned templates").wait_for()
    page.wait_for_function("() => document.querySelector('.js-plotly-plot')?.data?.length > 0")  # drawn
    n_heatmaps = page.evaluate("""() => { const el = document.querySelector('.js-plotly-plot');
        return el.data.filter(t => t.type === 'heatmap').length; }""")
    assert n_heatmaps == 10  # one template per digit class
    page.get_by_role("tab", name="Shapes").click()
    page.get_by_test_id("stMetricValue").get_by_text("650").wait_for()  # softmax on 8x8: 64 * 10 + 10 weights
    page.get_by_role("tab", name="Code and maths").click()
    page.get_by_text("def cross_entropy").wait_for()
