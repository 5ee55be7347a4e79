"""Topics in a real Chromium on the demo corpus (real data), at laptop and phone width:
the home page's rising topics, a topic page's chart and papers, the trends picker,
the search chart. Screenshots go to /tmp/topics-shots/ — look at them after a change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperwire.demo import load_demo
from tests.web.conftest import serve

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/topics-shots")
VIEWPORTS = [(1280, 900), (390, 844)]
#: Non-blank pixels of a drawn chart canvas (the page's own script, run by the test through CDP).
INKED = """(sel) => { const c = document.querySelector(sel + ' canvas'); if (!c || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }"""


@pytest.fixture
def demo_site(db):
    """The demo corpus (its loader builds the topic index), served by a real uvicorn."""
    load_demo(db, log=lambda *_: None)
    with serve(db) as base:
        yield base


def _page(browser, width: int, height: int):
    page = browser.new_page(viewport={"width": width, "height": height})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page, problems


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def test_topics_on_the_demo_at_laptop_and_phone_width(browser, demo_site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in VIEWPORTS:
        walk(browser, demo_site, width, height)
    charts_read_without_javascript(browser, demo_site)


def walk(browser, demo_site, width, height):
    page, problems = _page(browser, width, height)

    # Home: rising topics with sparklines, each a link to its topic page.
    page.goto(demo_site + "/")
    rising = page.locator("section.rising-home")
    rising.wait_for()
    links = rising.locator("a.topic-link")
    assert links.count() >= 2, rising.inner_text()
    assert rising.locator("svg.spark polyline").count() == links.count()
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"home-{width}.png"), full_page=False)

    # A topic page: a drawn chart, papers, related topics, a feed link.
    first = links.first.inner_text()
    links.first.click()
    page.wait_for_selector("#topic-chart.charted canvas")
    assert page.locator("h1").first.inner_text() == first
    assert page.evaluate(INKED, "#topic-chart") > 100
    assert page.locator(".topic-papers article.card").count() >= 1
    assert page.locator(".topic-side li").count() >= 1
    assert page.locator("a[href$='.atom']").count() == 1
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"topic-{width}.png"), full_page=True)
    page.click("text=Newest")
    assert page.locator(".tabs a.active").inner_text() == "Newest"

    # Trends: small multiples drawn; the period picker applies at once.
    page.goto(demo_site + "/trends")
    page.wait_for_selector(".multiple figure.charted canvas")
    assert page.locator(".multiple").count() >= 4
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"trends-{width}.png"), full_page=True)
    with page.expect_navigation():
        page.select_option("select[name=period]", "month")
    assert "period=month" in page.url
    page.wait_for_selector(".multiple figure.charted canvas")
    assert page.locator("select[name=period]").input_value() == "month"
    page.screenshot(path=str(SHOTS / f"trends-month-{width}.png"), full_page=True)

    # Search: matches over time.
    page.goto(demo_site + "/search?q=diffusion")
    page.wait_for_selector("#search-chart.charted canvas")
    assert page.evaluate(INKED, "#search-chart") > 20
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"search-{width}.png"), full_page=False)

    # Topics index.
    page.goto(demo_site + "/topics")
    assert page.locator("#common li").count() >= 5
    _no_sideways_scroll(page)
    page.screenshot(path=str(SHOTS / f"topics-{width}.png"), full_page=True)
    assert not problems, problems
    page.close()


def charts_read_without_javascript(browser, demo_site):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(demo_site + "/topics")
    href = page.locator("#common a").first.get_attribute("href")
    page.goto(demo_site + href)
    table = page.locator("#topic-chart table.counts")
    assert table.is_visible()
    assert table.locator("tbody tr").count() >= 1
    page.screenshot(path=str(SHOTS / "topic-nojs-390.png"), full_page=True)
    context.close()
