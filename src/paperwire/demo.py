"""The bundled demo corpus: five Daily-Papers pages and 200 Kaggle records,
plus a few demo accounts, votes, comments and a saved library so that every
page of the demo site has something to show."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from paperwire.index.publish import publish_vector_index
from paperwire.index.publish_lexical import publish_if_enabled
from paperwire.index.vectors import embed_paper_ids
from paperwire.rank.demo_library import load_demo_library
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.db import Database
from paperwire.web.demo_users import load_demo_community


def demo_files() -> list[Path]:
    folder = Path(str(resources.files("paperwire") / "data" / "demo"))
    return sorted(p for p in folder.iterdir() if p.suffix in {".txt", ".jsonl"})


def load_demo(db: Database, log: Callable[[str], object] = print) -> str:
    """Import the demo corpus (safe to run again: nothing is duplicated)."""
    inserted = updated = 0
    changed: list[int] = []
    for path in demo_files():
        report = import_items(db, read_path(path), on_changed=changed.extend)
        inserted += report.result.inserted
        updated += report.result.updated
    if changed:
        log(f"embedding {len(changed)} papers …")
        embed_paper_ids(db, changed)
    publish_vector_index(db)
    publish_if_enabled(db)
    community = load_demo_community(db)
    load_demo_library(db)
    return f"{inserted} new papers, {updated} updated; {community}"
