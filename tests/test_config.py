"""Config errors stop start-up with a message naming the file, the key and what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cxbot.config import load_settings
from cxbot.errors import ConfigError


def error_for(path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env or {})
    return str(info.value)


def test_defaults_run_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = load_settings(None, {})
    assert (s.path, str(s.db_path), s.port, s.file.timezone, dict(s.sources)) == (
        None,
        "data/cxbot.db",
        8080,
        "UTC",
        {},
    )
    assert s.slack_token is None and s.slack_api_url == "https://slack.com/api/"


def test_environment_overrides(write_config: Callable[..., Path]) -> None:
    s = load_settings(
        write_config(""),
        {
            "CXBOT_WEB_SECRET": "s3cret",
            "CXBOT_DB": "/tmp/other.db",
            "PORT": "9001",
            "SLACK_API_URL": "http://127.0.0.1:9/api",
            "SLACK_BOT_TOKEN": "xoxb-1",
        },
    )
    assert (str(s.db_path), s.port, s.slack_api_url) == (
        "/tmp/other.db",
        9001,
        "http://127.0.0.1:9/api/",
    )
    assert s.sources["web"].secret is not None
    assert s.sources["web"].secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(s) and "xoxb-1" not in repr(s)


def test_config_env_var_picks_the_file(write_config: Callable[..., Path]) -> None:
    path = write_config('timezone = "America/New_York"\n', base=False)
    assert load_settings(None, {"CXBOT_CONFIG": str(path)}).file.timezone == "America/New_York"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    assert error_for(path) == f"{path}: config file not found"


def test_bad_toml(write_config: Callable[..., Path]) -> None:
    path = write_config("timezone = \n", base=False)
    assert error_for(path).startswith(f"{path}: not valid TOML: Invalid value (at line 1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('timezone = "Mars/Base"\n', "timezone: unknown IANA timezone 'Mars/Base'"),
        (
            "[server]\nmax_body_bytes = 10\n",
            "server.max_body_bytes: Input should be greater than or equal to 1024",
        ),
        ("[server]\nport = 'eighty'\n", "server.port: Input should be a valid integer"),
        (
            "[databse]\npath = 'x.db'\n",
            "databse: unknown key (check the spelling; see docs/configuration.md)",
        ),
        (
            '[sources.x]\ntype = "zendesk2"\n',
            "sources.x.type: unknown source type 'zendesk2'; known:",
        ),
        (
            '[[alerts]]\nname = "all"\nchannel = "#a"\n',
            "alerts['all']: the rule has no condition: it would alert on everything",
        ),
        (
            '[[alerts]]\nname = "x"\nchannel = "#a"\nmax_rating = 9\n',
            "alerts['x'].max_rating: Input should be less than or equal to 5",
        ),
        (
            '[[alerts]]\nname = "bad-review"\nchannel = "cx alerts"\nmax_rating = 2\n',
            "alerts['bad-review'].channel: 'cx alerts' is not a Slack channel: write '#name'",
        ),
        (
            '[[alerts]]\nname = "a"\nchannel = "#a"\nmax_rating = 2\n'
            '[[alerts]]\nname = "b"\nchannel = "#CX-Alerts"\nmax_rating = 2\n',
            "alerts['b'].channel: '#CX-Alerts' is not a Slack channel",
        ),
        (
            '[[spikes]]\nname = "s"\nchannel = "#cx.alerts"\n',
            "spikes['s'].channel: '#cx.alerts' is not a Slack channel",
        ),
        (
            '[[alerts]]\nchannel = "#a"\nmax_rating = 2\n',
            "alerts[table 1].name: Field required",
        ),
        (
            '[[alerts]]\nname = "bad review"\nchannel = "#a"\nmax_rating = 2\n',
            "alerts['bad review'].name: use only letters, digits, '.', '-' and '_'",
        ),
        (
            '[digest]\nchannels = ["#cx weekly"]\n',
            "digest.channels.0: '#cx weekly' is not a Slack channel",
        ),
        (
            '[[alerts]]\nname = "x"\nchannel = "#a"\nintents = ["angry"]\n',
            "alerts['x'].intents.0: Input should be 'complaint', 'question', 'request', 'praise'"
            " or 'churn_risk'",
        ),
    ],
)
def test_invalid_values_name_file_and_key(
    write_config: Callable[..., Path], text: str, message: str
) -> None:
    path = write_config(text, base=False)
    assert error_for(path).startswith(f"{path}: {message}")


def test_unset_secret_env_is_refused(write_config: Callable[..., Path]) -> None:
    path = write_config('[sources.zd]\ntype = "zendesk"\nsecret_env = "ZD_SECRET"\n', base=False)
    assert error_for(path) == (
        f"{path}: sources.zd.secret_env: environment variable ZD_SECRET is not set "
        "(set it, or add `verify = false` to turn checking off explicitly)"
    )
    relaxed = write_config(
        '[sources.zd]\ntype = "zendesk"\nsecret_env = "ZD_SECRET"\nverify = false\n', base=False
    )
    assert load_settings(relaxed, {}).sources["zd"].verify is False


def test_signing_provider_without_secret_is_refused(write_config: Callable[..., Path]) -> None:
    path = write_config('[sources.zd]\ntype = "zendesk"\n', base=False)
    assert "type 'zendesk' signs its deliveries: set secret_env" in error_for(path)


def test_generic_without_secret_is_unsigned(write_config: Callable[..., Path]) -> None:
    path = write_config('[sources.web]\ntype = "generic"\n', base=False)
    assert load_settings(path, {}).sources["web"].verify is False


def test_bad_port_env(write_config: Callable[..., Path]) -> None:
    assert error_for(write_config("", base=False), {"PORT": "http"}) == "PORT: not a number: 'http'"
