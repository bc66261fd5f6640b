"""The `/cx` grammar: `parse_command(text) -> Command`, pure, shared by Slack and `cxbot ask`.

    /cx [VERB] [ARGS] [PERIOD] [FILTERS] [public]

Words are split on whitespace only (no shell quoting: an unbalanced quote is just a character).
Whatever the text, the result is a Command or a CommandError whose message says what to type
instead; nothing else is raised.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from cxbot.enrich.intent import INTENTS
from cxbot.errors import CxbotError
from cxbot.models import KINDS, Filters
from cxbot.periods import PeriodError, PeriodSpec, parse_period

METRIC_VERBS = ("nps", "csat", "ces", "rating", "sentiment", "volume")
PERIOD_VERBS = ("summary", *METRIC_VERBS, "top", "topics", "search", "export")
ADMIN_VERBS = ("mute", "unmute", "erase", "export")  # and `digest send`
VERBS = (
    "help",
    *PERIOD_VERBS,
    "customer",
    "mute",
    "unmute",
    "alerts",
    "sources",
    "sla",
    "digest",
    "erase",
    "dashboard",
)
ALIASES = {
    "?": "help",
    "overview": "summary",
    "stats": "summary",
    "report": "summary",
    "ratings": "rating",
    "stars": "rating",
    "count": "volume",
    "worst": "top",
    "topic": "topics",
    "find": "search",
    "who": "customer",
    "profile": "customer",
    "rules": "alerts",
    "mutes": "alerts",
    "source": "sources",
    "polls": "sources",
    "slas": "sla",
}
FILTER_KEYS = {
    "source": "source",
    "kind": "kind",
    "topic": "topic",
    "lang": "lang",
    "language": "lang",
    "src": "source",
    "intent": "intent",
}
RULE_NAME = re.compile(r"^[\w.-]+$")  # the same as AlertRule.name
MAX_MUTE = timedelta(days=90)

USAGE = {
    "help": "/cx help [VERB]",
    "summary": "/cx summary [PERIOD] [FILTERS]",
    **{m: f"/cx {m} [PERIOD] [FILTERS]" for m in METRIC_VERBS},
    "top": "/cx top negative [PERIOD] [FILTERS]",
    "topics": "/cx topics [PERIOD] [FILTERS]",
    "search": "/cx search WORDS [PERIOD] [FILTERS]",
    "customer": "/cx customer EMAIL|@HANDLE",
    "mute": "/cx mute RULE DURATION   (e.g. 2h, 1d, 1w)",
    "unmute": "/cx unmute RULE",
    "alerts": "/cx alerts",
    "sources": "/cx sources",
    "sla": "/cx sla",
    "digest": "/cx digest   ·   /cx digest send (admins)",
    "export": "/cx export [PERIOD] [FILTERS]   (admins: a CSV of the signals, in this channel)",
    "erase": "/cx erase EMAIL|@HANDLE|ID [confirm]   (admins: a customer's data)",
    "dashboard": "/cx dashboard   (a personal sign-in link to the live dashboard)",
}


class CommandError(CxbotError):
    """Text that is not a command: `message` says why, `suggestion` is a command to try."""

    def __init__(self, message: str, suggestion: str | None = None, verb: str | None = None):
        super().__init__(message)
        self.message = message
        self.suggestion = suggestion
        self.verb = verb  # the verb whose usage to show, when one was recognised


@dataclass(frozen=True)
class Command:
    verb: str
    period: PeriodSpec | None = None  # None: the verb's default (7d; all time for search)
    filters: Filters = field(default_factory=Filters)
    args: tuple[str, ...] = ()  # search words, customer, rule name, `send`, help topic
    duration: timedelta | None = None  # mute
    public: bool = False

    @property
    def admin_only(self) -> bool:
        return self.verb in ADMIN_VERBS or (self.verb == "digest" and self.args == ("send",))


def closest(word: str, choices: list[str] | tuple[str, ...], cutoff: float = 0.6) -> str | None:
    found = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None


# Slack rewrites some text before sending it: <mailto:a@b.c|a@b.c>, <https://x|x>, <@U1|name>.
_SLACK_LINK = re.compile(r"<(mailto:)?([^<>|]*)(?:\|([^<>]*))?>")


def _unslack(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        target, label = m.group(2), m.group(3)
        if m.group(1):
            return target
        if target.startswith("@"):
            return "@" + label if label else target
        return label or target

    return (
        _SLACK_LINK.sub(repl, text).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def parse_command(text: str) -> Command:
    words = _unslack(text).split()
    if words and words[0].lower() == "/cx":
        words = words[1:]
    public = bool(words) and words[-1].lower() == "public"
    if public:
        words = words[:-1]
    if not words:
        return Command("help", public=public)
    head = words[0].lower()
    verb = ALIASES.get(head, head)
    rest = words[1:]
    if verb not in VERBS:
        # `/cx 30d` or `/cx source:appstore` means the summary of that.
        if _is_period_or_filter(words):
            verb, rest = "summary", words
        else:
            guess = closest(head, [*VERBS, *ALIASES])
            hint = f" — did you mean `{ALIASES.get(guess, guess)}`?" if guess else ""
            raise CommandError(
                f"I don't know `{_short(words[0])}`{hint}",
                suggestion=ALIASES.get(guess, guess) if guess else "help",
            )
    if verb in PERIOD_VERBS:
        period, filters, rest = _period_and_filters(rest, verb)
        return _with_args(verb, rest, period, filters, public)
    return _simple(verb, rest, public)


def _short(word: str) -> str:
    """A user's word for quoting in a message between backticks (so without any)."""
    word = word.replace("`", "'")
    return word if len(word) <= 40 else word[:40] + "…"


def _is_period_or_filter(words: list[str]) -> bool:
    try:
        if parse_period(" ".join(words[:2])) or parse_period(words[0]):
            return True
    except PeriodError:
        return True
    return ":" in words[0] and words[0].split(":", 1)[0].lower() in FILTER_KEYS


def _period_and_filters(
    words: list[str], verb: str
) -> tuple[PeriodSpec | None, Filters, list[str]]:
    """Take the period (one or two words, anywhere) and key:value filters out of `words`."""
    period: PeriodSpec | None = None
    found: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        for size in (3, 2, 1):  # "last 7 days", "this week", "7d"
            phrase = " ".join(words[i : i + size])
            if len(words[i : i + size]) < size:
                continue
            try:
                spec = parse_period(phrase)
            except PeriodError as exc:
                raise CommandError(str(exc), suggestion=f"{verb} 7d", verb=verb) from None
            if spec is not None:
                if period is not None:
                    raise CommandError(
                        f"Two periods given (`{period.text}` and `{phrase}`): pick one.",
                        suggestion=f"{verb} {spec.text}",
                        verb=verb,
                    )
                period = spec
                i += size
                break
        else:
            key, sep, value = word.partition(":")
            if sep and key.lower() in FILTER_KEYS and not (verb == "search" and not value):
                name = FILTER_KEYS[key.lower()]
                found[name] = _filter_value(name, value, found, verb)
            elif sep and verb != "search" and key and value and key.isalpha():
                guess = closest(key, list(FILTER_KEYS))
                raise CommandError(
                    f"Unknown filter `{_short(key)}:`"
                    + (f" — did you mean `{guess}:`?" if guess else "")
                    + " Filters are source:, kind:, topic:, lang:, intent:.",
                    suggestion=f"{verb} {guess}:{value}" if guess else verb,
                    verb=verb,
                )
            else:
                rest.append(word)
            i += 1
    return period, Filters(**found), rest


def _filter_value(name: str, value: str, found: dict[str, str], verb: str) -> str:
    if not value:
        raise CommandError(
            f"`{name}:` needs a value, e.g. `{name}:{_EXAMPLE[name]}`",
            suggestion=f"{verb} {name}:{_EXAMPLE[name]}",
            verb=verb,
        )
    if name in found:
        raise CommandError(f"`{name}:` is given twice; one value per filter.", verb=verb)
    if name == "kind":
        if value.lower() not in KINDS:
            guess = closest(value, KINDS, cutoff=0.5)
            raise CommandError(
                f"`{_short(value)}` is not a kind"
                + (f" — did you mean `kind:{guess}`?" if guess else "")
                + f" Kinds: {', '.join(KINDS)}.",
                suggestion=f"{verb} kind:{guess}" if guess else None,
                verb=verb,
            )
        return value.lower()
    if name == "lang":
        if not re.fullmatch(r"[A-Za-z]{2,3}", value):
            raise CommandError(
                f"`lang:` takes a language code such as `lang:en`, not `{_short(value)}`.",
                suggestion=f"{verb} lang:en",
                verb=verb,
            )
        return value.lower()
    if name == "intent":
        if value.lower() not in INTENTS:
            guess = closest(value.lower(), INTENTS, cutoff=0.5)
            raise CommandError(
                f"`{_short(value)}` is not an intent"
                + (f" — did you mean `intent:{guess}`?" if guess else "")
                + f" Intents: {', '.join(INTENTS)}.",
                suggestion=f"{verb} intent:{guess}" if guess else None,
                verb=verb,
            )
        return value.lower()
    return value


_EXAMPLE = {
    "source": "appstore",
    "kind": "review",
    "topic": "billing",
    "lang": "en",
    "intent": "complaint",
}


def _with_args(
    verb: str, rest: list[str], period: PeriodSpec | None, filters: Filters, public: bool
) -> Command:
    if verb == "top":
        if rest and rest[0].lower() in ("negative", "neg", "negatives", "worst"):
            rest = rest[1:]
        if rest:
            raise CommandError(
                f"`top` lists negative signals only: `{USAGE['top']}`",
                suggestion="top negative 7d",
                verb="top",
            )
    elif verb == "search":
        if not rest:
            raise CommandError(
                "What should I search for? e.g. `/cx search refund 30d`",
                suggestion="search refund",
                verb="search",
            )
        return Command(verb, period, filters, tuple(rest), public=public)
    elif rest:
        guess = closest(rest[0], [*METRIC_VERBS, "this week", "last week", "this month"])
        raise CommandError(
            f"`{verb}` doesn't take `{_short(' '.join(rest))}`"
            + (f" — did you mean `{guess}`?" if guess else "")
            + f" Usage: `{USAGE[verb]}`; periods look like 24h, 7d, 30d, this week,"
            " 2026-11-01..2026-11-15.",
            suggestion=f"{verb} 7d",
            verb=verb,
        )
    return Command(verb, period, filters, (), public=public)


def _simple(verb: str, rest: list[str], public: bool) -> Command:
    if verb == "help":
        topic = rest[0].lower() if rest else None
        topic = ALIASES.get(topic, topic) if topic else None
        return Command("help", args=(topic,) if topic else (), public=public)
    if verb == "customer":
        if len(rest) != 1:
            raise CommandError(
                "Give one email or handle: `/cx customer ana@example.com` or `/cx customer @ana`",
                suggestion="customer @ana",
                verb=verb,
            )
        return Command(verb, args=(rest[0],), public=public)
    if verb == "mute":
        if len(rest) != 2:
            raise CommandError(
                f"Usage: `{USAGE['mute']}`", suggestion="mute bad-review 2h", verb=verb
            )
        rule, duration = _rule(rest[0], verb), parse_duration(rest[1])
        return Command(verb, args=(rule,), duration=duration, public=public)
    if verb == "unmute":
        if len(rest) != 1:
            raise CommandError(f"Usage: `{USAGE['unmute']}`", suggestion="alerts", verb=verb)
        return Command(verb, args=(_rule(rest[0], verb),), public=public)
    if verb == "erase":
        if not 1 <= len(rest) <= 2 or (len(rest) == 2 and rest[1].lower() != "confirm"):
            raise CommandError(f"Usage: `{USAGE['erase']}`", suggestion="help erase", verb=verb)
        return Command(verb, args=tuple(rest[:1]) + (("confirm",) if len(rest) == 2 else ()))
    if verb == "digest":
        if rest and [w.lower() for w in rest] != ["send"]:
            raise CommandError(f"Usage: `{USAGE['digest']}`", suggestion="digest", verb=verb)
        return Command(verb, args=("send",) if rest else (), public=public)
    if rest:  # alerts
        raise CommandError(f"`{verb}` takes no arguments.", suggestion=verb, verb=verb)
    return Command(verb, public=public)


def _rule(name: str, verb: str) -> str:
    if not RULE_NAME.match(name):
        raise CommandError(
            f"`{_short(name)}` is not a rule name; `/cx alerts` lists them.",
            suggestion="alerts",
            verb=verb,
        )
    return name


_DURATION = re.compile(r"^(\d{1,4})(m|min|h|d|w)$")
_DURATION_UNIT = {"m": 1, "min": 1, "h": 60, "d": 1440, "w": 10080}


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text.lower())
    if not m:
        raise CommandError(
            f"`{_short(text)}` is not a duration: use 30m, 2h, 1d or 1w.",
            suggestion="mute RULE 2h",
            verb="mute",
        )
    value = timedelta(minutes=int(m.group(1)) * _DURATION_UNIT[m.group(2)])
    if value <= timedelta(0) or value > MAX_MUTE:
        raise CommandError(
            f"A mute lasts from 1 minute to {MAX_MUTE.days} days.",
            suggestion="mute RULE 1d",
            verb="mute",
        )
    return value
