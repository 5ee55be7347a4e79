"""Every vendored script works offline: none may name a public CDN it could load
code from (a debug tool or worker URL in a bundle is rewritten to this site; see
each vendor folder's README for the refresh step that does it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import paperwire

VENDOR = Path(paperwire.__file__).parent / "web" / "static" / "vendor"
CDN = re.compile(r"https?://(cdn\.|unpkg\.com|cdnjs\.|fonts\.googleapis)")


@pytest.mark.parametrize("path", sorted(VENDOR.rglob("*.js")), ids=lambda p: str(p.relative_to(VENDOR)))
def test_vendored_script_names_no_public_cdn(path):
    found = CDN.findall(path.read_text(encoding="utf-8", errors="replace"))
    assert not found, f"{path.name} still names {sorted(set(found))}: rewrite them (see its README)"


def test_the_map_bundle_is_vendored():
    assert (VENDOR / "deckgl" / "deck.gl.min.js").is_file()
