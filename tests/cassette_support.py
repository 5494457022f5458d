"""Cassettes: recorded HTTP exchanges (vcrpy via pytest-recording) and how they are made.

Three sources, chosen by ``KIWOOM_RECORD``:

- unset (CI): replay only (``--record-mode=none``, network blocked); the clients use their
  real httpx transports and vcrpy answers from ``cassettes/``.
- ``synthetic``: re-record against :func:`synthetic_server`, an ``httpx.MockTransport`` that
  answers every API with a body built from the catalogue (``make cassettes``).
- ``live``: re-record against Kiwoom's mock-trading server with the user's keys from
  ``KIWOOM_APPKEY``/``KIWOOM_SECRETKEY`` (``make cassettes-live``).

Whatever the source, secrets are scrubbed before anything is written: the authorization
header, and ``appkey``/``secretkey``/``token`` in JSON bodies of any content type (vcrpy's
``filter_post_data_parameters`` misses ``application/json;charset=UTF-8``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from samples import STRUCTS, sample_body

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
RECORD = os.environ.get("KIWOOM_RECORD", "")
LIVE = RECORD == "live"

# What replay runs use as credentials; recordings never hold the real ones.
APPKEY = os.environ.get("KIWOOM_APPKEY", "") if LIVE else "test-appkey"
SECRETKEY = os.environ.get("KIWOOM_SECRETKEY", "") if LIVE else "test-secretkey"

SECRET_FIELDS = ("appkey", "secretkey", "token")
HIDDEN = "<hidden>"
_SECRET_JSON = re.compile(rb'("(?:appkey|secretkey|token)"\s*:\s*")[^"]*(")')

HEADERS = {"content-type": "application/json;charset=UTF-8"}
OK = "정상적으로 처리되었습니다"


def scrub(body: bytes | str | None) -> bytes | str | None:
    """A JSON body with every secret value replaced."""
    if not body:
        return body
    if isinstance(body, str):
        return _SECRET_JSON.sub(rb"\1" + HIDDEN.encode() + rb"\2", body.encode()).decode()
    return _SECRET_JSON.sub(rb"\1" + HIDDEN.encode() + rb"\2", body)


def scrub_request(request: Any) -> Any:
    request.body = scrub(request.body)
    if "authorization" in request.headers:
        request.headers["authorization"] = "Bearer " + HIDDEN
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body", {})
    if body.get("string"):
        body["string"] = scrub(body["string"])
    return response


def _json(body: bytes | str | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(scrub(body) or b"null")
    except ValueError:
        return body


def match_api_id(r1: Any, r2: Any) -> None:
    assert r1.headers.get("api-id") == r2.headers.get("api-id")


def match_json_body(r1: Any, r2: Any) -> None:
    """Bodies equal as JSON, secrets aside (a replay never has the recorded keys)."""
    assert _json(r1.body) == _json(r2.body)


def configure(vcr: Any) -> None:
    vcr.register_matcher("api_id", match_api_id)
    vcr.register_matcher("json_body", match_json_body)


VCR_CONFIG: dict[str, Any] = {
    "match_on": ["method", "scheme", "host", "path", "api_id", "json_body"],
    "before_record_request": scrub_request,
    "before_record_response": scrub_response,
    "decode_compressed_response": True,
    "allow_playback_repeats": True,
}


# --- the synthetic server -------------------------------------------------------------------


def token_body() -> bytes:
    return json.dumps(
        {
            "expires_dt": "20991231235959",
            "token_type": "bearer",
            "token": "synthetic-token",
            "return_code": 0,
            "return_msg": OK,
        },
        ensure_ascii=False,
    ).encode()


def api_body(api_id: str) -> bytes:
    wire, _ = sample_body(STRUCTS[api_id])
    return json.dumps({**wire, "return_code": 0, "return_msg": OK}, ensure_ascii=False).encode()


def respond(
    api_id: str, body: bytes, *, status: int = 200, cont: str = "N", key: str = ""
) -> httpx.Response:
    headers = {**HEADERS, "api-id": api_id, "cont-yn": cont, "next-key": key}
    return httpx.Response(status, headers=headers, content=body)


def synthetic_server(
    route: Callable[[str, httpx.Request], httpx.Response | None] | None = None,
) -> httpx.MockTransport:
    """A Kiwoom look-alike: tokens for au10001/au10002, a catalogue body for every other id.

    ``route(api_id, request)`` may answer first (scenarios: paging, expiry, rate limits)."""

    def handle(request: httpx.Request) -> httpx.Response:
        api_id = request.headers.get("api-id", "")
        if route is not None:
            answer = route(api_id, request)
            if answer is not None:
                return answer
        if api_id == "au10001":
            return respond(api_id, token_body())
        if api_id == "au10002":
            return respond(api_id, json.dumps({"return_code": 0, "return_msg": OK}).encode())
        return respond(api_id, api_body(api_id))

    return httpx.MockTransport(handle)
