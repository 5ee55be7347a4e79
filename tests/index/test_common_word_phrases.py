"""Phrases of common words ("of the", "one of the": every two neighbours include a
stopword) are answered from the index's pairs of such neighbours, not by checking
the positions of words that most papers contain: at 1M papers such a phrase took
200-300 ms, twice per search page (results and chart). The answers must be exactly
those of a positional phrase: side by side, in order, within one title or abstract."""

from __future__ import annotations

from datetime import datetime

import pytest

from paperwire.index.lexical_tantivy import COMMON, common_pairs, translate
from paperwire.index.publish_lexical import publish_lexical_index
from paperwire.index.query import parse_query
from paperwire.index.search import lexical_search
from paperwire.records import PaperRecord, PaperVersion
from paperwire.store.papers import upsert_papers
from tests.conftest import SHARED_CORPUS


def record(n: int, title: str, abstract: str) -> PaperRecord:
    day = datetime(2020, 1, 1 + n)
    return PaperRecord(title=title, abstract=abstract, arxiv_id=f"2001.{n:05d}", authors=["Ann Filler"],
                       categories=["cs.LG"], submitted=day, versions=[PaperVersion(1, day)], source="test")


LONG = "x" * 70  # longer than the analyzer keeps: dropped, but its position stays a gap


def corpus(db):
    with db.session() as session:
        upsert_papers(session, [
            record(1, "Scaling laws", "We study one of the hardest cases of learning."),       # "one of the"
            record(2, "Graph models", "Results of models on the graph benchmark are strong."),  # of + the apart
            record(3, "The one survey", "A review of neural networks and the one method."),      # "of the" absent
            record(4, "On the of", "Of The results in the wild."),                               # title, capitals
            record(5, "Tail of", "The end of a study."),                                         # title|abstract
            record(6, "Gaps", f"We look at the of {LONG} the data."),                             # long-token gap
            record(7, "Models of the world", "Plain words here."),
        ])
    publish_lexical_index(db)  # the fixture's after-commit hook may have published already


def uids(db, q: str) -> set[str]:
    return {hit.paper.uid for hit in lexical_search(db, parse_query(q), limit=50).hits}


def test_common_word_phrases_match_exactly_as_positional_phrases(db):
    corpus(db)
    assert uids(db, '"of the"') == {"2001.00001", "2001.00004", "2001.00007"}
    assert uids(db, '"one of the"') == {"2001.00001"}
    assert uids(db, '"the of"') == {"2001.00004", "2001.00006"}
    assert uids(db, '"of the of"') == set()
    assert uids(db, '"of a"') == {"2001.00005"}              # not "Tail of" + "The end": two fields apart
    assert uids(db, '"of the" -world') == {"2001.00001", "2001.00004"}
    assert uids(db, 'models -"of the"') == {"2001.00002"}
    assert uids(db, '"the data"') == {"2001.00006"}
    assert uids(db, '"of x"') == set()                        # the long token is not a word of the index


def test_a_common_word_phrase_is_one_lookup_of_the_pairs_not_a_positional_check():
    """What made them slow: a positional phrase intersects the postings of two words most
    papers contain and checks positions in each. Now it is a term (two words) or a phrase
    of pairs (more) on the pairs field, whose postings hold only those neighbours."""
    two = repr(translate(parse_query('"of the"')).query)
    assert 'Str, "of_the"' in two and "PhraseQuery { field: Field(1)" not in two
    assert "PhraseQuery { field: Field(2)" not in two
    three = repr(translate(parse_query('"one of the"')).query)
    assert 'Str, "one_of"' in three and 'Str, "of_the"' in three
    assert "PhraseQuery { field: Field(1)" not in three and "PhraseQuery { field: Field(2)" not in three
    free = repr(translate(parse_query("of the")).query)      # free stopwords kept alone: their neighbours too
    assert 'Str, "of_the"' in free
    content = repr(translate(parse_query('"neural network"')).query)
    assert "PhraseQuery { field: Field(1)" in content and "neural_network" not in content


def test_pairs_are_indexed_for_neighbours_that_include_a_common_word():
    assert {"of", "the", "and", "we"} <= COMMON
    assert common_pairs("We study one of the hardest of cases and the X") == (
        "we_studi ~ one_of of_the the_hardest hardest_of of_case case_and and_the the_x")
    assert common_pairs(f"the of {LONG} the") == "the_of ~"  # the dropped long word leaves a gap
    assert common_pairs("") == "" and common_pairs("word") == ""


@pytest.mark.skipif(not (SHARED_CORPUS / "hf-daily-papers").is_dir(), reason="needs ../shared/corpus/hf-daily-papers")
def test_pairs_answer_exactly_what_positions_answer_on_real_abstracts(tmp_path):
    """Differential check on real Daily-Papers titles and abstracts: for phrases cut from
    them (2-4 words, wherever pairs apply), the pairs lookup finds the same papers as a
    positional phrase on the stemmed field. (At stop 19: 1,106 phrases, no difference.)"""
    import random

    import tantivy

    from paperwire.index.lexical_tantivy import ANALYZERS, SCHEMA, STEMMED, _pairs_query, create_index, document
    from paperwire.records import PaperRecord as Record
    from paperwire.sources.hf_daily import read_hf_daily

    papers = []
    for path in sorted((SHARED_CORPUS / "hf-daily-papers").glob("*.json"))[:40]:
        papers += [(r.title, r.abstract) for r in read_hf_daily(path) if isinstance(r, Record) and r.abstract]
    assert len(papers) > 300
    index = create_index(tmp_path / "index")
    writer = index.writer(50_000_000, 1)
    for i, (title, abstract) in enumerate(papers):
        writer.add_document(document(i, title, abstract, "", "cs.LG", datetime(2024, 1, 1)))
    writer.commit()
    index.reload()
    searcher = index.searcher()

    def found(query) -> set[int]:
        hits = searcher.search(query, len(papers)).hits
        return set(searcher.fast_field_values("id", [address for _, address in hits]))

    rng, checked = random.Random(19), 0
    while checked < 300:
        words = rng.choice(papers)[1].split()
        n = rng.choice([2, 2, 3, 4])
        start = rng.randrange(max(1, len(words) - n))
        phrase = " ".join(words[start:start + n])
        pairs = _pairs_query(phrase)
        if pairs is None:
            continue
        positional = tantivy.Query.phrase_query(SCHEMA, "body", ANALYZERS[STEMMED].analyze(phrase))
        assert found(pairs) == found(positional), phrase
        checked += 1
