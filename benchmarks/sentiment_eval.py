"""Measure the sentiment analysers on labelled JSONL sets.

    python benchmarks/sentiment_eval.py ../shared/eval/sentiment [--analysers SPEC,...]
        [--model-path DIR] [--json out.json] [--threads N] [--also tests/enrich/data]

Every `*.jsonl` under the folder holds one {"text", "label"} object per line, labels
negative/neutral/positive; the file stem ends in `_<lang>`. `--also FOLDER` adds the team's own
held-out files there (`sentiment_heldout_<lang>.tsv`, label<TAB>text, '#' comments). Each text goes through the whole
Enricher (language detection, analyser, explicit-score rules, topics, urgency), exactly as in
production, with no rating or score, so the label comes from the text alone.

An analyser SPEC is NAME or NAME@NEG:POS, NAME in ensemble/textblob/vader/transformers/
multilingual, NEG:POS
the label thresholds (default: EnrichSettings' defaults). The default list runs TextBlob and
VADER at the conventional +-0.05, the ensemble at its defaults, and TextBlob at the thresholds
that suited it best on our own sentences (0:0.1), so its comparison does not hang on one cut.

Metrics, per file and analyser:
  acc       share of texts whose label equals the gold label ('unscored' is never right)
  F1        macro-F1 over the gold classes present in the file
  R-neg/neu/pos  recall per gold class
  unsc      share labelled 'unscored' (language the analyser cannot read, or undetectable)
  negMiss   share of gold-negative texts labelled neutral or positive ('unscored' not counted)
  zero      share with a text score of exactly 0.0 (a "fake neutral" if the language is wrong)
  docs/s    texts per CPU-second of this process, everything included; --threads BLAS threads
            (default one); the best of --repeat passes (other processes only slow a pass down)
  wall/s    texts per wall-clock second of the same pass (with --threads 2: what 2 cores give)
  RSS       peak resident memory of this process (MB) once the file was done; it only grows,
            so run one analyser per process to read an analyser's own peak
A summary table gives, per language and analyser, the mean macro-F1 over that language's files,
the mean unscored share and the slowest file's docs/s.
Binary sets (no neutral gold, e.g. snappfood_fa): F1 and recall are over negative/positive only;
a neutral or unscored prediction is a miss for its gold class and counts against no class.
"""

from __future__ import annotations

import os
import sys

# One core by default: no BLAS/OpenMP threads behind numpy (py3langid, the multilingual encoder)
# or torch. `--threads N` must act before numpy is imported, hence this early look at argv.
_THREADS = "1"
for _i, _arg in enumerate(sys.argv):
    if _arg == "--threads" and _i + 1 < len(sys.argv):
        _THREADS = sys.argv[_i + 1]
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cxbot.enrich import Enricher, EnrichSettings  # noqa: E402

CLASSES = ("negative", "neutral", "positive")
DEFAULT_SPECS = "textblob@-0.05:0.05,vader@-0.05:0.05,ensemble,textblob@0:0.1"
ENGLISH_SETS = ("tweeteval_sentiment_en", "airline_tweets_en", "marc_reviews_en")
BATCH = 256


@dataclass
class Row:
    file: str
    lang: str
    analyser: str
    n: int
    acc: float
    macro_f1: float
    recall: dict[str, float]
    unscored: float
    neg_missed: float
    exact_zero: float
    docs_per_s: float
    detected: dict[str, float]  # share of texts per detected language (top 3)
    wall_per_s: float = 0.0
    peak_rss_mb: float = 0.0


def load(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if path.suffix == ".tsv":
            if line.strip() and not line.startswith("#"):
                label, _, text = line.partition("\t")
                rows.append((text.strip(), label.strip()))
        elif line.strip():
            obj = json.loads(line)
            rows.append((obj["text"], obj["label"]))
    return rows


def metrics(gold: list[str], pred: list[str]) -> tuple[float, float, dict[str, float]]:
    classes = [c for c in CLASSES if c in gold]
    pairs = list(zip(gold, pred, strict=True))
    f1s, recall = [], {}
    for c in classes:
        tp = sum(g == c and p == c for g, p in pairs)
        fp = sum(g != c and p == c for g, p in pairs)
        fn = sum(g == c and p != c for g, p in pairs)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        recall[c] = tp / (tp + fn) if tp + fn else 0.0
    acc = sum(g == p for g, p in pairs) / len(pairs)
    return acc, sum(f1s) / len(f1s), recall


def parse_spec(spec: str, model_path: str | None) -> tuple[str, EnrichSettings]:
    name, _, cuts = spec.partition("@")
    fields: dict[str, object] = {"analyser": name}
    if cuts:
        neg, pos = cuts.split(":")
        fields.update(negative_below=float(neg), positive_above=float(pos))
    if name == "transformers":
        fields["model_path"] = model_path
    return spec, EnrichSettings.model_validate(fields)


def evaluate(path: Path, label: str, enricher: Enricher, repeat: int) -> Row:
    rows = load(path)
    items = [{"text": text} for text, _ in rows]
    cpu = wall = float("inf")
    for _ in range(repeat):
        results = []
        start, wall_start = time.process_time(), time.perf_counter()
        for i in range(0, len(items), BATCH):
            results.extend(enricher.enrich_many(items[i : i + BATCH]))
        cpu = min(cpu, time.process_time() - start)
        wall = min(wall, time.perf_counter() - wall_start)
    gold = [g for _, g in rows]
    pred = [r.sentiment_label for r in results]
    acc, f1, recall = metrics(gold, pred)
    negatives = [p for g, p in zip(gold, pred, strict=True) if g == "negative"]
    langs: dict[str, int] = {}
    for r in results:
        langs[str(r.lang)] = langs.get(str(r.lang), 0) + 1
    top = sorted(langs.items(), key=lambda kv: -kv[1])[:3]
    return Row(
        file=path.stem,
        lang=path.stem.rsplit("_", 1)[-1],
        analyser=label,
        n=len(rows),
        acc=acc,
        macro_f1=f1,
        recall=recall,
        unscored=pred.count("unscored") / len(pred),
        neg_missed=(
            sum(p in ("neutral", "positive") for p in negatives) / len(negatives)
            if negatives
            else 0.0
        ),
        exact_zero=sum(r.text_sentiment == 0.0 for r in results) / len(results),
        docs_per_s=len(rows) / cpu if cpu else float("inf"),
        detected={k: v / len(results) for k, v in top},
        wall_per_s=len(rows) / wall if wall else float("inf"),
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def table(rows: list[Row]) -> str:
    head = (
        "| file | analyser | n | acc | macro-F1 | R-neg | R-neu | R-pos | unscored | negMiss "
        "| exact-0 | docs/s | wall/s | RSS MB | detected as |"
    )
    lines = [head, "|" + "---|" * 15]
    for r in rows:
        rec = [pct(r.recall[c]) if c in r.recall else "–" for c in CLASSES]
        det = ", ".join(f"{k} {pct(v)}" for k, v in r.detected.items())
        lines.append(
            f"| {r.file} | {r.analyser} | {r.n} | {pct(r.acc)} | {pct(r.macro_f1)} | "
            + " | ".join(rec)
            + f" | {pct(r.unscored)} | {pct(r.neg_missed)} | {pct(r.exact_zero)} "
            f"| {r.docs_per_s:,.0f} | {r.wall_per_s:,.0f} | {r.peak_rss_mb:,.0f} | {det} |"
        )
    return "\n".join(lines)


def summary(rows: list[Row]) -> str:
    out = ["", "Mean over the English sets (" + ", ".join(ENGLISH_SETS) + "):"]
    for name in dict.fromkeys(r.analyser for r in rows):
        picked = [r for r in rows if r.analyser == name and r.file in ENGLISH_SETS]
        if len(picked) == len(ENGLISH_SETS):
            f1 = sum(r.macro_f1 for r in picked) / len(picked)
            speed = min(r.docs_per_s for r in picked)
            out.append(f"  {name:22s} macro-F1 {pct(f1)}   slowest set {speed:,.0f} docs/s")
    return "\n".join(out)


def by_language(rows: list[Row]) -> str:
    """Per language and analyser: means over the language's files (held-out files apart)."""
    out = [
        "",
        "| lang | analyser | files | mean macro-F1 | mean unscored | slowest docs/s "
        "| slowest wall/s | peak RSS MB |",
        "|" + "---|" * 8,
    ]
    groups: dict[tuple[str, str, bool], list[Row]] = {}
    for r in rows:
        own = r.file.startswith("sentiment_heldout_")
        groups.setdefault((r.lang, r.analyser, own), []).append(r)
    for (lang, name, own), picked in sorted(groups.items()):
        n = len(picked)
        out.append(
            f"| {lang}{' (own held-out)' if own else ''} | {name} | {n} "
            f"| {pct(sum(r.macro_f1 for r in picked) / n)} "
            f"| {pct(sum(r.unscored for r in picked) / n)} "
            f"| {min(r.docs_per_s for r in picked):,.0f} | {min(r.wall_per_s for r in picked):,.0f} "
            f"| {max(r.peak_rss_mb for r in picked):,.0f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--analysers", default=DEFAULT_SPECS, help=f"default: {DEFAULT_SPECS}")
    ap.add_argument("--model-path", help="model folder for the transformers analyser")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON here")
    ap.add_argument("--repeat", type=int, default=1, help="timed passes per file (best counts)")
    ap.add_argument("--threads", default="1", help="BLAS/OpenMP threads (read before numpy loads)")
    ap.add_argument("--also", type=Path, help="folder with the team's sentiment_heldout_*.tsv")
    ap.add_argument("--langs", help="only files of these languages, e.g. fa,tr,ar")
    args = ap.parse_args(argv)
    files = sorted(args.folder.glob("*.jsonl"))
    if args.also:
        files += sorted(args.also.glob("sentiment_heldout_*.tsv"))
    if args.langs:
        wanted = set(args.langs.split(","))
        files = [f for f in files if f.stem.rsplit("_", 1)[-1] in wanted]
    if not files:
        print(f"no *.jsonl files in {args.folder}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    for spec in args.analysers.split(","):
        label, settings = parse_spec(spec.strip(), args.model_path)
        enricher = Enricher(settings, ROOT)
        enricher.enrich_many([{"text": "warm up the lexicons"}])
        for path in files:
            rows.append(evaluate(path, label, enricher, max(1, args.repeat)))
            print(f"  {label:22s} {path.stem:26s} done", file=sys.stderr)
    rows.sort(key=lambda r: (r.lang != "en", r.file))
    print(table(rows))
    print(summary(rows))
    print(by_language(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
