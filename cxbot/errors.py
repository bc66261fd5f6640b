"""The error tree. HTTP-facing errors carry their status; one middleware turns them into JSON.

CxbotError
├── ConfigError                 bad config file or environment (the CLI prints it and exits 2)
└── HTTPError (status)
    ├── BadRequest              400 malformed body, wrong types, missing fields
    ├── Unauthorized            401 missing or wrong signature / token
    ├── NotFound                404 unknown source
    ├── RequestTimeout          408 body not received within `server.body_timeout_s`
    ├── PayloadTooLarge         413 body over `server.max_body_bytes`
    ├── UnsupportedMediaType    415 wrong content type
    ├── ClientGone              499 the client hung up mid-body (nobody reads the answer)
    └── ServiceUnavailable      503 storage trouble or too many uploads: retry later
"""

from __future__ import annotations

from typing import Any, ClassVar


class CxbotError(Exception):
    """Base of every error cxbot raises on purpose."""


class ConfigError(CxbotError):
    """The config file or the environment is wrong; the message names the file and the key."""


class HTTPError(CxbotError):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def payload(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.details}


class BadRequest(HTTPError):
    status = 400
    code = "bad_request"


class Unauthorized(HTTPError):
    status = 401
    code = "unauthorized"


class NotFound(HTTPError):
    status = 404
    code = "not_found"


class RequestTimeout(HTTPError):
    status = 408
    code = "request_timeout"


class PayloadTooLarge(HTTPError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(HTTPError):
    status = 415
    code = "unsupported_media_type"


class ServiceUnavailable(HTTPError):
    status = 503
    code = "unavailable"


class ClientGone(HTTPError):
    status = 499  # nginx's "client closed request": logged, never seen by the client
    code = "client_gone"
