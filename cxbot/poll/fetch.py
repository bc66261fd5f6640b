"""HTTP for the pollers: one GET of a page, with the source's token, retried as providers ask.

- 429: wait what `Retry-After` says (seconds or an HTTP date), else back off exponentially;
  a wait longer than `max_wait` ends the run instead (the next interval tries again).
- 5xx, a timeout or a dropped connection: retried with backoff, then the run fails.
- 401 with a token: the token is minted again once (it may have expired early: a skewed clock),
  then the run fails.
- any other 4xx: the run fails with the provider's short reason (never the whole body).
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from cxbot.listener.logsafe import esc
from cxbot.poll.config import PollSource
from cxbot.sources.polling import PageRequest, PollError, TokenRequest

log = logging.getLogger("cxbot.poll")

USER_AGENT = "cxbot (+https://github.com/cxbot)"
RENEW_BEFORE = 60.0  # seconds before its expiry a token is minted again


class FetchError(PollError):
    """The provider did not give the page; the message says why, in one line."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status that ended it, if any


def retry_after(value: str | None, now: float) -> float | None:
    """`Retry-After` as seconds from now: a number, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def reason(status: int, body: bytes) -> str:
    """A short reason from an error answer: App Store Connect's `errors[0]`, Google's
    `error.message`, else the status alone."""
    try:
        data: Any = json.loads(body[:20_000])
    except ValueError:
        return f"HTTP {status}"
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return f"HTTP {status} {first.get('code', '')}: {first.get('title', '')}"[:300]
        error = data.get("error")
        if isinstance(error, str) and isinstance(data.get("error_description"), str):
            return f"HTTP {status}: {error}: {data['error_description']}"[:300]  # OAuth
        if isinstance(error, dict):
            return f"HTTP {status}: {error.get('message', '')}"[:300]
        if isinstance(error, str):
            return f"HTTP {status}: {error}"[:300]
    return f"HTTP {status}"


class Fetcher:
    """GETs pages for every poll source over one session; keeps each source's token."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        attempts: int = 5,
        backoff: float = 1.0,
        max_wait: float = 300.0,
    ) -> None:
        self.session = session
        self.clock = clock
        self.sleep = sleep
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        self._tokens: dict[str, tuple[str, float]] = {}

    async def _token(self, source: PollSource, renew: bool = False) -> str | None:
        poller = source.poller
        if poller.mint is None and poller.token_request is None:
            return None
        held = self._tokens.get(source.name)
        now = self.clock()
        if renew or held is None or held[1] - RENEW_BEFORE <= now:
            if poller.mint is not None:
                held = poller.mint(source.options, now)
            else:
                assert poller.token_request is not None
                held = await self._exchange(poller.token_request(source.options, now), now)
            self._tokens[source.name] = held
        return held[0]

    async def exchange(self, req: TokenRequest) -> tuple[str, float]:
        """A token from an OAuth endpoint for a caller outside the poll (the reply clients,
        cxbot/replies/http.py): the same exchange, so the same errors."""
        return await self._exchange(req, self.clock())

    async def _exchange(self, req: TokenRequest, now: float) -> tuple[str, float]:
        """An OAuth token endpoint's answer: the access token and when it expires."""
        try:
            async with self.session.post(
                req.url, data=dict(req.form), headers={"User-Agent": USER_AGENT, **req.headers}
            ) as resp:
                status, body = resp.status, await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FetchError(f"token: {type(exc).__name__}: {exc}"[:200]) from None
        if status != 200:
            raise FetchError(f"token: {reason(status, body)}")
        try:
            data = json.loads(body)
            token, lifetime = str(data["access_token"]), float(data.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise FetchError("token: the answer has no access_token") from None
        return token, now + lifetime

    async def get(self, source: PollSource, req: PageRequest) -> bytes:
        renewed = False
        for attempt in range(self.attempts):
            headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
            token = await self._token(source)
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            started = time.perf_counter()
            try:
                async with self.session.get(
                    req.url, params=dict(req.params), headers=headers
                ) as resp:
                    status, body = resp.status, await resp.read()
                    wait_header = resp.headers.get("Retry-After")
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, body, wait_header = 0, b"", None
                problem = f"{type(exc).__name__}: {exc}"[:200]
            else:
                problem = reason(status, body) if status >= 400 else ""
            log.info(
                "poll source=%s status=%s bytes=%d %.1fms",
                esc(source.name), status or "-", len(body),
                (time.perf_counter() - started) * 1000,
            )  # fmt: skip
            if 200 <= status < 300:
                return body
            last = attempt == self.attempts - 1
            if status == 401 and token is not None and not renewed:
                await self._token(source, renew=True)
                renewed = True
                continue
            if status == 429 or status == 0 or status >= 500:
                wait = retry_after(wait_header, self.clock()) if status == 429 else None
                if wait is None:
                    wait = self.backoff * 2**attempt
                if last or wait > self.max_wait:
                    hint = f" (retry after {wait:.0f}s)" if status == 429 else ""
                    raise FetchError(f"{problem or 'rate limited'}{hint}")
                await self.sleep(wait)
                continue
            raise FetchError(problem or f"HTTP {status}", status)
        raise FetchError("no answer")  # not reached: the last attempt raises above
