"""The ``paperwire`` command line: a thin layer over the library.

Every command opens the database named by ``PAPERWIRE_DATABASE_URL`` (or
``--db``), runs pending migrations, and calls one function of the package.
"""

from __future__ import annotations

import json
import re
import sys
from contextlib import contextmanager, nullcontext
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from paperwire.settings import get_settings
from paperwire.store.db import Database, missing_sqlite_file, open_database

app = typer.Typer(
    help="paperwire — self-hosted research-paper discovery (import, search, trending, digests).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
harvest_app = typer.Typer(help="Harvest papers from arXiv and Hugging Face over the network (polite, resumable).", no_args_is_help=True)
app.add_typer(harvest_app, name="harvest")


def _register_delivery_commands() -> None:
    """``paperwire digest send`` and ``paperwire worker`` live with the delivery code."""
    from paperwire.deliver.cli import digest_app, worker

    app.add_typer(digest_app, name="digest")
    app.command("worker")(worker)
console = Console(stderr=True)

DbOption = Annotated[
    Optional[str], typer.Option("--db", help="Database URL (default: $PAPERWIRE_DATABASE_URL or sqlite:///paperwire.db).")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]


def _require_secret_key() -> None:
    """Generate the signing key on first start; refuse a placeholder with a clear message."""
    from paperwire.secret_key import startup_problem

    if problem := startup_problem():
        console.print(f"[red]error:[/] {escape(problem)}")
        raise typer.Exit(2)


def _open(db_url: str | None, *, create: bool = False) -> Database:
    """Open (and migrate) the database; only commands that fill one (``create``)
    may bring a new SQLite file into being, the others stop with a clear error."""
    url = db_url or get_settings().database_url
    if not create and (missing := missing_sqlite_file(url)) is not None:
        console.print(f"[red]error:[/] no database at {escape(str(missing))} "
                      "(from --db or $PAPERWIRE_DATABASE_URL). Create one with `paperwire init` or load the demo "
                      "with `paperwire demo`, or point --db at an existing database.")
        raise typer.Exit(1)
    return open_database(url)


#: Control characters (ESC starts ANSI sequences, C1 0x9b is a one-byte CSI) never reach the terminal.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _term(text: str | None) -> str:
    """Metadata text made safe for rich: control characters out, markup escaped."""
    return escape(_TERMINAL_UNSAFE.sub("", text or ""))


def _print_json(value) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n")


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=console, transient=False,
        disable=not console.is_terminal,
    )


@app.command()
def init(db: DbOption = None) -> None:
    """Create the database (or bring its schema up to date) and the secret key."""
    _require_secret_key()
    database = _open(db, create=True)
    console.print(f"[green]Database ready:[/] {database.engine.url.render_as_string(hide_password=True)}")


@app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="Files to import (.jsonl, .jsonl.gz, .json, .xml, .csv, .txt).", exists=True, dir_okay=False)],
    format: Annotated[str, typer.Option("--format", "-f", help="Input format: auto (detect), kaggle, dailypapers, hf-daily, arxiv-atom, oai or csv.")] = "auto",
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Report and skip malformed records instead of stopping.")] = False,
    map_: Annotated[Optional[list[str]], typer.Option("--map", help="CSV column mapping FIELD=COLUMN (e.g. --map title=Paper Title).")] = None,
    batch_size: Annotated[int, typer.Option(help="Records per transaction.")] = 0,
    embed: Annotated[Optional[bool], typer.Option("--embed/--no-embed", help="Embed new papers now instead of leaving them to the worker / `paperwire embed` (default: $PAPERWIRE_EMBED_ON_IMPORT, off).")] = None,
    bulk: Annotated[bool, typer.Option("--bulk", help="Large imports: bigger transactions, and on SQLite the date and category indexes are built once at the end (also with --workers).")] = False,
    workers: Annotated[int, typer.Option("--workers", show_default=False, help="Import a Kaggle snapshot with N processes (one core each; default: $PAPERWIRE_IMPORT_WORKERS, 1). A re-run with the same N resumes.")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import papers from files. Re-running is safe: nothing is duplicated."""
    from paperwire.sources.formats import UnknownFormat, check_text_file, detect_format, read_path
    from paperwire.sources.importer import ImportFailed, import_items, progress_key
    from paperwire.sources.parallel_import import SHARDABLE, WorkerCrashed, import_in_parallel
    from paperwire.store.bulk_indexes import deferred_indexes

    settings = get_settings()
    if not 0 <= workers <= 64:
        raise typer.BadParameter("--workers takes 1 to 64 processes (0, the default: $PAPERWIRE_IMPORT_WORKERS)")
    processes = workers or settings.import_workers
    worker_note: dict[str, int] = {}
    for path in paths:  # before the database is created: an unreadable file leaves nothing behind
        try:
            check_text_file(path)
        except ValueError as exc:
            console.print(f"[red]error:[/] {escape(str(exc))}")
            raise typer.Exit(2) from exc
    database = _open(db, create=True)
    options = {}
    if map_:
        mapping = {}
        for item in map_:
            field, sep, column = item.partition("=")
            if not sep:
                raise typer.BadParameter(f"--map expects FIELD=COLUMN, got {item!r}")
            mapping[field.strip()] = column.strip()
        options["column_map"] = mapping
    reports = {}
    large = bulk or processes > 1  # SQLite: date/category indexes are built once at the end
    with (deferred_indexes(database.engine) if large else nullcontext()), \
            _embedding(database, embed) as on_changed, _progress() as progress:
        for path in paths:
            try:
                fmt = detect_format(path) if format == "auto" else format
                items = read_path(path, fmt, **(options if fmt == "csv" else {}))
            except (UnknownFormat, ValueError, OSError) as exc:
                console.print(f"[red]error:[/] {_term(str(exc))}")
                raise typer.Exit(2) from exc
            task = progress.add_task(f"{path.name} ({fmt})", total=None, rate="")

            def on_progress(read, result, task=task):
                progress.update(task, completed=read, rate=f"+{result.inserted} ~{result.updated}")

            size = batch_size or (settings.import_bulk_batch_size if large else settings.import_batch_size)
            try:
                if processes > 1 and fmt in SHARDABLE:
                    progress.update(task, description=f"{path.name} ({fmt}, {processes} workers)")
                    report = import_in_parallel(
                        database.engine.url.render_as_string(hide_password=False), path, fmt, workers=processes,
                        batch_size=size, skip_invalid=skip_invalid, resume_key=progress_key(path, fmt),
                        on_progress=on_progress, on_changed=on_changed,
                    )
                    worker_note[str(path)] = processes
                else:
                    report = import_items(
                        database, items, batch_size=size, skip_invalid=skip_invalid,
                        resume_key=progress_key(path, fmt), on_progress=on_progress, on_changed=on_changed,
                    )
            except WorkerCrashed as exc:
                console.print(f"[red]error:[/] {_term(str(exc))}")
                raise typer.Exit(1) from exc
            except ImportFailed as exc:
                console.print(f"[red]error:[/] {_term(str(exc.error))}")
                console.print(
                    f"Stopped. {exc.report.result.inserted} new and {exc.report.result.updated} updated papers from "
                    "earlier batches were kept; nothing of the failing batch was written. "
                    "Fix the record or pass --skip-invalid, then re-run (it resumes)."
                )
                raise typer.Exit(1) from exc
            reports[str(path)] = report.as_dict()
    if as_json:
        _print_json(reports)
        return
    for name, report in reports.items():
        how = f" ({worker_note[name]} workers)" if name in worker_note else ""
        console.print(
            f"[bold]{name}[/]{how}: {report['read']} read, {report['inserted']} new, {report['updated']} updated, "
            f"{report['unchanged']} unchanged, {report['featured']} featured, {report['invalid']} invalid"
        )
        for error in report["errors"]:
            console.print(f"  [yellow]skipped[/] {_term(error)}")


@contextmanager
def _embedding(database: Database, embed: bool | None = None):
    """What imports and harvests call with new or changed paper ids: nothing by
    default (the worker's ``embed`` job backfills, so storing papers never waits
    on the model); embed them when ``embed`` (default: $PAPERWIRE_EMBED_ON_IMPORT) says so, and
    publish the vector index once at the end (also when the command fails
    after some batches were stored). The lexical index is published at the
    end too (incrementally: only the papers written are indexed), and the
    TF-IDF neighbour index of similar papers."""
    from paperwire.index.publish_lexical import publish_lexical_index
    from paperwire.index.tfidf import publish_tfidf_index

    try:
        with _embedding_only(database, embed) as on_changed:
            yield on_changed
    finally:
        publish_lexical_index(database)
        publish_tfidf_index(database)  # the lexical half of similar papers


@contextmanager
def _embedding_only(database: Database, embed: bool | None = None):
    if not (get_settings().embed_on_import if embed is None else embed):
        yield None
        return
    from paperwire.index.publish import publish_vector_index
    from paperwire.index.vectors import embed_paper_ids

    embedded: list[int] = []

    def on_changed(ids: list[int]) -> None:
        embedded.append(embed_paper_ids(database, ids).embedded)

    try:
        yield on_changed
    finally:
        if any(embedded):
            publish_vector_index(database)


def _plain_log(message: str) -> None:
    console.print(message, markup=False, highlight=False)


def _parse_date(value: str | None, option: str = "--from") -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"expected a date like 2024-01-31, got {value!r}", param_hint=option) from exc


@contextmanager
def _harvest_errors():
    """Turn network and upstream errors into one clear line and exit code 1."""
    from paperwire.sources.http import HarvestError

    try:
        yield
    except (HarvestError, ValueError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        if getattr(exc, "code", None) != "busy":
            console.print("What was harvested before the error is kept; run the same command again to resume.")
        raise typer.Exit(1) from exc


@harvest_app.command("arxiv")
def harvest_arxiv_cmd(
    query: Annotated[str, typer.Option("--query", "-q", help="arXiv API search_query, e.g. cat:cs.LG")] = "cat:cs.*",
    from_date: Annotated[Optional[str], typer.Option("--from", help="Only papers submitted on/after YYYY-MM-DD (default: since last harvest).")] = None,
    set_: Annotated[Optional[str], typer.Option("--set", help="Category set, e.g. cs (sets the query to cat:cs.*).")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="API endpoint (default $PAPERWIRE_ARXIV_API_URL).")] = None,
    delay: Annotated[Optional[float], typer.Option(help="Seconds between requests (default 3).")] = None,
    max_results: Annotated[int, typer.Option(help="Stop after this many records (0 = no limit).")] = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Harvest the arXiv API (Atom), newest first, with paging and retries."""
    from paperwire.sources.arxiv_api import harvest_arxiv

    settings = get_settings()
    database = _open(db, create=True)
    with _harvest_errors(), _embedding(database) as on_changed:
        report = harvest_arxiv(
            database,
            query=f"cat:{set_}.*" if set_ else query,
            from_date=_parse_date(from_date),
            base_url=base_url or settings.arxiv_api_url,
            delay=settings.harvest_delay if delay is None else delay,
            max_results=max_results,
            log=_plain_log,
            on_changed=on_changed,
        )
    _print_json(report.as_dict()) if as_json else console.print(report.summary())


@harvest_app.command("oai")
def harvest_oai_cmd(
    from_date: Annotated[Optional[str], typer.Option("--from", help="Records changed on/after YYYY-MM-DD (default: since last harvest).")] = None,
    set_: Annotated[Optional[str], typer.Option("--set", help="OAI set, e.g. cs or physics:hep-th.")] = None,
    prefix: Annotated[str, typer.Option("--metadata-prefix", help="arXiv or arXivRaw.")] = "arXiv",
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="OAI-PMH endpoint (default $PAPERWIRE_OAI_BASE_URL).")] = None,
    delay: Annotated[Optional[float], typer.Option(help="Seconds between requests (default 3).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Harvest arXiv's OAI-PMH ListRecords, following resumption tokens."""
    from paperwire.sources.oai_pmh import harvest_oai

    settings = get_settings()
    database = _open(db, create=True)
    with _harvest_errors(), _embedding(database) as on_changed:
        report = harvest_oai(
            database,
            from_date=_parse_date(from_date),
            set_spec=set_,
            metadata_prefix=prefix,
            base_url=base_url or settings.oai_base_url,
            delay=settings.harvest_delay if delay is None else delay,
            log=_plain_log,
            on_changed=on_changed,
        )
    _print_json(report.as_dict()) if as_json else console.print(report.summary())


@harvest_app.command("hf")
def harvest_hf_cmd(
    from_date: Annotated[Optional[str], typer.Option("--from", help="First day YYYY-MM-DD (default: after the last harvested day).")] = None,
    to_date: Annotated[Optional[str], typer.Option("--to", help="Last day YYYY-MM-DD (default: today, UTC).")] = None,
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="Report and skip damaged entries instead of stopping.")] = False,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Hugging Face (default $PAPERWIRE_HF_BASE_URL).")] = None,
    delay: Annotated[Optional[float], typer.Option(help="Seconds between requests (default $PAPERWIRE_HARVEST_DELAY).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Harvest Hugging Face Daily Papers, one request per day (incremental, resumable)."""
    from paperwire.sources.hf_harvest import harvest_hf

    settings = get_settings()
    database = _open(db, create=True)  # like the other harvests: it fills a database
    with _harvest_errors(), _embedding(database) as on_changed:
        report = harvest_hf(
            database,
            base_url=base_url or settings.hf_base_url,
            from_date=_parse_date(from_date),
            to_date=_parse_date(to_date, "--to"),
            delay=settings.harvest_delay if delay is None else delay,
            skip_invalid=skip_invalid,
            first_days=settings.hf_first_harvest_days,
            log=_plain_log,
            on_changed=on_changed,
        )
    _print_json(report.as_dict()) if as_json else console.print(report.summary())


@harvest_app.command("queue")
def harvest_queue_cmd(
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="API endpoint (default $PAPERWIRE_ARXIV_API_URL).")] = None,
    delay: Annotated[Optional[float], typer.Option(help="Seconds between requests (default 3).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch papers queued by library imports (arXiv ids not yet in the database)."""
    from paperwire.sources.harvest_queue import process_harvest_queue

    settings = get_settings()
    database = _open(db, create=True)
    with _harvest_errors(), _embedding(database) as on_changed:
        report = process_harvest_queue(
            database, base_url=base_url or settings.arxiv_api_url,
            delay=settings.harvest_delay if delay is None else delay,
            on_changed=on_changed,
        )
    _print_json(report.as_dict()) if as_json else console.print(report.summary())


@app.command()
def resolve(
    limit: Annotated[Optional[int], typer.Option("--limit", "-n", min=1, help="Look up at most this many papers.")] = None,
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="arXiv API endpoint (default $PAPERWIRE_ARXIV_API_URL).")] = None,
    delay: Annotated[Optional[float], typer.Option(help="Seconds between requests (default $PAPERWIRE_HARVEST_DELAY).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find title-only papers (ids starting pw-) on arXiv by title and merge them into the real record."""
    from paperwire.sources.resolve import resolve_titles

    settings = get_settings()
    database = _open(db)
    with _embedding(database) as on_changed:
        report = resolve_titles(
            database, base_url=base_url or settings.arxiv_api_url, limit=limit,
            delay=settings.harvest_delay if delay is None else delay,
            log=_plain_log, on_changed=on_changed,
        )
    if as_json:
        _print_json(report.as_dict())
    else:
        console.print(report.summary(), markup=False, highlight=False)
    if report.offline:
        raise typer.Exit(1)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help='Words, "phrases", -excluded, author:NAME, cat:cs.LG, after:/before:YYYY-MM-DD.')],
    limit: Annotated[int, typer.Option("--limit", "-n", help="Number of results.")] = 10,
    offset: Annotated[int, typer.Option(help="Skip this many results (paging).")] = 0,
    mode: Annotated[str, typer.Option(help="hybrid|lexical|semantic")] = "hybrid",
    sort: Annotated[str, typer.Option(help="relevance|date")] = "relevance",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search papers."""
    from paperwire.index.search import search as run_search
    from paperwire.store.papers import paper_summary

    database = _open(db)
    results = run_search(database, query, mode=mode, limit=limit, offset=offset, sort=sort)
    rows = [paper_summary(hit.paper, hit.score) for hit in results.hits]
    _semantic_notice(database, results.warnings if results.mode == "lexical" else None)
    if as_json:
        _print_json(rows)
        return
    _print_table(rows, title=f"{len(rows)} results for {query!r} ({results.mode})")


@app.command()
def similar(
    paper_id: Annotated[str, typer.Argument(help="arXiv id (or paperwire id) of the paper.")],
    limit: Annotated[int, typer.Option("--limit", "-n")] = 10,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Papers most similar in meaning to one paper."""
    from paperwire.index.similar import PaperNotFound, similar_papers
    from paperwire.index.vectors import SemanticUnavailable
    from paperwire.store.papers import paper_summary

    database = _open(db)
    try:
        hits = similar_papers(database, paper_id, limit=limit)
    except (PaperNotFound, SemanticUnavailable) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    rows = [paper_summary(hit.paper, hit.score) for hit in hits]
    _semantic_notice(database)
    _print_json(rows) if as_json else _print_table(rows, title=f"Similar to {paper_id}")


def _semantic_notice(database: Database, lexical_warnings: list[str] | None = None) -> None:
    """On stderr (``--json`` output stays clean): the fall-back to word matches, or
    how much of the corpus the semantic results cover while the backfill runs."""
    if lexical_warnings is not None:
        for warning in lexical_warnings:
            if warning.startswith("Showing word matches only"):
                console.print(f"[yellow]note:[/] {escape(warning)}")
        return
    from paperwire.index.vectors import semantic_coverage

    if note := semantic_coverage(database).notice():
        console.print(f"[yellow]note:[/] {escape(note)} (`paperwire status` shows the backlog)")


index_app = typer.Typer(help="Maintain the search indexes.", no_args_is_help=True)
app.add_typer(index_app, name="index")


@index_app.command("rebuild")
def index_rebuild(
    vectors: Annotated[bool, typer.Option("--vectors/--no-vectors", help="Also re-embed every paper and rebuild the vector index.")] = False,
    db: DbOption = None,
) -> None:
    """Re-create the lexical index (and optionally the vector index) from the papers table."""
    from paperwire.index.publish_lexical import publish_lexical_index

    database = _open(db)
    report = publish_lexical_index(database, force=True)
    console.print(f"lexical index: {report.papers} papers indexed")
    from paperwire.index.tfidf import publish_tfidf_index

    console.print(publish_tfidf_index(database, force=True).summary())
    if vectors:
        embed(rebuild=True, db=db)


map_app = typer.Typer(help="The 2D map of papers (laid out by the worker's map job).", no_args_is_help=True)
app.add_typer(map_app, name="map")


@map_app.command("rebuild")
def map_rebuild(
    incremental: Annotated[bool, typer.Option("--incremental", help="Only place papers that have no place yet (what the worker does).")] = False,
    db: DbOption = None,
) -> None:
    """Lay the map of papers out again from the stored vectors of the default model."""
    from paperwire.rank.map_publish import publish_map

    report = publish_map(_open(db), force=not incremental)
    console.print(escape(report.summary()))
    if report.busy:
        raise typer.Exit(1)


@app.command()
def embed(
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything and rebuild the vector index.")] = False,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Embed in N processes on this machine.")] = 1,
    ray: Annotated[Optional[str], typer.Option("--ray", metavar="ADDRESS", help="Embed as tasks on a Ray cluster (host:port, 'auto' or 'local'; needs paperwire[ray]).")] = None,
    db: DbOption = None,
) -> None:
    """Embed papers that are new or changed and update the vector index (one backfill at a time)."""
    from paperwire.index.backfill import BackfillFailed, backfill
    from paperwire.store.locks import JobBusy

    database = _open(db)
    try:
        with _progress() as progress:
            task = progress.add_task("embedding", total=None, rate="")
            report = backfill(database, workers=workers, ray_address=ray, rebuild=rebuild,
                              on_progress=lambda done, total: progress.update(task, completed=done, total=total))
    except (JobBusy, BackfillFailed, ImportError, ConnectionError) as exc:
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    console.print(report.summary())


def _print_table(rows: list[dict], title: str) -> None:
    table = Table(title=_term(title), show_lines=False)
    for column in ("id", "title", "authors", "categories", "published", "score"):
        table.add_column(column, overflow="fold")
    for row in rows:
        authors = row["authors"]
        table.add_row(
            _term(row["id"]), _term(row["title"]), _term(", ".join(authors[:3]) + (" …" if len(authors) > 3 else "")),
            _term(" ".join(row["categories"])), row["published"] or "", f"{row['score']:.3f}" if row["score"] is not None else "",
        )
    Console().print(table)


@app.command()
def show(
    paper_id: Annotated[str, typer.Argument(help="arXiv id, arXiv URL or paperwire id.")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show everything known about one paper (with its upvotes, comments and featured days)."""
    from paperwire.store.paper_activity import paper_activity
    from paperwire.store.papers import get_paper, paper_detail

    database = _open(db)
    with database.session() as session:
        paper = get_paper(session, paper_id)
        if paper is None:
            console.print(f"[red]error:[/] no paper with id {escape(repr(paper_id))}")
            raise typer.Exit(1)
        detail = {**paper_detail(paper), **paper_activity(session, paper)}
    if as_json:
        _print_json(detail)
        return
    out = Console()
    out.print(f"[bold]{_term(detail['title'])}[/]  ({_term(detail['id'])})", markup=True, highlight=False)
    out.print(_term(", ".join(detail["authors"])) or f"{detail['author_count'] or '?'} authors", highlight=False)
    out.print(_term(" ".join(detail["categories"])), detail["published"] or "", highlight=False)
    days = detail["featured_days"]
    out.print(f"{detail['upvotes']} upvotes · {detail['comments']} comments · "
              + (f"featured on {', '.join(days)}" if days else "never featured"), markup=False, highlight=False)
    out.print()
    out.print(_term(detail["abstract"]), highlight=False)


@app.command()
def stats(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Counts of what the database holds."""
    from paperwire.store.stats import collect_stats

    database = _open(db)
    with database.session() as session:
        figures = collect_stats(session)
    if as_json:
        _print_json(figures)
        return
    table = Table(title="paperwire")
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in figures.items():
        table.add_row(key, str(value))
    Console().print(table)


@app.command()
def status(db: DbOption = None, as_json: JsonOption = False) -> None:
    """What the worker did: each job's last run, outcome, records, lag, next run, last error;
    papers still without embeddings and the published vector index."""
    from paperwire.worker.status import status_report

    report = status_report(_open(db))
    if as_json:
        _print_json(report)
        return
    table = Table(title="paperwire worker jobs")
    for column in ("job", "last run", "outcome", "records", "lag", "next run", "last error"):
        table.add_column(column, overflow="fold")
    for job in report["jobs"]:
        lag = f"{job['lag_days']} d" if job["lag_days"] is not None else ""
        table.add_row(escape(job["job"]), job["last_finished"] or "never", job["outcome"] or "",
                      "" if job["records"] is None else str(job["records"]), lag, job["next_run"] or "",
                      escape(job["last_error"] or ""))
    console.print(table)
    e = report["embeddings"]
    index = (f"generation {e['published_generation']} ({e['published_vectors']} vectors"
             f"{', stale' if e['index_stale'] else ''})" if e["published_generation"] else "not published yet")
    console.print(f"{e['papers']} papers, {e['papers_missing_embeddings']} without embeddings ({e['model']}); "
                  f"vector index: {index}")
    backlog = (f"embedding backlog: {e['backlog']} papers waiting (new or changed); the worker's embed job "
               "or `paperwire embed --workers N` clears it") if e["backlog"] else "embedding backlog: none"
    console.print(backlog)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    db: DbOption = None,
) -> None:
    """Serve the web site and JSON API."""
    import os

    import uvicorn

    from paperwire.web.ports import port_problem

    if problem := port_problem(host, port):  # before "Serving on …": a busy port is a clear error, not a crash
        console.print(f"[red]error:[/] {escape(problem)}")
        raise typer.Exit(1)
    if db:
        os.environ["PAPERWIRE_DATABASE_URL"] = db
        get_settings.cache_clear()
    _require_secret_key()
    _open(db, create=True).close()  # migrate once before the workers start
    console.print(f"Serving on [bold]http://{host}:{port}[/] (Ctrl+C to stop)")
    # proxy_headers=False: the app applies PAPERWIRE_FORWARDED_ALLOW_IPS itself (uvicorn's own
    # default would trust 127.0.0.1 and its FORWARDED_ALLOW_IPS, which the app cannot see).
    uvicorn.run("paperwire.web.app:create_app", factory=True, host=host, port=port, workers=workers, log_level="info",
                proxy_headers=False)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Only load the demo data.")] = False,
    mailbox: Annotated[bool, typer.Option("--mailbox/--no-mailbox", help="Catch the site's mails locally and show them at /demo/mailbox.")] = True,
    db: DbOption = None,
) -> None:
    """Load the bundled demo corpus (idempotent) and serve the site, with a local mailbox for its mails."""
    from paperwire.demo import load_demo
    from paperwire.web.ports import port_problem

    if not no_serve and (problem := port_problem(host, port)):  # before minutes of loading, not after
        console.print(f"[red]error:[/] {escape(problem)}")
        raise typer.Exit(1)
    _require_secret_key()
    database = _open(db, create=True)
    if get_settings().embedding_cache_dir is None:  # the demo's shipped vectors live in an embedding cache
        import os

        os.environ["PAPERWIRE_EMBEDDING_CACHE_DIR"] = str(get_settings().resolved_data_dir() / "embedding-cache")
        get_settings.cache_clear()
    summary = load_demo(database, log=console.print)
    console.print(f"[green]Demo data ready:[/] {summary}")
    database.close()
    if no_serve:
        return
    if not mailbox:
        serve(host=host, port=port, workers=1, db=db)
        return
    import os

    from paperwire.demo_mail import demo_mailbox

    if db:  # the mailbox lives in this database's data folder
        os.environ["PAPERWIRE_DATABASE_URL"] = db
        get_settings.cache_clear()
    with demo_mailbox(host, port, log=console.print) as page:
        if page:
            console.print(f"[green]Demo mailbox:[/] {page} (mails the site sends are caught here; nothing leaves)")
        serve(host=host, port=port, workers=1, db=db)


_register_delivery_commands()


def _register_topics_commands() -> None:
    """``paperwire topics rebuild|rising|show`` live in :mod:`paperwire.topics_cli`."""
    from paperwire.topics_cli import topics_app

    app.add_typer(topics_app, name="topics")


_register_topics_commands()

if __name__ == "__main__":  # pragma: no cover
    app()
