"""The dashboard's HTML, rendered on the server from `dashboard_data`'s plain data: pure
functions returning text. Everything user-supplied is escaped here (html.escape); links to
drill-downs carry the query in the URL, so a view can be shared (the session is the cookie)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import urlencode

from cxbot.dashboard import charts
from cxbot.metrics import signed

_CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,
sans-serif;color:#1f2933;background:#f5f7fa}header{display:flex;flex-wrap:wrap;gap:8px;
align-items:center;padding:10px 16px;background:#1f2933;color:#fff}header h1{font-size:16px;
margin:0 12px 0 0}header form{display:flex;gap:6px;flex:1;min-width:220px}header input{flex:1;
padding:6px 8px;border-radius:4px;border:0;font:inherit}header button{padding:6px 10px;
border:0;border-radius:4px;background:#3e7bfa;color:#fff;font:inherit}#live{font-size:12px;
opacity:.8}main{padding:12px 16px;max-width:1200px;margin:auto}.when{color:#616e7c;margin:0 0
10px}.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.tile{background:#fff;border-radius:6px;padding:10px 12px;box-shadow:0 1px 2px #0001}
.tile a{color:inherit;text-decoration:none}.tile .t{color:#616e7c;font-size:12px}.tile .v{
font-size:24px;font-weight:600}.tile .c{font-size:12px;color:#616e7c}.tile .spark{color:#3e7bfa;
display:block;margin-top:4px}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(
340px,1fr));gap:12px;margin-top:12px}section.card{background:#fff;border-radius:6px;padding:
10px 12px;box-shadow:0 1px 2px #0001;overflow-x:auto}section.card h2{font-size:14px;margin:0 0
8px}svg.chart{width:100%;height:auto;font-size:9px;fill:#616e7c}svg .spike{fill:#d64545;
font-size:12px}table{border-collapse:collapse;width:100%}td,th{padding:4px 6px;text-align:left;
border-bottom:1px solid #eef1f4;vertical-align:top}td.nw{white-space:nowrap}.links{font-size:
12px}th{font-weight:600;color:#616e7c;font-size:
12px}td.num{text-align:right;font-variant-numeric:tabular-nums}.rising{color:#d64545;
font-weight:600}.legend span{display:inline-block;margin-right:10px;font-size:12px}.legend i{
display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}.muted{color:
#9aa5b1}.error{background:#fde8e8;color:#9b1c1c;padding:8px 12px;border-radius:6px}a{color:
#2b6cb0}td.num a{color:#102a43}@media(max-width:600px){main{padding:8px}.tile .v{font-size:20px}}
"""


def _doc(title: str, body: str, *, script: bool = False) -> str:
    js = '<script src="/dashboard/static/dashboard.js" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style>{js}</head>"
        f"<body>{body}</body></html>"
    )


def _header(q: str, live: bool = True) -> str:
    status = '<span id="live">live</span>' if live else ""
    return (
        '<header><h1><a href="/dashboard" style="color:#fff;text-decoration:none">cxbot</a></h1>'
        '<form method="get" action="/dashboard"><input name="q" aria-label="query"'
        f' placeholder="30d source:zendesk topic:refund lang:tr" value="{escape(q)}">'
        f"<button>Show</button></form>{status}</header>"
    )


def query_with(data: Mapping[str, Any], **extra: str) -> str:
    """The view's query with some filters replaced (a drill-down's or a heatmap cell's)."""
    filters = {**data["filters"], **extra}
    words = [data["period_text"]] if data.get("period_text") else []
    return " ".join(words + [f"{k}:{v}" for k, v in filters.items() if v])


def list_href(data: Mapping[str, Any], only: str | None = None, **extra: str) -> str:
    params = {"q": query_with(data, **extra)}
    if only:
        params["only"] = only
    return "/dashboard/signals?" + urlencode(params)


_ONLY = {"volume": None, "nps": "nps", "csat": "csat", "ces": "ces", "rating": "rating",
         "negative": "negative"}  # fmt: skip


def _tile(data: Mapping[str, Any], t: Mapping[str, Any]) -> str:
    change = f"{escape(t['change'])} vs previous" if t["change"] else "&nbsp;"
    n = f"n={t['n']:,}"
    return (
        f'<div class="tile" data-metric="{t["metric"]}"><a href="{escape(list_href(data, _ONLY[t["metric"]]))}">'
        f'<div class="t">{escape(t["title"])} · <span class="n">{n}</span></div>'
        f'<div class="v">{escape(t["shown"])}</div><div class="c">{change}</div>'
        f"{charts.sparkline(t['spark'])}</a></div>"
    )


def _legend() -> str:
    return (
        '<div class="legend">'
        + "".join(
            f'<span><i style="background:{charts.COLOURS[k]}"></i>{k}</span>' for k in charts.LABELS
        )
        + '<span style="color:#d64545">▲ spike</span></div>'
    )


def _topics(data: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><a href="{escape(list_href(data, topic=t["topic"]))}">{escape(t["topic"])}</a>'
        f"{' <span class=rising>rising</span>' if t['rising'] else ''}</td>"
        f'<td class="num">{t["n"]:,}</td><td class="num">{_pct(t["negative_share"])}</td>'
        f'<td class="num">{t["before_n"]:,}</td></tr>'
        for t in data["topics"]
    )
    if not rows:
        return '<p class="muted">No topics in this period.</p>'
    return (
        "<table><tr><th>topic</th><th>mentions</th><th>negative</th><th>before</th></tr>"
        f"{rows}</table>"
    )


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.0f}%"


def _heatmap(data: Mapping[str, Any]) -> str:
    cells = data["heatmap"]
    if not cells:
        return '<p class="muted">No signals in this period.</p>'
    sources = sorted({c["source"] for c in cells})
    kinds = sorted({c["kind"] for c in cells})
    at = {(c["source"], c["kind"]): c for c in cells}
    top = max(c["n"] for c in cells)
    head = "".join(f"<th>{escape(k)}</th>" for k in kinds)
    body = ""
    for s in sources:
        row = f"<td>{escape(s)}</td>"
        for k in kinds:
            c = at.get((s, k))
            if c is None:
                row += '<td class="num muted">·</td>'
                continue
            href = escape(list_href(data, source=s, kind=k))
            row += (
                f'<td class="num" style="{charts.heat(c["n"], top)}"><a href="{href}"'
                f' title="{c["negative"]} negative">{c["n"]:,}</a></td>'
            )
        body += f"<tr>{row}</tr>"
    return f"<table><tr><th>source \\ kind</th>{head}</tr>{body}</table>"


def age(seconds: float) -> str:
    s = int(max(seconds, 0))
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h"
    return f"{s // 86400} d"


FEED_ROWS = 12  # the page shows the newest; the JSON has up to 50


def _attention(data: Mapping[str, Any]) -> str:
    items = data["attention"]
    if not items:
        return '<p class="muted">No open alerts.</p>'
    sla = any(a.get("sla") is not None for a in items)  # the SLA column only when SLAs exist
    head = "<tr><th>signal</th><th>status</th><th>assignee</th><th>age</th>"
    head += ("<th>SLA left</th>" if sla else "") + "</tr>"
    rows = ""
    for a in items[:FEED_ROWS]:
        s = a["signal"]
        what = s["title"] or (s["text"] or "")[:120] or f"signal {s['id']}"
        links = [f'<a href="/dashboard/signal/{s["id"]}">timeline</a>']
        if a["slack"]:
            links.append(f'<a href="{escape(a["slack"])}" rel="noopener">Slack</a>')
        if s["url"] and str(s["url"]).startswith(("https://", "http://")):
            links.append(f'<a href="{escape(s["url"])}" rel="noopener noreferrer">original</a>')
        rows += (
            f'<tr data-signal="{s["id"]}"><td>{escape(s["source"])} · {escape(what)}'
            f'<div class="links">{" · ".join(links)}</div></td>'
            f"<td>{escape(a['status'])}</td><td>{escape(a['assignee'] or '–')}</td>"
            f'<td class="nw">{age(a["age_s"])}</td>'
            + (f'<td class="nw">{escape(str(a["sla"] or "–"))}</td>' if sla else "")
            + "</tr>"
        )
    more = len(items) - FEED_ROWS
    tail = f'<p class="muted">and {more} more open alert(s)</p>' if more > 0 else ""
    return f'<table id="attention">{head}{rows}</table>{tail}'


def _loop(data: Mapping[str, Any]) -> str:
    loop = data["loop"]
    median = "–" if loop["median_ack_s"] is None else age(loop["median_ack_s"])
    owners = "".join(
        f"<tr><td>{escape(o['assignee'] or 'unassigned')}</td><td class=num>{o['n']}</td></tr>"
        for o in loop["open_by_assignee"]
    )
    return (
        f"<p>{loop['alerts']} signal(s) alerted · acknowledged {_pct(loop['acknowledged_share'])}"
        f" · resolved {_pct(loop['resolved_share'])} · median time to acknowledge {median}</p>"
        + (f"<table><tr><th>open alerts by assignee</th><th></th></tr>{owners}</table>"
           if owners else "")
    )  # fmt: skip


def _unscored(data: Mapping[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><a href="{escape(list_href(data, "unscored", lang=u["lang"]))}">'
        f"{escape(u['lang'])}</a></td><td class=num>{u['n']:,}</td>"
        f"<td class=num>{_pct(u['share'])}</td></tr>"
        for u in data["unscored"]
        if u["lang"] != "unknown"
    )
    return (
        f"<table><tr><th>language</th><th>signals</th><th>unscored</th></tr>{rows}</table>"
        if rows
        else '<p class="muted">No signals in this period.</p>'
    )


def main_html(data: Mapping[str, Any]) -> str:
    """The live part of the page; the script swaps it whole when something changes."""
    tiles = "".join(_tile(data, t) for t in data["tiles"])
    prev = f" · compared with {escape(data['previous'])}" if data["previous"] else ""
    cards = [
        ("Volume by sentiment", _legend() + charts.stacked_bars(data["volume"])),
        ("NPS", charts.trend_line(data["trend"]["nps"], -100, 100)),
        ("CSAT", charts.trend_line(data["trend"]["csat"], 0, 100)),
        ("Needs attention", _attention(data)),
        ("Topics", _topics(data)),
        ("Source × kind", _heatmap(data)),
        ("Closed loop", _loop(data)),
        ("Unscored share per language", _unscored(data)),
    ]
    body = "".join(f'<section class="card"><h2>{t}</h2>{c}</section>' for t, c in cards)
    csv = escape(list_href(data) + "&format=csv")
    return (
        f'<p class="when">{escape(data["window"]["text"])}{prev} ·'
        f' <a href="{escape(list_href(data))}">signals</a> · <a href="{csv}">CSV</a></p>'
        f'<div class="tiles">{tiles}</div><div class="grid">{body}</div>'
    )


def dashboard_page(data: Mapping[str, Any], q: str) -> str:
    return _doc(
        "cxbot dashboard",
        _header(q) + f'<main id="main" data-q="{escape(q)}">{main_html(data)}</main>',
        script=True,
    )


def message_page(title: str, text: str, q: str = "") -> str:
    """Sign-in needed, dashboard off, a bad query: words only, never data."""
    return _doc(title, _header(q, live=False) + f"<main><h2>{escape(title)}</h2>{text}</main>")


SIGN_IN = (
    "<p>Nothing here is public. Ask for a personal sign-in link: type <code>/cx dashboard</code>"
    " in Slack, or run <code>cxbot dashboard-link</code> on the server. The link expires;"
    " once used, this browser stays signed in with a session cookie.</p>"
)
OFF = (
    "<p>The dashboard is off: set the environment variable <code>CXBOT_SECRET_KEY</code> (a long"
    " random string, e.g. <code>python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
    "</code>) for <code>cxbot serve</code>, restart it, then sign in with"
    " <code>cxbot dashboard-link</code> or <code>/cx dashboard</code>.</p>"
)


def _signal_rows(rows: Sequence[Mapping[str, Any]]) -> str:
    body = "".join(
        f"<tr><td>{escape(r['created_at'][:16].replace('T', ' '))}</td><td>{escape(r['source'])}"
        f"</td><td>{escape(r['kind'])}</td><td>{escape(r['sentiment_label'] or '–')}</td>"
        f"<td>{_score(r)}</td><td>{escape(r['author'] or '')}</td>"
        f'<td><a href="/dashboard/signal/{r["id"]}">'
        f"{escape(r['title'] or (r['text'] or '')[:160] or str(r['id']))}</a></td></tr>"
        for r in rows
    )
    head = "<tr><th>time (UTC)</th><th>source</th><th>kind</th><th>sentiment</th><th>score</th>"
    return f"<table>{head}<th>author</th><th>signal</th></tr>{body}</table>"


def _score(r: Mapping[str, Any]) -> str:
    if r["rating"] is not None:
        return "★" * int(r["rating"])
    if r["score"] is not None:
        return escape(f"{(r['score_type'] or '').upper()} {r['score']:g}")
    return "" if r["sentiment"] is None else signed(float(r["sentiment"]), 2)


def list_page(q: str, only: str | None, rows: Sequence[Mapping[str, Any]], more: str | None) -> str:
    title = "Signals" + (f" · {only}" if only else "")
    params = {"q": q, **({"only": only} if only else {}), "format": "csv"}
    nav = f'<p><a href="/dashboard?{escape(urlencode({"q": q}))}">← dashboard</a> ·'
    nav += f' <a href="/dashboard/signals?{escape(urlencode(params))}">CSV</a></p>'
    tail = f'<p><a href="{escape(more)}">more…</a></p>' if more else ""
    empty = '<p class="muted">No signals.</p>' if not rows else ""
    return _doc(
        title,
        _header(q, live=False)
        + f"<main><h2>{escape(title)} — {escape(q or '7d')}</h2>{nav}{empty}"
        + (_signal_rows(rows) if rows else "")
        + f"{tail}</main>",
    )


def timeline_page(signal: Mapping[str, Any], profile: Mapping[str, Any] | None) -> str:
    """One signal, and its customer's signals across channels (newest first)."""
    what = signal["title"] or ""
    body = f"<h2>Signal {signal['id']}</h2><p><b>{escape(what)}</b></p>"
    body += f"<p>{escape(signal['text'] or '')}</p>"
    if profile is None:
        body += '<p class="muted">No customer profile is linked to this signal.</p>'
    else:
        who = profile["name"] or "(no name)"
        if profile.get("email"):
            who += f" · {profile['email']}"
        handles = ", ".join(f"{p}:{h}" for p, h in profile["handles"])
        channels = "".join(
            f"<tr><td>{escape(c['source'])}</td><td>{escape(c['kind'])}</td>"
            f"<td class=num>{c['n']}</td><td class=num>{c['negative']}</td></tr>"
            for c in profile["channels"]
        )
        body += (
            f"<h2>Customer: {escape(who)}</h2><p>{escape(handles)}</p>"
            f"<p>{profile['signal_count']} signal(s), first seen"
            f" {escape(profile['first_seen'][:10])}, last seen {escape(profile['last_seen'][:10])}"
            "</p><table><tr><th>source</th><th>kind</th><th>signals</th><th>negative</th></tr>"
            f"{channels}</table><h2>Timeline</h2>{_signal_rows(profile['recent'])}"
        )
    return _doc(f"Signal {signal['id']}", _header("", live=False) + f"<main>{body}</main>")
