"""Candidate topic terms of one paper: key phrases of its title and abstract,
and the keywords its source gave it, each reduced to a *key* that merges
spelling variants.

**Key phrases** are runs of two or three content words: the text is cut at
stopwords, generic research words ("propose", "results", "novel" …),
numbers and punctuation, and every 2- and 3-word window of a run is a
candidate. Corpus-level document frequency (in :mod:`paperwire.rank.topics`)
then keeps the ones that recur. This is what a keyphrase extractor such as
YAKE does per document, but it is a regex pass (about 0.1 ms a paper, where
YAKE takes ~10 ms — 20 minutes at 100k papers), deterministic, and with no
dependency; the per-document statistics YAKE adds matter little once the
corpus decides which phrases are topics.

**Keys** merge what only differs by case, accents, hyphens, underscores,
slashes or a plural head noun: "Diffusion Models", "diffusion-model" and
"diffusion models" are all ``diffusion model``; "LLMs" is ``llm``. The head
(last) word is made singular by suffix rules with an exception list — the
words that take part in topics are overwhelmingly regular English nouns,
and a wrong singular only merges two spellings of the same thing.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from collections.abc import Iterable

#: Words that end a phrase: English function words and the vocabulary of
#: research prose that names no topic.
STOP = frozenset("""
a about above across after again against all almost along also although always am among an and another any
are around as at be because been before being below between both but by can cannot could did do does doing
done down during each either else enough even ever every few for from further had has have having he her here
hers him his how however i if in into is it its itself just least less like many may me might more most much
must my neither no nor not now of off often on once one only onto or other others otherwise our ours out over
own per perhaps quite rather same several shall she should since so some such than that the their theirs them
then there therefore these they this those though through thus to too toward towards under until up upon us
very via was we well were what whatever when where whether which while who whom whose why will with within
without would yet you your
propose proposed proposes proposing present presents presented introduce introduces introduced introducing
novel new existing recent recently current previous prior traditional conventional standard various different
diverse multiple single simple effective efficient strong significant significantly substantially extensive
comprehensive experiments experimental experiment results result show shows shown showing demonstrate
demonstrates demonstrated demonstrating achieve achieves achieved achieving outperform outperforms outperforming
improve improves improved improving improvement improvements enable enables enabling enabled leverage leverages
leveraging leveraged use uses used using utilize utilizes utilizing based paper papers work works study studies
approach approaches method methods methodology framework frameworks technique techniques strategy strategies
task tasks problem problems challenge challenges challenging performance state art sota superior competitive
key main first second third two three four five better best good able ability remains
remain remaining make makes making made provide provides providing provided allow allows allowing address
addresses addressing apply applied applies applying consider considered including include includes included
code available publicly release released
sota ii iii iv page pages github https http www com url increasingly typically rely relies relying fail fails
failing capture captures capturing struggle struggles lack lacks lacking remarkable impressive notable consistent
consistently substantial crucial critical essential fundamental practical powerful promising overall still often
usually generally widely largely highly strongly furthermore moreover additionally specifically particular particularly respectively e g et al i e etc
""".split())
#: Words a phrase may contain but not end with ("large language model" yes, "large" no).
NO_END = frozenset({"large", "small", "multi", "high", "low", "deep", "open", "fine", "long", "short", "real",
                    "general", "visual", "human", "generative", "neural", "joint", "full", "end"})

#: Words (hyphenated compounds stay one token), numbers, or one punctuation mark.
#: Keys that read as topics but describe any paper (adjectival compounds mostly).
GENERIC_KEYS = frozenset({
    "real world", "large scale", "high quality", "fine grained", "coarse grained", "open source", "state of the art",
    "real time", "high fidelity", "long term", "short term", "end to end", "success rate", "training data",
    "high level", "low level", "high resolution", "low resolution", "wide range", "trade off", "pre trained",
    "well known", "data driven", "plug and play", "off the shelf", "step by step", "one step", "two stage",
    "multi step", "multi stage", "first order", "second order", "zero shot", "few shot", "large amount",
    "key component", "extensive experiment", "experimental result", "future research", "future work",
    "comparable performance", "significant improvement", "broad range", "human like", "human level",
})

#: Single words that are source keywords but name no topic on their own.
GENERIC_WORDS = frozenset("""
benchmark benchmarks dataset datasets model models token tokens reasoning training inference evaluation performance
efficiency accuracy generalization scalability robustness architecture framework method approach task tasks data
learning optimization alignment generation understanding baseline baselines experiments metric metrics
""".split())

_WORD = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|[0-9]+|[^\sA-Za-z0-9]")
_NOT_KEY = re.compile(r"[^a-z0-9 ]+")
#: Irregular or ambiguous plurals; words ending like plurals that are singular.
_SINGULAR = {"analyses": "analysis", "matrices": "matrix", "indices": "index", "vertices": "vertex",
             "hypotheses": "hypothesis", "theses": "thesis", "criteria": "criterion", "phenomena": "phenomenon",
             "mice": "mouse", "children": "child", "people": "people", "data": "data", "media": "media",
             "series": "series", "species": "species", "axes": "axis", "bases": "basis", "diagnoses": "diagnosis",
             "lenses": "lens", "biases": "bias", "gases": "gas", "aliases": "alias", "caches": "cache",
             "images": "image", "sources": "source", "responses": "response", "devices": "device",
             "sequences": "sequence", "inferences": "inference", "preferences": "preference", "edges": "edge",
             "spaces": "space", "interfaces": "interface", "pipelines": "pipeline", "scores": "score",
             "features": "feature", "samples": "sample", "modules": "module", "styles": "style",
             "scales": "scale", "languages": "language", "games": "game", "scenes": "scene", "phases": "phase",
             "cases": "case", "rules": "rule", "cores": "core", "nodes": "node", "vehicles": "vehicle",
             "molecules": "molecule", "structures": "structure", "textures": "texture", "gestures": "gesture",
             "architectures": "architecture", "signatures": "signature", "measures": "measure",
             "estimates": "estimate", "updates": "update", "templates": "template", "states": "state",
             "databases": "database", "glasses": "glass", "classes": "class", "processes": "process",
             "accesses": "access", "losses": "loss", "sizes": "size", "phrases": "phrase", "noises": "noise",
             "releases": "release", "lens": "lens"}
_NO_PLURAL_ENDINGS = ("ss", "us", "is", "ics", "ous", "sis", "xis", "ness", "ys", "as", "os", "es'")


def fold(text: str) -> str:
    """Accent-free text (NFKD with combining marks dropped)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def singular(word: str) -> str:
    """The singular of a lower-case English noun by suffix rules (see module docstring)."""
    if word in _SINGULAR:
        return _SINGULAR[word]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_NO_PLURAL_ENDINGS):
        if len(word) > 2 and word.endswith("s") and word[:-1].isupper():
            return word[:-1]
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    return word[:-1]


def term_key(text: str) -> str:
    """The merge key of a term: lower-case ASCII words, head word singular."""
    spaced = re.sub(r"[-_/·–—]+", " ", fold(text))
    # An acronym plural ("LLMs", "VLMs") loses its s before lower-casing.
    words = [re.sub(r"^([A-Z][A-Z0-9]+)s$", r"\1", w) for w in spaced.split()]
    cleaned = _NOT_KEY.sub(" ", " ".join(words).lower()).split()
    if not cleaned:
        return ""
    cleaned[-1] = singular(cleaned[-1])
    return " ".join(cleaned)


def slug_of_key(key: str) -> str:
    return key.replace(" ", "-")


def surface(words: Iterable[str]) -> str:
    """How a phrase is shown: lower case except acronyms ("LLMs", "RLHF", "3D")."""
    def part(w: str) -> str:
        upper = sum(1 for c in w if c.isupper())
        return w if upper >= 2 or (upper == 1 and any(c.isdigit() for c in w)) else w.lower()

    return " ".join("-".join(part(p) for p in w.split("-")) for w in words)


_ACRONYM_PLURAL = re.compile(r"^([A-Z][A-Z0-9]+)s$")


def _token_parts(token: str) -> list[str]:
    """Lower-case key parts of one token ("Vision-Language" → ["vision", "language"])."""
    token = _ACRONYM_PLURAL.sub(r"\1", token)
    return [p for p in _NOT_KEY.sub(" ", token.replace("-", " ").lower()).split()]


@dataclass(frozen=True)
class _Token:
    """What extraction needs to know of one distinct token (computed once per build)."""
    breaks: bool  # stopword, number, punctuation: ends a run
    parts: tuple[str, ...]  # key words as a non-head ("vision", "language")
    head: tuple[str, ...]  # key words as the head (last one singular)
    no_end: bool  # may not end a phrase ("large", "multi-")
    compound: str | None  # key of a hyphenated word that may stand alone
    acronym: str | None  # key of an acronym-like word ("LLMs" → "llm")
    parts_text: str = ""  # " ".join(parts)
    head_text: str = ""  # " ".join(head)


@dataclass(frozen=True)
class Candidates:
    """A text's candidate terms, key → words as written.

    ``phrases``: runs of two or three words, and acronym-like words of three
    to nine characters with two or more capitals ("LLMs", "RLHF");
    ``compounds``: single hyphenated words ("chain-of-thought", "real-world"),
    which are topics only where a source keyword or a multi-word phrase
    vouches for the key — alone they are mostly adjectives ("state-of-the-art").
    """
    phrases: dict[str, tuple[str, ...]]
    compounds: dict[str, tuple[str, ...]]


class Extractor:
    """Candidate extraction with a per-token memo.

    A corpus has far fewer distinct tokens than token occurrences, so each
    token is analysed once; the memo belongs to the extractor, which one
    build creates and drops (nothing outlives it, nothing to invalidate).
    """

    def __init__(self) -> None:
        self._tokens: dict[str, _Token] = {}
        self._keywords: dict[str, tuple[str, str] | None] = {}

    def keyword_terms(self, keywords: Iterable[str] | None) -> dict[str, str]:
        """:func:`keyword_terms` with each distinct keyword analysed once."""
        found: dict[str, str] = {}
        for raw in keywords or ():
            if not isinstance(raw, str):
                continue
            if raw not in self._keywords:
                one = keyword_terms([raw])
                self._keywords[raw] = next(iter(one.items())) if one else None
            if (term := self._keywords[raw]) is not None and term[0] not in found:
                found[term[0]] = term[1]
        return found

    def _token(self, token: str) -> _Token:
        info = self._tokens.get(token)
        if info is None:
            low = token.lower()
            if len(token) < 2 or low in STOP or not any(c.isalpha() for c in token):
                info = _Token(True, (), (), False, None, None)
            else:
                parts = tuple(_token_parts(token))
                head = parts[:-1] + (singular(parts[-1]),) if parts else ()
                no_end = low in NO_END or low.rsplit("-", 1)[-1] in NO_END
                compound = None
                if "-" in token and len(parts) >= 2 and not no_end:
                    key = " ".join(head)
                    compound = None if key in GENERIC_KEYS else key
                acronym = None
                if "-" not in token and 3 <= len(token) <= 9 and sum(c.isupper() for c in token) >= 2 and parts:
                    acronym = " ".join(head)
                info = _Token(not parts, parts, head, no_end, compound, acronym, " ".join(parts), " ".join(head))
            if len(self._tokens) < 2_000_000:
                self._tokens[token] = info
        return info

    def candidates(self, text: str) -> Candidates:
        phrases: dict[str, tuple[str, ...]] = {}
        compounds: dict[str, tuple[str, ...]] = {}
        run: list[str] = []
        infos: list[_Token] = []
        known = self._tokens.get
        for token in _WORD.findall(fold(text)):
            info = known(token) or self._token(token)
            if info.breaks:
                if run:
                    self._run(run, infos, phrases, compounds)
                run, infos = [], []
            else:
                run.append(token)
                infos.append(info)
        if run:
            self._run(run, infos, phrases, compounds)
        return Candidates(phrases, compounds)

    @staticmethod
    def _run(run: list[str], infos: list[_Token], phrases: dict, compounds: dict) -> None:
        size = len(run)
        for i in range(size):
            info = infos[i]
            if info.compound is not None and info.compound not in compounds:
                compounds[info.compound] = (run[i],)
            if info.acronym is not None and info.acronym not in phrases:
                phrases[info.acronym] = (run[i],)
            if i + 1 >= size:
                continue
            second = infos[i + 1]
            if not second.no_end and len(info.parts) + len(second.head) <= 4:
                key = info.parts_text + " " + second.head_text
                if key not in phrases and len(key) <= 80 and key not in GENERIC_KEYS:
                    phrases[key] = (run[i], run[i + 1])
            if i + 2 < size:
                third = infos[i + 2]
                if not third.no_end and len(info.parts) + len(second.parts) + len(third.head) <= 4:
                    key = info.parts_text + " " + second.parts_text + " " + third.head_text
                    if key not in phrases and len(key) <= 80 and key not in GENERIC_KEYS:
                        phrases[key] = (run[i], run[i + 1], run[i + 2])


def candidates(text: str) -> Candidates:
    """Candidate terms of one text (see :class:`Candidates`)."""
    return Extractor().candidates(text)


def text_phrases(text: str) -> dict[str, str]:
    """Key → surface form of every candidate term of ``text`` (phrases and compounds)."""
    found = candidates(text)
    return {key: surface(words) for key, words in {**found.compounds, **found.phrases}.items()}


_PARENTHESES = re.compile(r"\s*\([^)]*\)")


def keyword_terms(keywords: Iterable[str] | None) -> dict[str, str]:
    """Key → surface form of a source's keywords (one to five words each)."""
    found: dict[str, str] = {}
    for raw in keywords or ():
        if not isinstance(raw, str):
            continue
        raw = _PARENTHESES.sub(" ", raw).strip()
        words = re.sub(r"[-_/]+", " ", raw).split()
        if not 1 <= len(words) <= 5:
            continue
        key = term_key(raw)
        if (key and len(key) >= 2 and not key.isdigit() and key not in STOP and key not in GENERIC_KEYS
                and key not in GENERIC_WORDS and key not in found and len(key) <= 80):
            found[key] = surface(raw.split())
    return found


_LINKING = frozenset({"of", "with", "for", "and", "the", "in", "on", "to", "a", "from", "via", "by"})
_ACRONYM = re.compile(r"\(\s*([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*?)s?\s*\)")


def acronym_pairs(text: str) -> list[tuple[str, str, str]]:
    """(acronym key, expansion key, expansion surface) for each "long words (LW)" in ``text``.

    The expansion is the shortest run of words just before the parenthesis
    whose initials spell the acronym's capitals ("large language models
    (LLMs)" → ``llm`` / ``large language model``); hyphenated words give
    one initial per part ("Vision-Language Models (VLMs)").
    """
    pairs = []
    folded = fold(text)
    for match in _ACRONYM.finditer(folded):
        acronym = match.group(1)
        letters = [c.lower() for c in acronym if c.isupper()]
        if not 2 <= len(letters) <= 6:
            continue
        before = re.findall(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*", folded[max(0, match.start() - 120):match.start()])
        initials: list[str] = []
        for start in range(len(before) - 1, max(-1, len(before) - 7), -1):
            initials = [part[0].lower() for w in before[start:] for part in w.split("-")
                        if part and part.lower() not in _LINKING]
            if initials == letters:
                words = before[start:]
                expansion = term_key(" ".join(words))
                if expansion.count(" ") >= 1 and words[0].lower() not in STOP:
                    pairs.append((term_key(acronym), expansion, surface(words)))
                break
            if len(initials) > len(letters):
                break
    return pairs
