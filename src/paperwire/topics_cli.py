"""``paperwire topics rebuild | rising | show``: the topic index from the terminal.

Registered by :mod:`paperwire.cli` (``app.add_typer(topics_app, name="topics")``);
the work is in :mod:`paperwire.rank.topics` / :mod:`paperwire.rank.rising`,
the drawing in :mod:`paperwire.rank.sparkline`.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from paperwire.settings import get_settings
from paperwire.store.db import Database, missing_sqlite_file, open_database

topics_app = typer.Typer(help="Topics: rebuild the index, see rising topics, show one topic.", no_args_is_help=True)
console = Console(stderr=True)
out = Console()

DbOption = Annotated[Optional[str], typer.Option("--db", help="Database URL (default: $PAPERWIRE_DATABASE_URL).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
PeriodOption = Annotated[str, typer.Option("--period", help="week or month")]
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _term(text: str | None) -> str:
    return escape(_TERMINAL_UNSAFE.sub("", text or ""))


def _open(db: str | None) -> Database:
    url = db or get_settings().database_url
    if (missing := missing_sqlite_file(url)) is not None:
        console.print(f"[red]error:[/] no database at {escape(str(missing))} (from --db or $PAPERWIRE_DATABASE_URL); "
                      "create one with `paperwire init` or `paperwire demo`.")
        raise typer.Exit(1)
    return open_database(url)


def _period(value: str) -> str:
    if value not in ("week", "month"):
        raise typer.BadParameter(f"expected week or month, got {value!r}", param_hint="--period")
    return value


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected a date like 2025-12-31, got {value!r}", param_hint="--end") from exc


def _json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


@topics_app.command("rebuild")
def rebuild(db: DbOption = None, force: Annotated[bool, typer.Option("--force/--if-changed", help="Rebuild even if the papers did not change.")] = True) -> None:
    """Build the topic index from the papers (the worker's ``topics`` job does this on schedule)."""
    from paperwire.rank.topics import build_topics

    report = build_topics(_open(db), force=force, log=lambda m: console.print(_term(m)) if console.is_terminal else None)
    console.print(_term(report.summary()))
    if report.busy:
        raise typer.Exit(1)


@topics_app.command("rising")
def rising(
    period: PeriodOption = "week",
    end: Annotated[Optional[str], typer.Option("--end", help="Last day of the period, YYYY-MM-DD (default: the newest paper's day).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="How many topics.")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Topics whose share of the period's papers grew most against the trailing baseline."""
    from paperwire.rank.rising import rising_topics
    from paperwire.rank.sparkline import sparkline
    from paperwire.rank.topics import corpus_end_date

    period, end_day = _period(period), _day(end)
    with _open(db).session() as session:
        end_day = end_day or corpus_end_date(session)
        items = rising_topics(session, period=period, end=end_day, limit=limit)
    if as_json:
        _json({"period": period, "end": end_day, "topics": [
            {"slug": r.topic.slug, "label": r.topic.label, "kind": r.topic.kind, "count": r.count,
             "expected": round(r.expected, 2), "score": r.score, "share": round(r.share, 4),
             "baseline_share": round(r.baseline_share, 4), "series": r.series} for r in items]})
        return
    if not items:
        out.print(f"No rising topics in the {period} ending {end_day or '-'} "
                  "(too few papers, no baseline yet, or no topics built: `paperwire topics rebuild`).")
        return
    table = Table(title=f"Rising this {period} (to {end_day})")
    for column in ("topic", "papers", "expected", "G²", "trend"):
        table.add_column(column, justify="right" if column in ("papers", "expected", "G²") else "left")
    for r in items:
        table.add_row(f"{_term(r.topic.label)}\n[dim]{_term(r.topic.slug)}[/]", str(r.count), f"{r.expected:.1f}",
                      f"{r.score:.1f}", sparkline(r.series))
    out.print(table)


@topics_app.command("show")
def show(
    slug: Annotated[str, typer.Argument(help="The topic's slug, e.g. diffusion-model or cs.CV (or words to look up).")],
    period: PeriodOption = "week",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One topic: papers per period, most upvoted papers, related topics, authors."""
    from paperwire.rank.sparkline import sparkline
    from paperwire.rank.topics import find_topics, get_topic, related_topics, topic_authors, topic_papers, topic_series

    period = _period(period)
    with _open(db).session() as session:
        topic = get_topic(session, slug)
        if topic is None:
            near = find_topics(session, slug, limit=5)
            console.print(f"[red]error:[/] no topic {_term(slug)!s}" + (
                "; did you mean: " + ", ".join(_term(t.slug) for t in near) if near else ""))
            raise typer.Exit(1)
        series = topic_series(session, topic.slug, period=period)
        papers = [(p.uid, p.title) for p in topic_papers(session, topic.slug, limit=10)]
        related = related_topics(session, topic.slug, limit=8)
        authors = topic_authors(session, topic.slug, limit=8)
    if as_json:
        _json({"slug": topic.slug, "label": topic.label, "kind": topic.kind,
               "series": [{"start": d, "papers": n} for d, n in series],
               "papers": [{"id": uid, "title": title} for uid, title in papers],
               "related": [{"slug": t.slug, "label": t.label, "shared": n} for t, n in related],
               "authors": [{"name": name, "papers": n} for name, n in authors]})
        return
    out.print(f"[bold]{_term(topic.label)}[/] [dim]({_term(topic.kind)}, {_term(topic.slug)})[/]")
    if series:
        out.print(f"papers per {period}, {series[0][0]} … {series[-1][0]}: {sparkline([n for _d, n in series])} "
                  f"(total {sum(n for _d, n in series)}, most {max(n for _d, n in series)})")
    out.print("[bold]most upvoted[/]")
    for uid, title in papers:
        out.print(f"  {_term(uid)}  {_term(title)}")
    if related:
        out.print("[bold]related[/]  " + ", ".join(f"{_term(t.label)} ({n})" for t, n in related))
    if authors:
        out.print("[bold]authors[/]  " + ", ".join(f"{_term(name)} ({n})" for name, n in authors))
