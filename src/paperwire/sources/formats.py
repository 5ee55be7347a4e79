"""Which reader handles a file: by ``--format`` or by sniffing its content."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from paperwire.sources.importer import Item

FORMATS = ("kaggle", "dailypapers", "hf-daily", "arxiv-atom", "oai", "csv")


class UnknownFormat(ValueError):
    pass


class UnreadableFile(ValueError):
    """A file no reader can take: empty, binary, or a broken ``.gz``; the message names it."""


SUPPORTED = ".jsonl, .json, .xml, .csv, .tsv or .txt (optionally gzipped)"


def check_text_file(path: Path) -> None:
    """Refuse, with a message naming the file, what would otherwise import nothing
    silently or print raw bytes: an empty (or blank) file, binary data, a ``.gz``
    that is not gzip. It reads the head through the one shared opener
    (:func:`paperwire.sources.textfile.open_binary`: gzip by content, not name);
    a gzip stream damaged further on is left to the reader, which names the line
    it reached."""
    import codecs

    from paperwire.sources.textfile import GZIP_DAMAGED, open_binary

    try:
        with open_binary(path) as handle:
            head = handle.read(65536)
    except GZIP_DAMAGED:
        return
    except OSError as exc:
        raise UnreadableFile(f"{path}: cannot read it ({exc})") from exc
    if not head.strip():
        raise UnreadableFile(f"{path}: the file is empty; nothing to import")
    nul = head.find(b"\x00")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path}: not UTF-8 text (binary data at byte {exc.start}); "
                             f"paperwire imports {SUPPORTED}") from exc
    if nul >= 0:
        raise UnreadableFile(f"{path}: not a text file (binary data at byte {nul}); paperwire imports {SUPPORTED}")


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
        if b"OAI-PMH" in head or b"ListRecords" in head or b"GetRecord" in head:
            return "oai"
        return "arxiv-atom"
    if head.startswith(b"["):
        return "hf-daily"
    if head.startswith(b"{"):
        if b'"paper"' in head and b'"publishedAt"' in head:
            return "hf-daily"
        if b'"data"' in head and b'"status"' in head and b"'paper'" in head:
            return "hf-daily"  # the damaged {"status", "date", "count", "data": ["{'paper': ..."]} wrapper
        return "kaggle"
    if stem.endswith(".txt"):
        return "dailypapers"
    raise UnknownFormat(f"{path}: cannot tell the format; pass --format")


def read_path(path: Path, fmt: str = "auto", **options) -> Iterator[Item]:
    """Records of one file in the given (or detected) format."""
    if fmt == "auto":
        fmt = detect_format(path)
    return _reader(fmt)(path, **options)
