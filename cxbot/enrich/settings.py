"""The [enrich] table of config/cxbot.toml. Every field has a default; docs/enrichment.md explains.

Label thresholds apply to a text score in -1..1 (negative when score < negative_below, positive
when score > positive_above, neutral between). They were chosen on the team's own hand-written
sentences (tests/enrich/data/sentiment_dev_en.tsv), never on the evaluation sets.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Languages the detector chooses among by default: the ones cxbot's customers write plus the
# widely used ones. A narrower list is more accurate on short texts (fewer look-alikes).
DEFAULT_LANGUAGES: tuple[str, ...] = (
    "en", "fa", "tr", "ar", "ur", "de", "fr", "es", "it", "pt", "nl", "ru", "uk", "pl", "sv",
    "da", "no", "fi", "id", "ms", "hi", "zh", "ja", "ko", "he", "el", "ro", "cs", "hu", "az",
    "vi", "th",
)  # fmt: skip

_CODE = re.compile(r"^[a-z]{2}$")


class EnrichSettings(BaseModel):
    """How signals are labelled: analyser, thresholds, taxonomy files, detection languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    worker: Literal["process", "thread"] = Field(
        "process",
        description="where scoring runs: a separate process (keeps the GIL free for webhooks) "
        "or a thread of the server (lighter; for tests and tiny deployments)",
    )
    # "multilingual" is a Literal of its own so that pydantic's message for a wrong value still
    # lists the original four first, word for word (tests and docs quote it).
    analyser: Literal["ensemble", "textblob", "vader", "transformers"] | Literal["multilingual"] = (
        Field(
            "multilingual",
            description="sentiment analyser; multilingual (default) = the ensemble for English, a "
            "bundled multilingual encoder for Persian/Turkish/Arabic; ensemble = TextBlob + VADER + "
            "CX rules (English only)",
        )
    )
    blas_threads: int = Field(
        1,
        ge=0,
        description="BLAS threads of the live scorer (the encoder's matrix products); 0 = "
        "numpy's default (every core). One is faster for the small batches of a live stream",
    )
    model_path: str | None = Field(
        None, description="transformers only: folder of a saved sequence-classification model"
    )
    topics_file: str = Field("config/topics.toml", description="the topic/urgency taxonomy")
    extra_topics_file: str | None = Field(
        None, description="your own taxonomy, merged over topics_file (same format)"
    )
    negative_below: float = Field(
        -0.05, ge=-1, le=1, description="text score below this is labelled negative"
    )
    positive_above: float = Field(
        0.2, ge=-1, le=1, description="text score above this is labelled positive"
    )
    clearly_negative_below: float = Field(
        -0.4,
        ge=-1,
        le=1,
        description="a neutral rating/score (3 stars, NPS 7-8, CSAT 3, CES 4) turns negative "
        "when the text scores below this",
    )
    languages: list[str] | None = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES),
        description="ISO 639-1 codes the detector chooses among; null = all py3langid knows",
    )
    language_min_confidence: float = Field(
        0.15, ge=0, lt=1, description="below this detection confidence the language is unknown"
    )
    max_chars: int = Field(
        5000, ge=100, description="only the first max_chars of a text are analysed (speed)"
    )
    model_languages: list[str] | None = Field(
        None, description="transformers only: languages the model reads; null = every text"
    )
    model_labels: dict[str, float] | None = Field(
        None,
        description="transformers only: model label -> polarity in -1..1, when the names in "
        "the model's id2label do not say (e.g. LABEL_0)",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="transformers only: texts per batch")
    max_tokens: int = Field(
        256, ge=8, le=4096, description="transformers only: longer texts are truncated"
    )
    model_threads: int | None = Field(
        None, ge=1, description="transformers only: torch CPU threads; null = torch's default"
    )

    @field_validator("languages", "model_languages")
    @classmethod
    def _codes(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return None
        bad = [code for code in v if not _CODE.match(code)]
        if bad:
            raise ValueError(f"not ISO 639-1 codes (two lower-case letters): {bad}")
        if not v:
            raise ValueError("must name at least one language, or be left out")
        return v

    @field_validator("model_labels")
    @classmethod
    def _polarities(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is not None and any(not -1 <= x <= 1 for x in v.values()):
            raise ValueError("each label's polarity must be between -1 and 1")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> EnrichSettings:
        if self.negative_below > self.positive_above:
            raise ValueError("negative_below must not be above positive_above")
        if self.clearly_negative_below > self.negative_below:
            raise ValueError("clearly_negative_below must not be above negative_below")
        if self.analyser == "transformers" and not self.model_path:
            raise ValueError("analyser 'transformers' needs model_path (a local model folder)")
        return self
