"""The live scorer caps numpy's BLAS at `blas_threads` (default one) in its own process.

Why: a live stream hands the encoder batches of a few texts, and BLAS spreading each over every
core made webhook-to-alert p99 1.85-7.3 s at 8 webhooks/s (docs/enrichment.md).
"""

from __future__ import annotations

from pathlib import Path

from threadpoolctl import threadpool_info

from cxbot.enrich.settings import EnrichSettings
from cxbot.enrich.worker import enrichment_executor

ROOT = Path(__file__).resolve().parents[2]


def blas_threads_in(settings: EnrichSettings) -> list[int]:
    pool = enrichment_executor(settings, ROOT)
    try:
        info = pool.submit(threadpool_info).result(timeout=120)
    finally:
        pool.shutdown(wait=True)
    return [lib["num_threads"] for lib in info if lib["user_api"] == "blas"]


def test_the_scorer_process_uses_one_blas_thread() -> None:
    assert blas_threads_in(EnrichSettings()) == [1]
