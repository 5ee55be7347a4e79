"""Build ``src/paperwire/data/demo/vectors/``: the demo corpus's vectors, shipped so
``scripts/demo`` starts without embedding 1,100 papers with the transformer model.

It loads the demo into a throw-away database with an empty embedding cache
(:class:`paperwire.index.embeddings.CachingEmbedder`, keyed by text hash and
model fingerprint) and copies the cache file it filled. Re-run it after the
demo data, the text normalisation or the default model changes (a stale file
is harmless: texts it lacks are embedded as usual).

    python bench/build_demo_vectors.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "src" / "paperwire" / "data" / "demo" / "vectors"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="pw-demo-vectors-") as folder:
        cache = Path(folder) / "cache"
        os.environ.update({
            "PAPERWIRE_DATABASE_URL": f"sqlite:///{folder}/demo.db", "PAPERWIRE_DATA_DIR": f"{folder}/data",
            "PAPERWIRE_HOME": f"{folder}/home", "PAPERWIRE_EMBEDDING_CACHE_DIR": str(cache),
        })
        from paperwire.demo import load_demo
        from paperwire.store.db import open_database

        shutil.rmtree(TARGET, ignore_errors=True)  # build from nothing, not from the old file
        db = open_database()
        print(load_demo(db, log=lambda message: print(message, file=sys.stderr)))
        db.close()
        TARGET.mkdir(parents=True, exist_ok=True)
        for made in cache.glob("*.sqlite"):
            import sqlite3

            conn = sqlite3.connect(made)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            conn.close()
            shutil.copyfile(made, TARGET / made.name)
            print(f"{TARGET / made.name}: {(TARGET / made.name).stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
