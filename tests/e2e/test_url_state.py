"""The Train settings live in the URL: a reload keeps them, on any page, and the link can be shared."""

from core import models as M
from tests.e2e.conftest import pick, type_into


def test_a_reload_keeps_the_settings_on_screen(page, server):
    page.goto(server)
    page.get_by_text("Train a classifier, watch it learn").wait_for()
    type_into(page, "Epochs", 7)
    pick(page, "Model", M.REGISTRY["mlp"].label)
    page.wait_for_timeout(800)
    assert "epochs=7" in page.url and "model=mlp" in page.url
    page.reload()
    page.get_by_text("Ready: MLP on Digits").wait_for()  # what Start would train is what is on screen
    assert page.get_by_label("Epochs", exact=True).input_value() == "7"
    assert page.get_by_role("combobox", name="Model", exact=True).input_value() == M.REGISTRY["mlp"].label

    page.get_by_role("link", name="Results").click()  # another page, reloaded there
    page.get_by_role("heading", name="What did it learn?").wait_for()
    page.wait_for_timeout(800)
    assert "epochs=7" in page.url, page.url
    page.reload()
    page.get_by_role("heading", name="What did it learn?").wait_for()
    page.get_by_test_id("stTopNav").get_by_role("link", name="Train").click()
    page.get_by_text("Ready: MLP on Digits").wait_for()
    assert page.get_by_label("Epochs", exact=True).input_value() == "7"
