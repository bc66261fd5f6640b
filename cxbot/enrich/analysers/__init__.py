"""Sentiment analysers, chosen by `EnrichSettings.analyser`."""

from __future__ import annotations

from pathlib import Path

from cxbot.enrich.analysers.base import Analyser
from cxbot.enrich.analysers.ensemble import EnsembleAnalyser
from cxbot.enrich.analysers.lexicon import TextBlobAnalyser, VaderAnalyser
from cxbot.enrich.settings import EnrichSettings

__all__ = ["Analyser", "EnsembleAnalyser", "TextBlobAnalyser", "VaderAnalyser", "build_analyser"]


def build_analyser(settings: EnrichSettings, base_dir: Path) -> Analyser:
    if settings.analyser == "textblob":
        return TextBlobAnalyser()
    if settings.analyser == "vader":
        return VaderAnalyser()
    if settings.analyser == "transformers":
        # Imported here so that the extra is only needed when it is configured.
        from cxbot.enrich.analysers.hf import TransformersAnalyser

        assert settings.model_path is not None  # EnrichSettings requires it for this analyser
        return TransformersAnalyser(
            base_dir / settings.model_path,
            languages=settings.model_languages,
            labels=settings.model_labels,
            batch_size=settings.batch_size,
            max_tokens=settings.max_tokens,
            threads=settings.model_threads,
        )
    if settings.analyser == "multilingual":
        # Imported here: numpy and the encoder's weights load only when it is configured.
        from cxbot.enrich.analysers.multilingual import MultilingualAnalyser

        return MultilingualAnalyser(
            negative_below=settings.negative_below,
            positive_above=settings.positive_above,
            detect_languages=settings.languages,
            min_confidence=settings.language_min_confidence,
        )
    return EnsembleAnalyser()
