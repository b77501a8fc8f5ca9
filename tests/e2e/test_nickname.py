"""A student's nickname outlives the session on their own device (a reload, the next lesson), without an account;
another device starts without it."""

NICK = "Your nickname (shown on the class board)"


def test_the_nickname_comes_back_after_a_reload_on_the_same_device_only(browser, server):
    device = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = device.new_page()
    page.set_default_timeout(60_000)
    page.goto(server + "/?lang=en")
    box = page.get_by_label(NICK)
    box.fill("Ada 李")  # typed at once, before the page has heard what the device remembers
    box.press("Enter")
    page.wait_for_function("() => localStorage.getItem('learn-image-classification.nickname') === 'Ada 李'")
    page.reload()
    page.get_by_label(NICK).wait_for()
    page.wait_for_function(f"() => document.querySelector('input[aria-label=\"{NICK}\"]').value === 'Ada 李'")
    # asking the device reruns the page: no setting drawn before the answer loses its value on the way
    assert page.get_by_label("Batch size").input_value() == "32" and page.get_by_label("Epochs").input_value() == "10"
    later = device.new_page()  # the next lesson: a new tab, a new session, the same browser
    later.goto(server + "/race?lang=en")  # not the Train page: the name is there when the student gets to it
    later.get_by_text("Same-seed race").first.wait_for()
    later.get_by_role("link", name="Train").click()
    later.wait_for_function(f"() => document.querySelector('input[aria-label=\"{NICK}\"]')?.value === 'Ada 李'")
    other = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US").new_page()
    other.goto(server + "/?lang=en")  # another student's device
    other.get_by_label(NICK).wait_for()
    other.wait_for_timeout(1500)
    assert other.get_by_label(NICK).input_value() == ""
    other.context.close()
    device.close()
