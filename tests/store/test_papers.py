"""The single write path of the catalogue: idempotent, version-aware, merging."""

from datetime import date, datetime

from sqlalchemy import select

from paperwire.records import PaperRecord, PaperVersion
from paperwire.store.models import FeaturedPaper, Paper
from paperwire.store.papers import count_papers, get_paper, paper_detail, upsert_papers


def kaggle_record(version=1, **overrides):
    values = dict(
        title="Deep Residual Learning",
        abstract="We present a residual learning framework.",
        arxiv_id="1512.03385",
        authors=["Kaiming He", "Xiangyu Zhang"],
        categories=["cs.CV", "cs.LG"],
        versions=[PaperVersion(v, datetime(2015, 12, v)) for v in range(1, version + 1)],
        submitted=datetime(2015, 12, 1),
        source="kaggle",
    )
    values.update(overrides)
    return PaperRecord(**values)


def test_insert_then_reimport_is_idempotent(db):
    with db.session() as s:
        first = upsert_papers(s, [kaggle_record()])
    with db.session() as s:
        again = upsert_papers(s, [kaggle_record()])
        assert count_papers(s) == 1
    assert (first.inserted, first.updated) == (1, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
    assert again.changed_ids == []


def test_newer_version_updates_and_older_does_not(db):
    with db.session() as s:
        upsert_papers(s, [kaggle_record(version=2, abstract="v2 abstract")])
    with db.session() as s:
        older = upsert_papers(s, [kaggle_record(version=1, abstract="v1 abstract")])
        assert get_paper(s, "1512.03385").abstract == "v2 abstract"
    assert older.updated == 0
    with db.session() as s:
        newer = upsert_papers(s, [kaggle_record(version=3, abstract="v3 abstract")])
        paper = get_paper(s, "1512.03385v3")
        assert paper.abstract == "v3 abstract"
        assert paper.latest_version == 3
        assert [v["version"] for v in paper.versions] == [1, 2, 3]
    assert newer.updated == 1


def test_thin_source_does_not_overwrite_rich_metadata(db):
    with db.session() as s:
        upsert_papers(s, [kaggle_record()])
    page = PaperRecord(title="Deep Residual Learning", abstract="We present a resid", source="dailypapers",
                       author_count=2, featured_on=date(2024, 8, 12), upvotes=7)
    with db.session() as s:
        upsert_papers(s, [page])
        paper = get_paper(s, "1512.03385")
        assert paper.abstract == "We present a residual learning framework."
        featured = s.scalars(select(FeaturedPaper)).all()
    assert [(f.day, f.imported_upvotes, f.paper_id) for f in featured] == [(date(2024, 8, 12), 7, paper.id)]


def test_title_only_paper_is_merged_when_arxiv_id_becomes_known(db):
    page = PaperRecord(title="Deep Residual  Learning!", abstract="We present a resid", source="dailypapers",
                       featured_on=date(2024, 8, 12))
    with db.session() as s:
        upsert_papers(s, [page])
        derived = s.scalar(select(Paper.uid))
        assert derived.startswith("pw-")
    with db.session() as s:
        result = upsert_papers(s, [kaggle_record()])
        assert count_papers(s) == 1
        paper = get_paper(s, "1512.03385")
        assert paper.abstract == "We present a residual learning framework."
        assert get_paper(s, derived) is None
        assert s.scalar(select(FeaturedPaper.paper_id)) == paper.id
    assert result.updated == 1


def test_duplicates_inside_one_batch_keep_newest(db):
    with db.session() as s:
        result = upsert_papers(s, [kaggle_record(version=1, abstract="old"), kaggle_record(version=2, abstract="new")])
        assert get_paper(s, "1512.03385").abstract == "new"
    assert result.inserted == 1


def test_batch_is_rolled_back_on_error(db):
    try:
        with db.session() as s:
            upsert_papers(s, [kaggle_record()])
            raise RuntimeError("crash mid-batch")
    except RuntimeError:
        pass
    with db.session() as s:
        assert count_papers(s) == 0


def test_detail_shape(db):
    with db.session() as s:
        upsert_papers(s, [kaggle_record(version=2, doi="10.1/x", journal_ref="CVPR 2016")])
        detail = paper_detail(get_paper(s, "1512.03385"))
    assert detail["id"] == "1512.03385"
    assert detail["published"] == "2015-12-01"
    assert detail["categories"] == ["cs.CV", "cs.LG"]
    assert detail["authors"] == ["Kaiming He", "Xiangyu Zhang"]
    assert detail["doi"] == "10.1/x"


def test_title_only_and_arxiv_record_of_same_paper_in_one_batch(db):
    page = PaperRecord(title="Deep Residual Learning", abstract="We present a resid", source="dailypapers",
                       featured_on=date(2024, 8, 12), upvotes=3)
    with db.session() as s:
        result = upsert_papers(s, [page, kaggle_record()])
        assert count_papers(s) == 1
        paper = get_paper(s, "1512.03385")
        assert paper.abstract == "We present a residual learning framework."
        assert s.scalar(select(FeaturedPaper.paper_id)) == paper.id
    assert result.inserted == 1 and result.featured == 1


def test_changed_ids_follow_insert_order(db):
    records = [kaggle_record(arxiv_id=f"2401.{i:05d}", title=f"Paper number {i}") for i in range(50)]
    with db.session() as s:
        result = upsert_papers(s, records)
        uids = [s.get(Paper, pid).uid for pid in result.changed_ids]
    assert uids == [f"2401.{i:05d}" for i in range(50)]
