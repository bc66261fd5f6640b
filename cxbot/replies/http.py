"""Sending a reply: one HTTP call to the provider through the source's client, over one
aiohttp session, with a timeout. Nothing blocks the event loop (minting a JWT or signing a
Google assertion is a few hundred microseconds of CPU, done in a thread all the same).

Outcomes: the provider's reply id (a 2xx); `Refused` with the provider's short reason (a 4xx
other than 429, a redirect, credentials that cannot be used: permanent, nothing is resent);
`RetryLater` (429 with its Retry-After, 5xx, a timeout, a dropped connection: the outbox
retries with its backoff, and a restart resumes). A 401 with a cached token renews it once.
Tokens (minted or exchanged) are kept per source until a minute before they expire, through
the pollers' own machinery (cxbot/poll/fetch.py `Fetcher.exchange`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp

from cxbot.listener.logsafe import esc
from cxbot.poll.fetch import RENEW_BEFORE, USER_AGENT, Fetcher, FetchError, retry_after
from cxbot.replies.base import Minted, short_reason
from cxbot.replies.clients import ReplySource
from cxbot.slack.sinks import RetryLater
from cxbot.sources.polling import PollError, TokenRequest

log = logging.getLogger("cxbot.replies")

TIMEOUT_SECONDS = 20.0


class Refused(Exception):
    """The provider (or the credentials) refused the reply for good: `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReplyHttp:
    def __init__(
        self, *, timeout: float = TIMEOUT_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self.timeout = timeout
        self.clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._fetcher: Fetcher | None = None
        self._tokens: dict[str, tuple[str, float]] = {}

    def _client(self) -> tuple[aiohttp.ClientSession, Fetcher]:
        if self._session is None or self._fetcher is None:  # made on the running loop
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._fetcher = Fetcher(self._session, clock=self.clock)
        return self._session, self._fetcher

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _token(self, source: ReplySource, renew: bool) -> str | None:
        held = self._tokens.get(source.name)
        now = self.clock()
        if not renew and held is not None and held[1] - RENEW_BEFORE > now:
            return held[0]
        try:
            auth = await asyncio.to_thread(source.client.auth, source.options, now)
        except (PollError, ValueError, TypeError) as exc:
            raise Refused(f"credentials: {exc}"[:300]) from None
        if auth is None:
            return None
        if isinstance(auth, Minted):
            held = (auth.token, auth.expires)
        else:
            held = await self._exchange(auth)
        self._tokens[source.name] = held
        return held[0]

    async def _exchange(self, req: TokenRequest) -> tuple[str, float]:
        _, fetcher = self._client()
        try:
            return await fetcher.exchange(req)
        except FetchError as exc:
            text = str(exc)
            # The endpoint said no (bad client id or secret): retrying will not change that.
            if any(f"HTTP {code}" in text for code in (400, 401, 403)):
                raise Refused(text) from None
            raise RetryLater(text) from None

    async def send(
        self, source: ReplySource, signal: Mapping[str, Any], target: str, text: str
    ) -> str | None:
        """Send the reply; the provider's reply id (None when it gives none)."""
        session, _ = self._client()
        client = source.client
        renewed = False
        while True:
            token = await self._token(source, renew=renewed)
            req = client.build(source.options, signal, target, text, token)
            started = time.perf_counter()
            try:
                async with session.request(
                    req.method,
                    req.url,
                    json=dict(req.body),
                    headers={"User-Agent": USER_AGENT, **req.headers},
                    allow_redirects=False,  # never carry the credentials to another address
                ) as resp:
                    status, body = resp.status, await resp.read()
                    headers = dict(resp.headers)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Past the connection the provider may have taken it: a retry may post it twice.
                maybe_taken = not isinstance(exc, aiohttp.ClientConnectorError)
                reason = f"{type(exc).__name__}: {esc(exc, 150)}"
                raise RetryLater(reason, ambiguous=maybe_taken) from None
            log.info(
                "reply source=%s %s status=%d bytes=%d %.0fms",
                esc(source.name), client.name, status, len(body),
                (time.perf_counter() - started) * 1000,
            )  # fmt: skip
            if 200 <= status < 300:
                found = client.read(headers, body)
                return found if found is not None or not client.keeps_target else target
            if status == 401 and token is not None and not renewed:
                renewed = True
                continue
            if status == 429 or status >= 500:
                # Help Scout names its own header as well.
                hint = headers.get("Retry-After") or headers.get("X-RateLimit-Retry-After")
                wait = retry_after(hint, self.clock())
                raise RetryLater(short_reason(status, body), wait)
            raise Refused(short_reason(status, body))
