"""Rising topics of each month of 2025 on the real Hugging Face lists, judged against a reader.

Method (see the README section "Topics and rising topics"):

1. Import all 415 real lists of ``../shared/corpus/hf-daily-papers/`` into a
   temporary SQLite database with the project's importer (``--skip-invalid``:
   the Python-repr files of 2024-12-11 … 2025-01-10 are rejected and counted),
   build the topic index (:func:`paperwire.rank.topics.build_topics`, default
   settings), and take the top 10 of
   :func:`paperwire.rank.rising.rising_topics` with ``period="month"`` and
   ``end`` = the last day of each month.
2. ``bench/eval_topics_themes.json`` holds, per month, the themes a reader of
   that month's lists would name, written from the month's most upvoted titles
   before any output was looked at.
3. ``bench/eval_topics_judgement.json`` marks each listed topic (by slug) as
   ``theme`` (names or is part of one of the month's themes), ``sensible``
   (a real research topic of that month, not among the named themes) or
   ``noise`` (a generic phrase, a fragment, or a name that says nothing).
   Strict precision@10 counts ``theme``; lenient counts ``theme`` + ``sensible``.
   Topics not yet judged are reported as such (``--write-judgement`` adds
   them as ``"?"`` to fill in by hand).

    PYTHONPATH=src python bench/eval_topics.py [--json out.json] [--markdown]
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT.parent / "shared" / "corpus" / "hf-daily-papers"
THEMES = ROOT / "bench" / "eval_topics_themes.json"
JUDGEMENT = ROOT / "bench" / "eval_topics_judgement.json"
MONTHS = [f"2025-{m:02d}" for m in range(1, 13)]


def run(db_url: str, *, load: bool = True) -> dict[str, list[dict]]:
    from paperwire.rank.rising import rising_topics
    from paperwire.rank.topics import build_topics
    from paperwire.sources.formats import read_path
    from paperwire.sources.importer import import_items
    from paperwire.store.db import open_database

    db = open_database(db_url)
    started = time.perf_counter()
    invalid = inserted = 0
    files = sorted(LISTS.glob("*.json")) if load else []
    for path in files:
        report = import_items(db, read_path(path), skip_invalid=True)
        inserted += report.result.inserted
        invalid += getattr(report, "invalid", 0) or getattr(report, "skipped", 0) or 0
    print(f"imported {len(files)} lists: {inserted} papers ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    report = build_topics(db, force=True)
    print(report.summary(), file=sys.stderr)
    out: dict[str, list[dict]] = {}
    with db.session() as session:
        for month in MONTHS:
            year, number = map(int, month.split("-"))
            end = date(year, number, calendar.monthrange(year, number)[1])
            out[month] = [
                {"slug": r.topic.slug, "label": r.topic.label, "kind": r.topic.kind, "count": r.count,
                 "expected": round(r.expected, 1), "score": round(r.score, 1)}
                for r in rising_topics(session, period="month", end=end, limit=10)
            ]
    db.close()
    return out


def judge(results: dict[str, list[dict]], judgement: dict[str, dict[str, str]]) -> dict:
    per_month = {}
    totals = {"theme": 0, "sensible": 0, "noise": 0, "?": 0, "listed": 0}
    for month, items in results.items():
        marks = [judgement.get(month, {}).get(i["slug"], "?") for i in items]
        counts = {k: marks.count(k) for k in ("theme", "sensible", "noise", "?")}
        per_month[month] = {**counts, "listed": len(items),
                            "strict_p10": counts["theme"] / 10, "lenient_p10": (counts["theme"] + counts["sensible"]) / 10}
        for k in counts:
            totals[k] += counts[k]
        totals["listed"] += len(items)
    slots = 10 * len(results)
    totals["strict_p10"] = totals["theme"] / slots
    totals["lenient_p10"] = (totals["theme"] + totals["sensible"]) / slots
    return {"months": per_month, "overall": totals}


def markdown(results: dict[str, list[dict]], judgement: dict[str, dict[str, str]], themes: dict, scores: dict) -> str:
    mark = {"theme": "✓", "sensible": "○", "noise": "✗", "?": "?"}
    lines = ["| month | top 10 rising topics (✓ theme, ○ sensible, ✗ noise) | a reader would name | P@10 strict / lenient |",
             "|---|---|---|---|"]
    for month, items in results.items():
        listed = ", ".join(f"{i['label']} {mark[judgement.get(month, {}).get(i['slug'], '?')]}" for i in items) or "–"
        named = "; ".join(themes.get(month, []))
        s = scores["months"][month]
        lines.append(f"| {month} | {listed} | {named} | {s['strict_p10']:.1f} / {s['lenient_p10']:.1f} |")
    o = scores["overall"]
    lines.append(f"| **all** | {o['theme']} ✓, {o['sensible']} ○, {o['noise']} ✗ of {10 * len(results)} slots "
                 f"({o['listed']} listed) | | **{o['strict_p10']:.2f} / {o['lenient_p10']:.2f}** |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results (and scores) here")
    parser.add_argument("--results", type=Path, help="reuse results written by an earlier --json run")
    parser.add_argument("--db", type=Path, help="SQLite file: filled on first use, reused after (faster reruns)")
    parser.add_argument("--markdown", action="store_true", help="print the README table")
    parser.add_argument("--write-judgement", action="store_true", help="add unjudged topics to the judgement file as '?'")
    args = parser.parse_args(argv)
    if args.results:
        results = json.loads(args.results.read_text())["results"]
    elif args.db:
        results = run(f"sqlite:///{args.db}", load=not args.db.exists())
    else:
        with tempfile.TemporaryDirectory() as folder:
            os.environ["PAPERWIRE_DATA_DIR"] = folder
            results = run(f"sqlite:///{folder}/eval.db")
    themes = json.loads(THEMES.read_text())
    judgement = json.loads(JUDGEMENT.read_text()) if JUDGEMENT.exists() else {}
    if args.write_judgement:
        for month, items in results.items():
            for item in items:
                judgement.setdefault(month, {}).setdefault(item["slug"], "?")
        JUDGEMENT.write_text(json.dumps(judgement, indent=1, ensure_ascii=False) + "\n")
    scores = judge(results, judgement)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "scores": scores}, indent=1, ensure_ascii=False) + "\n")
    for month, items in results.items():
        print(month, ", ".join(f"{i['label']} ({i['count']}/{i['expected']}, G² {i['score']})" for i in items))
    print(json.dumps(scores["overall"]))
    if args.markdown:
        print(markdown(results, judgement, themes, scores))


if __name__ == "__main__":
    main()
