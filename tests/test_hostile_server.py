"""Both clients against local servers that break HTTP on purpose (raw bytes on 127.0.0.1).

Each answer must pair with its own request; an order whose answer is not a whole,
well-formed one is ``OrderOutcomeUnknownError`` (sent once, never retried); a query gets a
``KiwoomError``; nothing runs past its timeout or holds more than a bounded amount of memory.
"""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from typing import Any

import pytest
from _raw_server import (
    ORDER,
    QUOTE,
    Action,
    answer,
    buy,
    order_answer,
    quote,
    run,
    token_answer,
)

from kiwoom import _http
from kiwoom.errors import (
    AuthError,
    DecodeError,
    HTTPStatusError,
    InvalidRequestError,
    OrderOutcomeUnknownError,
    RequestTimeoutError,
    TransportError,
)

# --- interim answers -------------------------------------------------------------------------


@pytest.mark.parametrize("interim", [b"100 Continue", b"102 Processing", b"103 Early Hints"])
def test_interim_answers_never_shift_the_pairing(serve, mode, interim):
    first = b"HTTP/1.1 " + interim + b"\r\nlink: </style.css>; rel=preload\r\n\r\n"
    server = serve(
        token_answer(),
        *(first + order_answer(f"000000{n}") for n in (1, 2, 3)),
        first + answer(QUOTE),
    )
    *orders, info = run(mode, server, buy, buy, buy, quote)
    assert [o.ord_no for o in orders] == ["0000001", "0000002", "0000003"]
    assert info.stk_nm == "삼성"
    assert server.api_ids() == [b"au10001", b"kt10000", b"kt10000", b"kt10000", b"ka10001"]


def test_several_interim_answers_in_a_row(serve, mode):
    interims = b"HTTP/1.1 102 Processing\r\n\r\n" * 3 + b"HTTP/1.1 103 Early Hints\r\n\r\n"
    server = serve(token_answer(), interims + order_answer("0000001"), order_answer("0000002"))
    assert [o.ord_no for o in run(mode, server, buy, buy)] == ["0000001", "0000002"]


# --- bytes past the end of an answer ---------------------------------------------------------

SMUGGLED = order_answer("6666666")


def chunked(*parts: bytes) -> bytes:
    """A chunked answer of ``parts``, one chunk each (with an extension on the first)."""
    body = b"".join(
        b"%x%s\r\n%s\r\n" % (len(p), b";ext=1" * (i == 0), p) for i, p in enumerate(parts)
    )
    return b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + body + b"0\r\n\r\n"


CHUNKED_ORDER = chunked(b'{"ord_no":"00000', b'01","return_code":0,"ret', b'urn_msg":"ok"}  ')


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_bytes_past_the_end_never_answer_the_next_request(serve, mode, framing):
    first = order_answer("0000001") if framing == "content-length" else CHUNKED_ORDER
    server = serve(token_answer(), first + SMUGGLED, order_answer("0000002"), answer(QUOTE))
    results = run(mode, server, buy, buy, quote)
    assert [r.ord_no for r in results[:2]] == ["0000001", "0000002"]
    assert results[2].stk_cd == "005930"
    assert server.api_ids() == [b"au10001", b"kt10000", b"kt10000", b"ka10001"]
    assert server.connections == 2  # the one that carried stray bytes was dropped


def test_stray_bytes_after_a_query_too(serve, mode):
    server = serve(token_answer(), answer(QUOTE) + SMUGGLED, order_answer("0000002"))
    info, order = run(mode, server, quote, buy)
    assert info.stk_cd == "005930" and order.ord_no == "0000002"


# --- broken framing: an order's outcome is unknown, a query's a TransportError ------------

CHUNKED = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
FRAMING = {
    "chunk size zz": CHUNKED + b"zz\r\n" + b"x" * 40 + b"\r\n0\r\n\r\n",
    "negative chunk size": CHUNKED + b"-5\r\n{}{}{\r\n0\r\n\r\n",
    "chunk size 0x5": CHUNKED + b'0x5\r\n{"a":\r\n0\r\n\r\n',
    "empty chunk-size line mid-body": CHUNKED + b'10\r\n{"ord_no":"00000\r\n\r\n01"}\r\n0\r\n\r\n',
    "4,300-digit content-length": b"HTTP/1.1 200 OK\r\ncontent-length: "
    + b"9" * 4300
    + b"\r\n\r\n{}",
    "two different content-lengths": (
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 35\r\n\r\n"
        b'{"return_code":0,"return_msg":"ok"}'
    ),
    "transfer-encoding gzip, chunked": (
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    ),
    "status 2000": b"HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\n{}",
    "not HTTP at all": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "body cut short": b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n" + order_answer("1")[-40:],
    "headers cut short": b"HTTP/1.1 200 OK\r\ncontent-le",
    "chunked body cut short": CHUNKED + b'10\r\n{"ord_no":"00000\r\n',
    "content-encoding gzip that is not": (
        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 35\r\n\r\n"
        b'{"return_code":0,"return_msg":"ok"}'
    ),
}


def _then_close(data: bytes) -> Action:
    def send(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(data)

    return send  # returning closes the connection: nothing more is coming


@pytest.mark.parametrize("case", list(FRAMING))
def test_broken_framing_of_an_order_is_outcome_unknown(serve, mode, case):
    server = serve(token_answer(), _then_close(FRAMING[case]))
    [err] = run(mode, server, buy, retries=3)
    assert isinstance(err, OrderOutcomeUnknownError), repr(err)
    assert err.request.stk_cd == "005930" and err.api_id == "kt10000"
    assert server.api_ids() == [b"au10001", b"kt10000"]  # sent once, never retried


@pytest.mark.parametrize("case", list(FRAMING))
def test_broken_framing_of_a_query_is_a_kiwoom_error(serve, mode, case):
    server = serve(token_answer(), _then_close(FRAMING[case]), answer(QUOTE))
    [err, info] = run(mode, server, quote, quote)
    assert isinstance(err, TransportError | DecodeError), repr(err)
    assert info.stk_cd == "005930"  # and the next call is served cleanly


# --- bodies that are not UTF-8 ---------------------------------------------------------------

CP949_KIWOOM = '{"ord_no":"0000001","return_code":0,"return_msg":"정상처리"}'.encode("cp949")
CP949_PAGE = "<html><body>서비스 점검 중입니다</body></html>".encode("cp949")


@pytest.mark.parametrize(
    ("status", "body"),
    [("200 OK", CP949_KIWOOM), ("200 OK", CP949_PAGE), ("502 Bad Gateway", CP949_PAGE),
     ("500 Internal Server Error", CP949_PAGE), ("200 OK", b'{"ord_no":"\xff\xfe"}')],
)  # fmt: skip
def test_an_order_answered_in_another_encoding_is_outcome_unknown(serve, mode, status, body):
    server = serve(token_answer(), answer(body, status=status))
    [err] = run(mode, server, buy, retries=3)
    assert isinstance(err, OrderOutcomeUnknownError), repr(err)
    assert server.api_ids() == [b"au10001", b"kt10000"]


def test_a_query_answered_in_another_encoding(serve, mode):
    server = serve(
        token_answer(), answer(CP949_KIWOOM), answer(CP949_PAGE, status="503 Service Unavailable")
    )
    not_utf8, page = run(mode, server, quote, quote)
    assert isinstance(not_utf8, DecodeError) and "not UTF-8" in str(not_utf8)
    assert isinstance(page, HTTPStatusError) and page.status_code == 503


def test_an_order_refused_with_a_4xx_page_is_not_unknown(serve, mode):
    server = serve(token_answer(), answer(CP949_PAGE, status="403 Forbidden"))
    [err] = run(mode, server, buy)
    assert isinstance(err, HTTPStatusError) and err.status_code == 403


# --- endless and trickled answers: bounded time and memory -------------------------------


def _endless_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    line = b"x-padding: " + b"a" * 50 + b"\r\n"
    while not stop.is_set():
        conn.sendall(line * 100)


def _trickled_headers(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"x-a: b\r\n")


def _trickled_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000000000\r\n\r\n")
    while not stop.wait(0.05):
        conn.sendall(b" ")


def _endless_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100000000000\r\n\r\n")
    block = b" " * 65536
    while not stop.is_set():
        conn.sendall(block)


def _endless_chunks(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(CHUNKED)
    block = b"10000\r\n" + b" " * 65536 + b"\r\n"
    while not stop.is_set():
        conn.sendall(block)


ENDLESS = {
    "endless headers": _endless_headers,
    "trickled headers": _trickled_headers,
    "trickled body": _trickled_body,
    "endless body": _endless_body,
    "endless chunks": _endless_chunks,
}


@pytest.mark.timeout(30)  # without the deadline these run for hours: fail, don't hang
@pytest.mark.parametrize("case", list(ENDLESS))
@pytest.mark.parametrize("call", [buy, quote], ids=["order", "query"])
def test_endless_answers_end_within_the_timeout(serve, mode, case, call, monkeypatch):
    monkeypatch.setattr(_http, "MAX_ANSWER_BYTES", 4 * 1024 * 1024)
    server = serve(token_answer(), ENDLESS[case])
    tracemalloc.start()
    started = time.monotonic()
    try:
        [err] = run(mode, server, call, timeout=1.0, retries=0)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    expected = OrderOutcomeUnknownError if call is buy else TransportError
    assert isinstance(err, expected), repr(err)
    assert elapsed < 4.0  # the 1 s budget of the attempt, a client set up, a loaded machine
    assert peak < 16 * 1024 * 1024
    if call is quote and "trickled" in case:
        assert isinstance(err, RequestTimeoutError)


# --- header values that would end their line ---------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"next_key": "K1\r\napi-id: kt10000"}, "next_key"),
        ({"next_key": "K1\nx"}, "next_key"),
        ({"headers": {"x-trace": "1\r\n\r\nPOST /api/dostk/ordr HTTP/1.1"}}, "headers"),
        ({"headers": {"x-trace": "a\x00b"}}, "headers"),
        ({"headers": {"x-trace\r\napi-id": "kt10000"}}, "headers"),
        ({"headers": {"x-trace": 7}}, "headers"),
        ({"headers": {"x-trace": " padded "}}, "headers"),
        ({"headers": {"API-ID": "kt10001"}}, "headers"),
        ({"headers": {"content-length": "0"}}, "headers"),
    ],
)
def test_a_header_that_could_smuggle_is_refused_before_sending(serve, mode, options, field):
    server = serve(token_answer(), order_answer("0000001"))

    def smuggle(client: Any) -> Any:
        return client.order.buy(**ORDER, **options)

    [err] = run(mode, server, smuggle)
    assert isinstance(err, InvalidRequestError), repr(err)
    assert err.api_id == "kt10000" and err.field == field
    assert "kt10000" in str(err) and ("header" in str(err))
    assert b"kt10000" not in b"".join(h + b for h, b in server.requests)


def test_the_refusal_names_the_header_and_the_character(serve):
    server = serve(token_answer())
    [err] = run("sync", server, lambda c: c.chart.daily(
        stk_cd="005930", base_dt="20250908", upd_stkpc_tp="1", next_key="K\r\nX"))  # fmt: skip
    assert "'next-key'" in str(err) and "CR" in str(err) and "ka10081" in str(err)


@pytest.mark.parametrize("token", ["T1\r\napi-id: kt10000", "T1\nx", "T1\x00", "T1 "])
def test_a_token_that_could_smuggle_is_a_bad_answer(serve, mode, token):
    server = serve(token_answer(token), order_answer("0000001"))
    [err] = run(mode, server, buy)
    assert isinstance(err, AuthError) and err.api_id == "au10001", repr(err)
    assert token.strip() not in str(err)
    assert server.api_ids() == [b"au10001"]  # the order never left


def test_a_token_answer_in_another_encoding_sends_nothing_more(serve, mode):
    page = '{"token":"T1","return_code":0,"return_msg":"정상"}'.encode("cp949")
    server = serve(answer(page), order_answer("0000001"))
    [err] = run(mode, server, buy)
    assert isinstance(err, DecodeError) and err.api_id == "au10001", repr(err)
    assert server.api_ids() == [b"au10001"]


@pytest.mark.parametrize("body", [b"{}", b'{"ord_no":"0000001"}', b"", b'{"return_code":0'])
def test_an_order_answer_without_kiwoom_s_verdict_is_outcome_unknown(serve, mode, body):
    server = serve(token_answer(), answer(body))
    [err] = run(mode, server, buy, retries=3)
    assert isinstance(err, OrderOutcomeUnknownError), repr(err)
    assert server.api_ids() == [b"au10001", b"kt10000"]
