"""The dashboard in Simplified Chinese in a real browser: the switch, the URL, a browser that asks for Chinese,
and Train, Results and Inside at projector size with a CJK font (fonts-noto-cjk, README's test command)."""

from playwright.sync_api import expect


def test_switch_to_chinese_keeps_the_run_training_and_the_choice(browser, server):
    page = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US").new_page()
    page.set_default_timeout(60_000)
    page.goto(server + "/?epochs=60")
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Running:").first.wait_for()
    page.get_by_text("简体中文").click()  # the switch: the page redraws in Chinese, the run trains on
    page.get_by_text("训练一个分类器，看它学习").wait_for()
    page.get_by_text("训练中").first.wait_for()
    expect(page.get_by_text("训练中").first).to_be_in_viewport()  # at 720p, without scrolling
    assert "lang=zh_CN" in page.url
    page.reload()  # the URL keeps the choice
    page.get_by_text("训练一个分类器，看它学习").wait_for()
    page.get_by_role("button", name="■ 停止").click()
    page.get_by_text("English").click()
    page.get_by_text("Train a classifier, watch it learn").wait_for()


def test_a_chinese_browser_gets_chinese_and_every_page_reads_chinese(browser, server):
    page = browser.new_context(viewport={"width": 1280, "height": 720}, locale="zh-CN").new_page()
    page.set_default_timeout(60_000)
    page.goto(server + "/?dataset=fashion-mnist&model=cnn&epochs=1&train_subset=2000")
    page.get_by_text("训练一个分类器，看它学习").wait_for()  # no ?lang=: the browser's language
    page.get_by_role("button", name="▶ 开始训练").click()
    page.get_by_text("已完成").first.wait_for()
    expect(page.get_by_text("已完成").first).to_be_in_viewport()  # at 720p, without scrolling
    page.get_by_role("link", name="结果").click()
    page.get_by_text("混淆矩阵").first.wait_for()
    page.get_by_text("混淆矩阵").first.scroll_into_view_if_needed()
    expect(page.get_by_text("混淆矩阵").first).to_be_in_viewport()
    page.get_by_role("link", name="模型内部").click()
    page.locator(".js-plotly-plot").first.wait_for()
    expect(page.get_by_role("tab").first).to_be_in_viewport()
