"""Writing enrichment back: one batch of statements resolves customers exactly as one signal at
a time would, and a signal enriched meanwhile is never counted twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from cxbot.enrich import Enrichment
from cxbot.enrich.rows import pending
from cxbot.enrich.worker import apply_enrichment, store_enrichment
from cxbot.models import Author, Signal
from cxbot.store.intake import DeliveryRecord, store_deliveries
from tests.kit.postgres import Engine

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _fresh_db(engine: Engine) -> Database:
    return engine.migrated()  # the writer creates and migrates the database


def _store(db: Database, authors: list[tuple[str, Author]]) -> None:
    signals = [
        Signal(
            external_id=f"s{i}",
            kind="review",
            text="late",
            author=author,
            created_at=datetime(2026, 11, 1 + i % 28, tzinfo=UTC),
        )
        for i, (_, author) in enumerate(authors)
    ]
    providers = {provider for provider, _ in authors}
    for provider in sorted(providers):
        store_deliveries(
            db,
            [
                DeliveryRecord(
                    source=provider,
                    provider=provider,
                    received_at="2026-11-20T10:00:00Z",
                    body="{}",
                    signals=[
                        s for s, (p, _) in zip(signals, authors, strict=True) if p == provider
                    ],
                )
            ],
        )


def _enrichment(i: int) -> Enrichment:
    scored = i % 3 != 0
    return Enrichment(
        lang="en" if scored else None,
        text_sentiment=(i % 7 - 3) / 4 if scored else None,
        sentiment_label="negative" if scored else "unscored",
        sentiment_source="text" if scored else "none",
        topics=["delivery"],
        urgency=i % 4,
    )


def _state(db: Database) -> dict[str, Any]:
    def rounded(v: float | None) -> float | None:
        return None if v is None else round(v, 9)

    customers = [
        (*r[:6], rounded(r[6]), r[7], rounded(r[8]))
        for r in db.execute(
            "SELECT id, email, name, first_seen, last_seen, signal_count, sentiment_sum,"
            " sentiment_count, avg_sentiment FROM customers ORDER BY id"
        ).fetchall()
    ]
    return {
        "customers": customers,
        "handles": db.execute("SELECT * FROM customer_handles ORDER BY 1, 2").fetchall(),
        "signals": db.execute(
            "SELECT id, customer_id, sentiment_label, enriched_at FROM signals ORDER BY id"
        ).fetchall(),
    }


def _enrich(db: Database, one_at_a_time: bool) -> list[dict[str, Any]]:
    rows = pending(db, limit=1000)
    results = [_enrichment(r["id"]) for r in rows]
    seen: list[dict[str, Any]] = []  # what the rules stage is handed
    if one_at_a_time:
        for row, result in zip(rows, results, strict=True):
            seen.extend(store_enrichment(db, [row], [result], NOW))
    else:
        seen.extend(store_enrichment(db, rows, results, NOW))
    return seen


EMAILS = st.sampled_from([None, "ann@example.com", "ANN@example.com ", "bob@example.com"])
HANDLES = st.sampled_from([None, "@ann", "ann", "@bob"])
AUTHORS = st.lists(
    st.tuples(
        st.sampled_from(["x", "zendesk"]),
        st.builds(Author, name=st.sampled_from([None, "Ann", "Bob"]), email=EMAILS, handle=HANDLES),
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=AUTHORS, second=AUTHORS)
def test_a_batch_resolves_customers_as_one_signal_at_a_time_would(
    engine: Engine, first: list[tuple[str, Author]], second: list[tuple[str, Author]]
) -> None:
    states, dones = [], []
    for one_at_a_time in (True, False):
        db = _fresh_db(engine.another(uuid.uuid4().hex + ".db"))
        _store(db, first)
        done = _enrich(db, one_at_a_time)
        # A second wave meets the profiles the first made.
        for provider in sorted({p for p, _ in second}):
            store_deliveries(
                db,
                [
                    DeliveryRecord(
                        source=provider,
                        provider=provider,
                        received_at="2026-11-21T10:00:00Z",
                        body="{}",
                        signals=[
                            Signal(external_id=f"w{i}", kind="review", text="hi", author=a)
                            for i, (p, a) in enumerate(second)
                            if p == provider
                        ],
                    )
                ],
            )
        done += _enrich(db, one_at_a_time)
        states.append(_state(db))
        dones.append([(d["id"], d["customer_id"]) for d in done])
        db.conn.close()
    assert states[0] == states[1]
    assert dones[0] == dones[1]


def test_profiles_across_channels(engine: Engine) -> None:
    db = _fresh_db(engine)
    _store(
        db,
        [
            ("x", Author(handle="@ann")),  # handle only: a profile without email
            ("x", Author(handle="ann", email="Ann@Example.com")),  # same handle, gains the email
            ("zendesk", Author(email="ann@example.com", name="Ann")),  # same person by email
            ("x", Author(handle="@bob", email="bob@example.com")),
            ("x", Author(handle="@bob", email="robert@example.com")),  # another email: new
            ("zendesk", Author(name="Nobody")),  # nothing to match on: no profile
        ],
    )
    _enrich(db, one_at_a_time=False)
    customers = db.execute(
        "SELECT id, email, name, signal_count FROM customers ORDER BY id"
    ).fetchall()
    assert customers == [
        (1, "ann@example.com", "Ann", 3),
        (2, "bob@example.com", None, 1),
        (3, "robert@example.com", None, 1),
    ]
    assert db.execute("SELECT * FROM customer_handles ORDER BY 3").fetchall() == [
        ("x", "ann", 1),
        ("x", "bob", 2),
    ]
    by_signal = db.execute("SELECT external_id, customer_id FROM signals ORDER BY id").fetchall()
    assert [c for _, c in by_signal] == [1, 1, 2, 3, 1, None]  # x first, then zendesk


def test_a_signal_enriched_meanwhile_is_not_counted_twice(engine: Engine) -> None:
    db = _fresh_db(engine)
    _store(db, [("x", Author(email="ann@example.com")), ("x", Author(email="ann@example.com"))])
    rows = pending(db)
    results = [_enrichment(1), _enrichment(2)]
    first = apply_enrichment(db, rows[:1], results[:1], NOW)
    assert first == []
    # The same two rows again (a second worker, a reprocess): only the second one is new.
    seen = [d["id"] for d in store_enrichment(db, rows, results, NOW)]
    assert seen == [rows[1]["id"]]
    assert db.execute("SELECT signal_count FROM customers").fetchall() == [(2,)]
