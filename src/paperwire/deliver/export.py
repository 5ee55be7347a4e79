"""Exporting papers (a library or a collection) as BibTeX, RIS and CSL-JSON.

Plain functions over ``Paper`` rows: the web layer streams their output as
downloads. BibTeX keys are made unique within one export; arXiv papers get
``eprint``/``archivePrefix`` (BibTeX), the arXiv URL (RIS ``UR``) and
CSL's ``number``/``publisher`` convention, so the files re-import here and
into Zotero with the arXiv id intact.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

from paperwire.ids import arxiv_abs_url
from paperwire.store.models import Paper
from paperwire.store.papers import published_date

FORMATS = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csljson": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}


def _bib_escape(text: str) -> str:
    """Text kept as written (LaTeX included) unless its braces are unbalanced,
    which would break the whole file: then the braces are dropped."""
    text = " ".join(text.split())
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    return text if depth == 0 else text.replace("{", "").replace("}", "")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _split_name(name: str) -> tuple[str, str]:
    """(family, given): "Ada Lovelace" -> ("Lovelace", "Ada"); "Lovelace, Ada" kept."""
    if "," in name:
        family, given = name.split(",", 1)
        return family.strip(), given.strip()
    parts = name.split()
    return (parts[-1], " ".join(parts[:-1])) if parts else ("", "")


def _key(paper: Paper, used: set[str]) -> str:
    published = published_date(paper)
    family = _split_name(paper.authors[0])[0] if paper.authors else "paper"
    word = next((w for w in re.findall(r"[a-z0-9]+", _ascii(paper.title).lower()) if len(w) > 3), "")
    base = re.sub(r"[^a-z0-9]", "", _ascii(family).lower()) + (str(published.year) if published else "") + word
    base = base or "paper"
    key, n = base, 1
    while key in used:
        key = f"{base}{chr(ord('a') + n - 1) if n <= 26 else n}"
        n += 1
    used.add(key)
    return key


def bibtex_entry(paper: Paper, *, key: str | None = None, with_abstract: bool = True) -> str:
    """One BibTeX entry (arXiv eprint fields when the id is known)."""
    published = published_date(paper)
    fields = [("title", "{" + _bib_escape(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", _bib_escape(" and ".join(paper.authors))))
    if published:
        fields.append(("year", str(published.year)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.primary_category:
            fields.append(("primaryClass", paper.primary_category))
        fields.append(("url", arxiv_abs_url(paper.arxiv_id)))
    if paper.doi:
        fields.append(("doi", _bib_escape(paper.doi)))
    if paper.journal_ref:
        fields.append(("journal", _bib_escape(paper.journal_ref)))
    if with_abstract and paper.abstract:
        fields.append(("abstract", _bib_escape(paper.abstract)))
    kind = "article" if paper.journal_ref else "misc"
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key or _key(paper, set())},\n{body}\n}}"


def to_bibtex(papers: Iterable[Paper]) -> str:
    used: set[str] = set()
    return "\n".join(bibtex_entry(paper, key=_key(paper, used)) + "\n" for paper in papers)


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(value.split())}"


def to_ris(papers: Iterable[Paper]) -> str:
    out = []
    for paper in papers:
        published = published_date(paper)
        lines = [_ris_line("TY", "JOUR" if paper.journal_ref else "GEN"), _ris_line("TI", paper.title)]
        lines += [_ris_line("AU", ", ".join(_split_name(a))) for a in paper.authors or []]
        if published:
            lines.append(_ris_line("PY", str(published.year)))
            lines.append(_ris_line("DA", published.strftime("%Y/%m/%d")))
        if paper.abstract:
            lines.append(_ris_line("AB", paper.abstract))
        if paper.doi:
            lines.append(_ris_line("DO", paper.doi))
        if paper.journal_ref:
            lines.append(_ris_line("JO", paper.journal_ref))
        if paper.arxiv_id:
            lines.append(_ris_line("UR", arxiv_abs_url(paper.arxiv_id)))
            lines.append(_ris_line("N1", f"arXiv:{paper.arxiv_id}"))
        for category in paper.category_list:
            lines.append(_ris_line("KW", category))
        lines.append("ER  - ")
        out.append("\n".join(lines) + "\n")
    return "\n".join(out)


def csl_item(paper: Paper) -> dict:
    published = published_date(paper)
    item: dict = {
        "id": paper.uid, "type": "article-journal" if paper.journal_ref else "article", "title": paper.title,
        "author": [{"family": f, "given": g} for f, g in (_split_name(a) for a in paper.authors or [])],
    }
    if published:
        item["issued"] = {"date-parts": [[published.year, published.month, published.day]]}
    if paper.abstract:
        item["abstract"] = paper.abstract
    if paper.doi:
        item["DOI"] = paper.doi
    if paper.journal_ref:
        item["container-title"] = paper.journal_ref
    if paper.arxiv_id:
        item.update(URL=arxiv_abs_url(paper.arxiv_id), number=paper.arxiv_id, publisher="arXiv")
    if paper.category_list:
        item["keyword"] = ", ".join(paper.category_list)
    return item


def to_csljson(papers: Iterable[Paper]) -> str:
    return json.dumps([csl_item(p) for p in papers], ensure_ascii=False, indent=2) + "\n"


def export(papers: Iterable[Paper], fmt: str) -> tuple[str, str, str]:
    """(body, media type, file extension) for ``fmt`` in :data:`FORMATS`."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    body = {"bibtex": to_bibtex, "ris": to_ris, "csljson": to_csljson}[fmt](list(papers))
    media, ext = FORMATS[fmt]
    return body, media, ext
