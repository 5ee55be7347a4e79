"""Exclusions: the SQL condition and the Python predicate agree, on real rows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from sqlalchemy import select

from paperwire.rank.exclusions import ExclusionRules, exclusion_rules
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
    ([("author", "smith")], {"2401.00002", "2401.00004"}),  # substring: Smithson too
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
