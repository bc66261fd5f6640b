"""Choose the ensemble weights and label thresholds on the team's own sentences.

Run: python tests/enrich/tune_ensemble.py. Reads tests/enrich/data/sentiment_dev_en.tsv only
(hand-written; never the evaluation sets in shared/eval). A coarse grid on purpose: with ~190
sentences, finer steps would fit our own phrasing rather than customers'.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from cxbot.enrich.analysers.ensemble import EnsembleAnalyser

DATA = Path(__file__).parent / "data"
# dev: written with the cues; check: written after the cues were frozen (see docs/enrichment.md)
FILES = (DATA / "sentiment_dev_en.tsv", DATA / "sentiment_check_en.tsv")
CLASSES = ("negative", "neutral", "positive")


def load(*paths: Path) -> list[tuple[str, str]]:
    rows = []
    for path in paths or FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                label, text = line.split("\t", 1)
                rows.append((label, text))
    return rows


def macro_f1(gold: list[str], pred: list[str]) -> float:
    f1s = []
    for c in CLASSES:
        tp = sum(g == c and p == c for g, p in zip(gold, pred, strict=True))
        fp = sum(g != c and p == c for g, p in zip(gold, pred, strict=True))
        fn = sum(g == c and p != c for g, p in zip(gold, pred, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


def label(score: float, neg: float, pos: float) -> str:
    return "negative" if score < neg else "positive" if score > pos else "neutral"


def main() -> None:
    rows = load()
    gold = [g for g, _ in rows]
    ens = EnsembleAnalyser()
    parts = [ens.parts(t) for _, t in rows]
    grid_t = [-0.3, -0.2, -0.1, -0.05, 0.0]
    grid_p = [0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5]

    def best(scores: list[float]) -> tuple[float, float, float]:
        return max(
            (macro_f1(gold, [label(s, n, p) for s in scores]), n, p)
            for n, p in itertools.product(grid_t, grid_p)
        )

    print(
        "textblob alone  F1={:.3f} at neg<{:.2f} pos>{:.2f}".format(*best([t for _, t, _ in parts]))
    )
    print(
        "vader alone     F1={:.3f} at neg<{:.2f} pos>{:.2f}".format(*best([v for v, _, _ in parts]))
    )
    results = []
    for wv, wt, wc in itertools.product(
        [0.3, 0.4, 0.5, 0.6, 0.7], [0.1, 0.2, 0.3, 0.4], [0.4, 0.5, 0.6, 0.7, 0.8]
    ):
        scores = [max(-1.0, min(1.0, wv * v + wt * t + wc * c)) for v, t, c in parts]
        f1, n, p = best(scores)
        results.append((f1, wv, wt, wc, n, p))
    results.sort(reverse=True)
    for r in results[:15]:
        print("ensemble F1={:.3f} wv={:.1f} wt={:.1f} wc={:.1f} neg<{:.2f} pos>{:.2f}".format(*r))
    if "-v" in sys.argv:
        f1, wv, wt, wc, n, p = results[0]
        for (g, text), (v, t, c) in zip(rows, parts, strict=True):
            s = max(-1.0, min(1.0, wv * v + wt * t + wc * c))
            if label(s, n, p) != g:
                print(f"  {g:8s} {s:+.2f} v={v:+.2f} t={t:+.2f} cx={c:+.2f}  {text}")


if __name__ == "__main__":
    main()
