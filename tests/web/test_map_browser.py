"""The map of papers in a real headless Chromium on the demo data, at 1280 and 390 px:
points drawn (the WebGL canvas is not blank), hover shows the title, a click opens the
paper, a tap on a phone shows the title and a link, onboarding picks a seed on the map.

Screenshots go to /tmp/map-shots/ (looked at when the page changes).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from paperwire.demo import load_demo
from paperwire.store.community import create_user
from paperwire.store.library import save_paper, saved_ids
from paperwire.store.models import Paper
from tests.web.conftest import serve

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/map-shots")


def png_colours(data: bytes) -> int:
    """Distinct colours of an 8-bit RGB(A) PNG (a blank map has one or two)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, width, height, channels = 8, [], 0, 0, 3
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour_type in (2, 6)
            channels = 3 if colour_type == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    raw, stride, previous, colours = zlib.decompress(b"".join(chunks)), width * channels, bytearray(width * channels), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 4))
        previous = line
    return len(colours)


def wait_drawn(page) -> None:
    page.locator("#paper-map[data-drawn='1']").wait_for(timeout=60_000)
    page.wait_for_timeout(300)


def point_on_screen(page, index: int = 0) -> tuple[int, float, float]:
    """A paper id and where its point is on the page."""
    box = page.locator("#paper-map").bounding_box()
    paper_id, x, y = page.evaluate("window.paperwireMap.clearPoints()")[index]
    return paper_id, box["x"] + x, box["y"] + y


@pytest.fixture
def demo_server(db):
    load_demo(db, log=lambda *_: None)
    with db.session() as session:
        create_user(session, "mapper", "a-long-password")
    with serve(db) as url:
        yield url, db


def login(page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=username]", "mapper")
    page.fill("input[name=password]", "a-long-password")
    page.click("form.stack button[type=submit]")


def test_map_is_drawn_hovered_clicked_and_used_in_onboarding(browser, demo_server):
    url, db = demo_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/map")
    wait_drawn(page)
    shot = page.locator("#paper-map").screenshot(path=str(SHOTS / "map-1280.png"))
    assert png_colours(shot) > 8, "the map canvas is blank"
    assert page.locator("#map-count").inner_text().strip().endswith("papers")

    # Hover a point: its title shows (as text); a click opens its paper page.
    paper_id, x, y = point_on_screen(page)
    page.mouse.move(x, y)
    tip = page.locator("#map-tip")
    tip.wait_for(state="visible")
    page.locator("#map-tip strong").wait_for()
    hovered_title = page.locator("#map-tip strong").inner_text()
    with db.session() as session:
        titles = set(session.scalars(select(Paper.title)))
    assert hovered_title in titles
    page.screenshot(path=str(SHOTS / "map-1280-hover.png"))
    page.mouse.click(x, y)
    page.wait_for_url("**/papers/**")
    assert page.locator("h1").first.inner_text().strip()
    assert not errors, errors

    # Phone: drawn and readable; a tap shows the title and a link to open it.
    phone = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    phone.goto(url + "/map")
    wait_drawn(phone)
    shot = phone.locator("#paper-map").screenshot(path=str(SHOTS / "map-390.png"))
    assert png_colours(shot) > 8
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    _, x, y = point_on_screen(phone, 1)
    phone.touchscreen.tap(x, y)
    phone.locator("#map-tip .tip-open").wait_for()
    phone.screenshot(path=str(SHOTS / "map-390-tap.png"))

    # Onboarding on the map: open a cluster, tick its first paper, finish.
    for viewport, name in (({"width": 1280, "height": 900}, "1280"), ({"width": 390, "height": 844}, "390")):
        context = browser.new_context(viewport=viewport)
        onboarding = context.new_page()
        login(onboarding, url)
        onboarding.goto(url + "/onboarding")
        onboarding.click("#pick-from-map")
        wait_drawn(onboarding)
        _, x, y = point_on_screen(onboarding, 2)
        onboarding.mouse.click(x, y)
        first = onboarding.locator("#map-panel-papers input[type=checkbox]").first
        first.wait_for()
        uid = first.get_attribute("value")
        first.check()
        assert onboarding.locator(f"#map-picked input[name=seed][value='{uid}']").is_checked()
        # A full-page shot resizes the viewport, which clears the WebGL canvas: shoot the map itself too.
        shot = onboarding.locator("#paper-map").screenshot(path=str(SHOTS / f"onboarding-map-{name}-map.png"))
        assert png_colours(shot) > 8, "the onboarding map is blank"
        onboarding.screenshot(path=str(SHOTS / f"onboarding-map-{name}.png"), full_page=True)
        if name == "1280":
            onboarding.click("#pick-seeds button[type=submit]")
            onboarding.wait_for_url("**/for-you")
            with db.session() as session:
                user_id = session.scalar(select(Paper.id).where(Paper.uid == uid))
                from paperwire.store.community import get_user

                assert user_id in saved_ids(session, get_user(session, "mapper").id)
        context.close()

    # The library is highlighted on the map once the user has one.
    with db.session() as session:
        from paperwire.store.community import get_user

        user = get_user(session, "mapper")
        extra = session.scalar(select(Paper.id).where(Paper.hidden.is_(False)).order_by(Paper.id.desc()).limit(1))
        save_paper(session, user.id, extra)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    mine = context.new_page()
    login(mine, url)
    response = mine.request.get(url + "/api/map")
    assert extra in response.json()["mine"]
    mine.goto(url + "/map")
    wait_drawn(mine)
    mine.locator("#paper-map").screenshot(path=str(SHOTS / "map-1280-library.png"))
    context.close()
