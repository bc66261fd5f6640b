"""Google Play and Business Profile against a fake Google (token endpoint and both APIs):
the service account's signed token request, paging, the mapping, a token expired and renewed."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from cxbot.errors import ConfigError
from cxbot.poll.config import resolve_poll
from tests.kit.fakereviews import FakeGoogle, new_service_account, place_review, play_review
from tests.kit.support import MakeSettings, serving
from tests.poll.conftest import until

pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest_asyncio.fixture
async def google() -> AsyncIterator[tuple[FakeGoogle, str]]:
    async with FakeGoogle() as fake:
        key_json, public = new_service_account(fake.token_url)
        fake.public_key = public
        yield fake, key_json


def toml(fake: FakeGoogle) -> str:
    return f"""
[sources.android]
type = "google_play"
package_name = "com.example.shop"
credentials_env = "PLAY_KEY"
api_url = "{fake.root}"
token_url = "{fake.token_url}"
interval = "1s"

[sources.store]
type = "google_business"
account = "111"
location = "222"
credentials_env = "PLAY_KEY"
api_url = "{fake.root}"
token_url = "{fake.token_url}"
interval = "1s"
"""


def rows(db: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_play_and_business_reviews_with_a_token_renewed(
    make_settings: MakeSettings, env: dict[str, str], google: tuple[FakeGoogle, str]
) -> None:
    fake, key_json = google
    fake.play = [
        play_review(3, 1, 1764500000, reviewerLanguage="tr", device="a52q", androidOsVersion=34,
                    appVersionName="5.2.0", appVersionCode=520,
                    deviceMetadata={"manufacturer": "Samsung", "productName": "Galaxy A52"}),
        play_review(2, 5, 1764400000, text="No title here"),
        play_review(1, 4, 141582134),  # the docs' own example time (1974): not believed
    ]  # fmt: skip
    fake.places = [
        place_review(2, "ONE", "2026-11-25T10:00:00.123Z", comment=None),
        place_review(1, "FOUR", "2026-11-24T10:00:00Z"),
        place_review(0, "STAR_RATING_UNSPECIFIED", "2026-11-23T10:00:00Z", comment=None),
    ]
    settings = make_settings(toml(fake), {**env, "PLAY_KEY": key_json})
    db = settings.db_path
    async with serving(settings):
        await until(
            lambda: (
                rows(db, "SELECT count(*) FROM poll_cursors WHERE last_ok IS NOT NULL") == [(2,)]
            )
        )
        assert sorted(set(fake.scopes)) == [
            "https://www.googleapis.com/auth/androidpublisher",
            "https://www.googleapis.com/auth/business.manage",
        ]
        issued = len(fake.issued)
        fake.expire_tokens()  # Google ends the tokens early: the next request gets 401
        fake.play.insert(0, play_review(4, 2, 1764600000))
        await until(
            lambda: rows(db, "SELECT count(*) FROM signals WHERE source = 'android'") == [(4,)]
        )
        assert len(fake.issued) > issued and fake.rejected >= 1
    got = rows(db, "SELECT external_id, title, text, rating, created_at, metadata, url FROM signals"
                   " WHERE source = 'android' ORDER BY external_id")  # fmt: skip
    first = got[2]
    assert first[:4] == ("gp:3", "Title 3", "Play review 3", 1)
    assert first[4] == "2025-11-30T10:53:20.000000Z"
    assert json.loads(first[5]) == {
        "language": "tr", "device": "a52q", "android_os": 34, "app_version": "5.2.0",
        "app_version_code": 520, "device_model": "Samsung Galaxy A52", "replied": False,
    }  # fmt: skip
    assert (
        first[6] == "https://play.google.com/store/apps/details?id=com.example.shop&reviewId=gp%3A3"
    )
    assert got[1][1:3] == (None, "No title here")
    assert got[0][4] > "2026"  # stored with the time it was first seen
    places = rows(
        db,
        "SELECT external_id, rating, text, author_name FROM signals WHERE source = 'store' ORDER BY id",
    )
    assert places == [
        ("accounts/111/locations/222/reviews/r2", 1, None, "Visitor 2"),
        ("accounts/111/locations/222/reviews/r1", 4, "Nice place", "Visitor 1"),
    ]  # the unspecified rating without text is not a signal: skipped, and counted
    rejected = rows(db, "SELECT group_concat(rejected) FROM events WHERE source = 'store'")[0][0]
    assert "item 0: a signal needs text, a rating or a score" in rejected  # each walk says so


def test_a_bad_key_file_is_refused_with_the_key_named() -> None:
    raw = {"type": "google_play", "package_name": "com.example.shop", "credentials_env": "K"}
    with pytest.raises(ConfigError, match="sources.android.credentials: is not JSON"):
        resolve_poll("sources.android", "android", raw, {"K": "{not json"})
    with pytest.raises(ConfigError, match="has no client_email or private_key"):
        resolve_poll("sources.android", "android", raw, {"K": '{"type": "service_account"}'})
    with pytest.raises(ConfigError, match="package_name: String should match pattern"):
        resolve_poll("sources.android", "android", {**raw, "package_name": "shop"}, {"K": "{}"})
