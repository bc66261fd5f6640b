"""Alert rules: which signals need a human, and where they go. Pure functions over plain data.

A rule's conditions all hold (AND); a list condition holds when any of its values matches (OR).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cxbot.enrich.textnorm import fold
from cxbot.models import Kind, SlackChannel

Label = Literal["negative", "neutral", "positive", "unscored"]
# enrich/intent.py's INTENTS (a test keeps the two equal); unknown names are refused on load.
Intent = Literal["complaint", "question", "request", "praise", "churn_risk"]

_CONDITIONS = (
    "sources",
    "kinds",
    "max_rating",
    "sentiment_below",
    "labels",
    "nps_detractor",
    "csat_low",
    "topics",
    "keywords",
    "languages",
    "vip",
    "min_urgency",
    "intents",
)


class AlertRule(BaseModel):
    """One `[[alerts]]` table of the config."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[\w.-]+$")
    channel: SlackChannel
    sources: list[str] = Field(default_factory=list, description="source names")
    kinds: list[Kind] = Field(default_factory=list)
    max_rating: int | None = Field(None, ge=1, le=5, description="stars at most")
    sentiment_below: float | None = Field(None, ge=-1, le=1, description="text sentiment below")
    labels: list[Label] = Field(default_factory=list, description="final sentiment label is one of")
    nps_detractor: bool = Field(False, description="an NPS score of 0-6")
    csat_low: bool = Field(False, description="a CSAT score of 1-2")
    topics: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list, description="any of these words")
    languages: list[str] = Field(default_factory=list, description="ISO 639-1 codes")
    vip: bool = Field(False, description="the customer is on the VIP list")
    min_urgency: int | None = Field(None, ge=0, le=3)
    intents: list[Intent] = Field(
        default_factory=list, description="the signal's intent is one of (unknown never matches)"
    )
    max_per_window: int = Field(5, ge=1, description="messages per channel before a roll-up")
    window_minutes: float = Field(10, gt=0)

    @model_validator(mode="after")
    def _has_condition(self) -> AlertRule:
        if not any(getattr(self, c) not in (None, False, []) for c in _CONDITIONS):
            raise ValueError("the rule has no condition: it would alert on everything")
        return self


class SpikeRule(BaseModel):
    """One `[[spikes]]` table: too many negative signals for one source or topic."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[\w.-]+$")
    channel: SlackChannel
    by: Literal["source", "topic"] = "source"
    window_minutes: float = Field(60, gt=0)
    baseline_days: int = Field(7, ge=1, le=90)
    factor: float = Field(3.0, gt=1)
    min_count: int = Field(5, ge=1)


class VipList(BaseModel):
    """`[vip]`: customers whose every signal matters."""

    model_config = ConfigDict(extra="forbid")

    emails: list[str] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)

    def contains(self, email: str | None) -> bool:
        if not email:
            return False
        email = email.strip().lower()
        domain = email.rpartition("@")[2]
        return email in {e.lower() for e in self.emails} or domain in {
            d.lower().lstrip("@") for d in self.domains
        }


@dataclass(frozen=True)
class Facts:
    """What a rule can see of a signal (after enrichment)."""

    source: str
    kind: str
    text: str | None = None
    title: str | None = None
    rating: int | None = None
    score: float | None = None
    score_type: str | None = None
    lang: str | None = None
    sentiment: float | None = None
    sentiment_label: str | None = None
    topics: Sequence[str] = field(default_factory=tuple)
    urgency: int = 0
    intent: str | None = None
    vip: bool = False


@lru_cache(maxsize=1024)
def _word_pattern(word: str) -> re.Pattern[str]:
    # Word boundaries that work for any script: not preceded or followed by a word character.
    return re.compile(r"(?<!\w)" + re.escape(fold(word)) + r"(?!\w)")


def has_keyword(text: str, keywords: Iterable[str]) -> bool:
    # The topics' normalisation (textnorm.fold): a word hidden by a zero-width space or typed
    # in fullwidth letters must not get the topic but escape the alert.
    folded = fold(text)
    return any(_word_pattern(k).search(folded) for k in keywords if k.strip())


def rule_matches(rule: AlertRule, f: Facts) -> bool:
    checks = (
        not rule.sources or f.source in rule.sources,
        not rule.kinds or f.kind in rule.kinds,
        rule.max_rating is None or (f.rating is not None and f.rating <= rule.max_rating),
        rule.sentiment_below is None
        or (f.sentiment is not None and f.sentiment < rule.sentiment_below),
        not rule.labels or f.sentiment_label in rule.labels,
        not rule.nps_detractor or (f.score_type == "nps" and f.score is not None and f.score <= 6),
        not rule.csat_low or (f.score_type == "csat" and f.score is not None and f.score <= 2),
        not rule.topics or bool(set(rule.topics) & set(f.topics)),
        not rule.keywords
        or has_keyword(" ".join(t for t in (f.title, f.text) if t), rule.keywords),
        not rule.languages or f.lang in rule.languages,
        not rule.vip or f.vip,
        rule.min_urgency is None or f.urgency >= rule.min_urgency,
        not rule.intents or f.intent in rule.intents,
    )
    return all(checks)


def alerts_for(
    facts: Facts, rules: Sequence[AlertRule], muted: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Channel -> names of the matching rules, so several rules to one channel give one message."""
    muted_set = set(muted)
    by_channel: dict[str, list[str]] = {}
    for rule in rules:
        if rule.name not in muted_set and rule_matches(rule, facts):
            by_channel.setdefault(rule.channel, []).append(rule.name)
    return by_channel


def spike_detected(recent: int, baseline_counts: Sequence[int], rule: SpikeRule) -> bool:
    """`recent` negatives in the window against the mean of the same window on previous days."""
    baseline = sum(baseline_counts) / len(baseline_counts) if baseline_counts else 0.0
    return recent >= rule.min_count and recent > rule.factor * baseline


@dataclass(frozen=True)
class AlertPolicy:
    """What the rules stage needs from the config: `Settings.alert_policy`."""

    rules: Sequence[AlertRule]
    spikes: Sequence[SpikeRule]
    vip: VipList
