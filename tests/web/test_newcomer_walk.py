"""The first ten minutes, walked in a real Chromium at laptop and phone width
(issue 14): the demo corpus, served by a real uvicorn, followed the way a new
user follows it — home, sign-up → onboarding, votes on page 2 with and without
JavaScript, search, a paper page, settings, the API docs (offline), week and
month navigation, and the mail loop: an e-mail address in settings, verified
from the demo mailbox, a digest, its one-click unsubscribe.

Every page is checked for console errors, 4xx/5xx responses, sideways scroll
and a header that stays one row on a laptop and two on a phone. Screenshots
go to ``test-artifacts/newcomer/`` — look at them after a layout change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from paperwire.demo import load_demo
from tests.web.conftest import serve

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "newcomer"
#: The tallest header allowed: one row of controls on a laptop, two on a phone.
HEADER_MAX = {1280: 72, 390: 100}
VIEWPORTS = [(1280, 900), (390, 844)]


@pytest.fixture
def demo_server(db):
    """The demo as ``scripts/demo`` runs it: real data, and its local mail catcher."""
    from paperwire.demo_mail import demo_mailbox
    from tests.web.conftest import _free_port

    load_demo(db, log=lambda *_: None)
    port = _free_port()
    with demo_mailbox("127.0.0.1", port, log=lambda *_: None) as mailbox, serve(db, port) as url:
        assert mailbox == f"{url}/demo/mailbox"
        yield url


@dataclass
class Watch:
    """What went wrong on the pages of one browser context."""

    errors: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))
        page.on("response", lambda r: self.bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None)


class Walk:
    """One newcomer at one viewport width."""

    def __init__(self, browser, base: str, width: int, height: int):
        self.base, self.width = base, width
        self.watch = Watch()
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.watch.attach(self.page)

    def go(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)

    def check(self, name: str) -> None:
        """Layout checks and a screenshot of the page as it is now."""
        page = self.page
        page.wait_for_load_state("load")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= self.width, f"{name}: the page scrolls sideways ({scroll} px > {self.width} px)"
        header = page.locator("header.site")
        if header.count():
            height = header.bounding_box()["height"]
            assert height <= HEADER_MAX[self.width], f"{name}: header {height} px tall (wraps)"
        assert page.locator(".katex-error").count() == 0, f"{name}: KaTeX error shown"
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{self.width}-{name}.png"), full_page=False)

    def done(self) -> None:
        self.context.close()
        assert self.watch.errors == [], self.watch.errors
        assert self.watch.bad_responses == [], self.watch.bad_responses


def _count(form) -> int:
    return int(form.locator(".count").inner_text())


def _beside(checkbox, text) -> bool:
    """The checkbox sits left of its text on the same line (not centred above it)."""
    box, label = checkbox.bounding_box(), text.bounding_box()
    return box["x"] + box["width"] <= label["x"] + 1 and abs(
        (box["y"] + box["height"] / 2) - (label["y"] + min(label["height"], 24) / 2)) < 12


def walk_home(w: Walk) -> None:
    w.go("/")
    assert w.page.locator("article.card").count() > 0
    assert w.page.locator("span.button.disabled", has_text="Next").count() == 1  # the latest day: no Next
    w.check("home")


def walk_sign_up_and_onboarding(w: Walk, username: str) -> None:
    page = w.page
    page.locator("a", has_text="Sign up").first.click()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "a-long-password")
    page.click("form.stack button[type=submit]")
    page.wait_for_url("**/onboarding?msg=welcome")
    assert "Welcome" in page.locator(".flash").first.inner_text()
    assert page.locator("details.taxonomy-group summary", has_text="Computer Science").count() == 1
    # The first category that has papers (the taxonomy lists every arXiv category; most are empty here).
    choice = page.locator(".choices.grid label.choice:not(.none)").first
    assert _beside(choice.locator("input"), choice.locator("span").first)
    w.check("onboarding")
    choice.locator("input").check()
    page.click("#pick-categories button[type=submit]")
    seeds = page.locator("#pick-seeds input[name=seed]")
    assert seeds.count() > 0
    for i in range(min(2, seeds.count())):
        seeds.nth(i).check()
    w.check("onboarding-seeds")
    page.click("#pick-seeds button[type=submit]")
    page.wait_for_url("**/for-you")
    assert page.locator("article.card.rec").count() > 0
    assert not re.search(r"(match|trend|for you) \d\.\d\d", page.locator("main").inner_text())
    # The buttons sit in the card's meta row (a <form> inside a <p> used to push them out of it).
    assert page.locator("article.card.rec .meta button.save").count() == page.locator("article.card.rec").count()
    save = page.locator("article.card.rec button.save").first.bounding_box()
    dismiss = page.locator("article.card.rec button.dismiss").first.bounding_box()
    assert dismiss["x"] - (save["x"] + save["width"]) > 8 or dismiss["y"] > save["y"] + 4, "Save and Not interested touch"
    w.check("for-you")


#: A listing with several pages in the bundled real lists (the busiest week of December 2025).
PAGED = "/week/2025-W49"


def walk_votes_on_page_two(w: Walk, browser) -> None:
    page = w.page
    w.go(f"{PAGED}?p=1")
    form = page.locator("form.vote:not(.voted)").first
    before = _count(form)
    uid = form.get_attribute("action")
    with page.expect_response(lambda r: r.url.endswith(uid)) as vote:
        form.locator("button").click()
    assert vote.value.status == 200, "the vote should be a fetch, not a full form post"
    page.locator(f"form.vote.voted[action='{uid}']").wait_for()
    assert _count(page.locator(f"form.vote[action='{uid}']")) == before + 1
    assert page.url.endswith(f"{PAGED}?p=1")
    w.check("vote-js")

    # The same user without JavaScript: a plain form post comes back to page 2.
    nojs = browser.new_context(java_script_enabled=False, storage_state=w.context.storage_state(),
                               viewport={"width": w.width, "height": 900})
    plain = nojs.new_page()
    w.watch.attach(plain)
    plain.goto(w.base + f"{PAGED}?p=1")
    form = plain.locator("form.vote:not(.voted)").first
    uid = form.get_attribute("action")
    with plain.expect_navigation():
        form.locator("button").click()
    assert plain.url.endswith(f"{PAGED}?p=1"), plain.url
    assert "Page 2 of" in plain.locator("nav.pager").inner_text()
    # The vote counted (the paper may have climbed to page 1 with it).
    plain.goto(w.base + uid.removesuffix("/vote"))
    assert plain.locator("form.vote.voted").count() == 1
    nojs.close()


def walk_search_and_paper(w: Walk) -> None:
    page = w.page
    page.fill("header input[name=q]", "sinkhorn")
    page.press("header input[name=q]", "Enter")
    page.wait_for_selector("#result-count")
    count = re.match(r"(\d+) papers? with your words", page.locator("#result-count").inner_text())
    assert count and page.locator("main article.card").count() == int(count.group(1)) <= 3
    w.check("search")
    w.go("/search?q=xqzvbn+flurbl")
    assert "No papers match" in page.locator("main").inner_text()
    w.go("/search?q=optimal+transport")
    assert page.locator("#related > h2").inner_text() == "Related by meaning"
    w.check("search-related")
    page.locator("main article.card h2 a").first.click()
    page.wait_for_selector("article.paper")
    w.check("paper")


def walk_settings(w: Walk) -> None:
    w.go("/settings")
    assert page_has(w, "h1", "Settings")
    w.check("settings")
    page = w.page
    page.click("details.menu summary")
    assert page.locator(".menu-items a", has_text="Settings").is_visible()
    w.check("account-menu")
    page.mouse.click(4, 600)  # clicking elsewhere closes the menu
    assert not page.locator(".menu-items a", has_text="Settings").is_visible()


def walk_api_docs(w: Walk) -> None:
    w.go("/docs")
    w.page.locator(".swagger-ui .opblock").first.wait_for()
    assert w.page.locator(".swagger-ui .opblock").count() > 5
    w.check("docs")
    w.go("/redoc")
    w.page.locator("#redoc h1").first.wait_for()
    assert "paperwire" in w.page.locator("#redoc h1").first.inner_text()
    w.check("redoc")


def walk_periods(w: Walk) -> None:
    page = w.page
    for tab, name in (("Weekly", "week"), ("Monthly", "month")):
        w.go("/")
        page.locator(".tabs a", has_text=tab).click()
        page.wait_for_url(f"**/{name}/**")
        latest = page.url
        assert page.locator("span.button.disabled", has_text="Next").count() == 1, f"{name}: Next past the latest"
        page.locator("a[rel=prev]").click()
        page.wait_for_url(lambda url: url != latest)
        assert page.locator("article.card").count() > 0, f"the previous {name} with papers, not an empty one"
        w.check(f"{name}-previous")
        page.locator("a[rel=next]").click()
        page.wait_for_url(latest)


def walk_mail(w: Walk, address: str) -> None:
    """Settings with an e-mail → verify from the demo mailbox → digest on → a digest
    arrives → its one-click unsubscribe works — the whole mail loop, offline."""
    page = w.page
    w.go("/settings")
    page.fill("form[action='/settings/email'] input[name=email]", address)
    page.click("form[action='/settings/email'] button[type=submit]")
    page.wait_for_load_state("load")
    w.check("settings-email-sent")
    w.go("/demo/mailbox")
    w.check("mailbox")
    page.locator("table.mailbox a").first.click()  # newest first: the verification mail
    page.wait_for_load_state("load")
    w.check("mail-verify")
    page.locator(".mail-links a[href*='/account/verify/']").first.click()
    page.wait_for_load_state("load")
    page.click("form[action*='/account/verify/'] button[type=submit]")  # verifying is a POST, not a GET
    page.wait_for_load_state("load")
    w.go("/settings")
    assert "verified" in page.locator("main").inner_text().lower()
    digest = page.locator("form[action='/settings/digest']")
    digest.locator("input[name=active]").check()
    digest.locator("input[value=daily]").check()
    digest.locator("button[type=submit]").click()
    page.wait_for_load_state("load")
    w.check("settings-digest-on")
    w.go("/demo/mailbox")
    page.click("text=Send the newest day's digest now")
    page.wait_for_load_state("load")
    assert "Digests sent: 1" in page.content()
    page.locator("table.mailbox a").first.click()  # newest first: the digest
    page.wait_for_load_state("load")
    w.check("mail-digest")
    page.click("text=One-click unsubscribe")
    page.wait_for_load_state("load")
    assert "unsubscribed" in page.locator("body").inner_text().lower()
    w.check("unsubscribed")


def page_has(w: Walk, selector: str, text: str) -> bool:
    return text in w.page.locator(selector).first.inner_text()


@pytest.mark.parametrize("width, height", VIEWPORTS, ids=[f"{w}px" for w, _ in VIEWPORTS])
def test_newcomer_walk(browser, demo_server, width, height):
    w = Walk(browser, demo_server, width, height)
    walk_home(w)
    walk_sign_up_and_onboarding(w, f"newcomer_with_a_long_name_{width}")
    walk_votes_on_page_two(w, browser)
    walk_search_and_paper(w)
    walk_settings(w)
    walk_api_docs(w)
    walk_periods(w)
    walk_mail(w, f"newcomer{width}@example.org")
    w.done()
