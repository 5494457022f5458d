"""Cassette configuration: what a recorded exchange keeps, what it hides, how it is matched.

Secrets never reach a cassette: ``before_record_request`` / ``before_record_response``
replace the app key, secret key and token in JSON bodies (vcrpy's
``filter_post_data_parameters`` misses ``application/json;charset=UTF-8``) and the
``authorization`` header, before anything is written. vcrpy applies the same hook to every
live request before matching, so replay matches whatever keys the client holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

HIDDEN = {"appkey": "<appkey>", "secretkey": "<secretkey>", "token": "<token>"}
_DROP_RESPONSE_HEADERS = {"set-cookie", "date", "server", "x-request-id"}


def _scrub_json(raw: bytes | str | None) -> bytes | str | None:
    if not raw:
        return raw
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw
    if not isinstance(data, dict) or not HIDDEN.keys() & data.keys():
        return raw
    for key, placeholder in HIDDEN.items():
        if key in data:
            data[key] = placeholder
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.encode() if isinstance(raw, bytes) else text


def scrub_request(request: Any) -> Any:
    if "authorization" in request.headers:
        request.headers["authorization"] = "Bearer <token>"
    request.body = _scrub_json(request.body)
    request.headers.pop("content-length", None)  # the length before scrubbing
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {
        k: v for k, v in response["headers"].items() if k.lower() not in _DROP_RESPONSE_HEADERS
    }
    body = response["body"]["string"] = _scrub_json(response["body"]["string"])
    for key in response["headers"]:
        if key.lower() == "content-length" and body is not None:
            length = len(body.encode() if isinstance(body, str) else body)
            response["headers"][key] = [str(length)]
    return response


def _header(request: Any, name: str) -> str | None:
    for key, value in request.headers.items():
        if key.lower() == name:
            return str(value)
    return None


def match_api_id(r1: Any, r2: Any) -> None:
    assert _header(r1, "api-id") == _header(r2, "api-id")


def match_next_key(r1: Any, r2: Any) -> None:
    assert _header(r1, "next-key") == _header(r2, "next-key")


def match_json_body(r1: Any, r2: Any) -> None:
    assert json.loads(r1.body or b"null") == json.loads(r2.body or b"null")


MATCHERS = {"api_id": match_api_id, "next_key": match_next_key, "json_body": match_json_body}

CONFIG = {
    "match_on": ["method", "scheme", "host", "port", "path", "api_id", "next_key", "json_body"],
    "before_record_request": scrub_request,
    "before_record_response": scrub_response,
    "decode_compressed_response": True,
}

# What a leaked secret would look like in a cassette.
LEAKS = [
    re.compile(r'\\?"(?:appkey|secretkey|token)\\?"\s*:\s*\\?"(?!<)[^"\\]+'),
    re.compile(r"(?i)bearer\s+(?!<)\S+"),
    re.compile(r"[A-Za-z0-9+/_=-]{40,}"),
]
