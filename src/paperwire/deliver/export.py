"""Exporting papers (a library or a collection) as BibTeX, RIS and CSL-JSON.

Plain functions over ``Paper`` rows: the web layer streams their output as
downloads. BibTeX keys are made unique within one export; arXiv papers get
``eprint``/``archivePrefix`` (BibTeX), the arXiv URL (RIS ``UR``) and
CSL's ``publisher``/``archive_location``, so the files re-import here and into
Zotero with the arXiv id intact. Names go out as family/given/suffix parts
(:mod:`paperwire.names`), never as one flat string a tool has to guess at.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable

from paperwire.ids import arxiv_abs_url
from paperwire.names import structured_names
from paperwire.store.models import Paper
from paperwire.store.papers import published_date

FORMATS = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csljson": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}


_BIB_SPECIAL = re.compile(r"(?<!\\)([&%#])")
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def _bib_escape(text: str) -> str:
    """Text kept as written (LaTeX included, so maths survives) with BibTeX's
    specials ``& % #`` escaped (a bare ``%`` comments out the rest of the line);
    unbalanced braces, which would break the whole file, are dropped."""
    text = " ".join(text.split())
    depth = 0
    for ch in text:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            break
    if depth != 0:
        text = text.replace("{", "").replace("}", "")
    return _BIB_SPECIAL.sub(r"\\\1", text)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _names(paper: Paper) -> list[dict]:
    """The paper's authors with family/given/suffix apart (see :mod:`paperwire.names`)."""
    return structured_names(paper.authors, paper.author_names)


def _dois(paper: Paper) -> list[str]:
    """The DOIs a record lists (Kaggle gives some papers two, space-separated)."""
    return [d for d in re.split(r"[\s,;]+", paper.doi or "") if _DOI.match(d)]


def _key(paper: Paper, used: set[str]) -> str:
    published = published_date(paper)
    names = _names(paper)
    family = (names[0].get("family") or names[0]["name"]) if names else "paper"
    word = next((w for w in re.findall(r"[a-z0-9]+", _ascii(paper.title).lower()) if len(w) > 3), "")
    base = re.sub(r"[^a-z0-9]", "", _ascii(family).lower()) + (str(published.year) if published else "") + word
    base = base or "paper"
    key, n = base, 1
    while key in used:
        key = f"{base}{chr(ord('a') + n - 1) if n <= 26 else n}"
        n += 1
    used.add(key)
    return key


def _bib_part(text: str) -> str:
    """A name part, braced when a comma or the word "and" inside it would split the name."""
    text = _bib_escape(text)
    return f"{{{text}}}" if "," in text or re.search(r"\band\b", text, re.IGNORECASE) else text


def _bib_name(name: dict) -> str:
    """BibTeX's "von Last, Jr, First" form, so suffixes and particles parse back;
    a group ("The ATLAS Collaboration") is braced whole."""
    if not name.get("family"):
        return "{" + _bib_escape(name["name"]) + "}"
    parts = [_bib_part(name["family"])]
    if name.get("suffix"):
        parts.append(_bib_part(name["suffix"]))
    if name.get("given") or name.get("suffix"):
        parts.append(_bib_part(name.get("given", "")))
    return ", ".join(parts)


def bibtex_entry(paper: Paper, *, key: str | None = None, with_abstract: bool = True) -> str:
    """One BibTeX entry (arXiv eprint fields when the id is known)."""
    published = published_date(paper)
    fields = [("title", "{" + _bib_escape(paper.title) + "}")]
    if paper.authors:
        fields.append(("author", " and ".join(_bib_name(n) for n in _names(paper))))
    if published:
        fields.append(("year", str(published.year)))
    if paper.arxiv_id:
        fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
        if paper.primary_category:
            fields.append(("primaryClass", paper.primary_category))
        fields.append(("url", arxiv_abs_url(paper.arxiv_id)))
    if dois := _dois(paper):
        fields.append(("doi", dois[0]))
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


def _ris_name(name: dict) -> str:
    """RIS's "Last, First, Suffix" (a group as written)."""
    if not name.get("family"):
        return name["name"]
    return ", ".join([name["family"], name.get("given", "")] + ([name["suffix"]] if name.get("suffix") else []))


def _csl_name(name: dict) -> dict:
    if not name.get("family"):
        return {"literal": name["name"]}
    return {k: name[k] for k in ("family", "given", "suffix") if name.get(k)}


def to_ris(papers: Iterable[Paper]) -> str:
    out = []
    for paper in papers:
        published = published_date(paper)
        lines = [_ris_line("TY", "JOUR" if paper.journal_ref else "GEN"), _ris_line("TI", paper.title)]
        lines += [_ris_line("AU", _ris_name(n)) for n in _names(paper)]
        if published:
            lines.append(_ris_line("PY", str(published.year)))
            lines.append(_ris_line("DA", published.strftime("%Y/%m/%d")))
        if paper.abstract:
            lines.append(_ris_line("AB", paper.abstract))
        if dois := _dois(paper):
            lines.append(_ris_line("DO", dois[0]))
            lines += [_ris_line("N1", f"Also DOI {doi}") for doi in dois[1:]]
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
        "author": [_csl_name(n) for n in _names(paper)],
    }
    if published:
        item["issued"] = {"date-parts": [[published.year, published.month, published.day]]}
    if paper.abstract:
        item["abstract"] = paper.abstract
    if dois := _dois(paper):
        item["DOI"] = dois[0]
    if paper.journal_ref:
        item["container-title"] = paper.journal_ref
    if paper.arxiv_id:
        # Not CSL's "number": styles print it as an article number ("Art. no." in IEEE).
        item.update(URL=arxiv_abs_url(paper.arxiv_id), publisher="arXiv", archive_location=f"arXiv:{paper.arxiv_id}")
        if not paper.journal_ref:
            item["genre"] = "Preprint"  # APA: "Title [Preprint]. arXiv."
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
