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
        self.stale_cursors: set[int] = set()  # offsets whose cursor is refused once (400)

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
        if offset in self.stale_cursors:
            self.stale_cursors.discard(offset)
            return web.json_response({"errors": [{"status": "400", "code": "PARAMETER_ERROR.INVALID",
                                                  "title": "A parameter has an invalid value",
                                                  "detail": "cursor"}]}, status=400)  # fmt: skip
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


# --- Google: the OAuth token endpoint, Android Publisher, Business Profile -------------------


def new_service_account(token_url: str) -> tuple[str, Any]:
    """A service-account key file's JSON text (our own RSA key) and the key's public half."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {"type": "service_account", "project_id": "cxbot-test", "private_key_id": "k1",
            "private_key": pem, "client_email": "cxbot@cxbot-test.iam.gserviceaccount.com",
            "client_id": "1", "token_uri": token_url}  # fmt: skip
    return json.dumps(info), key.public_key()


def play_review(
    n: int, stars: int, seconds: int, *, text: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "reviewId": f"gp:{n}",
        "authorName": f"Player {n}",
        "comments": [{"userComment": {
            "text": text or f"Title {n}\tPlay review {n}",
            "lastModified": {"seconds": str(seconds), "nanos": 5},
            "starRating": stars, **extra}}],
    }  # fmt: skip


def place_review(
    n: int, stars: str, updated: str, *, comment: str | None = "Nice place"
) -> dict[str, Any]:
    review: dict[str, Any] = {
        "name": f"accounts/111/locations/222/reviews/r{n}",
        "reviewId": f"r{n}",
        "reviewer": {"displayName": f"Visitor {n}", "isAnonymous": False},
        "starRating": stars,
        "createTime": updated,
        "updateTime": updated,
    }
    if comment is not None:
        review["comment"] = comment
    return review


class FakeGoogle(_Fake):
    """`POST /token` (JWT bearer grant, checked with the service account's public key), then
    `reviews.list` of Android Publisher and of Business Profile, tokens checked."""

    def __init__(self, page_size: int = 2) -> None:
        super().__init__()
        self.public_key: Any = None  # set once the service account is made
        self.page_size = page_size
        self.play: list[dict[str, Any]] = []  # newest first
        self.places: list[dict[str, Any]] = []
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.scopes: list[str] = []
        self.rejected = 0

    @property
    def token_url(self) -> str:
        return self.root + "/token"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/token", self._token)
        app.router.add_get("/androidpublisher/v3/applications/{package}/reviews", self._play)
        app.router.add_get("/v4/accounts/{account}/locations/{location}/reviews", self._places)

    def expire_tokens(self) -> None:
        self.revoked |= set(self.issued)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        try:
            claims = jwt.decode(
                str(form.get("assertion")), self.public_key, algorithms=["RS256"],
                audience=self.token_url, options={"require": ["iss", "scope", "iat", "exp"]},
            )  # fmt: skip
        except jwt.PyJWTError as exc:
            return web.json_response(
                {"error": "invalid_grant", "error_description": str(exc)}, status=400
            )
        if (
            form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer"
            or claims["exp"] - claims["iat"] > 3600
        ):
            return web.json_response(
                {"error": "invalid_grant", "error_description": "bad"}, status=400
            )
        self.scopes.append(claims["scope"])
        token = f"ya29.fake-{len(self.issued)}"
        self.issued.append(token)
        return web.json_response(
            {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        )

    def _authorised(self, request: web.Request) -> bool:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.issued and token not in self.revoked:
            return True
        self.rejected += 1
        return False

    def _denied(self) -> web.Response:
        return web.json_response({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}}, status=401)  # fmt: skip

    async def _play(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if not self._authorised(request):
            return self._denied()
        scripted = self._scripted()
        if scripted is not None:
            return scripted
        offset = int(request.query.get("token", "0"))
        size = min(int(request.query.get("maxResults", "10")), self.page_size)
        body: dict[str, Any] = {"reviews": self.play[offset : offset + size]}
        if offset + size < len(self.play):
            body["tokenPagination"] = {"nextPageToken": str(offset + size)}
        return web.json_response(body)

    async def _places(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if not self._authorised(request):
            return self._denied()
        offset = int(request.query.get("pageToken", "0"))
        size = min(int(request.query.get("pageSize", "50")), self.page_size)
        body: dict[str, Any] = {"reviews": self.places[offset : offset + size],
                                "averageRating": 4.2, "totalReviewCount": len(self.places)}  # fmt: skip
        if offset + size < len(self.places):
            body["nextPageToken"] = str(offset + size)
        return web.json_response(body)


# --- Reddit -----------------------------------------------------------------------------------


def reddit_post(
    n: int, created: float, *, selftext: str = "", title: str | None = None
) -> dict[str, Any]:
    return {"kind": "t3", "data": {
        "id": f"p{n}", "name": f"t3_p{n}", "title": title or f"Is ShopApp down? ({n})",
        "selftext": selftext, "author": "[deleted]" if n == 0 else f"redditor{n}",
        "subreddit": "shopapp", "permalink": f"/r/shopapp/comments/p{n}/post_{n}/",
        "created_utc": created, "score": n, "num_comments": 0, "edited": False}}  # fmt: skip


class FakeReddit(_Fake):
    """`POST /api/v1/access_token` (Basic client id:secret, client_credentials), then
    `GET /r/{subs}/search.json` and `/search.json` paged by `after`, bearer checked."""

    def __init__(self, client_id: str, secret: str, page_size: int = 2) -> None:
        super().__init__()
        self.basic = (
            "Basic " + __import__("base64").b64encode(f"{client_id}:{secret}".encode()).decode()
        )
        self.page_size = page_size
        self.posts: list[dict[str, Any]] = []  # newest first
        self.tokens: list[str] = []

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/access_token", self._token)
        app.router.add_get("/r/{subs}/search.json", self._search)
        app.router.add_get("/search.json", self._search)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            request.headers.get("Authorization") != self.basic
            or form.get("grant_type") != "client_credentials"
        ):
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        self.tokens.append(f"tok{len(self.tokens)}")
        return web.json_response(
            {
                "access_token": self.tokens[-1],
                "token_type": "bearer",
                "expires_in": 86400,
                "scope": "*",
            }
        )

    async def _search(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.query)))
        if (
            request.headers.get("Authorization")
            != f"Bearer {self.tokens[-1] if self.tokens else '-'}"
        ):
            return web.json_response({"message": "Unauthorized", "error": 401}, status=401)
        q = request.query
        if q.get("sort") != "new" or q.get("raw_json") != "1" or not q.get("q"):
            return web.json_response({"message": "Bad Request", "error": 400}, status=400)
        offset = int(q.get("after", "t3_0").split("_")[1] or 0) if q.get("after") else 0
        page = self.posts[offset : offset + self.page_size]
        after = (
            f"t3_{offset + self.page_size}" if offset + self.page_size < len(self.posts) else None
        )
        return web.json_response({"kind": "Listing", "data": {
            "after": after, "before": None, "dist": len(page), "modhash": "", "geo_filter": "",
            "children": page}})  # fmt: skip
