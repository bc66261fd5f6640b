"""A fake Slack Web API: a real aiohttp server on 127.0.0.1 that answers like Slack and checks
every message against Block Kit's limits, so tests see what Slack would reject.

Drive it with slack_sdk's clients pointed at `fake.base_url`; inspect `calls`, `messages`,
`responses`, `uploads`; inject failures with `fail_next`. `violations` collects every rejected
message: tests assert it stays empty.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

TEAM_ID = "T0CXBOT01"
BOT_USER_ID = "U0CXBOT01"
BOT_ID = "B0CXBOT01"
DEFAULT_CHANNELS = {"#cx-alerts": "C0001", "#cx-weekly": "C0002"}
# "drop_after" does the work, then drops the answer: Slack posted it but the client never knew.
FAIL_MODES = ("500", "ratelimited", "drop", "drop_after", "channel_not_found")

Json = dict[str, Any]

# Block Kit limits (api.slack.com/reference/block-kit).
TEXT_MAX = 40_000
BLOCKS_MAX = 50
SECTION_TEXT_MAX = 3000
FIELDS_MAX = 10
FIELD_TEXT_MAX = 2000
HEADER_TEXT_MAX = 150
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
ACTION_ID_MAX = 255
BLOCK_ID_MAX = 255
BUTTON_VALUE_MAX = 2000
URL_MAX = 3000
PLACEHOLDER_MAX = 150
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
OPTIONS_MAX = 100
OVERFLOW_OPTIONS = (1, 5)
# What each interactive element may carry besides type and action_id (Block Kit reference).
_ELEMENT_KEYS = {
    "button": {"text", "value", "url", "style", "confirm", "accessibility_label"},
    "static_select": {"placeholder", "options", "option_groups", "initial_option", "confirm",
                      "focus_on_load"},
    "users_select": {"placeholder", "initial_user", "confirm", "focus_on_load"},
    "overflow": {"options", "confirm"},
}  # fmt: skip

_BLOCK_KEYS = {
    "section": {"text", "fields", "accessory", "expand"},
    "header": {"text"},
    "context": {"elements"},
    "actions": {"elements"},
    "divider": set(),
    "image": {"image_url", "slack_file", "alt_text", "title"},
    "rich_text": {"elements"},
    "input": {"label", "element", "hint", "optional", "dispatch_action"},
}
_TEXT_KEYS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}
_ELEMENTS = {
    "button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons",
    "static_select", "external_select", "users_select", "conversations_select",
    "channels_select", "multi_static_select", "multi_external_select", "multi_users_select",
    "multi_conversations_select", "multi_channels_select", "timepicker", "workflow_button",
    "plain_text_input",
}  # fmt: skip
# Form-encoded calls carry these as JSON text.
_JSON_ARGS = ("blocks", "attachments", "metadata", "files", "view")
VIEW_TITLE_MAX = 24  # modal title, submit and close texts
PRIVATE_METADATA_MAX = 3000
CALLBACK_ID_MAX = 255
INPUT_LABEL_MAX = 2000
PLAIN_INPUT_MAX = 3000


class _Checker:
    """Collects errors in Slack's style: "message [json-pointer:/blocks/0/text/text]"."""

    def __init__(self, *, modal: bool = False) -> None:
        self.modal = modal  # input blocks are for modals only; a message with one is refused
        self.errors: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{path}]")

    def length(self, value: Any, path: str, limit: int, *, required: bool = True) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str):
            self.error(path, "must be a string")
        elif not value:
            self.error(path, "must be more than 0 characters")
        elif len(value) > limit:
            self.error(path, f"must be less than {limit + 1} characters")

    def text(self, obj: Any, path: str, limit: int, *, plain: bool = False) -> None:
        if not isinstance(obj, dict) or obj.get("type") not in _TEXT_KEYS:
            self.error(path, "must be a text object (plain_text or mrkdwn)")
            return
        if plain and obj["type"] != "plain_text":
            self.error(path + "/type", "must be plain_text")
        if extra := set(obj) - _TEXT_KEYS[obj["type"]]:
            self.error(path, f"unknown fields {sorted(extra)}")
        self.length(obj.get("text"), path + "/text", limit)

    def element(self, el: Any, path: str) -> None:
        if not isinstance(el, dict) or el.get("type") not in _ELEMENTS:
            self.error(path + "/type", "unknown element type")
            return
        if "action_id" in el:
            action_id = el["action_id"]
            self.length(action_id, path + "/action_id", ACTION_ID_MAX)
            if action_id in self.action_ids:
                self.error(path + "/action_id", f"duplicate action_id {action_id!r}")
            self.action_ids.add(action_id)
        if (allowed := _ELEMENT_KEYS.get(el["type"])) is not None:
            if extra := set(el) - allowed - {"type", "action_id"}:
                self.error(path, f"unknown fields {sorted(extra)}")
        if el["type"] in ("static_select", "users_select"):
            self.text(el.get("placeholder"), path + "/placeholder", PLACEHOLDER_MAX, plain=True)
        if el["type"] == "users_select" and "initial_user" in el:
            self.length(el["initial_user"], path + "/initial_user", 255)
        if el["type"] == "static_select":
            if ("options" in el) == ("option_groups" in el):
                self.error(path, "must provide exactly one of options or option_groups")
            if "options" in el:
                self.options(el["options"], path + "/options", (1, OPTIONS_MAX))
        if el["type"] == "overflow":
            self.options(el.get("options"), path + "/options", OVERFLOW_OPTIONS)
        if el["type"] == "plain_text_input":
            if extra := set(el) - {"type", "action_id", "initial_value", "multiline",
                                   "placeholder", "min_length", "max_length",
                                   "dispatch_action_config", "focus_on_load"}:  # fmt: skip
                self.error(path, f"unknown fields {sorted(extra)}")
            limit = el.get("max_length", PLAIN_INPUT_MAX)
            if not isinstance(limit, int) or not 0 < limit <= PLAIN_INPUT_MAX:
                self.error(path + "/max_length", f"must be at most {PLAIN_INPUT_MAX}")
            elif len(str(el.get("initial_value", ""))) > limit:
                self.error(path + "/initial_value", f"must be at most {limit} characters")
        if el["type"] == "button":
            self.text(el.get("text"), path + "/text", BUTTON_TEXT_MAX, plain=True)
            self.length(el.get("value"), path + "/value", BUTTON_VALUE_MAX, required=False)
            self.length(el.get("url"), path + "/url", URL_MAX, required=False)
            if el.get("style") not in (None, "primary", "danger"):
                self.error(path + "/style", "must be primary or danger")

    def options(self, options: Any, path: str, bounds: tuple[int, int]) -> None:
        """Option objects: plain_text of at most 75 characters, a value of at most 150."""
        if not isinstance(options, list) or not bounds[0] <= len(options) <= bounds[1]:
            self.error(path, f"must have {bounds[0]} to {bounds[1]} items")
            return
        values: set[Any] = set()
        for i, option in enumerate(options):
            where = f"{path}/{i}"
            if not isinstance(option, dict):
                self.error(where, "must be an option object")
                continue
            if extra := set(option) - {"text", "value", "description", "url"}:
                self.error(where, f"unknown fields {sorted(extra)}")
            self.text(option.get("text"), where + "/text", OPTION_TEXT_MAX, plain=True)
            self.length(option.get("value"), where + "/value", OPTION_VALUE_MAX)
            if option.get("value") in values:
                self.error(where + "/value", "duplicate option value")
            values.add(option.get("value"))

    def elements(self, els: Any, path: str, limit: int) -> list[Any]:
        if not isinstance(els, list) or not els:
            self.error(path, "must be a non-empty array")
            return []
        if len(els) > limit:
            self.error(path, f"must have at most {limit} items")
        return els

    def block(self, block: Any, path: str) -> None:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in _BLOCK_KEYS or (kind == "input" and not self.modal):
            self.error(path + "/type", f"unknown block type {kind!r}")
            return
        if extra := set(block) - _BLOCK_KEYS[kind] - {"type", "block_id"}:
            self.error(path, f"unknown fields {sorted(extra)}")
        if "block_id" in block:
            self.length(block["block_id"], path + "/block_id", BLOCK_ID_MAX)
            if block["block_id"] in self.block_ids:
                self.error(path + "/block_id", f"duplicate block_id {block['block_id']!r}")
            self.block_ids.add(block["block_id"])
        if kind == "section":
            if "text" not in block and "fields" not in block:
                self.error(path, "must define either text or fields")
            if "text" in block:
                self.text(block["text"], path + "/text", SECTION_TEXT_MAX)
            if "fields" in block:
                for i, f in enumerate(self.elements(block["fields"], path + "/fields", FIELDS_MAX)):
                    self.text(f, f"{path}/fields/{i}", FIELD_TEXT_MAX)
            if "accessory" in block:
                self.element(block["accessory"], path + "/accessory")
        elif kind == "header":
            self.text(block.get("text"), path + "/text", HEADER_TEXT_MAX, plain=True)
        elif kind == "context":
            els = self.elements(block.get("elements"), path + "/elements", CONTEXT_ELEMENTS_MAX)
            for i, el in enumerate(els):
                if isinstance(el, dict) and el.get("type") == "image":
                    self.length(el.get("image_url"), f"{path}/elements/{i}/image_url", URL_MAX)
                else:
                    self.text(el, f"{path}/elements/{i}", SECTION_TEXT_MAX)
        elif kind == "actions":
            els = self.elements(block.get("elements"), path + "/elements", ACTIONS_ELEMENTS_MAX)
            for i, el in enumerate(els):
                self.element(el, f"{path}/elements/{i}")
        elif kind == "image":
            if "slack_file" not in block:
                self.length(block.get("image_url"), path + "/image_url", URL_MAX)
            self.length(block.get("alt_text"), path + "/alt_text", 2000)
        elif kind == "input":
            self.text(block.get("label"), path + "/label", INPUT_LABEL_MAX, plain=True)
            self.element(block.get("element"), path + "/element")
        elif kind == "rich_text":
            self.elements(block.get("elements"), path + "/elements", 10_000)


def validate_message(payload: Mapping[str, Any]) -> list[str]:
    """What Slack would reject in a message (chat.postMessage, chat.update, response_url)."""
    check = _Checker()
    text = payload.get("text")
    if text is not None and not isinstance(text, str):
        check.error("/text", "must be a string")
    elif text and len(text) > TEXT_MAX:
        check.error("/text", f"must be less than {TEXT_MAX + 1} characters")
    blocks = payload.get("blocks")
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            check.error("/blocks", "must be a JSON array")
            return check.errors
    if blocks is None:
        return check.errors
    if not isinstance(blocks, list):
        check.error("/blocks", "must be an array")
        return check.errors
    if len(blocks) > BLOCKS_MAX:
        check.error("/blocks", f"must have at most {BLOCKS_MAX} items")
    for i, block in enumerate(blocks):
        check.block(block, f"/blocks/{i}")
    return check.errors


def validate_view(view: Any) -> list[str]:
    """What Slack would reject in a modal view (views.open): type, title, submit, close,
    callback_id, private_metadata and its blocks."""
    check = _Checker(modal=True)
    if not isinstance(view, dict):
        return ["view must be a JSON object [json-pointer:/view]"]
    if view.get("type") != "modal":
        check.error("/view/type", "must be modal")
    check.text(view.get("title"), "/view/title", VIEW_TITLE_MAX, plain=True)
    for key in ("submit", "close"):
        if key in view:
            check.text(view[key], f"/view/{key}", VIEW_TITLE_MAX, plain=True)
    blocks = view.get("blocks")
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if has_input and "submit" not in view:
        check.error("/view/submit", "is required when the view has input blocks")
    check.length(view.get("callback_id"), "/view/callback_id", CALLBACK_ID_MAX, required=False)
    metadata = view.get("private_metadata")
    if metadata is not None and (
        not isinstance(metadata, str) or len(metadata) > PRIVATE_METADATA_MAX
    ):
        check.error("/view/private_metadata", f"must be a string of at most {PRIVATE_METADATA_MAX}")
    if not isinstance(blocks, list) or not blocks:
        check.error("/view/blocks", "must be a non-empty array")
        return check.errors
    if len(blocks) > 100:
        check.error("/view/blocks", "must have at most 100 items")
    for i, block in enumerate(blocks):
        check.block(block, f"/view/blocks/{i}")
    return check.errors


@dataclass(frozen=True)
class Call:
    method: str  # "chat.postMessage"
    args: Json  # query, form and JSON body merged; JSON-valued form fields decoded
    headers: dict[str, str]
    failure: str | None = None  # the injected failure mode this call got, if any


@dataclass(frozen=True)
class Violation:
    method: str
    errors: list[str]
    payload: Json


@dataclass
class Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None = None
    snippet_type: str | None = None
    data: bytes | None = None  # set by the POST to the upload URL
    title: str | None = None  # set by files.completeUploadExternal, with the rest
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None
    completed: bool = False


def _ok(**fields: Any) -> Json:
    return {"ok": True, **fields}


def _error(error: str, **fields: Any) -> Json:
    return {"ok": False, "error": error, **fields}


class FakeSlack:
    def __init__(self, channels: Mapping[str, str] | None = None, token: str | None = None):
        self.channels: dict[str, str] = dict(DEFAULT_CHANNELS if channels is None else channels)
        self.token = token  # None: any bearer token is accepted
        self.calls: list[Call] = []
        self.messages: dict[str, list[Json]] = {cid: [] for cid in self.channels.values()}
        self.updates: list[Json] = []
        self.ephemerals: list[Json] = []
        self.responses: list[Json] = []
        self.responses_by_name: dict[str, list[Json]] = {}
        self.uploads: list[Upload] = []
        self.views: list[Json] = []  # every modal views.open accepted
        self.violations: list[Violation] = []
        self._failures: list[tuple[str, str | None]] = []
        self._last_ts = 0.0
        self._file_ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.root = ""
        self._methods: dict[str, Callable[[Json], Json]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "conversations.info": self._conversations_info,
            "conversations.list": self._conversations_list,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "views.open": self._views_open,
        }

    # -- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name:.+}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        # A short shutdown: a client holding a keep-alive connection must not stall teardown.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.root = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return self.root + "/api/"  # trailing slash: slack_sdk appends method names

    def response_url(self, name: str) -> str:
        return f"{self.root}/response/{name}"

    # -- test controls

    def fail_next(self, n: int, mode: str, method: str | None = None) -> None:
        """Fail the next `n` API calls (only those to `method` when given). `method` may also be
        "response_url" or "upload" to fail those POSTs instead."""
        if mode not in FAIL_MODES:
            raise ValueError(f"mode must be one of {FAIL_MODES}")
        self._failures += [(mode, method)] * n

    # A deadline parameter is the point of this test helper, hence the noqa.
    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 5) -> Any:  # noqa: ASYNC109
        """Wait until `predicate()` is truthy (re-checked after every request); return it."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()
                    if result := predicate():
                        return result
                    await self._changed.wait()
        except TimeoutError:
            methods = [c.method for c in self.calls]
            raise TimeoutError(f"not true after {timeout}s; calls so far: {methods}") from None

    def message(self, channel: str, ts: str) -> Json | None:
        return next((m for m in self.messages.get(channel, []) if m["ts"] == ts), None)

    # -- plumbing

    def _take_failure(self, target: str, api: bool) -> str | None:
        for i, (mode, method) in enumerate(self._failures):
            if method == target or (method is None and api):
                del self._failures[i]
                return mode
        return None

    async def _fail(self, request: web.Request, mode: str) -> web.StreamResponse:
        if mode in ("drop", "drop_after"):
            # Close the socket without a status line: the client sees a server disconnect.
            assert request.transport is not None
            request.transport.close()
            raise asyncio.CancelledError
        if mode == "500":
            body = "<html><body>Internal Server Error</body></html>"
            return web.Response(status=500, text=body, content_type="text/html")
        if mode == "ratelimited":
            return web.json_response(
                _error("ratelimited"), status=429, headers={"Retry-After": "1"}
            )
        return web.json_response(_error("channel_not_found"))

    async def _args(self, request: web.Request) -> Json:
        args: Json = dict(request.query)
        raw = await request.read()
        if request.content_type == "application/json" and raw:
            args.update(json.loads(raw))
        elif request.content_type == "multipart/form-data":
            form = await request.post()
            args.update({k: v for k, v in form.items() if isinstance(v, str)})
        elif raw:
            args.update(parse_qsl(raw.decode(), keep_blank_values=True))
        for key in _JSON_ARGS:
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    pass  # left as text: the validator reports what Slack would
        return args

    def _notify(self) -> None:
        self._changed.set()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        failure = self._take_failure(method, api=True)
        self.calls.append(Call(method, args, dict(request.headers), failure))
        self._notify()
        if failure and failure != "drop_after":
            return await self._fail(request, failure)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = bearer or args.get("token")
        # Slack itself says not_authed for a missing token; cxbot treats both alike.
        if not token or (self.token is not None and token != self.token):
            return web.json_response(_error("invalid_auth"))
        handler = self._methods.get(method)
        result = handler(args) if handler else _error("unknown_method")
        self._notify()
        if failure:
            return await self._fail(request, failure)
        return web.json_response(result)

    async def _response_url(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        body = json.loads(await request.read() or b"{}")
        if failure := self._take_failure("response_url", api=False):
            return await self._fail(request, failure)
        if errors := validate_message(body):
            self.violations.append(Violation("response_url", errors, body))
            return web.Response(status=400, text="invalid_blocks")
        self.responses.append(body)
        self.responses_by_name.setdefault(name, []).append(body)
        self._notify()
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        data = await request.read()
        if failure := self._take_failure("upload", api=False):
            return await self._fail(request, failure)
        upload = self._find_upload(request.match_info["file_id"])
        if upload is None:
            return web.Response(status=404, text="not found")
        upload.data = data
        self._notify()
        return web.Response(text=f"OK - {len(data)}")  # text/plain, as files.slack.com answers

    def _find_upload(self, file_id: Any) -> Upload | None:
        return next((u for u in self.uploads if u.file_id == file_id), None)

    def _channel_id(self, channel: Any, *, names: bool) -> str | None:
        """A known channel's id; names ("#x" or "x") only where Slack takes them."""
        if not isinstance(channel, str):
            return None
        if channel in self.channels.values():
            return channel
        if not names:
            return None
        by_name = {k.lstrip("#"): v for k, v in self.channels.items()}
        return by_name.get(channel.lstrip("#"))

    def _checked(self, method: str, args: Json) -> Json | None:
        """The error answer when the message content is missing or invalid, else None."""
        if not any(args.get(k) for k in ("text", "blocks", "attachments")):
            return _error("no_text")
        if errors := validate_message(args):
            self.violations.append(Violation(method, errors, args))
            too_long = any(e.endswith("[json-pointer:/text]") for e in errors)
            return _error("msg_too_long" if too_long else "invalid_blocks", errors=errors)
        return None

    def _next_ts(self) -> str:
        # Like Slack: the epoch time of the message, unique and increasing per workspace.
        stamp = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = stamp
        return f"{stamp:.6f}"

    # -- methods

    def _auth_test(self, args: Json) -> Json:
        return _ok(
            url="https://cxbot-test.slack.com/",
            team="cxbot test",
            user="cxbot",
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _post_message(self, args: Json) -> Json:
        channel = self._channel_id(args.get("channel"), names=True)
        if channel is None:
            return _error("channel_not_found")
        if error := self._checked("chat.postMessage", args):
            return error
        message: Json = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID}
        message.update({"text": args.get("text", ""), "ts": self._next_ts()})
        for key in ("blocks", "attachments", "thread_ts", "metadata", "reply_broadcast"):
            if key in args:
                message[key] = args[key]
        self.messages[channel].append(message)
        return _ok(channel=channel, ts=message["ts"], message=dict(message))

    def _update(self, args: Json) -> Json:
        # chat.update takes a channel id only, as Slack documents.
        channel = self._channel_id(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        message = self.message(channel, str(args.get("ts")))
        if message is None:
            return _error("message_not_found")
        if error := self._checked("chat.update", args):
            return error
        # Slack keeps fields left out of an update (an empty "blocks" list removes them).
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                message[key] = args[key]
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        self.updates.append({"channel": channel, **{k: message.get(k) for k in ("ts", "text")}})
        self.updates[-1]["blocks"] = message.get("blocks")
        return _ok(channel=channel, ts=message["ts"], text=message["text"], message=dict(message))

    def _post_ephemeral(self, args: Json) -> Json:
        channel = self._channel_id(args.get("channel"), names=True)
        if channel is None:
            return _error("channel_not_found")
        if not args.get("user"):
            return _error("user_not_in_channel")
        if error := self._checked("chat.postEphemeral", args):
            return error
        ts = self._next_ts()
        self.ephemerals.append({**args, "channel": channel, "ts": ts})
        return _ok(message_ts=ts)

    def _views_open(self, args: Json) -> Json:
        if not args.get("trigger_id"):
            return _error("invalid_trigger_id")
        view = args.get("view")
        if errors := validate_view(view):
            self.violations.append(Violation("views.open", errors, args))
            return _error("invalid_arguments", response_metadata={"messages": errors})
        opened = {"id": f"V{len(self.views) + 1:08d}", **view}
        self.views.append(opened)
        return _ok(view=opened)

    def _conversations_info(self, args: Json) -> Json:
        channel = self._channel_id(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        name = next(k for k, v in self.channels.items() if v == channel).lstrip("#")
        info = {"id": channel, "name": name, "is_channel": True, "is_member": True}
        return _ok(channel=info | {"is_archived": False, "is_private": False})

    def _conversations_list(self, args: Json) -> Json:
        channels = [
            {"id": cid, "name": name.lstrip("#"), "is_channel": True, "is_member": True}
            for name, cid in self.channels.items()
        ]
        return _ok(channels=channels)  # one page: the fake never has enough to paginate

    def _visible(self, message: Json, args: Json) -> Json:
        # Slack returns message metadata only to callers who ask for it.
        if str(args.get("include_all_metadata")).lower() in ("1", "true"):
            return dict(message)
        return {k: v for k, v in message.items() if k != "metadata"}

    def _conversations_history(self, args: Json) -> Json:
        channel = self._channel_id(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        limit = int(args.get("limit") or 100)
        found = [
            self._visible(m, args)
            for m in reversed(self.messages[channel])  # newest first, as Slack answers
            if oldest < float(m["ts"]) < latest
            and (m.get("thread_ts") in (None, m["ts"]) or m.get("reply_broadcast"))
        ]
        return _ok(messages=found[:limit], has_more=len(found) > limit)

    def _conversations_replies(self, args: Json) -> Json:
        channel = self._channel_id(args.get("channel"), names=False)
        if channel is None:
            return _error("channel_not_found")
        ts = str(args.get("ts"))
        if self.message(channel, ts) is None:
            return _error("thread_not_found")
        thread = [
            self._visible(m, args)
            for m in self.messages[channel]
            if m["ts"] == ts or m.get("thread_ts") == ts
        ]
        return _ok(messages=thread, has_more=False)

    def _get_upload_url(self, args: Json) -> Json:
        try:
            length = int(args["length"])
            filename = str(args["filename"])
        except (KeyError, ValueError):
            return _error("invalid_arguments")
        file_id = f"F{next(self._file_ids):08d}"
        upload = Upload(file_id, filename, length, args.get("alt_txt"), args.get("snippet_type"))
        self.uploads.append(upload)
        return _ok(upload_url=f"{self.root}/upload/{file_id}", file_id=file_id)

    def _complete_upload(self, args: Json) -> Json:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments")
        channel = None
        if args.get("channel_id") or args.get("channels"):
            wanted = args.get("channel_id") or str(args["channels"]).split(",")[0]
            channel = self._channel_id(wanted, names=False)
            if channel is None:
                return _error("channel_not_found")
        uploads = [self._find_upload(f.get("id")) for f in files if isinstance(f, dict)]
        if len(uploads) != len(files) or any(u is None or u.data is None for u in uploads):
            return _error("file_not_found")  # unknown id, or the bytes never arrived
        shared = []
        for upload, f in zip(uploads, files, strict=True):
            assert upload is not None
            upload.title = f.get("title") or upload.filename
            upload.channel, upload.completed = channel, True
            upload.initial_comment, upload.thread_ts = (
                args.get("initial_comment"),
                args.get("thread_ts"),
            )
            size = len(upload.data or b"")
            shared.append(
                {"id": upload.file_id, "name": upload.filename, "title": upload.title, "size": size}
            )
        return _ok(files=shared)
