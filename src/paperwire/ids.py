"""Paper identifiers: canonical arXiv ids and stable ids derived from titles.

arXiv ids come in two shapes: ``2310.12345`` (since 2007, 4 or 5 digits after
the dot) and the old ``hep-th/9901001`` (archive, optional subject class, then
YYMMNNN). Versions (``v2``) are not part of the canonical id; they are kept
separately. Papers known only by title (a Daily-Papers page) get
``pw-<hash>`` from the normalised title, which stays the same across imports
and lets the paper be merged once its real arXiv id is known.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NEW = r"\d{4}\.\d{4,5}"
_OLD = r"[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7}"
_ID_RE = re.compile(rf"^(?P<id>{_NEW}|{_OLD})(?:v(?P<version>\d+))?$")
_PREFIXES = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|oai:arxiv\.org:|arxiv:)",
    re.IGNORECASE,
)


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


class InvalidArxivId(ValueError):
    """Raised for text that is not an arXiv identifier."""


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Split an arXiv id, URL or OAI identifier into (canonical id, version).

    >>> parse_arxiv_id("https://arxiv.org/abs/2310.12345v2")
    ('2310.12345', 2)
    >>> parse_arxiv_id("hep-th/9901001")
    ('hep-th/9901001', None)
    """
    raw = text.strip()
    cleaned = _PREFIXES.sub("", raw)
    cleaned = cleaned.removesuffix(".pdf").strip("/")
    match = _ID_RE.match(cleaned)
    if not match:
        raise InvalidArxivId(f"not an arXiv id: {text!r}")
    version = match.group("version")
    return match.group("id"), int(version) if version else None


def canonical_arxiv_id(text: str) -> str:
    """The arXiv id without version suffix (raises :class:`InvalidArxivId`)."""
    return parse_arxiv_id(text)[0]


def is_arxiv_id(text: str) -> bool:
    try:
        parse_arxiv_id(text)
    except InvalidArxivId:
        return False
    return True


def normalise_title(title: str) -> str:
    """Lower-case, accent-free, punctuation-free, single-spaced title."""
    text = title
    if not text.isascii():  # most titles are ASCII: skip the slow path
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", text.lower()).strip()


def title_key(title: str) -> str:
    """A short hash of the normalised title, used to find the same paper again."""
    return hashlib.sha1(normalise_title(title).encode()).hexdigest()[:20]


def derived_paper_id(title: str) -> str:
    """Stable id for a paper without an arXiv id."""
    return "pw-" + title_key(title)[:12]


def arxiv_abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def arxiv_pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"
