"""Fixtures for the enrichment tests: one Enricher per session (loading takes about a second)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cxbot.enrich import Enricher, Enrichment, EnrichSettings

ROOT = Path(__file__).resolve().parents[2]  # the repository: config/topics.toml lives here
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def enricher() -> Enricher:
    return Enricher(EnrichSettings(), ROOT)


@pytest.fixture(scope="session")
def enrich_text(enricher: Enricher) -> Any:
    """enrich_text("...", rating=..., ...) -> Enrichment, with the other fields None."""

    def run(text: str | None, **fields: Any) -> Enrichment:
        args: dict[str, Any] = {"title": None, "rating": None, "score": None, "score_type": None}
        args.update(fields)
        return enricher.enrich(text=text, **args)

    return run
