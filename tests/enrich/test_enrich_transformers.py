"""The optional transformers analyser, end to end on a tiny model built here (no download).

The model is a randomly initialised 1-layer BERT with a 20-word WordLevel tokenizer, saved to
tmp_path. Its classifier is set so the output does not depend on the random weights: the
weights are zero and the bias favours one class, so every text gets the same known
probabilities. That pins the whole path: loading from disk, tokenising, batching, label
mapping from id2label, and the enricher scoring languages the ensemble cannot read.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from cxbot.enrich import Enricher, EnrichSettings
from cxbot.enrich.analysers.hf import label_polarity
from cxbot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
WORDS = ["good", "bad", "order", "late", "thanks", "سفارش", "دیر", "kargo", "geç", "merci"]


def build_tiny_model(
    folder: Path, labels: dict[int, str], bias: list[float], arch: str = "bert"
) -> Path:
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    tokenizers = pytest.importorskip("tokenizers")
    torch.manual_seed(0)
    vocab = {w: i for i, w in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *WORDS])}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )
    common = {
        "vocab_size": len(vocab),
        "num_labels": len(labels),
        "id2label": labels,
        "label2id": {v: k for k, v in labels.items()},
        "max_position_embeddings": 64,
    }
    if arch == "bert":
        config = transformers.BertConfig(
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            **common,
        )
        model = transformers.BertForSequenceClassification(config)
        head = model.classifier
    else:
        config = transformers.DistilBertConfig(
            dim=16, n_layers=1, n_heads=2, hidden_dim=32, **common
        )
        model = transformers.DistilBertForSequenceClassification(config)
        head = model.classifier
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor(bias))
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def softmax(xs: list[float]) -> list[float]:
    exps = [math.exp(x) for x in xs]
    return [e / sum(exps) for e in exps]


THREE = {0: "negative", 1: "neutral", 2: "positive"}


def test_end_to_end_scores_every_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a download attempt would fail the test
    bias = [2.0, 0.0, -1.0]
    build_tiny_model(tmp_path / "model", THREE, bias)
    settings = EnrichSettings(
        analyser="transformers", model_path=str(tmp_path / "model"), batch_size=2
    )
    enricher = Enricher(settings, ROOT)
    p = softmax(bias)
    expected = round(p[2] - p[0], 4)  # P(positive) - P(negative)
    rows = [
        {"text": "سفارش دیر رسید"},
        {"text": "kargo çok geç geldi"},
        {"text": "the order was late"},
        {"text": "👍"},
        {"text": None, "rating": 5},
    ]
    got = [
        (e.lang, e.text_sentiment, e.sentiment_label, e.sentiment_source)
        for e in enricher.enrich_many(rows)
    ]
    assert got == [
        ("fa", expected, "negative", "text"),
        ("tr", expected, "negative", "text"),
        ("en", expected, "negative", "text"),
        (None, expected, "negative", "text"),
        (None, None, "positive", "rating"),
    ]
    assert enricher.analyser_name == "transformers"


def test_model_languages_limit_what_is_scored(tmp_path: Path) -> None:
    build_tiny_model(tmp_path / "m", THREE, [0.0, 0.0, 3.0], arch="distilbert")
    settings = EnrichSettings(
        analyser="transformers", model_path=str(tmp_path / "m"), model_languages=["fa"]
    )
    got = Enricher(settings, ROOT).enrich_many(
        [{"text": "سفارش دیر رسید"}, {"text": "the order was late"}]
    )
    assert [(e.lang, e.sentiment_label) for e in got] == [("fa", "positive"), ("en", "unscored")]


def test_generic_label_names_need_a_mapping(tmp_path: Path) -> None:
    build_tiny_model(tmp_path / "m", {0: "LABEL_0", 1: "LABEL_1"}, [0.0, 4.0])
    settings = EnrichSettings(analyser="transformers", model_path=str(tmp_path / "m"))
    with pytest.raises(ConfigError, match="model's label 'LABEL_0' does not say"):
        Enricher(settings, ROOT)
    mapped = settings.model_copy(update={"model_labels": {"LABEL_0": -1.0, "LABEL_1": 1.0}})
    got = Enricher(mapped, ROOT).enrich(
        text="good", title=None, rating=None, score=None, score_type=None
    )
    p = softmax([0.0, 4.0])
    assert (got.text_sentiment, got.sentiment_label) == (round(p[1] - p[0], 4), "positive")


def test_bad_model_path(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    settings = EnrichSettings(analyser="transformers", model_path="no/such/model")
    with pytest.raises(ConfigError, match="is not a folder holding a saved model"):
        Enricher(settings, tmp_path)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot load a model from"):
        Enricher(settings.model_copy(update={"model_path": "broken"}), tmp_path)


def test_missing_extra_is_a_clear_config_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Runs with or without the extra installed: a None entry makes the import fail.
    monkeypatch.setitem(sys.modules, "transformers", None)
    settings = EnrichSettings(analyser="transformers", model_path=str(tmp_path))
    with pytest.raises(ConfigError, match=r"pip install 'cxbot\[transformers\]'"):
        Enricher(settings, ROOT)


@pytest.mark.parametrize("name", ["multilingual", "ensemble"])
def test_other_analysers_never_import_transformers(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    monkeypatch.setitem(sys.modules, "torch", None)
    assert Enricher(EnrichSettings(analyser=name), ROOT).analyser_name == name


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("negative", -1.0),
        ("Neutral", 0.0),
        ("POSITIVE", 1.0),
        ("1 star", -1.0),
        ("3 stars", 0.0),
        ("5 stars", 1.0),
        ("4 stars", 0.5),
        ("neg", -1.0),
    ],
)
def test_label_polarity_from_names(name: str, value: float) -> None:
    assert label_polarity(name) == value
