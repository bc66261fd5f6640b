"""The typed config: `config/cxbot.toml` plus the environment, loaded once at the edge.

Nothing else in cxbot reads `os.environ`; the CLI passes the environment in. Secrets are named
in the file by environment-variable name and resolved here into `SecretStr`s that never print.
"""

from __future__ import annotations

import functools
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from cxbot.alerts.rules import AlertPolicy, AlertRule, SpikeRule, VipList
from cxbot.alerts.sla import SlaRule
from cxbot.digest.config import (
    DigestConfig as DigestConfig,  # re-exported; fields: cxbot/digest/config.py
)
from cxbot.enrich.settings import EnrichSettings
from cxbot.errors import ConfigError
from cxbot.poll.config import PollSource, poll_type_names, resolve_poll
from cxbot.replies.options import split_reply_options
from cxbot.sources import get_provider, option_problems, provider_names
from cxbot.sources.base import Credentials

DEFAULT_CONFIG = Path("config/cxbot.toml")
SLACK_API_DEFAULT = "https://slack.com/api/"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Strict):
    path: str = Field("data/cxbot.db", description="SQLite file; CXBOT_DB overrides")
    url: str | None = Field(
        None, description="postgresql://… selects PostgreSQL; DATABASE_URL overrides"
    )
    synchronous: Literal["full", "normal"] = Field(
        "full", description="fsync on every group commit (full) or only at WAL checkpoints"
    )
    batch_max: int = Field(512, ge=1, le=10_000, description="most jobs one group commit takes")


class ServerConfig(_Strict):
    host: str = Field("0.0.0.0", description="interface to listen on")
    port: int = Field(8080, ge=0, le=65535, description="PORT overrides")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="larger bodies get 413")
    replay_window_seconds: float = Field(
        300, gt=0, description="how old a signed timestamp may be (providers that sign one)"
    )
    body_timeout_s: float = Field(
        30, gt=0, description="a request body not fully received within this time gets 408"
    )
    max_uploads: int = Field(
        256, ge=1, description="request bodies read at once; more wait, then get 503"
    )
    shutdown_timeout_s: float = Field(
        10, gt=0, description="on SIGTERM, open requests get this long before they are cut"
    )
    public_url: str | None = Field(
        None, description="base URL of links to this server (dashboard); else http://host:port"
    )


class RetentionConfig(_Strict):
    events_days: int = Field(
        30, ge=0, description="raw deliveries (`events`) kept this many days; 0 = keep"
    )
    signals_days: int = Field(
        0, ge=0, description="signals kept this many days after their own time; 0 = keep"
    )


class SlackConfig(_Strict):
    admins: list[str] = Field(default_factory=list, description="user ids allowed admin verbs")
    send_timeout_seconds: float = Field(
        3600, gt=0, description="an alert not delivered within this time is marked failed"
    )
    pace_seconds: float = Field(
        1.0, ge=0, description="least time between two posts to one channel (Slack: ~1/s)"
    )
    admin_channel: str | None = Field(
        None, description="where cxbot reports trouble it cannot fix itself (a poll source failing)"
    )


class SourceConfig(BaseModel):
    """`[sources.NAME]`: `type` picks the adapter; other keys are the adapter's options."""

    model_config = ConfigDict(extra="allow")

    type: str
    secret_env: str | None = None
    token_env: str | None = None
    verify_token_env: str | None = None
    verify: bool = True

    @field_validator("type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        known = provider_names() + poll_type_names()  # webhook types, then polled ones
        if v not in known:
            raise ValueError(f"unknown source type {v!r}; known: {', '.join(known)}")
        return v

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class FileConfig(_Strict):
    timezone: str = "UTC"
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    alerts: list[AlertRule] = Field(default_factory=list)
    spikes: list[SpikeRule] = Field(default_factory=list)
    sla: list[SlaRule] = Field(default_factory=list)
    vip: VipList = Field(default_factory=VipList)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    enrich: EnrichSettings = Field(default_factory=EnrichSettings)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA timezone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _sla_rules_exist(self) -> FileConfig:
        names = [a.name for a in self.alerts]
        for sla in self.sla:
            if sla.rule not in names:
                known = ", ".join(names) or "none"
                raise ValueError(
                    f"sla: rule {sla.rule!r} is not an [[alerts]] rule (known: {known})"
                )
        return self


@dataclass(frozen=True)
class Source:
    """A configured source with its secrets resolved from the environment."""

    name: str
    type: str
    verify: bool
    secret: SecretStr | None = None
    token: SecretStr | None = None
    verify_token: SecretStr | None = None
    options: Mapping[str, Any] = field(
        default_factory=dict, repr=False
    )  # may hold resolved secrets
    # What the adapter is handed: the same secrets as plain text (repr=False throughout).
    credentials: Credentials = field(default_factory=Credentials, repr=False)


@dataclass(frozen=True)
class Settings:
    file: FileConfig
    path: Path | None  # None when running on defaults (no file)
    base_dir: Path  # relative paths in the file are taken from here
    db_path: Path
    port: int
    sources: Mapping[str, Source]
    slack_token: SecretStr | None
    slack_signing_secret: SecretStr | None
    slack_api_url: str
    # Sources without webhooks (cxbot/poll/), apart: no request reaches them by name.
    polls: Mapping[str, PollSource] = field(default_factory=dict)
    secret_key: SecretStr | None = None  # CXBOT_SECRET_KEY: dashboard links and sessions

    @functools.cached_property
    def tz(self) -> ZoneInfo:
        # Cached, and first read by load_settings: ZoneInfo reads tzdata files (blocking I/O),
        # and the event loop asks for it.
        return ZoneInfo(self.file.timezone)

    @property
    def slack_bot_token(self) -> str | None:
        return self.slack_token.get_secret_value() if self.slack_token else None

    @property
    def alert_policy(self) -> AlertPolicy:
        """The rules stage's piece of the config."""
        return AlertPolicy(rules=self.file.alerts, spikes=self.file.spikes, vip=self.file.vip)


def _where(path: Path | None) -> str:
    return str(path) if path else "(defaults)"


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


# Tables in arrays are named by their own key, not by position: `alerts["bad-review"]`.
_NAMED_BY = {"alerts": "name", "spikes": "name", "filters": "channel", "sla": "rule"}


def _key(loc: tuple[int | str, ...], raw: Any) -> str:
    parts: list[str] = []
    node = raw
    for i, part in enumerate(loc):
        node = _child(node, part)
        if isinstance(part, int) and i and str(loc[i - 1]) in _NAMED_BY:
            label = node.get(_NAMED_BY[str(loc[i - 1])]) if isinstance(node, dict) else None
            parts[-1] += f"[{label!r}]" if isinstance(label, str) else f"[table {part + 1}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(top level)"


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _validation_lines(path: Path | None, exc: ValidationError, raw: Any) -> str:
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        key = _key(err["loc"], raw)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/configuration.md)"
        elif err["type"] == "string_pattern_mismatch":
            # pydantic would quote the regular expression; say it in words.
            msg = "use only letters, digits, '.', '-' and '_'"
        lines.append(f"{_where(path)}: {key}: {msg}")
    return "\n".join(lines)


def _secret(env: Mapping[str, str], var: str | None) -> SecretStr | None:
    value = env.get(var) if var else None
    return SecretStr(value) if value else None


def _resolve_source(
    path: Path | None,
    name: str,
    src: SourceConfig,
    env: Mapping[str, str],
    replay_window: float = 300.0,
) -> Source:
    where = f"{_where(path)}: sources.{name}"
    for key in ("secret_env", "token_env", "verify_token_env"):
        var = getattr(src, key)
        if var and not env.get(var) and src.verify:
            raise ConfigError(
                f"{where}.{key}: environment variable {var} is not set "
                "(set it, or add `verify = false` to turn checking off explicitly)"
            )
    provider = get_provider(src.type)
    if src.verify and provider.auth == "secret" and not src.secret_env and src.type != "generic":
        raise ConfigError(
            f"{where}: type {src.type!r} signs its deliveries: set secret_env (or `verify = false`)"
        )
    if (
        src.verify
        and provider.auth is None
        and provider.verify is not None
        and not (src.secret_env or src.token_env)
    ):
        raise ConfigError(
            f"{where}: type {src.type!r} needs secret_env (HMAC signature) or token_env "
            "(shared token), or `verify = false`"
        )
    if src.verify and provider.auth == "token" and not src.token_env:
        raise ConfigError(
            f"{where}: type {src.type!r} cannot sign: set token_env to a shared token "
            "(or `verify = false`)"
        )
    options = src.options()
    for key, var in list(options.items()):
        # Any option named `x_env` names an environment variable whose value becomes `x`.
        if key.endswith("_env") and isinstance(var, str):
            if not env.get(var) and src.verify:
                raise ConfigError(f"{where}.{key}: environment variable {var} is not set")
            options[key.removesuffix("_env")] = env.get(var)
    # Reply keys (cxbot/replies/options.py) are checked apart from the adapter's own.
    rest, problems = split_reply_options(src.type, src.options())
    problems = option_problems(src.type, rest) + problems
    if problems:
        raise ConfigError("\n".join(f"{where}: {p}" for p in problems))
    secret = _secret(env, src.secret_env)
    token = _secret(env, src.token_env)
    verify_token = _secret(env, src.verify_token_env)
    return Source(
        name=name,
        type=src.type,
        # A generic source without a secret is unsigned by design (docs/sources.md).
        verify=src.verify and not (src.type == "generic" and not src.secret_env),
        secret=secret,
        token=token,
        verify_token=verify_token,
        options=options,
        credentials=Credentials(
            secret=_reveal(secret),
            token=_reveal(token),
            verify_token=_reveal(verify_token),
            options=options,
            replay_window=replay_window,
        ),
    )


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def load_settings(
    config_path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Read the config file and the environment into one typed object, or raise ConfigError."""
    env = dict(os.environ) if env is None else env
    path: Path | None
    if config_path is not None:
        path = Path(config_path)
    elif env.get("CXBOT_CONFIG"):
        path = Path(env["CXBOT_CONFIG"])
    else:
        path = DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None
    raw = _read_toml(path) if path else {}
    try:
        cfg = FileConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_validation_lines(path, exc, raw)) from None
    # Relative paths in the file (database, topics) are taken from the working directory, where
    # `cxbot serve` and the Procfile run: the same rule as every other path on the command line.
    base_dir = Path(".")
    db_path = Path(env.get("CXBOT_DB") or cfg.database.path)
    if env.get("DATABASE_URL"):
        cfg.database = cfg.database.model_copy(update={"url": env["DATABASE_URL"]})
    port = cfg.server.port
    if env.get("PORT"):
        try:
            port = int(env["PORT"])
        except ValueError:
            raise ConfigError(f"PORT: not a number: {env['PORT']!r}") from None
    replay = cfg.server.replay_window_seconds
    polled = set(poll_type_names())
    sources = {
        name: _resolve_source(path, name, s, env, replay)
        for name, s in cfg.sources.items()
        if s.type not in polled
    }
    polls = {
        name: resolve_poll(
            f"{_where(path)}: sources.{name}", name, s.model_dump(exclude_unset=True), env
        )
        for name, s in cfg.sources.items()
        if s.type in polled
    }
    api_url = env.get("SLACK_API_URL") or SLACK_API_DEFAULT
    settings = Settings(
        file=cfg,
        path=path,
        base_dir=base_dir,
        db_path=db_path,
        port=port,
        sources=sources,
        slack_token=_secret(env, "SLACK_BOT_TOKEN"),
        slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
        # slack_sdk joins method names onto the base URL, so it must end with "/".
        slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
        polls=polls,
        secret_key=_secret(env, "CXBOT_SECRET_KEY"),
    )
    settings.tz  # noqa: B018 - read the zone's file now, before any event loop asks
    return settings
