"""`ask`: the one entry point for `/cx TEXT` in Slack and `cxbot ask "TEXT"` in a terminal.

parse -> query -> render, on the reader thread (it only reads). Verbs that write (mute, unmute)
come back as a `Write` whose `apply` the caller runs on the writer thread; `digest` comes back
as its `Command` for the digest code to answer. Whatever the text, the user gets an Answer:
unexpected failures are logged and answered with an apology, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from cxbot.alerts.records import list_mutes, mute_rule, unmute_rule
from cxbot.alerts.rules import AlertRule, SpikeRule
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
from cxbot.cx.profiles import customer_profile
from cxbot.cx.queries import (
    known_topics,
    known_values,
    search,
    stats,
    top_negative,
    topic_stats,
)
from cxbot.periods import DEFAULT_PERIOD, PeriodSpec, buckets, parse_period, previous, resolve
from cxbot.slack.fmt import (
    Answer,
    error_answer,
    render_alerts,
    render_help,
    render_muted,
    render_unmuted,
)
from cxbot.store.rollup import Filters

log = logging.getLogger("cxbot.ask")


@dataclass(frozen=True)
class Write:
    """A verb that changes state: run `apply(db)` on the writer; it returns the reply."""

    command: Command
    apply: Callable[[Database], Answer]


Reply = Answer | Write | Command


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
        return cmd
    if verb in ("summary", *METRIC_VERBS, "top", "topics"):
        spec = _spec(cmd)
        window = resolve(spec, now, tz)
        before = previous(spec, window, tz)
        if verb == "summary":
            result = stats(db, window, before, filters)
            hint = _hint(db, filters) if result.current.n == 0 else None
            return render_summary(result, filters, tz, hint=hint, public=public)
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
