"""Reply keys in a source's table: accepted beside the adapter's own, resolved from the
environment, checked, and deciding which sources can reply."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxbot.config import load_settings
from cxbot.errors import ConfigError
from cxbot.replies.clients import can_reply, reply_sources

ZD = '[sources.zd]\ntype = "zendesk"\nsecret_env = "S"\nsubdomain = "acme"\n'
ENV = {"S": "x", "E": "agent@acme.example", "T": "tok"}


def load(tmp_path: Path, text: str, env: dict[str, str] = ENV) -> object:
    path = tmp_path / "cxbot.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env)


def test_zendesk_with_reply_keys_can_reply(tmp_path: Path) -> None:
    settings = load(tmp_path, ZD + 'api_email_env = "E"\napi_token_env = "T"\n'
                    '[sources.web]\ntype = "generic"\n')  # fmt: skip
    sources = reply_sources(settings)  # type: ignore[arg-type]
    assert list(sources) == ["zd"]
    assert sources["zd"].options["api_token"] == "tok"
    assert can_reply(sources, {"source": "zd", "thread_key": "4471"})
    assert not can_reply(sources, {"source": "zd", "thread_key": None})
    assert not can_reply(sources, {"source": "web", "thread_key": "1"})


def test_without_reply_keys_no_source_can_reply(tmp_path: Path) -> None:
    assert reply_sources(load(tmp_path, ZD)) == {}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("extra", "env", "message"),
    [
        ('api_token_env = "MISSING"\n', ENV, "api_token_env: environment variable MISSING is not set"),
        ('api_url = "ftp://x"\n', ENV, "api_url must be an http:// or https:// URL"),
        ('admin_id = "1"\n', ENV, "unknown option 'admin_id'"),  # Intercom's, not Zendesk's
    ],
)  # fmt: skip
def test_bad_reply_keys_are_refused(
    tmp_path: Path, extra: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, ZD + extra, env)
    assert message in str(info.value)


def test_intercom_takes_its_reply_keys(tmp_path: Path) -> None:
    text = (
        '[sources.ic]\ntype = "intercom"\nsecret_env = "S"\napi_token_env = "T"\nadmin_id = "42"\n'
    )
    sources = reply_sources(load(tmp_path, text))  # type: ignore[arg-type]
    assert sources["ic"].options["admin_id"] == "42"
