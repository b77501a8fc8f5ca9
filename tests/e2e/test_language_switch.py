"""A switch of language mid-session renames every choice at once: no stale English name, no radio left empty."""


def test_switching_language_renames_the_chosen_options(browser, server):
    page = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US").new_page()
    page.set_default_timeout(60_000)
    page.goto(server + "/?lang=en&pace=slow")
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.get_by_role("combobox", name="Dataset").input_value() == "Digits 8x8 (embedded)"
    page.get_by_text("简体中文").click()
    page.get_by_text("训练一个分类器，看它学习").wait_for()
    page.wait_for_timeout(800)
    assert sidebar.get_by_role("combobox", name="数据集").input_value() == "8x8 手写数字（内置）"
    assert sidebar.get_by_role("combobox", name="模型").input_value() == "softmax回归（从零开始实现）"
    assert sidebar.get_by_role("radio", name="SGD（手写实现）").is_checked()
    assert sidebar.get_by_role("radio", name="慢动作").is_checked()
    page.get_by_text("English").click()  # and back
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    page.wait_for_timeout(800)
    assert sidebar.get_by_role("combobox", name="Model").input_value() == "Softmax regression (from scratch)"
    assert sidebar.get_by_role("radio", name="Slow motion").is_checked()
    page.context.close()
