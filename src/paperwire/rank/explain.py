""""Why this paper": the nearest papers from the user's library and the
followed terms or profile words a recommendation matches.

Explanations are data (kind, label, optional paper uid and similarity); pages
and the API render them, escaping the label like any other user text.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from paperwire.rank.usermodel import UserModel, follow_matches, tokens
from paperwire.store.models import Paper

NEAREST = 2
MIN_SIMILARITY = 0.2
#: Function words a reason must not name ("Mentions theories, all, gauge"): the
#: index keeps its stop list short for search, a reason shown to people needs more.
PLAIN_WORDS = frozenset("""
    about above after again against all almost along already also although always am among amongst an and another
    any anyone anything are around as at back be became because become been before being below between beyond both
    but by can cannot could did do does doing done down due during each either else enough etc even ever every
    few first for former from further get give given gives had has have having here hence her hers him his how
    however if in indeed into is it its itself just last latter least less made make makes many may me might more
    most mostly much must my namely neither never nevertheless next no none nor not now of off often on once one
    only onto or other others otherwise our ours out over own per perhaps quite rather really same several she
    should since so some still such than that the their them themselves then there thereby therefore these they
    this those though three through thus to together too toward towards two under until up upon us use used uses
    using very via was way we well were what whatever when where whereas whether which while who whole whom whose
    why will with within without would yet you your
""".split())


@dataclass
class Reason:
    #: "similar" | "follow" | "terms" | "popular"
    kind: str
    label: str
    uid: str | None = None
    similarity: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def nearest_library_papers(model: UserModel, vector: np.ndarray | None, k: int = NEAREST) -> list[tuple[int, float]]:
    """The user's positives most similar to ``vector`` (id, cosine)."""
    if vector is None or model.positive_vectors is None or not len(model.positive_ids):
        return []
    sims = model.positive_vectors @ np.asarray(vector, dtype=np.float32)
    order = np.argsort(-sims)[:k]
    return [(model.positive_ids[i], float(sims[i])) for i in order if sims[i] >= MIN_SIMILARITY]


def explain(session: Session, model: UserModel, paper: Paper, vector: np.ndarray | None,
            titles: dict[int, tuple[str, str]] | None = None,
            nearest: list[tuple[int, float]] | None = None) -> list[Reason]:
    """Reasons for recommending ``paper`` (most telling first).

    ``nearest``: the library papers closest to it as "For you" measured them (the
    similar-paper fusion, :func:`paperwire.rank.affinity.nearest_positives`);
    without it, the embedding cosine with the user's positives is used."""
    reasons: list[Reason] = []
    if nearest is not None:
        nearest = [(pid, sim) for pid, sim in nearest[:NEAREST] if sim >= MIN_SIMILARITY]
    else:
        nearest = nearest_library_papers(model, vector)
    if nearest:
        titles = titles if titles is not None else library_titles(session, [pid for pid, _ in nearest])
        for pid, sim in nearest:
            if pid in titles:
                uid, title = titles[pid]
                reasons.append(Reason("similar", f"Similar to “{title}” in your library", uid, round(sim, 3)))
    for kind, value in follow_matches(model.follows, paper.title, paper.abstract or "", paper.authors_text or "",
                                      paper.category_list):
        reasons.append(Reason("follow", f"You follow the {kind} “{value}”"))
    profile = model.lexical.weights
    if profile:
        shared = sorted({t for t in tokens(f"{paper.title} {paper.abstract}")
                         if profile.get(t, 0.0) > 0 and t not in PLAIN_WORDS and len(t) > 2},
                        key=lambda t: (-profile[t], t))
        if shared:
            reasons.append(Reason("terms", f"Mentions {_word_list(shared[:4])}, words from papers you liked"))
    return reasons


def _word_list(words: list[str]) -> str:
    """“a”, “b” and “c”: a readable list of quoted words."""
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def library_titles(session: Session, paper_ids: list[int]) -> dict[int, tuple[str, str]]:
    if not paper_ids:
        return {}
    rows = session.execute(select(Paper.id, Paper.uid, Paper.title).where(Paper.id.in_(paper_ids)))
    return {pid: (uid, title) for pid, uid, title in rows}
