"""Person names as citation tools need them: family, given and suffix apart.

Sources that know the structure (Kaggle ``authors_parsed``, OAI-PMH
``keyname``/``forenames``/``suffix``) fill ``PaperRecord.author_names`` with
:func:`name_parts`; everything else has only flat strings, which
:func:`parse_name` splits with ``nameparser`` (it knows suffixes such as Jr.
and II, and particles such as "van" and "de la") so that "Neal J. Evans II"
exports as family "Evans", suffix "II" instead of family "II".
"""

from __future__ import annotations

import re

from nameparser import HumanName

#: Words that make an author a group, which citation formats keep as one literal name.
_GROUP = re.compile(r"\b(collaboration|consortium|team|group|project|initiative|committee|association|"
                    r"institute|laboratory|university|inc|ltd|corporation|foundation)\b", re.IGNORECASE)


def name_parts(family: str | None, given: str | None = None, suffix: str | None = None) -> dict:
    """One ``author_names`` entry from parts a source gave (empty parts left out)."""
    # Written out rather than looped: bulk imports call this for every author.
    family = " ".join(family.split()) if family else ""
    given = " ".join(given.split()) if given else ""
    suffix = " ".join(suffix.split()) if suffix else ""
    entry = {"name": " ".join([p for p in (given, family, suffix) if p])}
    if family:
        entry["family"] = family
    if given:
        entry["given"] = given
    if suffix:
        entry["suffix"] = suffix
    return entry


def is_group(name: str) -> bool:
    """Whether a flat author string names a collaboration or organisation, not a person."""
    return bool(_GROUP.search(name))


def parse_name(name: str) -> dict:
    """Split a flat name ("Neal J. Evans II", "van Beethoven, Ludwig") into parts.

    Groups ("The ATLAS Collaboration") and one-word names keep the whole text:
    a group as ``name`` only, a single word as ``family``.
    """
    name = " ".join(name.split())
    if not name or is_group(name):
        return {"name": name}
    human = HumanName(name)
    given = " ".join(p for p in (human.title, human.first, human.middle) if p)
    family = human.last
    if not family:  # "Ng", or a name that is all title/suffix words
        family, given = given or name, ""
    return {**name_parts(family, given, human.suffix), "name": name}


def structured_names(authors: list[str] | None, author_names: list[dict] | None) -> list[dict]:
    """Names parallel to ``authors``: the source's parts where it gave them, parsed otherwise."""
    authors = list(authors or [])
    known = author_names if author_names and len(author_names) == len(authors) else [None] * len(authors)
    out = []
    for flat, entry in zip(authors, known):
        if isinstance(entry, dict) and entry.get("family"):
            out.append({"name": flat, **{k: entry[k] for k in ("family", "given", "suffix") if entry.get(k)}})
        else:
            out.append(parse_name(flat))
    return out
