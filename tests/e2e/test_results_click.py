"""Results, as a student uses it: a click on a confusion-matrix cell shows the test images behind that cell."""

# Where a category cell's centre is on the page: plotly's own axis maps (category index -> pixel).
JS_CELL = """([name, col, row]) => {
  const gd = [...document.querySelectorAll('.js-plotly-plot')].find(el => el.data.some(t => t.type === 'heatmap'));
  gd.scrollIntoView({block: 'center'});
  const box = gd.getBoundingClientRect(), L = gd._fullLayout;
  return [box.left + L.xaxis._offset + L.xaxis.l2p(col), box.top + L.yaxis._offset + L.yaxis.l2p(row)];
}"""


def test_clicking_a_confusion_cell_shows_its_images(page, server):
    page.goto(server)
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Done:").wait_for(timeout=60_000)
    page.get_by_role("link", name="Results").click()
    page.get_by_role("heading", name="Confusion matrix").wait_for()
    page.get_by_text("test images of 0 predicted as 1").wait_for()  # the default cell, before any click
    page.wait_for_function("""() => {  // plotly has drawn the heatmap JS_CELL finds
        const plots = [...document.querySelectorAll('.js-plotly-plot')];
        const gd = plots.find(el => (el.data || []).some(t => t.type === 'heatmap'));
        return gd && gd._fullLayout && gd._fullLayout.xaxis; }""")
    charts_before = page.locator(".js-plotly-plot").count()
    x, y = page.evaluate(JS_CELL, ["res_cm", 3, 3])  # the diagonal cell of the 3s: the 3s it got right
    page.mouse.click(x, y)
    page.get_by_text("test images of 3 predicted as 3").wait_for(timeout=15_000)
    # the images of that cell are drawn below it: one more chart, its tiles captioned with test image numbers
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length > {charts_before}")
    captions = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].pop().layout.annotations
        .map(a => a.text)""")
    captions = [c for c in captions if c]
    assert captions and all(c.startswith("#") for c in captions), captions
    x, y = page.evaluate(JS_CELL, ["res_cm", 8, 3])  # another cell: 3s predicted as 8
    page.mouse.click(x, y)
    page.get_by_text("test images of 3 predicted as 8").wait_for(timeout=15_000)
