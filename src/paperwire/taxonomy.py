"""The arXiv category taxonomy, shipped with the package (``data/arxiv_taxonomy.json``).

Onboarding offers these fixed, real categories grouped as arXiv groups them,
instead of whatever categories happen to be in the database. The file is
package data and never changes while the process runs, so it is read once
(``functools.cache``; nothing to invalidate).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Category:
    id: str  # "cs.LG", "hep-th"
    name: str  # "Machine Learning"

    @property
    def archive(self) -> str:
        return self.id.split(".")[0]


@dataclass(frozen=True)
class Archive:
    id: str  # "cs", "astro-ph", "hep-th"
    name: str
    categories: tuple[Category, ...]

    @property
    def has_subcategories(self) -> bool:
        return any("." in c.id for c in self.categories)


@dataclass(frozen=True)
class Group:
    name: str  # "Computer Science", "Physics"
    archives: tuple[Archive, ...]


@cache
def taxonomy() -> tuple[Group, ...]:
    """Groups → archives → categories, in arXiv's order."""
    raw = json.loads((resources.files("paperwire") / "data" / "arxiv_taxonomy.json").read_text(encoding="utf-8"))
    groups = []
    for group in raw["groups"]:
        by_archive: dict[str, list[Category]] = {}
        for item in group["categories"]:
            category = Category(item["id"], item["name"])
            by_archive.setdefault(category.archive, []).append(category)
        groups.append(Group(group["name"], tuple(
            Archive(archive, raw["archives"][archive], tuple(cats)) for archive, cats in by_archive.items())))
    return tuple(groups)


@cache
def choosable() -> frozenset[str]:
    """Every category id and every archive id (an archive covers its sub-categories)."""
    return frozenset(
        value for group in taxonomy() for archive in group.archives
        for value in (archive.id, *(c.id for c in archive.categories))
    )
