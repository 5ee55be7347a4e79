"""Reader for CSV/TSV files of papers, such as Kaggle's arXiv classification sets.

Columns are found by name (case-insensitive): ``title``/``titles``,
``abstract``/``summary``/``summaries``, ``categories``/``terms``,
``id``/``arxiv_id``/``paper_id``, ``authors``, ``published``/``date``/
``submitted``, ``updated``, ``doi``. ``column_map`` (the CLI's ``--map``)
names the column for a field explicitly; mapping a field to ``""`` ignores
that field. The header is checked before the first row is read, so a wrong
mapping fails at once with the list of available columns.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from paperwire.ids import InvalidArxivId, parse_arxiv_id
from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.kaggle import split_author_string
from paperwire.sources.textfile import iter_lines

#: Our field -> header names recognised for it, in order of preference.
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "titles", "paper_title"),
    "abstract": ("abstract", "abstracts", "summary", "summaries"),
    "categories": ("categories", "category", "terms"),
    "id": ("arxiv_id", "id", "paper_id", "arxivid"),
    "authors": ("authors", "author"),
    "published": ("published", "date", "submitted", "published_date", "submitted_date", "created"),
    "updated": ("updated", "update_date", "updated_date"),
    "doi": ("doi",),
}
FIELDS = tuple(ALIASES)
_DATE_FORMATS = ("%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y")


def _key(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _lines(path: Path) -> Iterator[str]:
    """The file's lines through the shared opener (gzip, UTF-8 and size checks)."""
    return (text for _number, text in iter_lines(path))


def _delimiter(path: Path, first_line: str) -> str:
    if path.name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def resolve_columns(header: list[str], column_map: dict[str, str] | None = None) -> dict[str, int]:
    """Index of the column that feeds each field (raises ValueError with the choices)."""
    available = ", ".join(repr(h) for h in header)
    positions = {_key(name): i for i, name in reversed(list(enumerate(header)))}
    columns: dict[str, int] = {}
    for field, column in (column_map or {}).items():
        if field not in ALIASES:
            raise ValueError(f"unknown field {field!r} in the column map; fields are: {', '.join(FIELDS)}")
        if column == "":
            columns[field] = -1
            continue
        if column in header:
            columns[field] = header.index(column)
        elif _key(column) in positions:
            columns[field] = positions[_key(column)]
        else:
            raise ValueError(f"column {column!r} (for {field}) is not in the file; available columns: {available}")
    for field, names in ALIASES.items():
        if field not in columns:
            found = next((positions[n] for n in names if n in positions), None)
            if found is not None:
                columns[field] = found
    if columns.get("title", -1) < 0:
        raise ValueError(f"no title column found; available columns: {available} (use --map title=COLUMN)")
    return {field: index for field, index in columns.items() if index >= 0}


def split_list(value: str, separators: str = ";, ") -> list[str]:
    """``"cs.LG cs.AI"``, ``"cs.LG;cs.AI"`` or ``"['cs.LG', 'cs.AI']"`` as a list."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        return [p.strip().strip("'\"").strip() for p in text[1:-1].split(",") if p.strip().strip("'\"").strip()]
    for sep in separators[1:]:
        text = text.replace(sep, separators[0])
    return [p.strip() for p in text.split(separators[0]) if p.strip()]


def _authors(value: str) -> list[str]:
    text = value.strip()
    if text.startswith("[") or ";" in text:
        return split_list(text, ";")
    return split_author_string(text)


def parse_datetime(value: str) -> datetime:
    """ISO 8601, RFC 2822 or a few written-out date forms, as naive UTC."""
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if parsed is None:
        raise ValueError(f"not a date: {value!r}")
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _record(row: list[str], columns: dict[str, int], origin: str) -> PaperRecord:
    get = {field: row[index].strip() if index < len(row) else "" for field, index in columns.items()}
    title = " ".join(get["title"].split())
    if not title:
        raise ValueError("empty title")
    arxiv_id = parse_arxiv_id(get["id"])[0] if get.get("id") else None
    return PaperRecord(
        title=title,
        abstract=" ".join(get.get("abstract", "").split()),
        arxiv_id=arxiv_id,
        authors=_authors(get["authors"]) if get.get("authors") else [],
        categories=split_list(get["categories"]) if get.get("categories") else [],
        submitted=parse_datetime(get["published"]) if get.get("published") else None,
        updated=parse_datetime(get["updated"]) if get.get("updated") else None,
        doi=get.get("doi") or None,
        source="csv",
        origin=origin,
    )


def read_csv(path: Path, column_map: dict[str, str] | None = None, **_options) -> Iterator[PaperRecord | InvalidRecord]:
    """Papers of a ``.csv``/``.tsv`` file (optionally ``.gz``), one per row.

    Raises ValueError at once when the header lacks a title column or the
    map names a column the file does not have. A row that cannot be read
    becomes an :class:`InvalidRecord` naming the line where the row starts.
    """
    lines = _lines(path)
    first = next(lines, "")
    delimiter = _delimiter(path, first)
    try:
        header = next(csv.reader(itertools.chain([first], lines), delimiter=delimiter), None)
    except csv.Error as exc:
        raise ValueError(f"{path}:1: malformed CSV header ({exc})") from None
    if not header:
        raise ValueError(f"{path}: empty file, expected a header line")
    columns = resolve_columns(header, column_map)
    return _rows(path, delimiter, len(header), columns)


def _rows(path: Path, delimiter: str, width: int, columns: dict[str, int]) -> Iterator[PaperRecord | InvalidRecord]:
    reader = csv.reader(_lines(path), delimiter=delimiter)
    next(reader, None)  # the header
    while True:
        start = reader.line_num + 1
        origin = f"{path}:{start}"
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield InvalidRecord(origin, f"malformed CSV ({exc})")
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != width:
            yield InvalidRecord(origin, f"row has {len(row)} fields, the header has {width}")
            continue
        try:
            yield _record(row, columns, origin)
        except InvalidArxivId as exc:
            yield InvalidRecord(origin, f"{exc} (map another column with --map id=COLUMN, or ignore ids with --map id=)")
        except ValueError as exc:
            yield InvalidRecord(origin, str(exc))
