"""The bundled demo corpus: five Daily-Papers pages, 200 Kaggle records and
the real Hugging Face Daily Papers lists of the last 60 days we have
(2025-11-01 to 2025-12-31, ``data/demo/hf-daily/``, with their real authors,
arXiv ids, upvotes and comment counts), plus a few demo accounts, votes,
comments and a saved library so that every page of the demo site has
something to show.

The pages show their day without a year; the file dates of a checkout say
nothing, so the demo reads them as saved on :data:`PAGES_SAVED_ON`, the
earliest day consistent with their content (page 004 shows "Jan 9" and
lists papers up to Sep 25, 2025, so it was saved on 2026-01-09 or later).
With the real lists loaded, the pages' papers join the catalogue without
being featured on those uncertain days: the site opens on the newest real
list (2025-12-31), with its authors, links, code and upvotes.

The older files are imported first, so the papers of the original
451-paper corpus keep their ids; ``real_days=False`` loads only those (the
search and recommendation evaluations are measured on that corpus)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from importlib import resources
from pathlib import Path

from paperwire.index.publish import publish_vector_index
from paperwire.index.publish_lexical import publish_lexical_index
from paperwire.index.tfidf import publish_tfidf_index
from paperwire.index.vectors import embed_paper_ids
from paperwire.rank.demo_library import load_demo_library
from paperwire.rank.map_publish import publish_map
from paperwire.sources.formats import read_path
from paperwire.sources.importer import import_items
from paperwire.store.db import Database
from paperwire.web.demo_users import load_demo_community


PAGES_SAVED_ON = date(2026, 1, 9)


def demo_folder() -> Path:
    return Path(str(resources.files("paperwire") / "data" / "demo"))


def seed_vector_cache(directory: Path) -> int:
    """Copy the shipped vectors of the demo corpus into an embedding cache folder.

    The transformer embedder takes ~10 ms a paper, so embedding the demo's
    1,100 papers would be most of its start-up; ``data/demo/vectors/`` holds
    their vectors, made by ``bench/build_demo_vectors.py`` with the same
    model (vectors are keyed by text hash and model fingerprint, so a changed
    text or model simply misses and is embedded). Never overwrites a file.
    """
    copied = 0
    for shipped in sorted((demo_folder() / "vectors").glob("*.sqlite")):
        target = directory / shipped.name
        if not target.exists():
            directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shipped, target)
            copied += 1
    return copied


def demo_files(*, real_days: bool = True) -> list[Path]:
    """Pages and the Kaggle sample, then (``real_days``) the daily lists, oldest first."""
    folder = demo_folder()
    files = sorted(p for p in folder.iterdir() if p.suffix in {".txt", ".jsonl"})
    if real_days:
        files += sorted((folder / "hf-daily").glob("*.json"))
    return files


def load_demo(db: Database, log: Callable[[str], object] = print, *, real_days: bool = True) -> str:
    """Import the demo corpus (safe to run again: nothing is duplicated)."""
    from paperwire.settings import get_settings

    if (store := get_settings().embedding_cache_dir) is not None:
        seed_vector_cache(Path(store))
    inserted = updated = 0
    changed: list[int] = []
    for path in demo_files(real_days=real_days):
        # With the real lists, they make the days: the saved pages (one undated, the others
        # dated without a year) join the catalogue, merged by title, without a day of their own.
        options = {"saved_on": PAGES_SAVED_ON, "feature": not real_days} if path.suffix == ".txt" else {}
        report = import_items(db, read_path(path, **options), on_changed=changed.extend)
        inserted += report.result.inserted
        updated += report.result.updated
    if changed:
        log(f"embedding {len(changed)} papers …")
        embed_paper_ids(db, changed)
    publish_vector_index(db)
    publish_lexical_index(db)
    publish_tfidf_index(db)
    from paperwire.rank.topics import build_topics

    topics = build_topics(db)
    publish_map(db)
    community = load_demo_community(db)
    load_demo_library(db)
    return f"{inserted} new papers, {updated} updated; {topics.summary()}; {community}"
