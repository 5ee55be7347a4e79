"""KaTeX only where the text really holds TeX (issue 14): imported text that
lost its backslashes stays plain, TeX escapes outside maths read naturally,
and what KaTeX cannot parse stays plain text instead of a red error."""

from __future__ import annotations

from datetime import datetime

import pytest

from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers

pytestmark = pytest.mark.browser

LOST = "The bound $Ccdot S2 where S1 is$ the size of the first set."
ESCAPES = "Accuracy improves by 1\\% on average, R\\&D budgets included."
BROKEN = "A made-up macro $\\XQM$ stays readable."
GOOD = "Energy $E = mc^2$ and the sum $\\sum_{i=1}^n x_i$."


@pytest.fixture
def math_server(site_db, live_server):
    with site_db.session() as session:
        upsert_papers(session, [PaperRecord(title="Maths edge cases $\\alpha$", arxiv_id="2403.09999",
                                            abstract=" ".join([LOST, ESCAPES, BROKEN, GOOD]), authors=["T. Ex"],
                                            categories=["math.CO"], submitted=datetime(2024, 3, 5), source="test")])
    return live_server


def test_math_only_where_text_holds_tex(browser, math_server):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(math_server + "/papers/2403.09999")
    page.wait_for_selector(".abstract-full .katex")
    abstract = page.locator(".abstract-full p.math").first
    text = abstract.inner_text()
    assert "$Ccdot S2 where S1 is$" in text  # plain words: not typeset as one italic run
    assert "1% on average, R&D budgets" in text  # TeX escapes outside maths
    assert "$\\XQM$" in text  # unparsable: plain text
    assert page.locator(".katex-error").count() == 0
    assert abstract.locator(".katex").count() == 2  # E = mc^2 and the sum
    assert page.locator("h1 .katex").count() == 1  # \alpha in the title
    assert errors == []
    page.close()
