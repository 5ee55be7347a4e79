"""Pages speak in words, not model numbers (issue 14: "match 0.22",
"trend 0.99 · for you 0.26")."""

from __future__ import annotations

import re

from paperwire.web.presenters import fit_label, trend_label
from tests.web.conftest import signup

RAW_NUMBER = re.compile(r"(match|trend|for you) \d\.\d\d")


def test_labels():
    assert fit_label(0.9) == "Strong match for you"
    assert fit_label(0.5) == "Good match for you"
    assert fit_label(0.1) == "Partial match for you"
    assert trend_label(0.99, 0.26) == "Among the top 1% trending · partial match for you"
    assert trend_label(0.2, 0.8) == "Trending · strong match for you"


def test_for_you_pages_show_no_raw_scores(client):
    signup(client, "wordy")
    for url in ("/for-you", "/for-you?view=trending"):
        html = client.get(url).text
        assert not RAW_NUMBER.search(html), url
        assert "0.5 ×" not in html
