"""Personal sign-in links to the dashboard, for `cxbot dashboard-link` and `/cx dashboard`."""

from __future__ import annotations

from datetime import datetime

from cxbot.config import Settings
from cxbot.dashboard.auth import LINK_HOURS, base_url, link_token, sign_in_url
from cxbot.slack.fmt import Answer

OFF_MESSAGE = (
    "The dashboard is off: set CXBOT_SECRET_KEY (a long random string) in the environment of"
    " `cxbot serve` and of this command."
)


def personal_link(
    settings: Settings, user: str | None, now: datetime, hours: float = LINK_HOURS
) -> str | None:
    """A sign-in link for `user` (None: the terminal) that expires in `hours`; None when the
    dashboard is off (no CXBOT_SECRET_KEY)."""
    if settings.secret_key is None:
        return None
    server = settings.file.server
    token = link_token(settings.secret_key.get_secret_value(), user, now, hours)
    return sign_in_url(base_url(server.public_url, server.host, settings.port), token)


def dashboard_answer(settings: Settings, user: str | None, now: datetime) -> Answer:
    """`/cx dashboard`: always ephemeral, since the link signs in as the asker."""
    link = personal_link(settings, user, now)
    if link is None:
        return Answer(OFF_MESSAGE, None)
    return Answer(
        f"Your personal dashboard link (expires in {LINK_HOURS} h; do not share it): {link}",
        None,
    )
