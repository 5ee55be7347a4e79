"""End-to-end in a real headless Chromium (Debian's) against a real uvicorn server.

Screenshots of the main pages go to test-artifacts/screenshots/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.conftest import XSS

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def test_full_user_journey(browser, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(live_server + "/")
    assert page.locator("h1").first.inner_text() == "Wednesday, March 13, 2024"
    page.screenshot(path=str(SHOTS / "home.png"), full_page=True)

    # Sign up, log out, log in.
    page.click("text=Sign up")
    page.fill("input[name=username]", "browser_user")
    page.fill("input[name=password]", "a-long-password")
    page.click("form.stack button[type=submit]")
    assert page.locator(".me-name").inner_text() == "browser_user"
    page.click("details.menu summary")
    page.click("button:has-text('Log out')")
    assert page.locator("a.me").count() == 0
    page.click("a:has-text('Log in')")
    page.fill("input[name=username]", "browser_user")
    page.fill("input[name=password]", "a-long-password")
    page.click("form.stack button[type=submit]")
    assert page.locator(".me-name").inner_text() == "browser_user"
    page.goto(live_server + "/")

    # Upvote (JS, no reload) on the second card: 12 -> 13.
    vote = page.locator("form.vote").nth(1)
    assert vote.locator(".count").inner_text() == "12"
    vote.locator("button").click()
    # A locator wait, not wait_for_function: the site's CSP (script-src 'self') forbids the eval it uses.
    page.locator("form.vote.voted").first.wait_for()
    assert vote.locator(".count").inner_text() == "13"
    page.reload()
    assert page.locator("form.vote").nth(1).locator(".count").inner_text() == "13"

    # Paper page: math typeset by the vendored KaTeX, comment with an XSS payload shows as text.
    page.click("text=Diffusion models for")
    page.wait_for_selector(".katex")
    page.fill("textarea[name=body]", XSS)
    page.click("button:has-text('Post comment')")
    assert page.locator(".comment-body").first.inner_text() == XSS
    assert page.evaluate("window.__pwned === undefined")
    page.screenshot(path=str(SHOTS / "paper.png"), full_page=True)

    # Imported title with a payload shows as text.
    page.goto(live_server + "/papers/2403.00003")
    assert XSS in page.locator("h1").first.inner_text()
    assert page.evaluate("window.__pwned === undefined")

    # Search.
    page.fill("header input[name=q]", "sparse")
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("article.card")
    assert page.locator("article.card", has_text="Sparse transformers").count() == 1
    assert page.locator("article.card mark").count() >= 1
    page.screenshot(path=str(SHOTS / "search.png"), full_page=True)

    # Submit a paper already in the catalogue (no network needed).
    page.click("a:has-text('Submit')")
    page.fill("input[name=arxiv]", "https://arxiv.org/abs/2403.00002")
    page.click("form.stack button[type=submit]")
    assert "featured today" in page.locator(".flash").inner_text()

    # Phone-sized home page.
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(live_server + "/")
    assert phone.evaluate("document.documentElement.scrollWidth <= 390")
    phone.screenshot(path=str(SHOTS / "home-phone.png"), full_page=True)

    page.click("details.menu summary")
    page.click("button:has-text('Log out')")
    assert "You are logged out" in page.locator(".flash").inner_text()


def test_forms_work_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/signup")
    page.fill("input[name=username]", "nojs_user")
    page.fill("input[name=password]", "a-long-password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/onboarding?msg=welcome")  # a new account is offered onboarding
    page.goto(live_server + "/")
    page.locator("form.vote").first.locator("button").click()  # plain form post + redirect
    page.wait_for_selector("form.vote.voted")
    assert page.locator("form.vote.voted").count() == 1
    context.close()
