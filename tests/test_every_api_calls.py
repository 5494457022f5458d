"""Every REST API id is callable through the generated methods of both clients.

The fake server answers each API with a body built from the catalogue (the same builder as
test_every_api_decodes); the test checks the path, the api-id header, the request body and
the typed result.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import pytest
from _fake import APPKEY, SECRET, FakeKiwoom
from samples import STRUCTS as _STRUCTS
from samples import sample_body as _body
from samples import sample_request
from test_every_api_decodes import _check

import kiwoom
from kiwoom import catalog

_REST = [e for e in catalog.entries("rest") if e.group != "oauth"]


def _arguments(entry: catalog.Entry) -> dict[str, Any]:
    """A plausible value for every field of the request (the method's keyword arguments)."""
    assert entry.request_type is not None
    values = sample_request(entry.api_id)
    return {rule.attr: values[rule.wire] for rule in entry.request_type.__rules__}


def _wire_body(args: dict[str, Any], entry: catalog.Entry) -> dict[str, Any]:
    assert entry.request_type is not None
    return {rule.wire: args[rule.attr] for rule in entry.request_type.__rules__}


def _route(request: httpx.Request) -> httpx.Response:
    api_id = request.headers["api-id"]
    wire, _expected = _body(_STRUCTS[api_id])
    return httpx.Response(200, json={"return_code": 0, "return_msg": "ok", **wire})


def _method(client: Any, entry: catalog.Entry) -> Any:
    region, short = entry.group.split(".")
    groups = client.us if region == "us" else client
    return getattr(getattr(groups, short), entry.method)


def _fake() -> FakeKiwoom:
    fake = FakeKiwoom()
    for entry in _REST:
        fake.routes[entry.api_id] = _route
    return fake


@pytest.fixture(scope="module")
def sync_setup():
    fake = _fake()
    return fake, kiwoom.Kiwoom(APPKEY, SECRET, transport=fake.transport(), limiter=False)


@pytest.fixture(scope="module")
def async_setup():
    fake = _fake()
    return fake, kiwoom.AsyncKiwoom(APPKEY, SECRET, transport=fake.async_transport(), limiter=False)


def _verify(
    fake: FakeKiwoom, entry: catalog.Entry, args: dict[str, Any], result: Any, before: int
) -> None:
    """The call sent exactly one request, of the right wire form, and returned its answer."""
    sent = [s for s in fake.sent[before:] if s.api_id != "au10001"]  # the first call issues
    assert len(sent) == 1, [s.api_id for s in sent]
    request = sent[0]
    assert (request.method, request.host, request.path) == ("POST", "api.kiwoom.com", entry.path)
    assert request.headers["api-id"] == entry.api_id
    assert request.headers["authorization"] == "Bearer tok-1"
    assert request.headers["content-type"] == "application/json;charset=UTF-8"
    assert "cont-yn" not in request.headers and "next-key" not in request.headers
    assert request.body == _wire_body(args, entry)
    assert msgspec.json.decode(request.content) == request.body  # one JSON object, as sent
    assert type(result) is entry.response_type
    _check(result, _body(_STRUCTS[entry.api_id])[1], f"{entry.api_id}: ")


@pytest.mark.parametrize("entry", _REST, ids=lambda e: e.api_id)
def test_sync_method(sync_setup, entry):
    fake, client = sync_setup
    args = _arguments(entry)
    before = len(fake.sent)
    result = _method(client, entry)(**args)
    _verify(fake, entry, args, result, before)
    raw = client.last_response
    assert (raw.api_id, raw.status_code) == (entry.api_id, 200) and raw.decode() is result


@pytest.mark.parametrize("entry", _REST, ids=lambda e: e.api_id)
def test_async_method(async_setup, entry):
    fake, client = async_setup
    args = _arguments(entry)
    before = len(fake.sent)
    _verify(fake, entry, args, asyncio.run(_method(client, entry)(**args)), before)


@pytest.mark.parametrize("entry", _REST, ids=lambda e: e.api_id)
def test_generic_call(sync_setup, entry):
    fake, client = sync_setup
    args = _arguments(entry)
    wire_args = _wire_body(args, entry)
    before = len(fake.sent)
    _verify(fake, entry, args, client.call(entry.api_id, wire_args), before)


def test_every_rest_api_has_a_documented_method_on_both_clients():
    clients = [
        kiwoom.Kiwoom(APPKEY, SECRET, limiter=False),
        kiwoom.AsyncKiwoom(APPKEY, SECRET, limiter=False),
    ]
    for entry in _REST:
        for client in clients:
            method = _method(client, entry)
            assert entry.api_id in method.__doc__ and entry.name in method.__doc__
            assert ("ORDER" in method.__doc__) == entry.is_order
    assert len(_REST) == 304  # every REST entry of the catalogue but au10001/au10002
