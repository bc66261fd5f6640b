"""`/cx TEXT` in Slack and `cxbot ask "TEXT"` in a terminal: one async `answer` for both.

parse -> query -> render, on the store's reader thread (`ask` only reads). Verbs that write
(mute, unmute) come back from `ask` as a `Write` whose `apply` runs on the writer thread;
`digest` comes back as a `DigestRequest` for the digest package to answer. Whatever the text,
the user gets an Answer: unexpected failures are logged and answered with an apology, never a
stack trace. The Slack listener (`slash_handler`) acks at once and answers through response_url.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.alerts.records import list_mutes, mute_rule, unmute_rule
from cxbot.alerts.rules import AlertRule, SpikeRule
from cxbot.config import Settings
from cxbot.cx.answers import (
    TREND_SPAN,
    render_customer,
    render_metric,
    render_search,
    render_summary,
    render_top,
    render_topics,
)
from cxbot.cx.grammar import METRIC_VERBS, USAGE, Command, CommandError, closest, parse_command
from cxbot.cx.help import render_alerts, render_help, render_muted, render_unmuted
from cxbot.cx.queries import (
    customer_profile,
    reply_stats,
    search,
    stats,
    top_negative,
    topic_stats,
)
from cxbot.cx.sla import render_sla, sla_report
from cxbot.cx.sources import render_sources, source_lines
from cxbot.dashboard.links import dashboard_answer
from cxbot.models import Filters
from cxbot.periods import (
    DEFAULT_PERIOD,
    PeriodSpec,
    Window,
    buckets,
    parse_period,
    previous,
    resolve,
)
from cxbot.privacy.export import Upload, export_to_channel
from cxbot.privacy.records import UnknownIdentifier, find_subject
from cxbot.privacy.records import erase as erase_subject
from cxbot.slack.fmt import Answer, error_answer
from cxbot.store.reads import known_topics, known_values
from cxbot.store.writer import Store

log = logging.getLogger("cxbot.ask")


@dataclass(frozen=True)
class Write:
    """A verb that changes state: run `apply(db)` on the writer; it returns the reply."""

    command: Command
    apply: Callable[[Database], Answer]


@dataclass(frozen=True)
class DigestRequest:
    """`/cx digest` (a preview of the last complete week) or `/cx digest send` (admins)."""

    send: bool


@dataclass(frozen=True)
class ExportRequest:
    """`/cx export QUERY` (admins): the signals behind `/cx volume QUERY` as a CSV file in the
    channel; the listener uploads it (the terminal has `cxbot export`)."""

    command: Command
    window: Window


@dataclass(frozen=True)
class SourcesRequest:
    """`/cx sources`: answered with the settings' sources (the database alone does not know)."""

    public: bool


@dataclass(frozen=True)
class SlaRequest:
    """`/cx sla`: answered with the settings' `[[sla]]` tables."""

    public: bool


@dataclass(frozen=True)
class DashboardRequest:
    """`/cx dashboard`: a personal sign-in link (cxbot/dashboard/links.py), always ephemeral."""


Reply = (
    Answer | Write | DigestRequest | ExportRequest | SourcesRequest | SlaRequest | DashboardRequest
)


def ask(
    db: Database,
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    rules: Sequence[AlertRule | SpikeRule] = (),
    user_id: str | None = None,
    admins: Sequence[str] = (),
) -> Reply:
    """Answer `/cx TEXT`. `user_id` None is the terminal, trusted like the database file it
    opens; a Slack user may use admin verbs only when listed in `admins` (slack.admins)."""
    try:
        cmd = parse_command(text)
    except CommandError as exc:
        return error_answer(exc.message, USAGE.get(exc.verb or ""), exc.suggestion)
    if cmd.admin_only and user_id is not None and user_id not in admins:
        what = "digest send" if cmd.verb == "digest" else cmd.verb
        return error_answer(
            f"Only admins can use `{what}`: ask one of the Slack users listed"
            " in slack.admins in the config."
        )
    try:
        return _dispatch(db, cmd, now=now, tz=tz, rules=rules, user_id=user_id)
    except CommandError as exc:
        return error_answer(exc.message, USAGE.get(exc.verb or ""), exc.suggestion)
    except Exception:
        log.exception("/cx %r failed", text)
        return error_answer("Sorry, something went wrong answering that; it has been logged.")


# --- the one path for Slack and the terminal ------------------------------------------------


def _ask(
    settings: Settings, text: str, user_id: str | None, now: datetime
) -> Callable[[Database], Reply]:
    f = settings.file
    return partial(
        ask,
        text=text,
        now=now,
        tz=settings.tz,
        rules=[*f.alerts, *f.spikes],
        user_id=user_id,
        admins=f.slack.admins,
    )


def digest_preview_answer(settings: Settings, db: Database, now: datetime) -> Answer:
    """`/cx digest`: this week's digest as it stands (the last complete week), for the asker."""
    from cxbot.digest.queries import digest_preview

    return digest_preview(db, now, settings.tz, settings.file.digest, slas=settings.file.sla)


async def digest_send_answer(
    settings: Settings, store: Any, poke: Callable[[], None], now: datetime
) -> Answer:
    """`/cx digest send` (admins): owe the last complete week's digest to every channel now."""
    from cxbot.digest.build import last_complete_week
    from cxbot.digest.job import DigestRunner

    period = last_complete_week(now, settings.tz)
    runner = DigestRunner(store, settings.file.digest, settings.tz, poke, slas=settings.file.sla)
    outcomes = await runner.send(period, now)
    if not outcomes:
        return Answer("No digest channels are configured ([digest] channels).", None)
    lines = [
        f"{o.channel}: {'queued' if o.new else 'already ' + o.status} ({o.period})"
        for o in outcomes
    ]
    return Answer("Digest " + period + "\n" + "\n".join(lines), None)


async def answer(
    settings: Settings,
    store: Store,
    text: str,
    user_id: str | None,
    now: datetime | None = None,
    *,
    poke: Callable[[], None] = lambda: None,
    terminal: bool = False,
    channel: str | None = None,
    upload: Upload | None = None,
) -> Answer:
    """What `/cx TEXT` answers. `store` has async `read`/`write` (a `Store`); `user_id` None is
    the terminal, trusted like the database file it opens."""
    now = now or datetime.now(UTC)
    reply = await store.read(_ask(settings, text, user_id, now))
    if isinstance(reply, Write):
        public = reply.command.public
        reply = await store.write(reply.apply)
        reply = dataclasses.replace(reply, public=reply.public or public)
        poke()  # an erase owes redactions
    if isinstance(reply, DigestRequest):
        if not reply.send:
            return await store.read(lambda db: digest_preview_answer(settings, db, now))
        if terminal:
            return Answer("In a terminal, send the digest with `cxbot digest --send`.", None)
        return await digest_send_answer(settings, store, poke, now)
    if isinstance(reply, SourcesRequest):
        public = reply.public
        lines = await store.read(lambda db: source_lines(settings, db, now))
        return render_sources(lines, settings.tz, public)
    if isinstance(reply, SlaRequest):
        slas, tz = settings.file.sla, settings.tz
        report = await store.read(lambda db: sla_report(db, now, slas, tz))
        return render_sla(report, slas, tz, now, reply.public)
    if isinstance(reply, DashboardRequest):
        return dashboard_answer(settings, user_id, now)
    if isinstance(reply, ExportRequest):
        if terminal or upload is None or channel is None:
            return Answer("In a terminal, export with `cxbot export QUERY`.", None)
        return await export_to_channel(store, reply.command, reply.window, channel, upload)
    return reply


def slash_handler(
    settings: Settings, store: Any, poke: Callable[[], None], upload: Upload | None = None
) -> Callable[..., Awaitable[None]]:
    """The bolt listener for `/cx`: ack at once (Slack's 3 s), answer through response_url."""

    async def on_cx(
        command: dict[str, Any],
        ack: Callable[..., Awaitable[Any]],
        respond: Callable[..., Awaitable[Any]],
    ) -> None:
        await ack()
        started = time.perf_counter()
        text = command.get("text", "")
        user = command.get("user_id")
        channel = command.get("channel_id")
        reply = await answer(settings, store, text, user, poke=poke, channel=channel, upload=upload)
        await respond(
            text=reply.text,
            blocks=reply.blocks,
            response_type="in_channel" if reply.public else "ephemeral",
        )
        log.info(
            "/cx user=%s verb=%s public=%s %.0fms",
            user,
            (text.split() or ["help"])[0][:20],
            reply.public,
            (time.perf_counter() - started) * 1000,
        )

    return on_cx


# --- dispatch ------------------------------------------------------------------------------


def _spec(cmd: Command) -> PeriodSpec:
    default = parse_period(DEFAULT_PERIOD)
    assert default is not None
    return cmd.period or default


def _dispatch(
    db: Database,
    cmd: Command,
    *,
    now: datetime,
    tz: ZoneInfo,
    rules: Sequence[AlertRule | SpikeRule],
    user_id: str | None,
) -> Reply:
    verb, filters, public = cmd.verb, cmd.filters, cmd.public
    if verb == "help":
        return render_help(USAGE, cmd.args[0] if cmd.args else None, public)
    if verb == "digest":
        return DigestRequest(send=cmd.args == ("send",))
    if verb == "export":
        return ExportRequest(cmd, resolve(_spec(cmd), now, tz))
    if verb == "erase":
        return _erase(db, cmd, now, user_id)
    if verb == "sources":
        return SourcesRequest(public)
    if verb == "sla":
        return SlaRequest(public)
    if verb == "dashboard":
        return DashboardRequest()
    if verb in ("summary", *METRIC_VERBS, "top", "topics"):
        spec = _spec(cmd)
        window = resolve(spec, now, tz)
        before = previous(spec, window, tz)
        if verb == "summary":
            result = stats(db, window, before, filters)
            hint = _hint(db, filters) if result.current.n == 0 else None
            replied = reply_stats(db, window, filters, now)
            return render_summary(result, filters, tz, hint=hint, public=public, replies=replied)
        if verb in METRIC_VERBS:
            result = stats(db, window, before, filters, buckets(window, tz))
            hint = _hint(db, filters) if result.current.n == 0 else None
            return render_metric(verb, result, filters, tz, hint=hint, public=public)
        if verb == "top":
            rows = top_negative(db, window, filters)
            return render_top(
                rows,
                window,
                filters,
                tz,
                hint=_hint(db, filters) if not rows else None,
                public=public,
            )
        return render_topics(
            topic_stats(db, window, before, filters), window, before, filters, tz, public=public
        )
    if verb == "search":
        within = resolve(cmd.period, now, tz) if cmd.period else None
        return render_search(
            search(db, cmd.args, within, filters), within, filters, tz, public=public
        )
    if verb == "customer":
        profile = customer_profile(db, cmd.args[0], since=now - TREND_SPAN)
        return render_customer(profile, cmd.args[0], tz, now, public=public)
    mutes = {m.rule: (m.until, m.muted_by) for m in list_mutes(db, now)}
    if verb == "alerts":
        listed = [(r.name, r.channel, describe_rule(r)) for r in rules]
        return render_alerts(listed, mutes, tz, public)
    rule = cmd.args[0]
    names = [r.name for r in rules]
    if rule not in names and not (verb == "unmute" and rule in mutes):
        guess = closest(rule, names)
        raise CommandError(
            f"There is no rule `{rule}`" + (f" — did you mean `{guess}`?" if guess else "."),
            suggestion=f"{verb} {guess}" if guess else "alerts",
            verb=verb,
        )
    if verb == "mute":
        assert cmd.duration is not None
        until = now + cmd.duration

        def apply_mute(wdb: Database) -> Answer:
            mute_rule(wdb, rule, until, user_id, now)
            return render_muted(rule, until, tz, user_id, public)

        return Write(cmd, apply_mute)

    def apply_unmute(wdb: Database) -> Answer:
        return render_unmuted(rule, unmute_rule(wdb, rule, now), public)

    return Write(cmd, apply_unmute)


def _erase(db: Database, cmd: Command, now: datetime, user_id: str | None) -> Reply:
    """Without `confirm`: what would go, and how to confirm. With it: the erase, as a Write."""
    who = cmd.args[0]
    try:
        found = find_subject(db, who)
    except UnknownIdentifier as exc:
        raise CommandError(str(exc), suggestion="help erase", verb="erase") from None
    if found.empty:
        return Answer("Nothing is stored for that identifier: nothing to erase.", None)
    if cmd.args[1:] != ("confirm",):
        where = ", ".join(f"{n} from {source}" for source, n in found.sources)
        return Answer(
            f"This erases {len(found.signal_ids)} signal(s) ({where}) and"
            f" {len(found.customer_ids)} profile(s), and edits the Slack messages about them."
            f" To go ahead: `/cx erase {who} confirm`",
            None,
        )
    actor = f"slack:{user_id}" if user_id else "terminal"

    def apply_erase(wdb: Database) -> Answer:
        done = erase_subject(wdb, who, now, actor)
        return Answer(
            f"Erased {done.signals} signal(s) and {done.customers} profile(s);"
            f" {done.redactions_owed} Slack message(s) will be edited to say so.",
            None,
        )

    return Write(cmd, apply_erase)


def _hint(db: Database, filters: Filters) -> str | None:
    """When a filter names something never seen, say so and offer the closest real name."""
    for key, value in filters.items():
        if key == "lang":
            continue
        known = known_topics(db) if key == "topic" else known_values(db, key)
        if value not in known:
            guess = closest(value, known, cutoff=0.5)
            return f"No {key} is called `{value}`" + (
                f" — did you mean `{key}:{guess}`?"
                if guess
                else (f" (known: {', '.join(known[:10])})." if known else ".")
            )
    return None


def describe_rule(rule: AlertRule | SpikeRule) -> str:
    """The conditions of a rule in one line, as written in the config."""
    if isinstance(rule, SpikeRule):
        return (
            f"spike: negatives per {rule.by} in {rule.window_minutes:g} min above"
            f" {rule.factor:g}× the {rule.baseline_days}-day baseline (min {rule.min_count})"
        )
    skip = {"name", "channel", "max_per_window", "window_minutes"}
    data = rule.model_dump(exclude_defaults=True, exclude=skip)
    return ", ".join(
        f"{k} = {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in data.items()
    )
