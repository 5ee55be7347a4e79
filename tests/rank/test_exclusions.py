"""Exclusions: the SQL condition and the Python predicate agree, on real rows."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import select

from paperwire.rank.exclusions import ExclusionRules, exclusion_rules, rule_pattern
from paperwire.rank.usermodel import follow_matches
from paperwire.records import PaperRecord
from paperwire.store.community import create_user
from paperwire.store.library import LibraryError, add_exclusion, exclusions, remove_exclusion
from paperwire.store.models import Paper
from paperwire.store.papers import upsert_papers

PAPERS = [
    PaperRecord(title="Quantum error correction with surface codes", arxiv_id="2401.00001",
                abstract="Logical qubits.", authors=["John Smith", "Ann Lee"], categories=["quant-ph"], source="t"),
    PaperRecord(title="Graph neural networks for molecules", arxiv_id="2401.00002", abstract="Message passing 100%.",
                authors=["Maria Garcia"], categories=["cs.LG", "q-bio.QM"], source="t"),
    PaperRecord(title="Mathematical physics of spin_chains", arxiv_id="2401.00003", abstract="Bethe ansatz.",
                authors=["Ivan Smithson"], categories=["math-ph", "math.MP"], source="t"),
    PaperRecord(title="Optimal transport", arxiv_id="2401.00004", abstract="Wasserstein distances.",
                authors=["Li Wei"], categories=["math.OC"], source="t"),
]


@pytest.fixture
def papers(db):
    with db.session() as session:
        upsert_papers(session, PAPERS)
    return db


def _kept_by_sql(db, rules: ExclusionRules) -> set[str]:
    with db.session() as session:
        return set(session.scalars(select(Paper.uid).where(rules.sql_condition())))


def _kept_by_python(db, rules: ExclusionRules) -> set[str]:
    with db.session() as session:
        return {p.uid for p in session.scalars(select(Paper)) if not rules.excludes(p)}


@pytest.mark.parametrize("pairs, kept", [
    ([], {"2401.00001", "2401.00002", "2401.00003", "2401.00004"}),
    ([("word", "QUANTUM")], {"2401.00002", "2401.00003", "2401.00004"}),
    ([("word", "100%")], {"2401.00001", "2401.00003", "2401.00004"}),  # LIKE wildcards are literal
    ([("word", "spin_chains")], {"2401.00001", "2401.00002", "2401.00004"}),
    ([("word", "s_o")], {"2401.00001", "2401.00002", "2401.00003", "2401.00004"}),
    ([("author", "smith")], {"2401.00002", "2401.00003", "2401.00004"}),  # whole words: not Smithson
    ([("category", "math")], {"2401.00001", "2401.00002"}),  # math.OC and the cross-listed math.MP
    ([("category", "math-ph")], {"2401.00001", "2401.00002", "2401.00004"}),
    ([("category", "cs.LG")], {"2401.00001", "2401.00003", "2401.00004"}),
    ([("category", "cs.L")], {"2401.00001", "2401.00002", "2401.00003", "2401.00004"}),
    ([("category", "q-bio"), ("word", "transport")], {"2401.00001", "2401.00003"}),
])
def test_sql_and_python_agree(papers, pairs, kept):
    rules = ExclusionRules.from_pairs(pairs)
    assert _kept_by_sql(papers, rules) == kept
    assert _kept_by_python(papers, rules) == kept


@settings(max_examples=40, deadline=None)
@given(word=st.text(alphabet="abcdefghilmnopqrstuvwxyz _%-.", min_size=1, max_size=6),
       kind=st.sampled_from(["word", "author", "category"]))
def test_agreement_on_arbitrary_values(tmp_path_factory, word, kind):
    from paperwire.store.db import open_database

    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('x') / 'h.db'}")
    try:
        with db.session() as session:
            upsert_papers(session, PAPERS)
        rules = ExclusionRules.from_pairs([(kind, word)])
        if not rules:
            return
        assert _kept_by_sql(db, rules) == _kept_by_python(db, rules)
    finally:
        db.close()


def test_stored_rules_are_validated_and_loaded(db):
    with db.session() as session:
        user = create_user(session, "exa", "exa-password")
        assert add_exclusion(session, user.id, "category", "CS.lg")
        assert not add_exclusion(session, user.id, "category", "cs.LG")  # same rule
        add_exclusion(session, user.id, "word", "  diffusion   models ")
        with pytest.raises(LibraryError, match="not an arXiv category"):
            add_exclusion(session, user.id, "category", "cs LG!")
        with pytest.raises(LibraryError, match="Unknown kind"):
            add_exclusion(session, user.id, "venue", "NeurIPS")
        with pytest.raises(LibraryError, match="Give a word"):
            add_exclusion(session, user.id, "word", "   ")
        assert exclusions(session, user.id) == [("category", "cs.LG"), ("word", "diffusion models")]
        rules = exclusion_rules(session, user.id)
        assert rules.as_dict() == {"words": ["diffusion models"], "authors": [], "categories": ["cs.LG"]}
        assert ExclusionRules.from_dict(rules.as_dict()) == rules
        assert remove_exclusion(session, user.id, "word", "Diffusion Models")
        assert exclusion_rules(session, None) == ExclusionRules()


def test_delivery_gets_merged_exclusions(db):
    from paperwire.rank.exclusions import exclusions_for_delivery

    with db.session() as session:
        user = create_user(session, "mailer", "mailer-password")
        add_exclusion(session, user.id, "author", "Smith")
        merged = exclusions_for_delivery(session, user.id, {"words": ["gan"], "authors": ["Smith", 3]})
        assert merged == {"words": ["gan"], "authors": ["Smith"], "categories": []}
        assert exclusions_for_delivery(session, None, None) == {"words": [], "authors": [], "categories": []}


# --- whole-word matching ------------------------------------------------------

TRICKY = [
    PaperRecord(title="Organ segmentation", arxiv_id="2402.00001", abstract="It began with a scan.",
                authors=["Ivan Smithson"], categories=["eess.IV"], source="t"),
    PaperRecord(title="GAN-based image synthesis", arxiv_id="2402.00002", abstract="Adversarial training.",
                authors=["John Smith", "Ann Lee"], categories=["cs.CV"], source="t"),
    PaperRecord(title="On the stability of training", arxiv_id="2402.00003", abstract="We train a small gan",
                authors=["Smith, J."], categories=["cs.LG"], source="t"),
    PaperRecord(title="C++ templates for a.b testing", arxiv_id="2402.00004", abstract="Written in portable code.",
                authors=["Anne-Marie O'Neil"], categories=["cs.PL"], source="t"),
    PaperRecord(title="aXb tests and a c compiler", arxiv_id="2402.00005", abstract="GANs (plural) and cc code.",
                authors=["Mary Smith-Jones"], categories=["cs.PL"], source="t"),
    PaperRecord(title="Quantum-inspired search towards large", arxiv_id="2402.00006",
                abstract="language models (LLMs): the QUANTUM case.", authors=["Élodie Müller"],
                categories=["quant-ph"], source="t"),
    PaperRecord(title="Élan vital of large-language models", arxiv_id="2402.00007", abstract="[x] (y) {z} ^$ | * ?",
                authors=["Li Wei"], categories=["cs.CL"], source="t"),
]
ALL_TRICKY = {r.arxiv_id for r in TRICKY}


@pytest.fixture
def tricky(db):
    with db.session() as session:
        upsert_papers(session, TRICKY)
    return db


def _without(*ids: str) -> set[str]:
    return ALL_TRICKY - {f"2402.0000{i}" for i in ids}


@pytest.mark.parametrize("pairs, kept", [
    # "GAN" is a whole word: not "organ", "began" or "GANs"; "GAN-based" and a final "gan" are
    ([("word", "GAN")], _without(2, 3)),
    ([("word", "gan")], _without(2, 3)),
    ([("word", "organ")], _without(1)),  # at the very start of the title
    ([("word", "scan")], _without(1)),  # before a full stop at the end of the text
    ([("word", "c++")], _without(4)),  # "C++" only, not "c" or "cc" ("+" is literal, not a quantifier)
    ([("word", "c")], _without(4, 5)),  # "a c compiler", and "C++" ("+" is no letter or digit)
    ([("word", "a.b")], _without(4)),  # a literal dot: not "aXb"
    ([("word", "quantum")], _without(6)),  # "Quantum-inspired", "QUANTUM"
    ([("word", "large language")], _without(6)),  # a phrase; title and abstract read as one text
    ([("word", "large-language")], _without(7)),
    ([("word", "LLMs")], _without(6)),  # inside parentheses
    ([("word", "llm")], ALL_TRICKY),
    ([("word", "[x]")], _without(7)),
    ([("word", "^$ | *")], _without(7)),
    ([("word", "(y) {z}")], _without(7)),
    ([("word", ".*")], ALL_TRICKY),  # regex syntax in a rule is literal text
    ([("word", "ÉLAN")], _without(7)),  # non-ASCII letters match either case
    ([("author", "Smith")], _without(2, 3, 5)),  # "John Smith", "Smith, J.", "Smith-Jones"; not "Smithson"
    ([("author", "smithson")], _without(1)),
    ([("author", "Anne-Marie")], _without(4)),
    ([("author", "neil")], _without(4)),  # after an apostrophe
    ([("author", "müller")], _without(6)),
    ([("author", "John Smith")], _without(2)),
    ([("author", "ann")], _without(2)),  # "Ann Lee", not "Anne-Marie"
])
def test_whole_word_rules(tricky, pairs, kept):
    rules = ExclusionRules.from_pairs(pairs)
    assert _kept_by_sql(tricky, rules) == kept
    assert _kept_by_python(tricky, rules) == kept


@pytest.mark.parametrize("value", ["GAN", "gan", "organ", "began", "c++", "a.b", "quantum", "large language",
                                   "llms", "[x]", ".*", "élan", "scan", "training", "(y)", "search towards"])
def test_word_rules_agree_with_keyword_follows(tricky, value):
    """An excluded word and a followed keyword pick the same papers (usermodel.follow_matches)."""
    rules = ExclusionRules.from_pairs([("word", value)])
    with tricky.session() as session:
        for p in session.scalars(select(Paper)):
            followed = bool(follow_matches([("keyword", value)], p.title, p.abstract, p.authors_text,
                                           p.category_list))
            assert rules.excludes(p) == followed, (value, p.title)


def test_rule_pattern_is_portable_syntax():
    assert rule_pattern("GAN") == "(^|[^0-9A-Za-z])[gG][aA][nN]([^0-9A-Za-z]|$)"
    assert rule_pattern(" c++  x ") == r"(^|[^0-9A-Za-z])[cC]\+\+\ [xX]([^0-9A-Za-z]|$)"
    assert rule_pattern("é1") == "(^|[^0-9A-Za-z])[éÉ]1([^0-9A-Za-z]|$)"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet="abgnoqrsmithAGNSc+.*?()[]{}|^$\\-_%' éÉü", min_size=1, max_size=7),
       kind=st.sampled_from(["word", "author"]))
def test_whole_word_agreement_on_arbitrary_values(tricky, value, kind):
    """On this backend: the SQL condition and the Python predicate keep the same papers (the
    rows never change between examples, so sharing the function-scoped database is safe)."""
    rules = ExclusionRules.from_pairs([(kind, value)])
    if rules:
        assert _kept_by_sql(tricky, rules) == _kept_by_python(tricky, rules)
