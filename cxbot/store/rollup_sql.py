"""The rollup's definition, shared by both engines' triggers and reads: what one signal adds
to each metrics.Counts field, the rollup's keys, and the columns whose change moves a signal's
counts (cxbot/store/rollup.py explains the design)."""

from __future__ import annotations

from cxbot.metrics import COUNT_FIELDS, CSAT_GOOD_MIN, PASSIVE_MIN, PROMOTER_MIN

_NPS = "{p}score_type = 'nps' AND {p}score IS NOT NULL"
_CONTRIB: dict[str, str] = {  # one signal's contribution to each Counts field
    "n": "1",
    "rating_n": "CASE WHEN {p}rating IS NOT NULL THEN 1 ELSE 0 END",
    "rating_sum": "coalesce({p}rating, 0)",
    "promoters": f"CASE WHEN {_NPS} AND {{p}}score >= {PROMOTER_MIN} THEN 1 ELSE 0 END",
    "passives": f"CASE WHEN {_NPS} AND {{p}}score >= {PASSIVE_MIN} AND {{p}}score < {PROMOTER_MIN}"
    " THEN 1 ELSE 0 END",
    "detractors": f"CASE WHEN {_NPS} AND {{p}}score < {PASSIVE_MIN} THEN 1 ELSE 0 END",
    "csat_n": "CASE WHEN {p}score_type = 'csat' AND {p}score IS NOT NULL THEN 1 ELSE 0 END",
    "csat_good": f"CASE WHEN {{p}}score_type = 'csat' AND {{p}}score >= {CSAT_GOOD_MIN}"
    " THEN 1 ELSE 0 END",
    "ces_n": "CASE WHEN {p}score_type = 'ces' AND {p}score IS NOT NULL THEN 1 ELSE 0 END",
    "ces_sum": "CASE WHEN {p}score_type = 'ces' THEN coalesce({p}score, 0) ELSE 0 END",
    "negative": "CASE WHEN {p}sentiment_label = 'negative' THEN 1 ELSE 0 END",
    "neutral": "CASE WHEN {p}sentiment_label = 'neutral' THEN 1 ELSE 0 END",
    "positive": "CASE WHEN {p}sentiment_label = 'positive' THEN 1 ELSE 0 END",
    "unscored": "CASE WHEN {p}sentiment_label IN ('negative', 'neutral', 'positive') THEN 0"
    " ELSE 1 END",
    "sentiment_n": "CASE WHEN {p}sentiment IS NOT NULL THEN 1 ELSE 0 END",
    "sentiment_sum": "coalesce({p}sentiment, 0)",
}
COLUMNS = tuple(_CONTRIB)
assert COLUMNS == COUNT_FIELDS, "rollup columns and metrics.Counts must agree"
KEYS = ("topic", "day", "source", "kind")
# The language table leads with (topic, lang) so `lang:xx` reads one language's days.
LANG_KEYS = ("topic", "lang", "day", "source", "kind")


def _sql(template: str, prefix: str) -> str:
    return template.replace("{p}", prefix)


def raw_sums(prefix: str = "") -> str:
    """SQL summing each Counts field over signals rows (`prefix` = the table alias and a dot)."""
    return ", ".join(f"sum({_sql(_CONTRIB[c], prefix)})" for c in COLUMNS)


_WATCHED = (
    "created_at",
    "source",
    "kind",
    "lang",
    "rating",
    "score",
    "score_type",
    "sentiment",
    "sentiment_label",
    "topics",
)
