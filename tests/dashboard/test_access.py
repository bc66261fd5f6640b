"""Who gets in: `/cx dashboard` answers the Slack user with a personal link (ephemeral), an
admin sees customers' emails and others do not, and without CXBOT_SECRET_KEY the dashboard is
off: the page says how to turn it on, the API refuses, `cxbot dashboard-link` exits with why."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.cx.test_cx_flow import slash
from tests.dashboard.kit import CONFIG, SECRET_KEY, signed_in_session, week_of_signals
from tests.kit.fakeslack import FakeSlack
from tests.kit.support import WEB_SECRET, MakeSettings, Server, serving, slack_env

pytestmark = pytest.mark.usefixtures("blockbuster")


@pytest.fixture
async def slack_board(make_settings: MakeSettings, fake_slack: FakeSlack) -> AsyncIterator[Server]:
    env = {**slack_env(fake_slack), "CXBOT_SECRET_KEY": SECRET_KEY}
    extra = CONFIG + '[server]\npublic_url = "https://cx.example.com/"\n'
    async with serving(make_settings(extra, env)) as server:
        yield server


async def _link_for(server: Server, fake: FakeSlack, user: str) -> str:
    assert await slash(server, fake, "dashboard", user=user, name=user) == 200
    [reply] = await fake.wait_for(lambda: fake.responses_by_name.get(user))
    assert reply["response_type"] == "ephemeral"  # the link signs in as the asker
    [link] = re.findall(r"https://cx\.example\.com/dashboard\?token=[\w.-]+", reply["text"])
    return link.replace("https://cx.example.com", server.url)


async def test_cx_dashboard_gives_each_user_a_link_and_emails_only_to_admins(
    slack_board: Server, fake_slack: FakeSlack
) -> None:
    assert (await slack_board.post("/webhooks/web", week_of_signals(), sign=True))[0] == 200
    for _ in range(100):  # customers are linked by enrichment
        async with slack_board.session.get(slack_board.url + "/healthz") as resp:
            if (await resp.json())["unenriched"] == 0:
                break
        await asyncio.sleep(0.1)
    for user, admin in (("UADMIN", True), ("U1", False)):
        session = await signed_in_session(
            slack_board.url, await _link_for(slack_board, fake_slack, user)
        )
        async with session:
            async with session.get(slack_board.url + "/dashboard/signals?q=7d&only=ces") as resp:
                listed = await resp.text()
                assert resp.status == 200
            async with session.get(
                slack_board.url + "/dashboard/signals?q=7d&only=ces&format=csv"
            ) as resp:
                assert resp.headers["Content-Type"].startswith("text/csv")
                assert (await resp.text()).startswith("id,created_at,source")
            [first] = re.findall(r'href="/dashboard/signal/(\d+)"', listed)[:1]
            async with session.get(f"{slack_board.url}/dashboard/signal/{first}") as resp:
                timeline = await resp.text()
                assert resp.status == 200 and "Timeline" in timeline
            assert ("@example.com" in listed + timeline) is admin, user
            async with session.get(slack_board.url + "/dashboard/signal/99999999") as resp:
                assert resp.status == 404
            async with session.get(slack_board.url + "/dashboard/signals?only=bogus") as resp:
                assert resp.status == 400


async def test_without_a_secret_key_the_dashboard_is_off(make_settings: MakeSettings) -> None:
    async with serving(make_settings(CONFIG, {"CXBOT_WEB_SECRET": WEB_SECRET})) as server:
        async with server.session.get(server.url + "/dashboard") as resp:
            text = await resp.text()
            assert resp.status == 503 and "CXBOT_SECRET_KEY" in text and 'class="tile"' not in text
        async with server.session.get(server.url + "/api/dashboard") as resp:
            assert resp.status == 503 and "CXBOT_SECRET_KEY" in (await resp.json())["message"]
        async with server.session.get(server.url + "/dashboard/events") as resp:
            assert resp.status == 503


def test_dashboard_link_needs_the_key(tmp_path: Path) -> None:
    config = tmp_path / "cxbot.toml"
    config.write_text(f'[database]\npath = "{tmp_path / "x.db"}"\n[server]\nport = 9123\n')
    base = [sys.executable, "-m", "cxbot", "dashboard-link", "--config", str(config)]
    off = subprocess.run(base, env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert off.returncode == 1 and "CXBOT_SECRET_KEY" in off.stderr and not off.stdout
    on = subprocess.run([*base, "--hours", "2"], env={"PATH": "/usr/bin:/bin", "CXBOT_SECRET_KEY": "k" * 32},
                        capture_output=True, text=True)  # fmt: skip
    assert on.returncode == 0, on.stderr
    assert re.fullmatch(r"http://localhost:9123/dashboard\?token=[\w-]+\.[\w-]+\n", on.stdout)


async def test_behind_https_the_cookie_is_secure_and_the_token_leaves_the_url(
    make_settings: MakeSettings,
) -> None:
    from tests.dashboard.kit import sign_in_link

    env = {"CXBOT_WEB_SECRET": WEB_SECRET, "CXBOT_SECRET_KEY": SECRET_KEY}
    async with serving(make_settings(CONFIG, env)) as server:
        link = sign_in_link(server.settings)
        path = link[link.index("/dashboard") :] + "&q=30d"
        async with server.session.get(
            server.url + path, allow_redirects=False, headers={"X-Forwarded-Proto": "https"}
        ) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/dashboard?q=30d"
            cookie = resp.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            assert resp.headers["Referrer-Policy"] == "no-referrer"
