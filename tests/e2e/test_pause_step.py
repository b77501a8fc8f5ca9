"""Pause, Step and Resume clicked in a real browser: a paused run's single step laid open, at projector size."""

from playwright.sync_api import expect

from tests.e2e.conftest import type_into


def test_pause_step_resume_on_the_train_page(browser, server):
    page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
    page.set_default_timeout(60_000)
    page.goto(server)
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    page.get_by_text("Slow motion", exact=True).click()
    type_into(page, "Epochs", 30)
    page.get_by_role("button", name="▶ Start training").click()
    page.get_by_text("Running:").wait_for()
    page.wait_for_timeout(1500)
    page.get_by_role("button", name="⏸ Pause").click()
    page.get_by_text("Paused:").first.wait_for()
    page.get_by_role("button", name="⏭ Step").click()
    page.get_by_text("After the step").wait_for()
    page.get_by_text("by SGD, gradient written out by hand").wait_for()  # the rule that ran, its maths below
    page.locator(".js-plotly-plot").nth(3).wait_for()
    page.get_by_text("− η·dW: the change").scroll_into_view_if_needed()
    expect(page.get_by_text("− η·dW: the change")).to_be_in_viewport()
    first = page.get_by_text("Loss on step").first.inner_text()
    page.get_by_role("button", name="⏭ Step").click()
    page.wait_for_function(
        "t => ![...document.querySelectorAll('[data-testid=stMetricLabel]')].some(e => e.innerText === t)", arg=first
    )
    page.get_by_role("button", name="▶ Resume").click()
    page.get_by_text("Running:").wait_for()
    page.get_by_role("button", name="■ Stop").click()
    page.get_by_text("Stopped:").first.wait_for()
