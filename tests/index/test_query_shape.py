"""The shape of a several-word query: ``exact`` adds score outside the words' unions.

Every match on ``exact`` is also a match on ``body`` (the same analyzer but the
stemmer), so a word's ``exact`` clause never decides whether a paper matches.
Inside each word's union it made tantivy walk every posting of both fields; as an
optional clause of the whole query it is only sought at the papers that have all
the words (at 1M papers: tantivy's p50 on 2-3 word queries roughly halved). These
tests hold the rewrite to its promise: the same papers, the same scores.
"""

from __future__ import annotations

import random
from datetime import datetime

import pytest

from paperwire.index import lexical_tantivy
from paperwire.index.lexical_tantivy import create_index, document, translate
from paperwire.index.query import parse_query
from tests.conftest import SHARED_CORPUS


def _split(query) -> bool:
    """``exact`` as a clause of the whole query, after the words' group (tantivy's repr)."""
    return "minimum_number_should_match: 0 }), (Should, Boost(query=TermQuery(Term(field=2" in repr(query)


def _exact_in_unions(query) -> bool:
    """``exact`` inside a word's union, after its ``body`` clause (field 2 = exact)."""
    return "boost=0.5)), (Should, Boost(query=TermQuery(Term(field=2" in repr(query)


def test_exact_forms_score_outside_the_words_that_must_match():
    several = translate(parse_query("graph neural")).query
    assert _split(several) and not _exact_in_unions(several)
    # One word, or any of the words: a union is walked anyway, so the shape stays.
    for one in (translate(parse_query("graph")).query, translate(parse_query("graph neural"), any_word=True).query):
        assert _exact_in_unions(one) and not _split(one)


def test_words_most_papers_hold_keep_the_nested_shape():
    """When even the rarest word is in a fifth of the papers, most papers have all of them,
    and walking the union is cheaper than seeking ``exact`` at each (measured at 1M)."""
    common = translate(parse_query("graph neural"), share=lambda term: 0.3).query
    rare = translate(parse_query("graph neural"), share=lambda term: {"graph": 0.01}.get(term, 0.5)).query
    assert _exact_in_unions(common) and not _split(common)
    assert _split(rare) and not _exact_in_unions(rare)
    assert lexical_tantivy.SPLIT_BELOW_SHARE == 0.2


def test_the_searcher_picks_the_shape_from_its_own_statistics(real_index):
    index, _ = real_index
    engine = lexical_tantivy.TantivySearcher(index)
    share = engine._share
    assert share("model") > 0.2 and share("learn") > 0.2  # stemmed body terms of real abstracts
    assert share("diffus") < 0.2
    assert _exact_in_unions(engine.translate(parse_query("model learning")).query)
    assert _split(engine.translate(parse_query("diffusion model")).query)


@pytest.fixture(scope="module")
def real_index(tmp_path_factory):
    from paperwire.records import PaperRecord
    from paperwire.sources.hf_daily import read_hf_daily

    papers = []
    for path in sorted((SHARED_CORPUS / "hf-daily-papers").glob("*.json"))[:40]:
        papers += [r for r in read_hf_daily(path) if isinstance(r, PaperRecord) and r.abstract]
    assert len(papers) > 300
    index = create_index(tmp_path_factory.mktemp("shape") / "index")
    writer = index.writer(50_000_000, 1)
    for i, paper in enumerate(papers):
        writer.add_document(document(i, paper.title, paper.abstract, ", ".join(paper.authors),
                                     "cs.LG", datetime(2024, 1, 1)))
    writer.commit()
    index.reload()
    return index, papers


def _queries(papers, count: int) -> list[str]:
    """2-4 words from real titles and abstracts, now and then a surname, a phrase or an exclusion."""
    rng, found = random.Random(22), []
    while len(found) < count:
        paper = rng.choice(papers)
        words = [w.strip(".,;:()") for w in f"{paper.title} {paper.abstract}".split()]
        words = [w for w in words if w.isalpha()]
        picked = rng.sample(words, min(len(words), rng.choice([2, 2, 3, 4])))
        if paper.authors and rng.random() < 0.2:
            picked.append(paper.authors[0].split()[-1])
        if rng.random() < 0.15:
            start = rng.randrange(max(1, len(words) - 2))
            picked.append('"' + " ".join(words[start:start + 2]) + '"')
        if rng.random() < 0.1:
            picked.append("-" + rng.choice(words))
        found.append(" ".join(picked))
    return found


def test_the_split_query_finds_and_scores_exactly_what_the_nested_one_did(real_index, monkeypatch):
    index, papers = real_index
    searcher = index.searcher()
    queries = _queries(papers, 300)

    def run(any_word: bool) -> list[tuple[int, list[tuple[int, float]]]]:
        out = []
        for q in queries:
            result = searcher.search(translate(parse_query(q), any_word=any_word).query, 50, count=True)
            ids = searcher.fast_field_values("id", [address for _, address in result.hits])
            out.append((result.count, [(int(i), score) for (score, _), i in zip(result.hits, ids)]))
        return out

    split = run(False), run(True)
    with monkeypatch.context() as patched:  # the shape before: exact inside each word's union
        patched.setattr(lexical_tantivy, "_scored_value", lambda value: (lexical_tantivy._any_field(value), None))
        nested = run(False), run(True)
    matched = 0
    for mode_split, mode_nested in zip(split, nested):
        for q, (count, hits), (count_before, hits_before) in zip(queries, mode_split, mode_nested):
            assert count == count_before, q
            matched += count > 0
            # Same papers with the same scores (summed in another order: rounding only); a
            # paper may differ only where it ties with the last one kept.
            now, before = dict(hits), dict(hits_before)
            assert all(abs(now[i] - before[i]) < 1e-4 for i in now.keys() & before.keys()), q
            cut = min(before.values(), default=0.0)
            assert all(abs(now.get(i, before.get(i, 0.0)) - cut) < 1e-4 for i in now.keys() ^ before.keys()), q
            assert [s for _, s in hits] == pytest.approx([s for _, s in hits_before], abs=1e-4), q
    assert matched > 300  # most queries match something in one mode or the other
