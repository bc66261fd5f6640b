"""Fake review APIs on loopback, speaking as the providers' documentation and recorded
examples show (../shared/payloads/<provider>/): our own data, their shapes.

- `FakeAppStoreConnect`: `GET /v1/apps/{id}/customerReviews`, newest first, paged by an opaque
  `cursor` in the top-level `links.next`; every request must carry a valid ES256 JWT (kid,
  iss, aud `appstoreconnect-v1`, lifetime ≤ 20 minutes, not expired by the fake's clock).
- `FakeReviewFeed`: the public RSS JSON feed, `/{country}/rss/customerreviews/page={n}/id={app}/
  sortby=mostrecent/json`, 50 a page, every scalar wrapped as `{"label": ...}`.

Both record each request (`requests`), answer scripted failures first (`fail_next`), and can
hold a page until released (`hold`), to stop the app mid-walk.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


@dataclass
class Failure:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def new_p8_key() -> tuple[str, ec.EllipticCurvePublicKey]:
    """A fresh P-256 key as the `.p8` text App Store Connect hands out, and its public half."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


class _Fake:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.fail_next: list[Failure] = []
        self.hold: asyncio.Event | None = None  # set: held pages go on
        self.hold_from = 0  # pages at or after this offset wait for `hold`
        self.holding = asyncio.Event()  # a request is waiting on `hold`
        self.root = ""
        self._runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Any:
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.root = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.hold is not None:
            self.hold.set()
        assert self._runner is not None
        await self._runner.cleanup()

    def _scripted(self) -> web.Response | None:
        if not self.fail_next:
            return None
        f = self.fail_next.pop(0)
        return web.json_response(f.body or {}, status=f.status, headers=f.headers)

    async def _maybe_hold(self, offset: int) -> None:
        if self.hold is not None and offset >= self.hold_from:
            self.holding.set()
            await self.hold.wait()


# --- App Store Connect ------------------------------------------------------------------------


def asc_review(
    n: int, rating: int, created: str, *, body: str | None = None, territory: str = "USA"
) -> dict[str, Any]:
    rid = f"00000028-b08c-0014-729e-{n:012x}"
    return {
        "type": "customerReviews",
        "id": rid,
        "attributes": {
            "rating": rating,
            "title": f"Review {n}",
            "body": body or f"Review number {n} of the app",
            "reviewerNickname": f"Reviewer {n}",
            "createdDate": created,
            "territory": territory,
        },
        "relationships": {
            "response": {"links": {"self": f"/v1/customerReviews/{rid}/relationships/response"}}
        },
        "links": {"self": f"/v1/customerReviews/{rid}"},
    }


class FakeAppStoreConnect(_Fake):
    def __init__(
        self,
        public_key: ec.EllipticCurvePublicKey,
        *,
        app_id: str = "682658836",
        key_id: str = "2X9R4HXF34",
        issuer: str = "57246542-96fe-1a63-e053-0824d011072a",
        page_size: int = 2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self.public_key = public_key
        self.app_id, self.key_id, self.issuer = app_id, key_id, issuer
        self.page_size = page_size
        self.clock = clock
        self.reviews: list[dict[str, Any]] = []  # newest first
        self.tokens: list[str] = []  # every accepted token
        self.rejected = 0  # requests answered 401
        self.refuse_next_token = False  # answer the next request 401 whatever its token

    @property
    def api_url(self) -> str:
        return self.root

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/apps/{app_id}/customerReviews", self._list)

    def _unauthorized(self) -> web.Response:
        # The shape of Apple's real 401 (payloads/app-store-connect/error.401.*).
        return web.json_response(
            {"errors": [{"status": "401", "code": "NOT_AUTHORIZED",
                         "title": "Authentication credentials are missing or invalid.",
                         "detail": "Provide a properly configured and signed bearer token."}]},
            status=401,
        )  # fmt: skip

    def _token_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ")
        try:
            head = jwt.get_unverified_header(token)
            claims = jwt.decode(
                token, self.public_key, algorithms=["ES256"], audience="appstoreconnect-v1",
                issuer=self.issuer, options={"verify_exp": False, "verify_iat": False,
                                             "require": ["iat", "exp", "iss", "aud"]},
            )  # fmt: skip
        except jwt.PyJWTError:
            return False
        lifetime = claims["exp"] - claims["iat"]
        if head.get("kid") != self.key_id or head.get("alg") != "ES256" or not 0 < lifetime <= 1200:
            return False
        if claims["exp"] <= self.clock():
            return False  # expired by the fake's clock
        self.tokens.append(token)
        return True

    async def _list(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.requests.append((request.path, query))
        if self.refuse_next_token or not self._token_ok(request.headers.get("Authorization")):
            self.refuse_next_token = False
            self.rejected += 1
            return self._unauthorized()
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        if request.match_info["app_id"] != self.app_id:
            return web.json_response({"errors": [{"status": "404", "code": "NOT_FOUND",
                                                  "title": "not found", "detail": "no app"}]},
                                     status=404)  # fmt: skip
        if query.get("sort") != "-createdDate":
            return web.json_response(
                {"errors": [{"status": "400", "code": "PARAMETER_ERROR"}]}, status=400
            )
        offset = int(query.get("cursor", "AQ.0").removeprefix("AQ."))
        await self._maybe_hold(offset)
        size = min(int(query.get("limit", "50")), self.page_size)
        page = self.reviews[offset : offset + size]
        links: dict[str, str] = {"self": str(request.url)}
        if offset + size < len(self.reviews):
            links["next"] = (
                f"{self.root}/v1/apps/{self.app_id}/customerReviews"
                f"?cursor=AQ.{offset + size}&limit={query.get('limit', '50')}&sort=-createdDate"
            )
        body = {"data": page, "links": links,
                "meta": {"paging": {"total": len(self.reviews), "limit": size}}}  # fmt: skip
        return web.Response(text=json.dumps(body), content_type="application/json")


# --- the public RSS feed ----------------------------------------------------------------------


def rss_entry(
    n: int, rating: int, *, updated: str | None = None, version: str = "2.1"
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "author": {
            "uri": {"label": f"https://itunes.apple.com/us/reviews/id{9000 + n}"},
            "name": {"label": f"nick{n}"},
            "label": "",
        },  # fmt: skip
        "im:version": {"label": version},
        "im:rating": {"label": str(rating)},
        "id": {"label": str(7_000_000_000 + n)},
        "title": {"label": f"Title {n}"},
        "content": {"label": f"Feed review {n}", "attributes": {"type": "text"}},
        "link": {
            "attributes": {
                "rel": "related",
                "href": "https://itunes.apple.com/us/review?id=1&type=Purple%20Software",
            }
        },
        "im:voteSum": {"label": "0"},
        "im:contentType": {"attributes": {"term": "Application", "label": "Application"}},
        "im:voteCount": {"label": "0"},
    }
    if updated is not None:
        entry["updated"] = {"label": updated}
    return entry


class FakeReviewFeed(_Fake):
    def __init__(self, app_id: str = "1404176564", page_size: int = 50) -> None:
        super().__init__()
        self.app_id = app_id
        self.page_size = page_size
        self.entries: dict[str, list[dict[str, Any]]] = {}  # country -> newest first

    def routes(self, app: web.Application) -> None:
        app.router.add_get(
            "/{country}/rss/customerreviews/page={page}/id={app_id}/sortby=mostrecent/json",
            self._feed,
        )

    async def _feed(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        country, page = request.match_info["country"], int(request.match_info["page"])
        entries = self.entries.get(country, [])
        last = max(1, min(10, -(-len(entries) // self.page_size)))
        chunk = entries[(page - 1) * self.page_size : page * self.page_size]
        base = f"https://itunes.apple.com/{country}/rss/customerreviews"
        feed: dict[str, Any] = {
            "author": {"name": {"label": "iTunes Store"}, "uri": {"label": "http://www.apple.com/itunes/"}},
            "updated": {"label": "2026-11-30T01:02:03-07:00"},
            "link": [
                {"attributes": {"rel": "alternate", "type": "text/html", "href": "https://apps.apple.com/"}},
                # As the real feed does, the paging links point at the XML variant.
                {"attributes": {"rel": "last", "href": f"{base}/page={last}/id={self.app_id}/sortby=mostrecent/xml?urlDesc=/customerreviews/id={self.app_id}/json"}},
                {"attributes": {"rel": "next", "href": f"{base}/page={page + 1}/id={self.app_id}/sortby=mostrecent/xml?urlDesc=/customerreviews/id={self.app_id}/json"}},
            ],
            "id": {"label": f"{base}/id={self.app_id}/json"},
        }  # fmt: skip
        if chunk:
            feed["entry"] = chunk if len(chunk) > 1 else chunk[0]  # one review: one object
        return web.Response(text=json.dumps({"feed": feed}), content_type="application/json")
