"""Sentiment analysers, chosen by `EnrichSettings.analyser`."""

from __future__ import annotations

from pathlib import Path

from ..settings import EnrichSettings
from .base import Analyser
from .ensemble import EnsembleAnalyser
from .lexicon import TextBlobAnalyser, VaderAnalyser

__all__ = ["Analyser", "EnsembleAnalyser", "TextBlobAnalyser", "VaderAnalyser", "build_analyser"]


def build_analyser(settings: EnrichSettings, base_dir: Path) -> Analyser:
    if settings.analyser == "textblob":
        return TextBlobAnalyser()
    if settings.analyser == "vader":
        return VaderAnalyser()
    if settings.analyser == "transformers":
        # Imported here so that the extra is only needed when it is configured.
        from .hf import TransformersAnalyser

        assert settings.model_path is not None  # EnrichSettings requires it for this analyser
        return TransformersAnalyser(
            base_dir / settings.model_path,
            languages=settings.model_languages,
            labels=settings.model_labels,
            batch_size=settings.batch_size,
            max_tokens=settings.max_tokens,
            threads=settings.model_threads,
        )
    return EnsembleAnalyser()
