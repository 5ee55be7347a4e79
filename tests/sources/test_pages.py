"""The Daily-Papers page reader, on the five real pages and on broken variants."""

from __future__ import annotations

import gzip
import os
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from paperwire.records import InvalidRecord, PaperRecord
from paperwire.sources.formats import detect_format, read_path
from paperwire.sources.importer import import_items
from paperwire.sources.pages import CHROME, page_day, read_pages
from paperwire.store.models import FeaturedPaper
from paperwire.store.papers import count_papers

#: The day the copies used in these tests were "saved" (their mtime).
SAVED = datetime(2025, 11, 20, 12, 0)

#: Verified by reading the pages: (papers, first title, last title, featured day).
EXPECTED = {
    "000": (50, "How Long It Takes for an Ordinary Node with an Ordinary ID to Output?",
            "Benign Oscillation of Stochastic Gradient Descent with Large Learning Rates", date(2025, 8, 12)),
    "001": (119, "Score-based generative models break the curse of dimensionality in learning a family of "
                 "sub-Gaussian probability distributions",
            "Existence and uniqueness of solutions in the Lipschitz space of a functional equation and its "
            "application to the behavior of the paradise fish", date(2025, 11, 20)),
    "002": (55, "Accelerating Sinkhorn Algorithm with Sparse Newton Iterations",
            "Measuring the Intrinsic Dimension of Objective Landscapes", date(2025, 4, 29)),
    "003": (70, "Measuring the Intrinsic Dimension of Objective Landscapes",
            "On the Power of the Weisfeiler-Leman Test for Graph Motif Parameters", date(2025, 5, 9)),
    # "Jan 9" with papers dated up to Oct 6, 2025: the page is from 2026.
    "004": (36, "From Logistic Regression to the Perceptron Algorithm: Exploring Gradient Descent with Large Step Sizes",
            "Understanding Warmup-Stable-Decay Learning Rates: A River Valley Loss Landscape Perspective",
            date(2026, 1, 9)),
}


def saved_copy(source: Path, folder: Path, when: datetime = SAVED) -> Path:
    """A copy of a page whose modification time is ``when`` (the year fallback)."""
    target = folder / source.name
    shutil.copyfile(source, target)
    stamp = when.timestamp()
    os.utime(target, (stamp, stamp))
    return target


def write_page(folder: Path, text: str, name: str = "page.txt", when: datetime = SAVED) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


@pytest.fixture
def pages(pages_files, tmp_path) -> dict[str, list[PaperRecord | InvalidRecord]]:
    assert len(pages_files) == 5
    return {p.name[:3]: list(read_pages(saved_copy(p, tmp_path))) for p in pages_files}


def test_every_paper_on_the_five_pages_is_found(pages):
    for key, (count, first, last, featured) in EXPECTED.items():
        records = pages[key]
        assert all(isinstance(r, PaperRecord) for r in records), key
        assert len(records) == count, key
        assert records[0].title == first, key
        assert records[-1].title == last, key
        assert {r.featured_on for r in records} == {featured}, key
    titles = {r.title for records in pages.values() for r in records}
    assert sum(len(r) for r in pages.values()) == 330
    assert len(titles) == 251  # papers featured on several pages


def test_no_chrome_line_or_abstract_becomes_a_title(pages):
    chrome = {c.casefold() for c in CHROME}
    for records in pages.values():
        for record in records:
            assert record.title.casefold() not in chrome
            assert not record.title.startswith("Subscribe")
            assert not re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", record.title)
            assert len(record.title) < 150, record.title  # abstracts are paragraphs
            assert len(record.abstract) > 400, record.title
            assert record.source == "dailypapers" and record.arxiv_id is None


def test_subscribe_glued_to_the_first_title_is_removed(pages):
    assert pages["001"][0].title.startswith("Score-based generative models")
    assert pages["001"][0].abstract.startswith("While score-based generative models (SGMs)")


def test_authors_dates_and_upvotes_after_the_abstract(pages):
    records = pages["004"]
    first = records[0]
    assert (first.author_count, first.submitted, first.upvotes) == (1, datetime(2024, 12, 11), None)
    bridging = next(r for r in records if r.title.startswith("Bridging Reasoning to Learning"))
    assert (bridging.author_count, bridging.submitted, bridging.upvotes) == (6, datetime(2025, 10, 6), 2)
    assert all(r.author_count and r.submitted for r in records)
    assert sum(1 for r in records if r.upvotes) == 6
    assert records[-1].submitted == datetime(2024, 10, 7) and records[-1].author_count == 6
    # The abstract stays as the page shows it (the entry's metadata is not glued to it).
    assert not records[0].abstract.endswith("authors")


def test_origin_names_the_title_line(pages, tmp_path):
    assert pages["000"][0].origin == f"{tmp_path / '000_3f5ff86c203dcf33.txt'}:13"
    assert pages["001"][1].origin.endswith("001_91b6e8fe1c331204.txt:5")


def test_year_rule():
    # Latest paper on the page first: the page day is the first one not before it.
    assert page_day((1, 9), date(2025, 10, 6), saved=date(2030, 1, 1)) == date(2026, 1, 9)
    assert page_day((1, 9), date(2025, 1, 8), saved=date(2030, 1, 1)) == date(2025, 1, 9)
    assert page_day((1, 9), date(2025, 1, 9), saved=date(2030, 1, 1)) == date(2025, 1, 9)
    # Otherwise the latest such day on or before the file was saved.
    assert page_day((8, 12), None, saved=date(2026, 11, 25)) == date(2026, 8, 12)
    assert page_day((12, 30), None, saved=date(2026, 3, 1)) == date(2025, 12, 30)
    assert page_day((2, 29), None, saved=date(2026, 3, 1)) == date(2024, 2, 29)
    # No page day at all: the day the file was saved.
    assert page_day(None, None, saved=date(2026, 3, 1)) == date(2026, 3, 1)


def test_page_day_of_a_real_page_follows_the_file_time(pages_files, tmp_path):
    early = saved_copy(pages_files[0], tmp_path, when=datetime(2024, 3, 1))  # "Aug 12" page
    assert next(read_pages(early)).featured_on == date(2023, 8, 12)


def test_detected_and_gzipped(pages_files, tmp_path):
    assert detect_format(pages_files[2]) == "dailypapers"
    path = tmp_path / "page.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(pages_files[2].read_text(encoding="utf-8"))
    records = list(read_pages(path))
    assert len(records) == 55 and records[0].featured_on.month == 4


def test_title_without_abstract_at_end_of_file(tmp_path):
    path = write_page(tmp_path, "Daily Papers\n\nMar 3\n\nA Title\n\n" + "An abstract. " * 30 + "\n\nDangling Title\n")
    first, dangling = read_pages(path)
    assert isinstance(first, PaperRecord) and first.featured_on == date(2025, 3, 3)
    assert isinstance(dangling, InvalidRecord)
    assert dangling.origin == f"{path}:9" and "no abstract" in dangling.reason


def test_missing_abstract_in_the_middle_does_not_shift_later_entries(tmp_path):
    abstract = "We study things carefully and report results. " * 8
    text = "\n".join(["Mar 3", "First", abstract, "Orphan Title", "Second", abstract + "Second.", "Third", abstract])
    items = list(read_pages(write_page(tmp_path, text)))
    assert [type(i).__name__ for i in items] == ["PaperRecord", "InvalidRecord", "PaperRecord", "PaperRecord"]
    assert items[1].origin.endswith(":4") and "Orphan Title" in items[1].reason
    assert [i.title for i in items if isinstance(i, PaperRecord)] == ["First", "Second", "Third"]
    assert items[2].abstract.endswith("Second.")


def test_metadata_without_abstract_means_the_abstract_is_missing(tmp_path):
    abstract = "A long enough abstract about learning. " * 10
    text = "Mar 3\n\nNo Abstract Here\n\n  • 3 authors\n·\nJan 2, 2025\n\nNext Paper\n\n" + abstract + "\n"
    items = list(read_pages(write_page(tmp_path, text)))
    assert isinstance(items[0], InvalidRecord) and "No Abstract Here" in items[0].reason
    assert items[1].title == "Next Paper" and items[1].abstract == abstract.strip()


def test_abstract_without_title_and_short_abstract(tmp_path):
    long_text = "This paragraph has no title above it and is long. " * 8
    text = "\n\n".join(["Mar 3", "Subscribe", long_text, "Short Paper", "A short abstract.", "Other Paper",
                        "Another short one.", "12"])
    items = list(read_pages(write_page(tmp_path, text)))
    assert isinstance(items[0], InvalidRecord) and "without a title" in items[0].reason
    assert [(i.title, i.abstract) for i in items[1:]] == [
        ("Short Paper", "A short abstract."), ("Other Paper", "Another short one.")]
    assert items[2].upvotes == 12  # a bare count after an entry is its upvotes


def test_two_paragraph_abstract_is_joined(tmp_path):
    para = "One paragraph of a long abstract that goes on and on. " * 6
    text = "Mar 3\n\nTitle\n\n" + para + "\n\n" + para + "\n"
    (record,) = read_pages(write_page(tmp_path, text))
    assert record.abstract == (para.strip() + " " + para.strip())


def test_file_with_neither_page_day_nor_entries_is_invalid(tmp_path):
    for text in ("", "new\n\nSubscribe\n\nDaily Papers\n"):
        (item,) = read_pages(write_page(tmp_path, text))
        assert isinstance(item, InvalidRecord) and "no page date" in item.reason
    assert list(read_pages(write_page(tmp_path, "Daily Papers\n\nAug 12\n"))) == []


def test_pages_import_and_feature_each_paper_once_per_day(db, pages_files, tmp_path):
    copies = [saved_copy(p, tmp_path) for p in pages_files]
    total = 0
    for path in copies:
        report = import_items(db, read_path(path), batch_size=40)
        assert report.invalid == 0
        total += report.result.featured
    assert total == 330
    with db.session() as session:
        assert count_papers(session) == 251
        days = {row.day for row in session.query(FeaturedPaper)}
    assert days == {e[3] for e in EXPECTED.values()}
    again = sum(import_items(db, read_path(p)).result.inserted for p in copies)
    assert again == 0
