"""The [enrich] table: defaults, validation, and the errors the Enricher raises on bad config."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from cxbot.enrich import Enricher, EnrichSettings
from cxbot.enrich.settings import DEFAULT_LANGUAGES
from cxbot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults() -> None:
    s = EnrichSettings()
    assert (
        s.analyser,
        s.model_path,
        s.topics_file,
        s.extra_topics_file,
        s.negative_below,
        s.positive_above,
        s.clearly_negative_below,
        s.languages,
        s.language_min_confidence,
        s.max_chars,
        s.model_languages,
        s.model_labels,
        s.batch_size,
        s.max_tokens,
        s.model_threads,
        s.blas_threads,
    ) == (
        "multilingual",
        None,
        "config/topics.toml",
        None,
        -0.05,
        0.2,
        -0.4,
        list(DEFAULT_LANGUAGES),
        0.15,
        5000,
        None,
        None,
        32,
        256,
        None,
        1,
    )


def test_from_a_toml_table() -> None:
    s = EnrichSettings.model_validate(
        {
            "analyser": "vader",
            "negative_below": -0.1,
            "positive_above": 0.3,
            "languages": ["en", "tr"],
        }
    )
    assert (s.analyser, s.negative_below, s.positive_above, s.languages) == (
        "vader",
        -0.1,
        0.3,
        ["en", "tr"],
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"analyser": "bert"}, "Input should be 'ensemble', 'textblob', 'vader' or 'transformers'"),
        ({"unknown": 1}, "Extra inputs are not permitted"),
        (
            {"negative_below": 0.5, "positive_above": 0.1},
            "negative_below must not be above positive_above",
        ),
        (
            {"clearly_negative_below": 0.0},
            "clearly_negative_below must not be above negative_below",
        ),
        ({"positive_above": 1.5}, "less than or equal to 1"),
        ({"analyser": "transformers"}, "needs model_path"),
        ({"languages": ["EN"]}, "not ISO 639-1 codes"),
        ({"languages": ["eng"]}, "not ISO 639-1 codes"),
        ({"languages": []}, "at least one language"),
        ({"model_labels": {"LABEL_0": -2.0}}, "between -1 and 1"),
        ({"batch_size": 0}, "greater than or equal to 1"),
    ],
)
def test_invalid(table: dict, message: str) -> None:
    with pytest.raises(pydantic.ValidationError) as err:
        EnrichSettings.model_validate(table)
    assert message in str(err.value)


def test_unknown_detection_language_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="py3langid does not know xx"):
        Enricher(EnrichSettings(languages=["en", "xx"]), ROOT)


def test_missing_topics_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="taxonomy file not found"):
        Enricher(EnrichSettings(topics_file="mine.toml"), tmp_path)
    with pytest.raises(ConfigError, match="taxonomy file not found"):
        Enricher(EnrichSettings(extra_topics_file="mine.toml"), tmp_path)


def test_default_taxonomy_is_found_from_any_folder(tmp_path: Path) -> None:
    assert "refund" in Enricher(EnrichSettings(), tmp_path).topic_names


def test_paths_are_taken_from_base_dir(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text('[topics.only]\nen = ["widget"]\n', encoding="utf-8")
    (tmp_path / "x.toml").write_text('[topics.more]\nen = ["gadget"]\n', encoding="utf-8")
    e = Enricher(EnrichSettings(topics_file="t.toml", extra_topics_file="x.toml"), tmp_path)
    got = e.enrich(text="widget and gadget", title=None, rating=None, score=None, score_type=None)
    assert (e.topic_names, got.topics) == (("more", "only"), ["more", "only"])


def test_all_languages_when_null() -> None:
    e = Enricher(EnrichSettings(languages=None), ROOT)
    got = e.enrich(
        text="Dit is een Nederlandse zin over de bezorging.",
        title=None,
        rating=None,
        score=None,
        score_type=None,
    )
    assert (got.lang, got.sentiment_label) == ("nl", "unscored")
