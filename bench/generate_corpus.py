"""Generate a synthetic corpus in the Kaggle arXiv-metadata format (JSON lines).

Scale benchmarks need millions of papers and no such data ships offline, so
this draws text from the word frequencies of the real abstracts bundled with
the project (the Kaggle sample and the Daily-Papers pages), extended with a
Zipf-shaped tail of made-up rare words so the vocabulary grows with the corpus
the way a real one does. Titles (~10 words), abstracts (~150-200 words),
1-10 authors from a Zipf-weighted name pool, categories from a distribution
close to modern arXiv, versions spread over 2007-2025 with unique new-style ids.

    python bench/generate_corpus.py --count 1000000 --out /tmp/corpus-1m.jsonl.gz --seed 1
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TEXT_SOURCES = [ROOT / "src" / "paperwire" / "data" / "demo", ROOT.parent / "shared" / "corpus"]
WORD_RE = re.compile(r"[A-Za-z][A-Za-z\-]*[A-Za-z]|[A-Za-z]")

#: (category, weight, cross-list candidates) — roughly modern arXiv submission shares.
CATEGORIES = [
    ("cs.LG", 10, ["cs.AI", "stat.ML", "cs.CV", "cs.CL"]), ("cs.CV", 8, ["cs.LG", "cs.AI", "eess.IV"]),
    ("cs.CL", 6, ["cs.AI", "cs.LG"]), ("cs.AI", 3, ["cs.LG", "cs.CL"]), ("cs.RO", 2, ["cs.AI", "cs.LG"]),
    ("cs.CR", 2, ["cs.LG"]), ("cs.IR", 1.5, ["cs.CL", "cs.LG"]), ("cs.DS", 1.5, ["cs.DM", "math.CO"]),
    ("cs.SE", 1.2, ["cs.LG"]), ("cs.NE", 0.8, ["cs.LG"]), ("cs.HC", 1, ["cs.AI"]), ("cs.IT", 1.2, ["math.IT"]),
    ("stat.ML", 1.5, ["cs.LG", "stat.ME"]), ("stat.ME", 1.2, ["stat.AP"]), ("eess.SP", 1.5, ["cs.IT", "math.IT"]),
    ("eess.IV", 0.8, ["cs.CV"]), ("eess.SY", 1.2, ["cs.SY", "math.OC"]), ("math.OC", 2, ["cs.SY", "cs.LG"]),
    ("math.PR", 1.5, ["math.ST"]), ("math.AP", 2, ["math.NA"]), ("math.NA", 1.5, ["cs.NA"]),
    ("math.CO", 1.5, ["cs.DM"]), ("math.AG", 1.5, ["math.NT"]), ("math.NT", 1, ["math.AG"]),
    ("math.DG", 1, ["math-ph", "math.MP"]), ("math-ph", 1, ["math.MP", "hep-th"]), ("hep-th", 3, ["gr-qc"]),
    ("hep-ph", 3, ["hep-ex"]), ("hep-ex", 1, ["hep-ph"]), ("gr-qc", 2, ["astro-ph.CO", "hep-th"]),
    ("astro-ph.GA", 2, ["astro-ph.CO"]), ("astro-ph.CO", 1.5, ["gr-qc"]), ("astro-ph.SR", 1.5, ["astro-ph.EP"]),
    ("astro-ph.HE", 1.5, ["gr-qc"]), ("quant-ph", 5, ["cond-mat.mes-hall", "cs.ET"]),
    ("cond-mat.mtrl-sci", 3, ["physics.chem-ph"]), ("cond-mat.str-el", 2, ["cond-mat.supr-con"]),
    ("cond-mat.mes-hall", 2, ["quant-ph"]), ("cond-mat.stat-mech", 1.5, ["nlin.CD"]),
    ("cond-mat.soft", 1, ["physics.bio-ph"]), ("physics.optics", 2, ["quant-ph"]),
    ("physics.flu-dyn", 1.2, ["physics.comp-ph"]), ("physics.chem-ph", 1, ["cond-mat.mtrl-sci"]),
    ("nucl-th", 1, ["hep-ph"]), ("q-bio.NC", 0.8, ["cs.NE"]), ("q-bio.QM", 0.6, ["cs.LG"]),
    ("q-fin.ST", 0.4, ["econ.EM"]), ("econ.EM", 0.5, ["stat.ME"]), ("nlin.CD", 0.4, ["math.DS"]),
    ("math.DS", 1, ["nlin.CD"]),
]
FIRST = (
    "Wei Jian Li Yan Hao Xin Jun Yu Ming Lei Anna Maria Laura Sara Elena Julia Sofia Emma Olga Irina "
    "John David Michael James Robert Daniel Thomas Peter Paul Mark Alexander Andrea Marco Luca Giovanni "
    "Pierre Jean Nicolas Hans Stefan Martin Jan Piotr Ivan Sergey Dmitry Hiroshi Takashi Kenji Yuki "
    "Sanjay Rahul Amit Priya Anil Ravi Mohammed Ahmed Omar Ali Carlos Jose Luis Juan Ana Rosa Kim Min Ji"
).split()
SYLLABLES = "ka ri to na mo su li be ran del vo gan tor mi sha lo wen zu pe ch an er in on ov ski berg son ez".split()
LICENSES = [None, "http://arxiv.org/licenses/nonexclusive-distrib/1.0/", "http://creativecommons.org/licenses/by/4.0/"]


def learn_vocabulary() -> Counter:
    """Word counts of every real abstract and title the project ships."""
    counts: Counter = Counter()
    for folder in TEXT_SOURCES:
        for path in sorted(folder.glob("*")):
            if path.suffix == ".jsonl":
                for line in path.open(encoding="utf-8"):
                    record = json.loads(line)
                    counts.update(w.lower() for w in WORD_RE.findall(record["title"] + " " + record["abstract"]))
            elif path.suffix == ".txt":
                counts.update(w.lower() for w in WORD_RE.findall(path.read_text(encoding="utf-8")))
    if not counts:
        sys.exit("no source text found (expected the demo corpus under src/paperwire/data/demo)")
    return counts


def build_vocabulary(rng: np.random.Generator, tail: int) -> tuple[np.ndarray, np.ndarray]:
    """Words and cumulative probabilities: real counts, then a Zipf tail of made-up words."""
    counts = learn_vocabulary()
    words = [w for w, _ in counts.most_common()]
    freqs = np.array([c for _, c in counts.most_common()], dtype=np.float64)
    # Continue the rank-frequency curve beyond the last real word with a 1/rank law.
    ranks = np.arange(len(words) + 1, len(words) + tail + 1, dtype=np.float64)
    scale = freqs[len(freqs) // 2] * (len(freqs) // 2 + 1)
    tail_freqs = scale / ranks
    made_up = made_up_words(rng, tail, exclude=set(words))
    all_words = np.array(words + made_up, dtype=object)
    probs = np.concatenate([freqs, tail_freqs])
    return all_words, np.cumsum(probs / probs.sum())


def made_up_words(rng: np.random.Generator, n: int, exclude: set[str], max_syllables: int = 4) -> list[str]:
    """``n`` distinct pronounceable non-words (vectorised: drawn in bulk, duplicates dropped)."""
    found: dict[str, None] = {}
    syllables = np.array(SYLLABLES, dtype=object)
    while len(found) < n:
        size = 2 * (n - len(found)) + 100
        lengths = rng.integers(2, max_syllables + 1, size)
        picks = syllables[rng.integers(0, len(syllables), (size, max_syllables))]
        for row, length in zip(picks, lengths):
            word = "".join(row[:length])
            if word not in exclude and word not in found:
                found[word] = None
                if len(found) == n:
                    break
    return list(found)


def name_pool(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` "First Last" names; last names are made up (up to 5 syllables, so plenty)."""
    last = made_up_words(rng, size, exclude=set(), max_syllables=5)
    firsts = rng.choice(FIRST, size=size)
    return np.array([f"{f} {l.capitalize()}" for f, l in zip(firsts, last)], dtype=object)


def zipf_cdf(n: int, s: float = 1.0) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s
    return np.cumsum(weights / weights.sum())


def arxiv_date(moment: datetime) -> str:
    return moment.strftime("%a, %-d %b %Y %H:%M:%S GMT")


class Generator:
    def __init__(self, seed: int, count: int):
        self.rng = np.random.default_rng(seed)
        self.words, self.word_cdf = build_vocabulary(self.rng, tail=max(20_000, min(count // 4, 400_000)))
        self.names = name_pool(self.rng, max(5_000, count // 3))
        self.name_cdf = zipf_cdf(len(self.names), 0.8)
        self.cat_names = [c[0] for c in CATEGORIES]
        weights = np.array([c[1] for c in CATEGORIES])
        self.cat_cdf = np.cumsum(weights / weights.sum())
        self.cross = {c[0]: c[2] for c in CATEGORIES}
        self.month_counter: Counter = Counter()
        # Submissions grow over time (density linear in the day).
        self.start = datetime(2007, 4, 1)
        self.span_days = (datetime(2025, 6, 30) - self.start).days

    def _draw(self, cdf: np.ndarray, n: int) -> np.ndarray:
        return np.searchsorted(cdf, self.rng.random(n), side="right").clip(0, len(cdf) - 1)

    def batch(self, n: int) -> list[dict]:
        rng = self.rng
        title_len = rng.integers(6, 15, n)
        abstract_len = rng.normal(175, 30, n).clip(60, 320).astype(int)
        title_words = self.words[self._draw(self.word_cdf, int(title_len.sum()))]
        abstract_words = self.words[self._draw(self.word_cdf, int(abstract_len.sum()))]
        n_authors = rng.choice(np.arange(1, 11), size=n, p=[.12, .18, .18, .15, .11, .08, .06, .05, .04, .03])
        authors = self.names[self._draw(self.name_cdf, int(n_authors.sum()))]
        primaries = self._draw(self.cat_cdf, n)
        extra = rng.choice([0, 1, 2, 3], size=n, p=[.5, .3, .15, .05])
        days = (self.span_days * np.sqrt(rng.random(n))).astype(int)  # density grows linearly
        seconds = rng.integers(0, 86_400, n)
        n_versions = rng.choice([1, 2, 3, 4], size=n, p=[.55, .3, .1, .05])
        out = []
        t = a = au = 0
        for i in range(n):
            title = " ".join(title_words[t:t + title_len[i]])
            t += title_len[i]
            abstract = " ".join(abstract_words[a:a + abstract_len[i]])
            a += abstract_len[i]
            names = list(dict.fromkeys(authors[au:au + n_authors[i]]))
            au += n_authors[i]
            primary = self.cat_names[primaries[i]]
            cats = [primary] + [c for c in self.cross[primary][: extra[i]]]
            created = self.start + timedelta(days=int(days[i]), seconds=int(seconds[i]))
            month = created.strftime("%y%m")
            self.month_counter[month] += 1
            seq = self.month_counter[month]
            arxiv_id = f"{month}.{seq:05d}" if (created.year >= 2015 or seq >= 10_000) else f"{month}.{seq:04d}"
            versions, moment = [], created
            for v in range(1, n_versions[i] + 1):
                versions.append({"version": f"v{v}", "created": arxiv_date(moment)})
                moment += timedelta(days=int(rng.integers(3, 200)))
            last_first = [(nm.split(" ", 1)[1], nm.split(" ", 1)[0], "") for nm in names]
            out.append({
                "id": arxiv_id, "submitter": names[0],
                "authors": ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1],
                "title": title[:1].upper() + title[1:], "comments": f"{int(rng.integers(4, 40))} pages",
                "journal-ref": None, "doi": None, "report-no": None, "categories": " ".join(cats),
                "license": LICENSES[int(rng.integers(0, 3))],
                "abstract": "  " + abstract[:1].upper() + abstract[1:] + ".\n",
                "versions": versions, "update_date": moment.date().isoformat(),
                "authors_parsed": [list(x) for x in last_first],
            })
        return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, required=True, help="number of papers")
    parser.add_argument("--out", type=Path, required=True, help="output file (.jsonl or .jsonl.gz)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.count <= 0:
        parser.error("--count must be positive")
    started = time.perf_counter()
    gen = Generator(args.seed, args.count)
    opener = (lambda p: gzip.open(p, "wt", encoding="utf-8", compresslevel=1)) if args.out.suffix == ".gz" else (
        lambda p: open(p, "w", encoding="utf-8"))
    done = 0
    with opener(args.out) as handle:
        while done < args.count:
            n = min(20_000, args.count - done)
            handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in gen.batch(n)))
            done += n
            print(f"\r{done:,} papers, {time.perf_counter() - started:.0f} s", end="", file=sys.stderr)
    print(f"\nwrote {done:,} papers to {args.out} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
