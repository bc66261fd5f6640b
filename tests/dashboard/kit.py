"""Shared by the dashboard tests: a week of signals to post, the config, and signing in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from cxbot.config import Settings
from cxbot.dashboard.links import personal_link
from tests.kit.support import BAD_REVIEW_RULE

SECRET_KEY = "dashboard-test-secret-key-0123456789"
CONFIG = (
    BAD_REVIEW_RULE
    + """
[slack]
admins = ["UADMIN"]
"""
)


def week_of_signals(
    now: datetime | None = None, count: int = 40, prefix: str = "s"
) -> list[dict[str, Any]]:
    """Reviews, NPS, CSAT and CES answers spread evenly over the last ten days."""
    now = now or datetime.now(UTC)
    out: list[dict[str, Any]] = []
    step = 240 / count  # hours
    for i in range(count):
        at = (now - timedelta(hours=step * i + 0.5)).isoformat()
        base = {"id": f"{prefix}{i}", "created_at": at}
        match i % 4:
            case 0:
                rating = 1 + i % 5
                words = "terrible refund never came" if rating <= 2 else "lovely app"
                out.append({**base, "kind": "review", "rating": rating, "text": words})
            case 1:
                out.append(
                    {
                        **base,
                        "kind": "survey",
                        "score": i % 11,
                        "score_type": "nps",
                        "text": "the delivery was slow" if i % 11 < 7 else "great",
                    }
                )
            case 2:
                out.append({**base, "kind": "survey", "score": 1 + i % 5, "score_type": "csat"})
            case _:
                out.append(
                    {
                        **base,
                        "kind": "survey",
                        "score": 1 + i % 7,
                        "score_type": "ces",
                        "author": {"email": f"user{i}@example.com", "name": f"User {i}"},
                    }
                )
    return out


def sign_in_link(settings: Settings, user: str | None = None) -> str:
    link = personal_link(settings, user, datetime.now(UTC))
    assert link is not None
    return link


async def signed_in_session(url: str, link: str) -> aiohttp.ClientSession:
    """A client session holding the dashboard cookie (the link's host swapped for `url`)."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    path = link[link.index("/dashboard") :]
    async with session.get(url + path, allow_redirects=False) as resp:
        assert resp.status == 303, await resp.text()
        assert resp.headers["Location"] == "/dashboard"
    return session
