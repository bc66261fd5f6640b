"""Fake provider reply APIs on loopback, answering as each provider's documentation shows
(../shared/payloads/<provider>/SPEC.md, reply sections): our own data, their shapes.

`FakeReplyAPI` serves every provider's reply path (and Help Scout's and Trustpilot's token
endpoints); `ReplyingAppStore` and `ReplyingGoogle` add the reply paths to the poll fakes, as
the real APIs share one host. Each records the reply requests (`replies`) and answers
scripted failures first (`fail_replies`, a list of `Failure`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.kit.fakereviews import Failure, FakeAppStoreConnect, FakeGoogle, _Fake


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _Replies:
    """The recording and the per-provider success answers."""

    def _init_replies(self) -> None:
        self.replies: list[Recorded] = []
        self.fail_replies: list[Failure] = []
        self.tokens_issued = 0
        self.token_forms: list[dict[str, str]] = []

    async def _record(self, request: web.Request) -> web.Response | None:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.replies.append(Recorded(request.method, request.path, dict(request.headers), body))
        if self.fail_replies:
            f = self.fail_replies.pop(0)
            return web.json_response(f.body or {}, status=f.status, headers=f.headers)
        return None

    async def _zendesk(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        ticket = int(request.match_info["ticket"])
        comment = self.replies[-1].body["ticket"]["comment"]
        event = {"type": "Comment", "id": 9000 + len(self.replies), "body": comment["body"],
                 "public": comment["public"], "author_id": 77, "attachments": []}  # fmt: skip
        return web.json_response(
            {"ticket": {"id": ticket, "status": "open"},
             "audit": {"id": 5000 + len(self.replies), "ticket_id": ticket, "events": [event]}}
        )  # fmt: skip

    async def _intercom(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        part = {"type": "conversation_part", "id": str(7000 + len(self.replies)),
                "part_type": "comment", "body": self.replies[-1].body["body"]}  # fmt: skip
        return web.json_response(
            {"type": "conversation", "id": request.match_info["conversation"],
             "conversation_parts": {"type": "conversation_part.list",
                                    "conversation_parts": [part], "total_count": 1}}
        )  # fmt: skip

    async def _helpscout(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        return web.Response(status=201, headers={"Resource-ID": str(8000 + len(self.replies))})

    async def _trustpilot(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        return web.Response(status=201)  # undocumented answer: success, nothing to read

    async def _app_store(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        body = self.replies[-1].body["data"]
        return web.json_response(
            {"data": {"type": "customerReviewResponses", "id": f"resp-{len(self.replies)}",
                      "attributes": {"responseBody": body["attributes"]["responseBody"],
                                     "state": "PENDING_PUBLISH"}}},
            status=201,
        )  # fmt: skip

    async def _play_reply(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        text = self.replies[-1].body["replyText"]
        return web.json_response(
            {"result": {"replyText": text, "lastEdited": {"seconds": "1764000000", "nanos": 0}}}
        )

    async def _business_reply(self, request: web.Request) -> web.Response:
        if (failed := await self._record(request)) is not None:
            return failed
        return web.json_response(
            {"comment": self.replies[-1].body["comment"], "updateTime": "2026-12-01T10:00:00Z"}
        )

    async def _reply_token(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_forms.append({**form, "authorization": request.headers.get("Authorization", "")})
        self.tokens_issued += 1
        return web.json_response(
            {"access_token": f"tok-{self.tokens_issued}", "expires_in": "359999"}
        )

    def reply_routes(self, app: web.Application) -> None:
        app.router.add_put("/api/v2/tickets/{ticket}.json", self._zendesk)
        app.router.add_post("/conversations/{conversation}/reply", self._intercom)
        app.router.add_post("/v2/conversations/{conversation}/reply", self._helpscout)
        app.router.add_post("/v2/oauth2/token", self._reply_token)
        app.router.add_post("/v1/private/reviews/{review}/reply", self._trustpilot)
        app.router.add_post(
            "/v1/oauth/oauth-business-users-for-applications/accesstoken", self._reply_token
        )
        app.router.add_post("/v1/customerReviewResponses", self._app_store)
        app.router.add_post(
            "/androidpublisher/v3/applications/{package}/reviews/{review}:reply", self._play_reply
        )
        app.router.add_put(
            "/v4/accounts/{account}/locations/{location}/reviews/{review}/reply",
            self._business_reply,
        )


class FakeReplyAPI(_Replies, _Fake):
    def __init__(self) -> None:
        super().__init__()
        self._init_replies()

    def routes(self, app: web.Application) -> None:
        self.reply_routes(app)
        app.router.add_post("/token", self._reply_token)  # Google's, unchecked here


class ReplyingAppStore(_Replies, FakeAppStoreConnect):
    """The poll fake, plus `POST /v1/customerReviewResponses` with its JWT checked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_replies()

    def routes(self, app: web.Application) -> None:
        super().routes(app)
        app.router.add_post("/v1/customerReviewResponses", self._checked_app_store)

    async def _checked_app_store(self, request: web.Request) -> web.Response:
        if not self._token_ok(request.headers.get("Authorization")):
            self.rejected += 1
            return self._unauthorized()
        return await self._app_store(request)


class ReplyingGoogle(_Replies, FakeGoogle):
    """The poll fake, plus Google Play's `reviews.reply` with its token checked."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_replies()

    def routes(self, app: web.Application) -> None:
        super().routes(app)
        app.router.add_post(
            "/androidpublisher/v3/applications/{package}/reviews/{review}:reply", self._checked_play
        )

    async def _checked_play(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._denied()
        return await self._play_reply(request)
