"""The REST side: tokens, routing by ``api-id``, limits, request checks, paging, answers.

Every REST entry of the catalogue answers. The ones with a modelled meaning (charts, quotes,
order book, lists, orders and account queries) read the market and the account; the rest
get rows of real instruments, filled field by field from their names and kinds (``_fill``).
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import logging
import math
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import catalog
from ._account import OrderRejected, Side
from ._clock import KST
from ._fill import FieldShape, fill, shape_of
from ._market import EPOCH, Candle, Market, Period, Quote

if TYPE_CHECKING:
    from ._server import Simulator

__all__ = ["ARRIVED", "RestApp", "Tokens", "stamp_arrival"]

log = logging.getLogger("kiwoom.sim")

OK = "정상적으로 처리되었습니다"
NO_DATA = "조회된 데이터가 없습니다"
PAGE_ROWS = {"tick": 900, "min": 900, "day": 600, "week": 600, "month": 600, "year": 600}
GENERIC_ROWS = 5
GENERIC_PAGES = 2
ACCOUNT_PAD = 15
USD_KRW = 1400.0
"""The simulator's fixed dollar rate, for the won columns of US account queries."""

_CHARTS: dict[str, Period] = {
    "ka10079": "tick",
    "ka10080": "min",
    "ka10081": "day",
    "ka10082": "week",
    "ka10083": "month",
    "ka10094": "year",
    "ka20004": "tick",
    "ka20005": "min",
    "ka20006": "day",
    "ka20007": "week",
    "ka20008": "month",
    "ka20019": "year",
    "usa06010": "tick",
    "usa06011": "min",
    "usa06012": "day",
    "usa06013": "week",
    "usa06014": "month",
    "usa06015": "year",
}
_MARKET_CODES = {"0": "KOSPI", "10": "KOSDAQ", "8": "ETF", "60": "ETN"}
_MARKET_NAMES = {"KOSPI": ("0", "거래소"), "KOSDAQ": ("10", "코스닥"), "ETF": ("8", "ETF")}


Answer = tuple[Any, str]
Handler = Callable[[catalog.Entry, dict[str, Any], str], Answer]
"""(entry, request body, next-key) -> (answer context or None for no data, next-key or "")."""


class Rejection(Exception):
    """An error answer: ``[code:message]`` with a return_code, as Kiwoom sends them."""

    def __init__(self, return_code: int, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.return_code = return_code
        self.code = code
        self.message = message
        self.status = status


@dataclass
class _Token:
    appkey: str
    expires: float
    generation: int


class Tokens:
    """Issued tokens: any app key and secret key are accepted."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._tokens: dict[str, _Token] = {}

    def issue(self, appkey: str, generation: int) -> tuple[str, dt.datetime]:
        token = secrets.token_urlsafe(48)
        self._tokens[token] = _Token(appkey, time.time() + self.ttl, generation)
        expires = dt.datetime.now(KST) + dt.timedelta(seconds=self.ttl)
        return token, expires

    def revoke(self, token: str) -> bool:
        return self._tokens.pop(token, None) is not None

    def check(self, token: str, generation: int) -> str | None:
        """The app key of a valid token, else None."""
        found = self._tokens.get(token)
        if found is None or found.expires < time.time() or found.generation < generation:
            return None
        return found.appkey


ARRIVED = "kiwoom.sim.arrived"
"""The ASGI scope key of a request's arrival (``time.monotonic()``), stamped by
:func:`stamp_arrival` before anything else is done with it."""


def stamp_arrival(app: ASGIApp) -> ASGIApp:
    """``app``, with every HTTP request's scope stamped with its arrival (:data:`ARRIVED`).

    Kiwoom counts a call when it arrives; the simulator checks its limits only after
    reading the body, decoding it and checking the token, in a worker thread, and on a busy
    machine those steps take long and in no fixed order: stamped there, calls sent apart
    would look bunched up. So the first thing the server stack hands over is stamped.
    """

    async def stamped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope[ARRIVED] = time.monotonic()
        await app(scope, receive, send)

    return stamped


class _Window:
    """The arrivals of one limit in the last seconds, in order of arrival (checked in any
    order)."""

    __slots__ = ("times",)

    def __init__(self) -> None:
        self.times: list[float] = []

    def admits(self, arrived: float, allowance: float) -> bool:
        """Whether an arrival keeps every one-second window [x, x + 1 s) within allowance."""
        times = self.times
        del times[: bisect.bisect_left(times, arrived - _KEPT)]
        n = math.ceil(allowance)
        i = bisect.bisect_right(times, arrived)
        near = [*times[max(0, i - n) : i], arrived, *times[i : i + n]]
        return all(near[j + n] - near[j] >= 1.0 for j in range(len(near) - n))

    def add(self, arrived: float) -> None:
        bisect.insort_right(self.times, arrived)


_KEPT = 10.0
"""Seconds of arrivals kept: a request is checked long after its arrival only when the
machine is badly overloaded, and then a little less than the truth is enforced."""


_CATEGORY_PATHS = sorted({e.path for e in catalog.entries("rest") if e.group != "oauth"})


class RestApp:
    """The REST handlers of one simulator."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.tokens = Tokens(sim.token_ttl)
        self._windows: dict[tuple[str, str], _Window] = {}
        self._lock = threading.Lock()
        # Rows of the APIs without a modelled meaning come from a few well-known stocks (fewer
        # price paths to generate).
        stocks = [i for i in sim.market.instruments.values() if i.market in ("KOSPI", "KOSDAQ")]
        self._row_pool = stocks[:8] + [i for i in stocks if i.market == "KOSDAQ"][:4]
        self._handlers: dict[str, Handler] = {}
        for api_id in _CHARTS:
            self._handlers[api_id] = self._chart
        self._handlers.update(
            ka10001=self._basic_info,
            ka10004=self._order_book,
            ka10099=self._stock_list,
            ka10100=self._stock_one,
            ka10101=self._sector_list,
            ka00001=self._account_no,
            kt00001=self._deposit,
            kt00004=self._balance,
            kt00018=self._balance,
            ka10075=self._unfilled,
            ka10076=self._executions,
            kt00009=self._order_status,
            ka10077=self._realised,
            ka10170=self._diary,
            kt10000=self._order,
            kt10001=self._order,
            kt10002=self._modify,
            kt10003=self._cancel,
            kt10006=self._order,
            kt10007=self._order,
            kt10008=self._modify,
            kt10009=self._cancel,
            ust20000=self._order,
            ust20001=self._order,
            ust20002=self._modify,
            ust20003=self._cancel,
            ust21050=self._us_unfilled,
            ust21070=self._us_balance,
            ust21110=self._us_deposit,
            ust21510=self._us_orders,
        )

    @property
    def paths(self) -> list[str]:
        return _CATEGORY_PATHS

    # -- the request loop -------------------------------------------------------------------

    async def handle(self, request: Request) -> Response:
        sim = self.sim
        faults = sim.faults
        if faults.delay:
            await asyncio.sleep(faults.delay)
        api_id = request.headers.get("api-id", "").strip()
        sim.stats.requests[api_id] += 1
        status = faults.take_failure()
        if status is not None:
            return Response(
                b"<html><body>Internal Server Error</body></html>", status, media_type="text/html"
            )
        try:
            raw = await request.body()
            arrived = request.scope.get(ARRIVED) or time.monotonic()
            body, headers = await asyncio.to_thread(self._answer, request, api_id, raw, arrived)
        except Rejection as exc:
            counter = sim.stats.rejections if exc.return_code == 5 else sim.stats.errors
            counter[exc.code] += 1
            body = {"return_code": exc.return_code, "return_msg": f"[{exc.code}:{exc.message}]"}
            return _json(body, exc.status, {"api-id": api_id} if api_id else {})
        return _json(body, 200, headers)

    def _answer(
        self, request: Request, api_id: str, raw: bytes, arrived: float
    ) -> tuple[dict[str, Any], dict[str, str]]:
        if not api_id:
            raise Rejection(2, 1501, "API ID가 존재하지 않습니다")
        try:
            entry = catalog.get(api_id)
        except KeyError:
            raise Rejection(2, 1505, f"존재하지 않는 API ID입니다. API ID={api_id}") from None
        if entry.kind != "rest":
            raise Rejection(2, 1505, f"REST로 호출할 수 없는 API ID입니다. API ID={api_id}")
        if entry.path != request.url.path:
            raise Rejection(2, 1504, f"해당 URI에서는 지원하지 않는 API ID입니다. API ID={api_id}")
        try:
            body = msgspec.json.decode(raw or b"{}")
        except msgspec.DecodeError:
            raise Rejection(2, 1517, "입력 값 형식이 올바르지 않습니다 (JSON)") from None
        if not isinstance(body, dict):
            raise Rejection(2, 1517, "입력 값 형식이 올바르지 않습니다 (JSON)")
        if entry.group == "oauth":
            return self._oauth(entry, body), {"api-id": api_id}
        appkey = self._authorise(request)
        if self.sim.limits:
            self._limit(appkey, entry, arrived)
        self._validate(entry, body)
        next_key = (
            request.headers.get("next-key", "") if request.headers.get("cont-yn") == "Y" else ""
        )
        handler = self._handlers.get(api_id, self._generic)
        try:
            answer, more = handler(entry, body, next_key)
        except Rejection:
            raise
        except Exception as exc:  # a simulator bug answers as Kiwoom's own failures do
            log.exception("%s failed", api_id)
            raise Rejection(
                1, 1999, f"예기치 않은 오류가 발생했습니다 ({type(exc).__name__})"
            ) from None
        headers = {"api-id": api_id, "cont-yn": "Y" if more else "N", "next-key": more or ""}
        if answer is None:
            return {"return_code": 20, "return_msg": NO_DATA}, headers
        answer["return_code"] = 0
        answer["return_msg"] = OK
        return answer, headers

    def _oauth(self, entry: catalog.Entry, body: dict[str, Any]) -> dict[str, Any]:
        sim = self.sim
        if entry.api_id == "au10001":
            if not body.get("grant_type"):
                raise Rejection(3, 8011, "grant_type이 없습니다")
            if body.get("grant_type") != "client_credentials":
                raise Rejection(3, 8012, "grant_type이 올바르지 않습니다")
            if not body.get("appkey") or not body.get("secretkey"):
                raise Rejection(3, 8020, "appkey 또는 secretkey가 없습니다")
            token, expires = self.tokens.issue(str(body["appkey"]), sim.faults.expirations)
            sim.stats.tokens_issued += 1
            return {
                "expires_dt": expires.strftime("%Y%m%d%H%M%S"),
                "token_type": "bearer",
                "token": token,
                "return_code": 0,
                "return_msg": OK,
            }
        if not body.get("token"):
            raise Rejection(3, 8016, "폐기할 토큰이 없습니다")
        if self.tokens.revoke(str(body["token"])):
            sim.stats.tokens_revoked += 1
        return {"return_code": 0, "return_msg": OK}

    def _authorise(self, request: Request) -> str:
        auth = request.headers.get("authorization")
        if auth is None:
            raise Rejection(3, 1513, "authorization 헤더가 없습니다")
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            raise Rejection(3, 1515, "authorization 헤더의 유형이 올바르지 않습니다")
        if not token.strip():
            raise Rejection(3, 1516, "authorization 헤더에 토큰이 없습니다")
        appkey = self.tokens.check(token.strip(), self.sim.faults.expirations)
        if appkey is None:
            raise Rejection(3, 8005, "Token이 유효하지 않습니다")
        return appkey

    def _limit(self, appkey: str, entry: catalog.Entry, arrived: float) -> None:
        """Count a call at its arrival (``time.monotonic()``), or reject it (1700, 1701)."""
        with self._lock:
            self._limit_locked(appkey, entry, arrived)

    def _limit_locked(self, appkey: str, entry: catalog.Entry, arrived: float) -> None:
        sim = self.sim
        kind = "order" if entry.is_order else "query"
        total = sim.order_per_second if entry.is_order else sim.query_per_second
        checks = [((appkey, kind), total, 1701)]
        per_api = sim.per_api_limits.get(entry.api_id)
        if per_api is not None:
            checks.insert(0, ((appkey, entry.api_id), per_api, 1700))
        for key, allowance, code in checks:
            window = self._windows.setdefault(key, _Window())
            if not window.admits(arrived, allowance):
                raise Rejection(
                    5,
                    code,
                    f"허용된 요청 개수를 초과하였습니다. 유량={allowance:g}, API ID={entry.api_id}",
                    429,
                )
        for key, _allowance, _code in checks:
            self._windows[key].add(arrived)

    def _validate(self, entry: catalog.Entry, body: dict[str, Any]) -> None:
        req = entry.request_type
        assert req is not None
        for rule in req.__rules__:  # type: ignore[attr-defined]
            value = body.get(rule.wire)
            if value is None or value == "":
                if rule.required:
                    raise Rejection(
                        2, 1511, f"필수 입력 값에 값이 존재하지 않습니다. 입력값={rule.wire}"
                    )
                continue
            if rule.kind == "list":
                continue
            if not isinstance(value, str):
                raise Rejection(2, 1517, f"입력 값 형식이 올바르지 않습니다. 입력값={rule.wire}")
            if rule.max_length is not None and len(value) > rule.max_length:
                raise Rejection(2, 1517, f"입력 값의 길이가 올바르지 않습니다. 입력값={rule.wire}")
            # (Where the catalogue allows fewer than 8 characters for a date, its length is the
            # catalogue's slip, and the value is taken as sent.)
            long_enough = rule.max_length is None or rule.max_length >= 8
            if rule.kind == "date" and long_enough and not (len(value) == 8 and value.isdigit()):
                raise Rejection(2, 1517, f"입력 값 형식이 올바르지 않습니다. 입력값={rule.wire}")

    # -- shared pieces ----------------------------------------------------------------------

    @property
    def market(self) -> Market:
        return self.sim.market

    def _instrument(self, code: str) -> Any:
        try:
            return self.market.instrument(code)
        except KeyError:
            raise Rejection(2, 1902, f"종목 정보가 없습니다. 입력값={code}") from None

    def quote_context(self, q: Quote) -> dict[str, Any]:
        """The fields of a quote by their Kiwoom names (prices in the instrument's units)."""
        inst = self.market.instrument(q.code)
        div = 100 if inst.scale else 1
        px: Callable[[int], Any] = (lambda v: v / 100) if div == 100 else (lambda v: v)
        sign = "+" if q.price > q.prev_close else "-" if q.price < q.prev_close else ""
        sig = (
            "1"
            if q.price == q.upper
            else "4"
            if q.price == q.lower
            else ("2" if sign == "+" else "5" if sign == "-" else "3")
        )
        asks, bids = self.market.order_book(q.code)
        today = q.time.date()
        return {
            "_sign": sign,
            "stk_cd": q.code,
            "stk_nm": inst.name,
            "inds_cd": q.code,
            "inds_nm": inst.name,
            "cur_prc": px(q.price),
            "pred_pre": px(q.change),
            "flu_rt": q.rate,
            "pred_pre_sig": sig,
            "pre_sig": sig,
            "open_pric": px(q.open),
            "high_pric": px(q.high),
            "low_pric": px(q.low),
            "trde_qty": q.volume,
            "acc_trde_qty": q.volume,
            "now_trde_qty": q.last_volume,
            "trde_prica": q.amount // 1_000_000,
            "acc_trde_prica": q.amount // 1_000_000,
            "base_pric": px(q.prev_close),
            "pred_close_pric": px(q.prev_close),
            "upl_pric": px(q.upper),
            "lst_pric": px(q.lower),
            "sel_bid": px(asks[0][0]) if asks else 0,
            "buy_bid": px(bids[0][0]) if bids else 0,
            "sel_fpr_bid": px(asks[0][0]) if asks else 0,
            "buy_fpr_bid": px(bids[0][0]) if bids else 0,
            "fpr_sel_bid": px(asks[0][0]) if asks else 0,
            "fpr_buy_bid": px(bids[0][0]) if bids else 0,
            "dt": today,
            "tm": q.time.time(),
            "cntr_tm": q.time.time(),
            "now": q.time,
            "flo_stk": inst.shares // 1000,
            "mac": q.price * inst.shares // 100_000_000,
        }

    def _rows(self, seed: str) -> Callable[[FieldShape], list[dict[str, Any]]]:
        """Row contexts for a list field: quotes of instruments drawn from the universe."""
        rng = random.Random(f"{self.sim.seed}/{seed}")
        stocks = self._row_pool

        def rows(_field: FieldShape) -> list[dict[str, Any]]:
            picks = rng.sample(stocks, GENERIC_ROWS)
            return [self.quote_context(self.market.quote(i.code)) for i in picks]

        return rows

    def _fill(self, entry: catalog.Entry, ctx: dict[str, Any], pad: int = 0) -> dict[str, Any]:
        rng = random.Random(f"{self.sim.seed}/{entry.api_id}/{ctx.get('_page', 0)}")
        out = fill(
            shape_of(entry.response_type),
            ctx,
            rows=self._rows(f"{entry.api_id}/{ctx.get('_page', 0)}"),
            pad=pad,
            rng=rng,
        )
        assert isinstance(out, dict)
        return out

    def _focus(self, entry: catalog.Entry, body: dict[str, Any]) -> Quote:
        """The quote of the request's instrument (its stk_cd or inds_cd), or of 005930."""
        code = body.get("stk_cd") or body.get("inds_cd") or ""
        try:
            inst = self.market.instrument(code) if code else None
        except KeyError:
            inst = None
        if inst is None:
            inst = self.market.instrument("AAPL" if entry.region == "us" else "005930")
        return self.market.quote(inst.code)

    # -- generic ----------------------------------------------------------------------------

    def _generic(
        self, entry: catalog.Entry, body: dict[str, Any], next_key: str
    ) -> tuple[Any, str]:
        page = int(next_key) if next_key.isdigit() else 0
        ctx = self.quote_context(self._focus(entry, body))
        ctx["_page"] = page
        more = str(page + 1) if entry.pages and page + 1 < GENERIC_PAGES else ""
        return self._fill(entry, ctx), more

    # -- market data ------------------------------------------------------------------------

    def _chart(self, entry: catalog.Entry, body: dict[str, Any], next_key: str) -> tuple[Any, str]:
        period = _CHARTS[entry.api_id]
        code = body.get("stk_cd") or body.get("inds_cd") or ""
        inst = self._instrument(code)
        scope = str(body.get("tic_scope") or "1")
        interval = int(scope) if scope.isdigit() and int(scope) > 0 else 1
        base = body.get("base_dt") or body.get("strt_dt") or ""
        now = self.sim.clock.now().replace(tzinfo=None)
        end = now
        if base and base.isdigit() and len(base) == 8:
            day = dt.date(int(base[:4]), int(base[4:6]), int(base[6:]))
            end = min(now, dt.datetime.combine(day, dt.time(23, 59, 59)))
        if next_key:
            end = min(end, _parse_key(next_key))
        rows_per_page = self.sim.chart_rows or PAGE_ROWS[period]
        if period in ("tick", "min"):
            candles = self._recent_intraday(inst.code, period, end, interval, rows_per_page + 1)
        else:
            # Enough calendar days back for one page and the row after it.
            days = {"day": 7 / 5, "week": 7, "month": 31, "year": 366}[period] * (rows_per_page + 2)
            start = end - dt.timedelta(days=days + 7)
            candles = self.market.candles(inst.code, period, start=start, end=end)
            candles = candles[-(rows_per_page + 1) :]
        if not candles:
            return None, ""
        candles.reverse()
        page, rest = candles[:rows_per_page], candles[rows_per_page:]
        more = ""
        if rest:
            more = (rest[0].time).strftime("%Y%m%d%H%M%S")
        prev_closes = self._prev_closes(inst.code, period, candles)
        rows = [self._candle_row(inst, c, prev_closes.get(c.time)) for c in page]
        list_field = next(f for f in shape_of(entry.response_type).fields if f.many)
        ctx = {
            "stk_cd": inst.code,
            "inds_cd": inst.code,
            list_field.py: rows,
            "last_tic_cnt": "",
            "_page": next_key,
        }
        return self._fill(entry, ctx), more

    def _recent_intraday(
        self, code: str, period: str, end: dt.datetime, interval: int, n: int
    ) -> list[Candle]:
        out: list[Candle] = []
        day = end.date()
        for _ in range(30):
            start = dt.datetime.combine(day, dt.time())
            got = self.market.candles(code, period, start=start, end=end, interval=interval)  # type: ignore[arg-type]
            got = [c for c in got if c.time.date() == day]
            out = got + out
            if len(out) >= n or day <= EPOCH:
                break
            day -= dt.timedelta(days=1)
        return out[-n:]

    def _prev_closes(self, code: str, period: str, candles: list[Candle]) -> dict[dt.datetime, int]:
        """Previous day's close for each candle (the base of its sign and change)."""
        out: dict[dt.datetime, int] = {}
        cache: dict[dt.date, int] = {}
        for c in candles:
            d = c.time.date()
            if d not in cache:
                try:
                    cache[d] = self.market.day_bar(code, d).prev_close
                except KeyError:
                    cache[d] = c.open
            out[c.time] = cache[d]
        return out

    def _candle_row(self, inst: Any, c: Candle, prev: int | None) -> dict[str, Any]:
        prev = prev or c.open
        div = 100 if inst.scale else 1
        px: Callable[[int], Any] = (lambda v: v / 100) if div == 100 else (lambda v: v)
        sign = "+" if c.close > prev else "-" if c.close < prev else ""
        sig = "2" if sign == "+" else "5" if sign == "-" else "3"
        return {
            "_sign": sign,
            "cur_prc": px(c.close),
            "cntr_pric": px(c.close),
            "open_pric": px(c.open),
            "high_pric": px(c.high),
            "low_pric": px(c.low),
            "trde_qty": c.volume,
            "acc_trde_qty": c.volume,
            "trde_prica": c.amount // 1_000_000,
            "acc_trde_prica": c.amount // 1_000_000,
            "dt": c.time.date(),
            "bus_dt": c.time.date(),
            "cntr_tm": c.time,
            "pred_pre": px(c.close - prev),
            "pred_pre_sig": sig,
            "flu_rt": round((c.close - prev) * 100 / prev, 2) if prev else 0.0,
            "trde_tern_rt": round(c.volume * 100 / inst.shares, 2) if inst.shares else 0.0,
            "upd_stkpc_tp": "",
            "upd_rt": "",
        }

    def _basic_info(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        inst = self._instrument(body["stk_cd"])
        q = self.market.quote(inst.code)
        ctx = self.quote_context(q)
        year = self.market.candles(inst.code, "day", start=q.time - dt.timedelta(days=365))
        ctx.update(
            setl_mm="12",
            fav=5000 if inst.market != "ETF" else 0,
            fav_unit="원",
            cap=inst.shares * 5000 // 100_000_000,
            dstr_stk=inst.shares * 7 // 10 // 1000,
            dstr_rt=70.0,
            hgst_250=max(c.high for c in year),
            lwst_250=min(c.low for c in year),
            oyr_hgst=max(c.high for c in year),
            oyr_lwst=min(c.low for c in year),
            repl_pric=q.prev_close * 7 // 10,
            exp_cntr_pric=q.price,
            exp_cntr_qty=0,
            trde_pre=0.0,
            crd_rt=0.1,
            for_exh_rt=round(random.Random(inst.code).uniform(5, 55), 2),
        )
        return self._fill(entry, ctx), ""

    def _order_book(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        inst = self._instrument(body["stk_cd"])
        q = self.market.quote(inst.code)
        asks, bids = self.market.order_book(inst.code)
        ctx = self.quote_context(q)
        ctx["bid_req_base_tm"] = self.sim.clock.now().time()
        ordinals = {1: "fpr", **{i: f"{i}th_pre" for i in range(2, 11)}}
        for i in range(1, 11):
            ask = asks[i - 1] if i <= len(asks) else (0, 0)
            bid = bids[i - 1] if i <= len(bids) else (0, 0)
            ctx[f"sel_{ordinals[i]}_bid"] = ask[0]
            ctx[f"sel_{ordinals[i]}_req"] = ask[1]
            ctx[f"buy_{ordinals[i]}_bid"] = bid[0]
            ctx[f"buy_{ordinals[i]}_req"] = bid[1]
            ctx[f"sel_{i}th_pre_req_pre"] = 0
            ctx[f"buy_{i}th_pre_req_pre"] = 0
        ctx.update(
            tot_sel_req=sum(a[1] for a in asks),
            tot_buy_req=sum(b[1] for b in bids),
            tot_sel_req_jub_pre=0,
            tot_buy_req_jub_pre=0,
            ovt_sel_req=0,
            ovt_buy_req=0,
            ovt_sel_req_pre=0,
            ovt_buy_req_pre=0,
        )
        return self._fill(entry, ctx), ""

    def _listing(self, inst: Any) -> dict[str, Any]:
        q = self.market.quote(inst.code)
        code, name = _MARKET_NAMES.get(inst.market, ("0", "거래소"))
        return {
            "code": inst.code,
            "name": inst.name,
            "listCount": f"{inst.shares:016d}",
            "auditInfo": "정상",
            "regDay": dt.date(2000, 1, 4),
            "lastPrice": f"{q.prev_close:08d}",
            "state": "증거금20%|담보대출|신용가능",
            "marketCode": code,
            "marketName": name,
            "upName": inst.sector,
            "upSizeName": "대형주" if inst.shares > 100_000_000 else "중형주",
            "companyClassName": "",
            "orderWarning": "0",
            "nxtEnable": "Y",
        }

    def _stock_list(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        market = _MARKET_CODES.get(str(body.get("mrkt_tp")))
        rows = [self._listing(i) for i in self.market.instruments.values() if i.market == market]
        if not rows:
            return None, ""
        return self._fill(entry, {"list": rows}), ""

    def _stock_one(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        inst = self._instrument(body["stk_cd"])
        return self._fill(entry, self._listing(inst)), ""

    def _sector_list(
        self, entry: catalog.Entry, body: dict[str, Any], _key: str
    ) -> tuple[Any, str]:
        kosdaq = str(body.get("mrkt_tp")) == "1"
        rows = [
            {
                "marketCode": "1" if i.code.startswith("1") else "0",
                "code": i.code,
                "name": i.name,
                "group": "1",
            }
            for i in self.market.instruments.values()
            if i.market == "SECTOR" and i.code.startswith("1") == kosdaq
        ]
        return self._fill(entry, {"list": rows}), ""

    # -- account ----------------------------------------------------------------------------

    def _account_no(
        self, entry: catalog.Entry, _body: dict[str, Any], _key: str
    ) -> tuple[Any, str]:
        return self._fill(entry, {"acctNo": self.sim.account.number}), ""

    def _deposit(self, entry: catalog.Entry, _body: dict[str, Any], _key: str) -> tuple[Any, str]:
        acc = self.sim.account
        acc.sweep()
        cash = acc.cash
        ctx: dict[str, Any] = {f.py: 0 for f in shape_of(entry.response_type).fields if not f.sub}
        ctx.update(
            entr=cash,
            pymn_alow_amt=cash,
            ord_alow_amt=cash,
            d1_entra=cash,
            d2_entra=cash,
            d1_pymn_alow_amt=cash,
            d2_pymn_alow_amt=cash,
            stk_ord_alow_amt_20=cash * 5,
            stk_ord_alow_amt_30=cash * 10 // 3,
            stk_ord_alow_amt_40=cash * 5 // 2,
            stk_ord_alow_amt_50=cash * 2,
            stk_ord_alow_amt_60=cash * 10 // 6,
            stk_ord_alow_amt_100=cash,
            crd_grnt_rt=0.0,
            min_ord_alow_yn=0,
            stk_entr_prst=[],
        )
        return self._fill(entry, ctx, ACCOUNT_PAD), ""

    def _balance(self, entry: catalog.Entry, _body: dict[str, Any], _key: str) -> tuple[Any, str]:
        acc = self.sim.account
        acc.sweep()
        positions = [
            p
            for p in acc.positions.values()
            if p.qty and self.market.instrument(p.code).market != "US"
        ]
        rows = [acc.position_context(p) for p in positions]
        for r in rows:
            r["stk_cd"] = "A" + r["stk_cd"]
        total_cost = sum(p.cost for p in positions)
        total_value = sum(r["evlt_amt"] for r in rows)
        for r in rows:
            r["poss_rt"] = round(r["evlt_amt"] * 100 / total_value, 2) if total_value else 0.0
            r["sum_cmsn"] = "0"
        pl = total_value - total_cost
        rate = round(pl * 100 / total_cost, 2) if total_cost else 0.0
        realised = acc.realised
        ctx: dict[str, Any] = {f.py: 0 for f in shape_of(entry.response_type).fields if not f.sub}
        ctx.update(
            acnt_nm="시뮬레이터",
            brch_nm="키움증권",
            entr=acc.cash,
            d2_entra=acc.cash,
            tot_est_amt=total_value,
            aset_evlt_amt=acc.cash + total_value,
            tot_pur_amt=total_cost,
            prsm_dpst_aset_amt=acc.cash + total_value,
            tot_evlt_amt=total_value,
            tot_evlt_pl=pl,
            tot_prft_rt=rate,
            tdy_lspft_amt=realised,
            tdy_lspft=realised,
            lspft_amt=realised,
            lspft=realised,
            lspft2=realised,
            tdy_lspft_rt=0.0,
            lspft_ratio=0.0,
            lspft_rt=0.0,
            invt_bsamt=total_cost,
        )
        list_field = next(f for f in shape_of(entry.response_type).fields if f.many)
        ctx[list_field.py] = rows
        return self._fill(entry, ctx, ACCOUNT_PAD), ""

    def _unfilled(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        acc = self.sim.account
        side = {"1": "sell", "2": "buy"}.get(str(body.get("trde_tp")))
        code = body.get("stk_cd") if str(body.get("all_stk_tp")) == "1" else None
        orders = [
            o
            for o in acc.open_orders()
            if o.region == "domestic"
            and (side is None or o.side == side)
            and (not code or o.code == code)
        ]
        if not orders:
            return None, ""
        return self._fill(entry, {"oso": [acc.order_context(o) for o in orders]}), ""

    def _executions(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        acc = self.sim.account
        side = {"1": "sell", "2": "buy"}.get(str(body.get("sell_tp")))
        code = body.get("stk_cd") if str(body.get("qry_tp")) == "1" else None
        wanted = body.get("ord_no") or ""
        orders = [
            o
            for o in acc.filled_orders()
            if o.region == "domestic"
            and (side is None or o.side == side)
            and (not code or o.code == code)
            and (not wanted or o.ord_no == wanted)
        ]
        rows = [acc.order_context(o) for o in reversed(orders)]
        if not rows:
            return None, ""
        return self._fill(entry, {"cntr": rows}), ""

    def _order_status(
        self, entry: catalog.Entry, body: dict[str, Any], _key: str
    ) -> tuple[Any, str]:
        """계좌별주문체결현황 of one day: every domestic order of ``ord_dt`` (today by default),
        or only those with executions (``qry_tp`` 1)."""
        acc = self.sim.account
        day = str(body.get("ord_dt") or "") or self.sim.clock.today().strftime("%Y%m%d")
        side = {"1": "sell", "2": "buy"}.get(str(body.get("sell_tp")))
        code = body.get("stk_cd") or ""
        orders = [
            o
            for o in acc.all_orders()
            if o.region == "domestic"
            and o.time.strftime("%Y%m%d") == day
            and (side is None or o.side == side)
            and (not code or o.code == code)
            and (str(body.get("qry_tp")) != "1" or o.filled)
        ]
        if not orders:
            return None, ""
        rows = []
        for o in reversed(orders):
            row = acc.order_context(o)
            row.update(
                stk_bond_tp="1",
                ord_uv=o.price,
                cnfm_qty=o.qty if o.kind != "new" else 0,
                cntr_uv=row["cntr_pric"],
                cntr_tm=o.time.time() if o.filled else "",
                acpt_tp="확인" if o.kind != "new" else "접수",
                mdfy_cncl_tp={"modify": "정정", "cancel": "취소"}.get(o.kind, ""),
                setl_tp="현금",
                crd_deal_tp="신용" if o.credit else "보통매매",
                comm_ord_tp="오픈API",
                dmst_stex_tp="KRX",
                rsrv_oppo="",
                cond_uv=0,
            )
            rows.append(row)
        sells = sum(o.filled_amount for o in orders if o.side == "sell")
        buys = sum(o.filled_amount for o in orders if o.side == "buy")
        ctx = {
            "sell_grntl_engg_amt": sells,
            "buy_engg_amt": buys,
            "engg_amt": sells + buys,
            "acnt_ord_cntr_prst_array": rows,
        }
        return self._fill(entry, ctx), ""

    def _realised(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        acc = self.sim.account
        acc.sweep()
        code = body.get("stk_cd") or ""
        sells = [e for e in acc.executions if e.side == "sell" and (not code or e.code == code)]
        rows = [
            {
                "stk_nm": e.name,
                "stk_cd": e.code,
                "cntr_qty": e.qty,
                "cntr_pric": e.price,
                "buy_uv": (e.price * e.qty - e.realised - e.fee - e.tax) // e.qty,
                "tdy_sel_pl": e.realised,
                "pl_rt": round(e.realised * 100 / max(1, e.price * e.qty - e.realised), 2),
                "tdy_trde_cmsn": e.fee,
                "tdy_trde_tax": e.tax,
                "_sign": "",
            }
            for e in sells
        ]
        return self._fill(
            entry, {"tdy_rlzt_pl": sum(e.realised for e in sells), "tdy_rlzt_pl_dtl": rows}
        ), ""

    def _diary(self, entry: catalog.Entry, _body: dict[str, Any], _key: str) -> tuple[Any, str]:
        acc = self.sim.account
        acc.sweep()
        rows: list[dict[str, Any]] = []
        for p in acc.positions.values():
            if not (p.bought_today or p.sold_today):
                continue
            fees = sum(e.fee + e.tax for e in acc.executions if e.code == p.code)
            rows.append(
                {
                    "stk_nm": p.name,
                    "stk_cd": p.code,
                    "buy_qty": p.bought_today,
                    "buy_amt": p.buy_amount_today,
                    "buy_avg_pric": p.buy_amount_today // p.bought_today if p.bought_today else 0,
                    "sell_qty": p.sold_today,
                    "sell_amt": p.sell_amount_today,
                    "sel_avg_pric": p.sell_amount_today // p.sold_today if p.sold_today else 0,
                    "cmsn_alm_tax": fees,
                    "pl_amt": p.realised,
                    "prft_rt": round(p.realised * 100 / p.buy_amount_today, 2)
                    if p.buy_amount_today
                    else 0.0,
                }
            )
        buy = sum(r["buy_amt"] for r in rows)
        sell = sum(r["sell_amt"] for r in rows)
        ctx = {
            "tot_sell_amt": sell,
            "tot_buy_amt": buy,
            "tot_cmsn_tax": sum(r["cmsn_alm_tax"] for r in rows),
            "tot_exct_amt": sell - buy,
            "tot_pl_amt": acc.realised,
            "tot_prft_rt": round(acc.realised * 100 / buy, 2) if buy else 0.0,
            "tdy_trde_diary": rows,
        }
        return self._fill(entry, ctx), ""

    # -- US account (dollars; won at a fixed USD_KRW) ----------------------------------------

    def _us_order_row(self, o: Any) -> dict[str, Any]:
        inst = self.market.instrument(o.code)
        avg = o.filled_amount / o.filled / 100 if o.filled else 0.0
        return {
            "_sign": "",
            "ord_no": o.ord_no,
            "orig_ord_no": o.orig_ord_no,
            "stex_nm": inst.exchange,
            "crnc_code": "USD",
            "stk_cd": o.code,
            "frgn_stk_nm": o.name,
            "frgn_trde_tp": "00" if o.price else "03",
            "frgn_trde_nm": "지정가" if o.price else "시장가",
            "slby_tp": "2" if o.side == "buy" else "1",
            "slby_tp_nm": "매수" if o.side == "buy" else "매도",
            "ord_qty": o.qty,
            "ord_uv": o.price / 100,
            "stop_pric": 0.0,
            "cntr_qty": o.filled,
            "cntr_uv": avg,
            "mdfy_qty": 0,
            "mdfy_uv": 0.0,
            "cncl_qty": o.cancelled,
            "cnfm_qty": o.qty,
            "ord_remnq": o.remaining,
            "ord_time": o.time.time(),
            "ord_resp_time": o.time.time(),
            "cntr_time": o.time.time(),
            "ord_stat": o.status,
            "rsrv_tp": "",
            "natn_nm": "미국",
            "ord_cntr_tp": "1",
        }

    def _us_unfilled(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> Answer:
        rows = [self._us_order_row(o) for o in self.sim.account.open_orders() if o.region == "us"]
        if not rows:
            return None, ""
        return self._fill(entry, {"result_list": rows}), ""

    def _us_orders(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> Answer:
        acc = self.sim.account
        acc.sweep()
        rows = [self._us_order_row(o) for o in list(acc.orders.values()) if o.region == "us"]
        if not rows:
            return None, ""
        return self._fill(entry, {"result_list": rows}), ""

    def _us_balance(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> Answer:
        acc = self.sim.account
        acc.sweep()
        rows: list[dict[str, Any]] = []
        for p in list(acc.positions.values()):
            inst = self.market.instrument(p.code)
            if inst.market != "US" or not p.qty:
                continue
            q = self.market.quote(p.code)
            value, cost = q.price * p.qty / 100, p.cost / 100
            rows.append(
                {
                    "_sign": "",
                    "stex_nm": inst.exchange,
                    "crnc_code": "USD",
                    "stk_cd": p.code,
                    "frgn_stk_nm": p.name,
                    "qty": p.qty,
                    "poss_qty": p.qty,
                    "sell_alowq": p.qty,
                    "pred_cntr_sellq": 0,
                    "pred_cntr_buyq": 0,
                    "tdy_cntr_sellq": p.sold_today,
                    "tdy_cntr_buyq": p.bought_today,
                    "frgn_stk_book_uv": p.avg_price / 100,
                    "now_pric": q.price / 100,
                    "evlt_amt": value,
                    "pl_amt": value - cost,
                    "pl_rt": round((value - cost) * 100 / cost, 2) if cost else 0.0,
                    "evlt_amt_krw": round(value * USD_KRW),
                    "pl_amt_krw": round((value - cost) * USD_KRW),
                    "natn_nm": "미국",
                    "exch_rate": USD_KRW,
                    "frgn_stk_book_uv_krw": round(p.avg_price / 100 * USD_KRW),
                    "now_pric_krw": round(q.price / 100 * USD_KRW),
                    "frgn_stk_book_amt": cost,
                    "frgn_stk_book_amt_krw": round(cost * USD_KRW),
                }
            )
        value = sum(r["evlt_amt"] for r in rows)
        cost = sum(r["frgn_stk_book_amt"] for r in rows)
        realised = sum(e.realised for e in acc.executions if e.code in self._us_codes()) / 100
        ctx = {
            "crnc_code": "USD",
            "tot_evlt_amt": value,
            "tot_prch_amt": cost,
            "tot_pl_amt": value - cost,
            "tot_pl_rt": round((value - cost) * 100 / cost, 2) if cost else 0.0,
            "tdy_book_amt": 0.0,
            "tdy_pl_amt": realised,
            "tdy_pl_rt": 0.0,
            "tot_evlt_amt_krw": value * USD_KRW,
            "tot_prch_amt_krw": cost * USD_KRW,
            "tot_pl_amt_krw": (value - cost) * USD_KRW,
            "tdy_book_amt_krw": 0.0,
            "tdy_pl_amt_krw": realised * USD_KRW,
            "result_list": rows,
        }
        return self._fill(entry, ctx), ""

    def _us_codes(self) -> set[str]:
        return {c for c, i in self.market.instruments.items() if i.market == "US"}

    def _us_deposit(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> Answer:
        usd = self.sim.account.usd_cash / 100
        row = {
            "crnc_code": "USD",
            "crnc_nm": "미국 달러",
            "fc_entra": usd,
            "fc_pymn_alowa": usd,
            "futr_repl_profa": 0.0,
            "fc_booka": usd,
            "fc_ord_alowa": usd,
            "futr_profa_booka": 0.0,
            "fc_ch_uncla": 0.0,
            "fc_etc_loana": 0.0,
        }
        ctx = {
            "krw_entra": self.sim.account.cash,
            "ch_uncla": 0.0,
            "etc_loana": 0.0,
            "result_list": [row],
        }
        return self._fill(entry, ctx), ""

    # -- orders -----------------------------------------------------------------------------

    def _price(self, entry: catalog.Entry, text: Any, field: str) -> int:
        text = str(text or "0").strip() or "0"
        try:
            value = float(text)
        except ValueError:
            raise Rejection(2, 1517, f"입력 값 형식이 올바르지 않습니다. 입력값={field}") from None
        return round(value * 100) if entry.region == "us" else int(value)

    def _qty(self, text: Any, field: str) -> int:
        text = str(text or "0").strip() or "0"
        if not text.isdigit():
            raise Rejection(2, 1517, f"입력 값 형식이 올바르지 않습니다. 입력값={field}")
        return int(text)

    def _order_answer(
        self, entry: catalog.Entry, order: Any, extra: dict[str, Any]
    ) -> dict[str, Any]:
        ctx = {"ord_no": order.ord_no, "dmst_stex_tp": "KRX", "stk_nm": order.name, "_sign": ""}
        if entry.region == "us":
            ctx.update(fc_entra=self.sim.account.usd_cash / 100)
        ctx.update(extra)
        return self._fill(entry, ctx)

    def _order(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        side: Side = "buy" if entry.api_id in ("kt10000", "kt10006", "ust20000") else "sell"
        inst = self._instrument(body["stk_cd"])
        if (entry.region == "us") != (inst.market == "US"):
            raise Rejection(2, 1903, f"해당 거래소의 종목이 아닙니다. 입력값={body['stk_cd']}")
        try:
            order = self.sim.account.place(
                side,
                inst.code,
                self._qty(body.get("ord_qty"), "ord_qty"),
                self._price(entry, body.get("ord_uv"), "ord_uv"),
                str(body.get("trde_tp", "0")),
                region=entry.region,
                credit=entry.group.endswith("credit_order"),
            )
        except OrderRejected as exc:
            raise Rejection(2, exc.code, exc.message) from None
        return self._order_answer(entry, order, {}), ""

    def _modify(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        qty = self._qty(body.get("mdfy_qty"), "mdfy_qty")
        price = self._price(entry, body.get("mdfy_uv"), "mdfy_uv")
        try:
            order = self.sim.account.modify(str(body["orig_ord_no"]), qty, price)
        except OrderRejected as exc:
            raise Rejection(2, exc.code, exc.message) from None
        extra = {"base_orig_ord_no": order.orig_ord_no, "mdfy_qty": order.qty}
        return self._order_answer(entry, order, extra), ""

    def _cancel(self, entry: catalog.Entry, body: dict[str, Any], _key: str) -> tuple[Any, str]:
        qty = self._qty(body.get("cncl_qty"), "cncl_qty")
        try:
            order = self.sim.account.cancel(str(body["orig_ord_no"]), qty)
        except OrderRejected as exc:
            raise Rejection(2, exc.code, exc.message) from None
        extra = {"base_orig_ord_no": order.orig_ord_no, "cncl_qty": order.qty}
        return self._order_answer(entry, order, extra), ""


def _parse_key(key: str) -> dt.datetime:
    digits = "".join(ch for ch in key if ch.isdigit()).ljust(14, "0")[:14]
    try:
        return dt.datetime.strptime(digits, "%Y%m%d%H%M%S")
    except ValueError:
        raise Rejection(2, 1517, "연속조회키가 올바르지 않습니다") from None


def _json(body: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    return Response(
        msgspec.json.encode(body),
        status,
        headers=headers,
        media_type="application/json;charset=UTF-8",
    )
