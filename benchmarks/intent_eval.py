"""Measure intent (complaint, question, request, praise, churn_risk, or none) on the team's own
labelled sets.

    python benchmarks/intent_eval.py [--data tests/enrich/data] [--sets intent,intent_check,intent_heldout]

Each `<set>_<lang>.tsv` holds `intent<TAB>text` lines ('#' comments), intent one of the five
or `none` (no intent should be named). Each text goes through the whole Enricher with the
default analyser (language detection, sentiment, then enrich/intent.py with the text's score as
its fallback), with no rating, as in production for a text-only signal.

Metrics per set and language: accuracy over all six labels ('none' right when nothing is
named), macro-F1 over the five intents, recall per intent, and the share of texts left unknown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxbot.enrich import Enricher, EnrichSettings  # noqa: E402
from cxbot.enrich.intent import INTENTS  # noqa: E402

SHORT = {"complaint": "compl", "question": "quest", "request": "req", "praise": "praise",
         "churn_risk": "churn"}  # fmt: skip


def read(path: Path) -> list[tuple[str | None, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, text = line.partition("\t")
            rows.append((None if label == "none" else label, text))
    return rows


def f1(gold: list[str | None], pred: list[str | None], cls: str) -> float:
    tp = sum(g == p == cls for g, p in zip(gold, pred, strict=True))
    fp = sum(p == cls != g for g, p in zip(gold, pred, strict=True))
    fn = sum(g == cls != p for g, p in zip(gold, pred, strict=True))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT / "tests" / "enrich" / "data")
    ap.add_argument("--sets", default="intent,intent_check,intent_heldout")
    args = ap.parse_args()
    enricher = Enricher(EnrichSettings(), ROOT)
    head = " | ".join(f"R-{SHORT[c]}" for c in INTENTS)
    print(f"| set | lang | n | acc | macro-F1 | {head} | unknown |")
    print("|---|---|---|---|---|" + "---|" * len(INTENTS) + "---|")
    for name in args.sets.split(","):
        for path in sorted(args.data.glob(f"{name}_??.tsv")):
            rows = read(path)
            gold = [g for g, _ in rows]
            pred = [e.intent for e in enricher.enrich_many([{"text": t} for _, t in rows])]
            acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(rows)
            macro = sum(f1(gold, pred, c) for c in INTENTS) / len(INTENTS)
            recalls = []
            for c in INTENTS:
                of = [p for g, p in zip(gold, pred, strict=True) if g == c]
                recalls.append(f"{100 * sum(p == c for p in of) / len(of):.0f}" if of else "–")
            unknown = sum(p is None for p in pred) / len(rows)
            lang = path.stem.rsplit("_", 1)[1]
            print(
                f"| {name} | {lang} | {len(rows)} | {100 * acc:.1f} | {100 * macro:.1f} | "
                + " | ".join(recalls)
                + f" | {100 * unknown:.1f}% |"
            )


if __name__ == "__main__":
    main()
