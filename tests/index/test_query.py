"""The query language: every construct, and totality on arbitrary input."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.index.query import ParsedQuery, parse_query, terms


def test_words_phrases_and_exclusions():
    q = parse_query('graph neural "message passing" -survey -"literature review"')
    assert q.words == ["graph", "neural"]
    assert q.phrases == ["message passing"]
    assert q.excluded == ["survey", "literature review"]
    assert q.has_text and not q.is_empty


def test_author_forms():
    q = parse_query('author:Hinton AUTHOR:"Jane  Doe" author:')
    assert q.authors == ["Hinton", "Jane Doe"]
    assert q.words == ["author:"]  # a key without value is just text


def test_categories_normalised_and_deduplicated():
    q = parse_query("cat:cs.* cat:math.OC category:hep-th cat:CS cat:%_x")
    assert q.categories == ["cs", "math.OC", "hep-th"]
    assert any("cat:%_x" in w for w in q.warnings)


def test_dates_start_of_period_and_tightest_bounds():
    q = parse_query("after:2023 after:2023-06 before:2024-02-15 before:2025")
    assert q.after == date(2023, 6, 1)
    assert q.before == date(2024, 2, 15)


def test_bad_dates_are_warnings_not_errors():
    q = parse_query("after:2024-13 before:yesterday transformers")
    assert q.after is None and q.before is None
    assert q.words == ["transformers"]
    assert len(q.warnings) == 2 and "YYYY" in q.warnings[0]


def test_negated_filter_is_ignored_with_warning():
    q = parse_query("-cat:cs.LG vision")
    assert q.categories == [] and q.words == ["vision"]
    assert "cannot be negated" in q.warnings[0]


def test_fts_syntax_words_are_plain_words():
    q = parse_query('NEAR(a b) "x" OR y* col:umn ( ) -')
    assert q.words == ["NEAR(a", "b)", "OR", "y*", "col:umn"]
    assert q.phrases == ["x"]


def test_unterminated_quote_runs_to_end():
    q = parse_query('deep "reinforcement learning')
    assert q.words == ["deep"] and q.phrases == ["reinforcement learning"]


def test_filters_only_and_empty():
    assert parse_query("cat:cs.LG after:2024").has_text is False
    assert parse_query("cat:cs.LG after:2024").is_empty is False
    for text in ("", "   ", '""', "- * ( )", None):
        assert parse_query(text).is_empty


def test_stopwords_dropped_only_when_something_else_remains():
    assert parse_query("attention is all you need").required_words() == ["attention", "all", "you", "need"]
    assert parse_query("the of").required_words() == ["the", "of"]
    assert parse_query("the model").required_words() == ["model"]


def test_terms_fold_case_and_accents():
    assert terms("Schrödinger's GPT-4 café") == ["schrodinger", "s", "gpt", "4", "cafe"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_parses(text):
    q = parse_query(text)
    assert isinstance(q, ParsedQuery)
    for value in [*q.words, *q.phrases, *q.excluded, *q.authors]:
        assert terms(value)  # nothing without index terms survives


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(['author:', 'cat:', 'after:', 'before:', '-', '"', 'x', 'NOT', '2024', '-01', ' ', '*', ':', 'é']), max_size=12))
def test_operator_soup_parses(parts):
    parse_query("".join(parts))


def test_pasted_text_is_truncated_with_warning():
    q = parse_query(" ".join(f"word{i}" for i in range(500)))
    assert len(q.words) == 32
    assert q.warnings == ["query too long: only the first 32 words and phrases are used"]
