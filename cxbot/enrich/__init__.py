"""Enrichment: language, sentiment, topics and urgency for one signal's text and scores.

    enricher = Enricher(settings.file.enrich, settings.base_dir)   # loads everything once
    enricher.enrich(text=..., title=..., rating=..., score=..., score_type=...)
    enricher.enrich_many(rows)   # rows: mappings with those five keys (others are ignored)

Plain synchronous code: the caller runs it on a worker thread. docs/enrichment.md explains the
analysers, thresholds, languages, the taxonomy file and urgency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cxbot.enrich.analysers import build_analyser
from cxbot.enrich.intent import intent
from cxbot.enrich.labels import UNSCORED, final_label, text_label
from cxbot.enrich.language import NO_LANGUAGE, LanguageDetector
from cxbot.enrich.settings import EnrichSettings
from cxbot.enrich.textnorm import fold
from cxbot.enrich.topics import Taxonomy
from cxbot.enrich.urgency import urgency_level

__all__ = ["EnrichSettings", "Enricher", "Enrichment"]


@dataclass(frozen=True)
class Enrichment:
    lang: str | None  # ISO 639-1, None when no text / undetectable
    text_sentiment: float | None  # analyser's score in -1..1; None: no text or not scorable
    sentiment_label: str  # "negative" | "neutral" | "positive" | "unscored"
    sentiment_source: str  # "rating" | "score" | "text" | "none"
    topics: list[str]  # topic names, sorted
    urgency: int  # 0..3
    intent: str | None = None  # one of intent.INTENTS; None when unknown


def _join(title: str | None, text: str | None) -> str:
    """Title and body analysed together: a review's title often carries its verdict."""
    parts = [p.strip() for p in (title, text) if p and p.strip()]
    if len(parts) == 2 and parts[0][-1:] not in ".!?:;":
        parts[0] += "."  # keep the title a sentence of its own for the lexicons
    return " ".join(parts)


# The default taxonomy ships inside the package (config/topics.toml links to it), so cxbot run
# from any folder, or installed from a wheel, still has it.
PACKAGED_TOPICS = Path(__file__).resolve().parent.parent / "data" / "topics.toml"


def topics_path(settings: EnrichSettings, base: Path) -> Path:
    path = base / settings.topics_file
    default = EnrichSettings.model_fields["topics_file"].default
    if not path.exists() and settings.topics_file == default:
        return PACKAGED_TOPICS
    return path


class Enricher:
    def __init__(self, settings: EnrichSettings, base_dir: Path) -> None:
        self.settings = settings
        base = Path(base_dir)
        self._detector = LanguageDetector(settings.languages, settings.language_min_confidence)
        self._analyser = build_analyser(settings, base)
        extra = base / settings.extra_topics_file if settings.extra_topics_file else None
        self._taxonomy = Taxonomy.from_files(topics_path(settings, base), extra)

    @property
    def analyser_name(self) -> str:
        return self._analyser.name

    @property
    def topic_names(self) -> tuple[str, ...]:
        return self._taxonomy.topic_names

    def enrich(
        self,
        *,
        text: str | None,
        title: str | None,
        rating: int | None,
        score: float | None,
        score_type: str | None,
    ) -> Enrichment:
        item = {
            "text": text,
            "title": title,
            "rating": rating,
            "score": score,
            "score_type": score_type,
        }
        return self.enrich_many([item])[0]

    def enrich_many(self, items: Sequence[Mapping[str, Any]]) -> list[Enrichment]:
        s = self.settings
        texts = [_join(item.get("title"), item.get("text"))[: s.max_chars] for item in items]
        langs = [self._detector.detect(t) if t else None for t in texts]
        # Only texts the analyser can read are scored, all in one call (the model batches).
        todo = [i for i, t in enumerate(texts) if t and self._analyser.reads(langs[i])]
        scores: list[float | None] = [None] * len(items)
        for i, value in zip(todo, self._analyser.score_many([texts[i] for i in todo]), strict=True):
            scores[i] = None if value is None else round(value, 4)
        out = []
        for item, text, lang, text_score in zip(items, texts, langs, scores, strict=True):
            polarity = text_label(text_score, s.negative_below, s.positive_above)
            label, source = final_label(
                text_score=text_score,
                text_polarity=polarity,
                rating=item.get("rating"),
                score=item.get("score"),
                score_type=item.get("score_type"),
                clearly_negative_below=s.clearly_negative_below,
            )
            topics, cue_level = self._taxonomy.match(fold(text)) if text else ([], 0)
            code = None if lang == NO_LANGUAGE else lang
            out.append(
                Enrichment(
                    lang=code,
                    text_sentiment=text_score,
                    sentiment_label=label,
                    sentiment_source=source,
                    topics=topics,
                    urgency=urgency_level(cue_level, label),
                    intent=intent(text, code, item.get("rating"), text_score),
                )
            )
        return out


# Re-exported for callers that only want the label rule (e.g. reports).
__all__ += ["UNSCORED"]
