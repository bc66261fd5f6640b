"""Reddit mentions against a fake Reddit: app-only OAuth, three pages of search results, the
mapping of a post, and a later mention that alerts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.kit.fakereviews import FakeReddit, reddit_post
from tests.kit.fakeslack import FakeSlack
from tests.kit.support import MakeSettings, serving, slack_env
from tests.poll.conftest import until

pytestmark = pytest.mark.usefixtures("blockbuster")

ALERTS = """
[[alerts]]
name = "outage-talk"
channel = "#cx-alerts"
kinds = ["mention"]
keywords = ["down"]
"""


def rows(db: Path, sql: str) -> list[Any]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def test_mentions_backfill_quietly_then_a_new_one_alerts(
    make_settings: MakeSettings, fake_slack: FakeSlack
) -> None:
    async with FakeReddit("cid", "csecret") as fake:
        fake.posts = [reddit_post(n, 1764000000 + n * 60, selftext="Checkout is down again" if n == 3 else "")
                      for n in (5, 4, 3, 2, 0)]  # fmt: skip
        toml = f"""
[sources.reddit]
type = "reddit"
query = '"ShopApp"'
subreddits = ["r/shopapp", "android"]
client_id_env = "REDDIT_ID"
client_secret_env = "REDDIT_SECRET"
api_url = "{fake.root}"
token_url = "{fake.root}/api/v1/access_token"
interval = "1s"
"""
        env = {**slack_env(fake_slack), "REDDIT_ID": "cid", "REDDIT_SECRET": "csecret"}
        settings = make_settings(toml + ALERTS, env)
        db = settings.db_path
        async with serving(settings):
            await until(
                lambda: (
                    rows(db, "SELECT count(*) FROM signals WHERE enriched_at IS NOT NULL") == [(5,)]
                )
            )
            assert [p for p, _ in fake.requests[:3]] == ["/r/shopapp+android/search.json"] * 3
            assert [q.get("after") for _, q in fake.requests[:3]] == [None, "t3_2", "t3_4"]
            assert (
                fake.requests[0][1]["restrict_sr"] == "1"
                and fake.requests[0][1]["q"] == '"ShopApp"'
            )
            assert rows(db, "SELECT count(*) FROM outbox") == [(0,)]  # "down" in history: no alert
            fake.posts.insert(
                0, reddit_post(6, 1764000000 + 600, title="ShopApp down for anyone else?")
            )
            await until(lambda: len(fake_slack.messages.get("C0001", [])) == 1)
        assert len(fake.tokens) == 1  # one token, reused
    got = rows(db, "SELECT external_id, kind, title, text, author_name, author_handle, url, metadata"
                   " FROM signals ORDER BY id")  # fmt: skip
    assert [g[0] for g in got] == ["t3_p5", "t3_p4", "t3_p3", "t3_p2", "t3_p0", "t3_p6"]
    assert got[2][1:7] == ("mention", "Is ShopApp down? (3)", "Checkout is down again", "redditor3",
                           "u/redditor3", "https://www.reddit.com/r/shopapp/comments/p3/post_3/")  # fmt: skip
    assert got[0][2:4] == (None, "Is ShopApp down? (5)")  # a link post: its title is its words
    assert got[4][4:6] == (None, None)  # [deleted]
    assert json.loads(got[0][7]) == {"subreddit": "shopapp", "score": 5, "num_comments": 0}
