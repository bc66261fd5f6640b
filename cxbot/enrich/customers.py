"""One profile per customer across channels (the "single source of truth"), resolved for a
whole batch of freshly enriched signals at once.

Matching: by normalised email, then by (provider, handle); two different emails are never
merged. The batch reads every candidate profile in two queries, resolves the rows in order
against maps it keeps current (so a batch resolves exactly as its rows would one at a time;
tests/test_enrichment_write.py checks it), then writes in a handful of statements (cxbot/store/jsonsql.py
says why that matters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from cxbot.enrich import rows as rows_sql
from cxbot.enrich.identity import normalise_email, normalise_handle


@dataclass
class CustomerBatch:
    """Customer lookups for one batch, loaded up front, then kept current as rows are resolved
    in order, so a batch resolves exactly as the same rows one at a time would."""

    by_email: dict[str, int]
    by_handle: dict[tuple[str, str], int]
    email_of: dict[int, str | None]
    next_id: int
    new: list[dict[str, Any]] = field(default_factory=list)  # customers rows to insert
    emails_set: dict[int, str] = field(default_factory=dict)
    handles_added: list[list[Any]] = field(default_factory=list)  # provider, handle, customer

    @classmethod
    def load(cls, db: Database, rows: Sequence[dict[str, Any]]) -> CustomerBatch:
        """Everything the rows' authors may match, read in two queries."""
        keys = [
            (
                normalise_email(row.get("author_email")),
                row["provider"],
                normalise_handle(row.get("author_handle")),
            )
            for row in rows
        ]
        emails = sorted({email for email, _, _ in keys if email})
        handles = sorted({(p, h) for _, p, h in keys if h})
        by_email: dict[str, int] = {}
        email_of: dict[int, str | None] = {}
        for cid, email in rows_sql.customers_by_email(db, emails):
            by_email[email] = cid
            email_of[cid] = email
        by_handle: dict[tuple[str, str], int] = {}
        for provider, handle, cid, known in rows_sql.customers_by_handle(db, handles):
            by_handle[(provider, handle)] = cid
            email_of[cid] = known
        return cls(by_email, by_handle, email_of, rows_sql.next_customer_id(db))

    def resolve(self, row: dict[str, Any]) -> int | None:
        """One profile per person: matched by normalised email, then by (provider, handle).

        Two different emails are never merged; a handle-only profile gains the email the
        first time the same handle writes with one.
        """
        email = normalise_email(row.get("author_email"))
        handle = normalise_handle(row.get("author_handle"))
        provider: str = row["provider"]
        customer_id = self.by_email.get(email) if email else None
        if customer_id is None and handle:
            found = self.by_handle.get((provider, handle))
            if found is not None and (email is None or self.email_of.get(found) is None):
                customer_id = found
                if email:
                    self.emails_set[found] = email
                    self.email_of[found] = email
                    self.by_email[email] = found
        if customer_id is None:
            if not email and not handle:
                return None
            customer_id = self.next_id
            self.next_id += 1
            seen = row["created_at"]
            self.new.append(
                {
                    "id": customer_id,
                    "email": email,
                    "name": row.get("author_name"),
                    "first_seen": seen,
                    "last_seen": seen,
                }
            )
            self.email_of[customer_id] = email
            if email:
                self.by_email[email] = customer_id
        if handle and (provider, handle) not in self.by_handle:
            self.by_handle[(provider, handle)] = customer_id
            self.handles_added.append([provider, handle, customer_id])
        return customer_id

    def write(self, db: Database, resolved: list[tuple[int, dict[str, Any], float | None]]) -> None:
        """New profiles, emails gained, handles seen, each signal's customer, and the profiles'
        counts: five statements for the whole batch. `resolved` holds (customer id, signal row,
        text sentiment) for every signal that has a customer."""
        rows_sql.write_customers(
            db,
            self.new,
            self.emails_set,
            self.handles_added,
            [[row["id"], cid] for cid, row, _ in resolved],
            profile_changes(resolved),
        )


def profile_changes(resolved: list[tuple[int, dict[str, Any], float | None]]) -> list[list[Any]]:
    """Per customer: signals added, first name seen, first/last seen, sentiment sum and count."""
    totals: dict[int, list[Any]] = {}
    for cid, row, sentiment in resolved:
        t = totals.setdefault(cid, [cid, 0, None, row["created_at"], row["created_at"], 0.0, 0])
        t[1] += 1
        t[2] = t[2] if t[2] is not None else row.get("author_name")
        t[3] = min(t[3], row["created_at"])
        t[4] = max(t[4], row["created_at"])
        if sentiment is not None:
            t[5] += sentiment
            t[6] += 1
    return list(totals.values())
