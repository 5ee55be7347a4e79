"""Which reader handles a file: by ``--format`` or by sniffing its content."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from paperwire.sources.importer import Item

FORMATS = ("kaggle", "dailypapers", "hf-daily", "arxiv-atom", "oai", "csv")


class UnknownFormat(ValueError):
    pass


def _reader(fmt: str) -> Callable[..., Iterator[Item]]:
    if fmt == "kaggle":
        from paperwire.sources.kaggle import read_kaggle as reader
    elif fmt == "dailypapers":
        from paperwire.sources.pages import read_pages as reader
    elif fmt == "hf-daily":
        from paperwire.sources.hf_daily import read_hf_daily as reader
    elif fmt == "arxiv-atom":
        from paperwire.sources.arxiv_api import read_atom_file as reader
    elif fmt == "oai":
        from paperwire.sources.oai_pmh import read_oai_file as reader
    elif fmt == "csv":
        from paperwire.sources.csv_file import read_csv as reader
    else:
        raise UnknownFormat(f"unknown format {fmt!r}; choose one of: auto, {', '.join(FORMATS)}")
    return reader


def detect_format(path: Path) -> str:
    """Guess the format from the file name and its first bytes."""
    from paperwire.sources.textfile import UTF8_BOM, SourceError, open_binary

    name = path.name.lower()
    with open_binary(path) as handle:
        try:
            head = handle.read(4096).removeprefix(UTF8_BOM).lstrip()
        except (EOFError, OSError) as exc:
            raise SourceError(path, 1, f"corrupt or truncated gzip data ({exc})") from None
    stem = name.removesuffix(".gz")
    if stem.endswith(".csv") or stem.endswith(".tsv"):
        return "csv"
    if head.startswith(b"<") or stem.endswith(".xml") or stem.endswith(".atom"):
        if b"OAI-PMH" in head or b"ListRecords" in head:
            return "oai"
        return "arxiv-atom"
    if head.startswith(b"["):
        return "hf-daily"
    if head.startswith(b"{"):
        if b'"paper"' in head and b'"publishedAt"' in head:
            return "hf-daily"
        return "kaggle"
    if stem.endswith(".txt"):
        return "dailypapers"
    raise UnknownFormat(f"{path}: cannot tell the format; pass --format")


def read_path(path: Path, fmt: str = "auto", **options) -> Iterator[Item]:
    """Records of one file in the given (or detected) format."""
    if fmt == "auto":
        fmt = detect_format(path)
    return _reader(fmt)(path, **options)
