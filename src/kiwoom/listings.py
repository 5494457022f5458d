"""Stock and sector code lists (ka10099 종목정보 리스트, ka10101 업종코드 리스트).

``market`` is Kiwoom's ``mrkt_tp`` (``"0"`` KOSPI, ``"10"`` KOSDAQ, ``"8"`` ETF, ``"60"`` ETN,
``"50"`` KONEX, ...; :data:`MARKETS`) or its name (``"KOSPI"``), or ``"NXT"``: the KOSPI and
KOSDAQ stocks also traded on Nextrade. With ``ats=True`` a stock traded on both KRX and NXT is
given by its integrated code ``005930_AL`` (KRX + NXT quotes), the others by their code;
:attr:`Listing.krx`, :attr:`Listing.nxt` and :attr:`Listing.integrated` give each form.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

import msgspec

from .errors import InvalidRequestError

if TYPE_CHECKING:
    from ._async import AsyncKiwoom
    from ._sync import Kiwoom

__all__ = ["MARKETS", "SECTOR_MARKETS", "Listing", "Sector", "market_code"]

MARKETS: dict[str, str] = {
    "KOSPI": "0", "KOSDAQ": "10", "INFRA": "2", "ELW": "3", "MUTUAL_FUND": "4",
    "WARRANT": "5", "REITS": "6", "WARRANT_CERT": "7", "ETF": "8", "HIGH_YIELD": "9",
    "K-OTC": "30", "KONEX": "50", "ETN": "60", "LOSS_LIMITED_ETN": "70", "GOLD": "80",
    "VOLATILITY_ETN": "90",
}  # fmt: skip
"""ka10099 ``mrkt_tp`` by name."""
SECTOR_MARKETS: dict[str, str] = {
    "KOSPI": "0", "KOSDAQ": "1", "KOSPI200": "2", "KOSPI100": "4", "KRX100": "7"
}  # fmt: skip
"""ka10101 ``mrkt_tp`` by name."""
NXT = "NXT"
_ETN_MARKETS = frozenset({"60", "70", "90"})


def market_code(market: str, table: dict[str, str], api_id: str) -> str:
    """A market name or code -> the code; :class:`InvalidRequestError` if neither."""
    if not isinstance(market, str):
        raise InvalidRequestError(api_id, "mrkt_tp", f"a market is a str, got {market!r}")
    if market in table.values():
        return market
    code = table.get(market.upper())
    if code is None:
        names = ", ".join(f"{k} ({v})" for k, v in table.items())
        raise InvalidRequestError(api_id, "mrkt_tp", f"{market!r} is not one of {names}")
    return code


class Listing(msgspec.Struct, frozen=True, kw_only=True):
    """One listed instrument of ka10099, with its kind told apart."""

    code: str
    """종목코드 (KRX, six characters)."""
    name: str
    """종목명"""
    market: str
    """The ``mrkt_tp`` asked for (``"0"`` KOSPI, ``"10"`` KOSDAQ, ``"8"`` ETF, ...)."""
    market_name: str | None = None
    """시장명 as sent (``marketName``)."""
    nxt: bool = False
    """Also traded on Nextrade (``nxtEnable`` Y)."""
    etf: bool = False
    etn: bool = False
    spac: bool = False
    """A SPAC (기업인수목적회사): its name says 스팩."""
    listed: _dt.date | None = None
    """상장일 (``regDay``)."""
    last_price: int | None = None
    """전일종가 (``lastPrice``)."""
    state: str | None = None
    """종목상태 (``state``: 증거금, 관리종목, ...)."""
    warning: str | None = None
    """투자유의 (``orderWarning``; ``"0"`` none)."""

    @property
    def integrated(self) -> str:
        """``005930_AL`` (KRX and NXT together) when also on NXT, else the code."""
        return f"{self.code}_AL" if self.nxt else self.code

    @property
    def nxt_code(self) -> str | None:
        """``005930_NX`` (Nextrade alone) when traded there."""
        return f"{self.code}_NX" if self.nxt else None

    @property
    def krx(self) -> str:
        return self.code


class Sector(msgspec.Struct, frozen=True, kw_only=True):
    """One sector (업종) of ka10101."""

    code: str
    name: str
    market: str
    group: str | None = None


def listings_from(response: Any, market: str) -> list[Listing]:
    """ka10099's rows as :class:`Listing`, in code order."""
    out = []
    for row in response.list_:
        if not row.code:
            continue
        mcode = row.marketCode or market
        name = row.name or ""
        out.append(
            Listing(
                code=row.code,
                name=name,
                market=market,
                market_name=row.marketName,
                nxt=row.nxtEnable == "Y",
                etf=mcode == "8" or market == "8" or (row.marketName or "").upper() == "ETF",
                etn=mcode in _ETN_MARKETS or market in _ETN_MARKETS,
                spac="스팩" in name,
                listed=row.regDay,
                last_price=row.lastPrice,
                state=row.state,
                warning=row.orderWarning,
            )
        )
    return sorted(out, key=lambda x: x.code)


def sectors_from(response: Any, market: str) -> list[Sector]:
    rows = [
        Sector(code=r.code, name=r.name or "", market=r.marketCode or market, group=r.group)
        for r in response.list_
        if r.code
    ]
    return sorted(rows, key=lambda x: x.code)


async def stocks_async(client: AsyncKiwoom, market: str) -> list[Listing]:
    """Every instrument of a market (``"NXT"``: KOSPI and KOSDAQ stocks also on Nextrade)."""
    if market.upper() == NXT:
        both = await stocks_async(client, "0") + await stocks_async(client, "10")
        return sorted((x for x in both if x.nxt), key=lambda x: x.code)
    code = market_code(market, MARKETS, "ka10099")
    return listings_from(await client.pages("ka10099", {"mrkt_tp": code}).collect(), code)


def stocks(client: Kiwoom, market: str) -> list[Listing]:
    """As :func:`stocks_async`, through the blocking client."""
    if market.upper() == NXT:
        both = stocks(client, "0") + stocks(client, "10")
        return sorted((x for x in both if x.nxt), key=lambda x: x.code)
    code = market_code(market, MARKETS, "ka10099")
    return listings_from(client.pages("ka10099", {"mrkt_tp": code}).collect(), code)


async def sectors_async(client: AsyncKiwoom, market: str) -> list[Sector]:
    """The sectors of a market (``"0"`` KOSPI, ``"1"`` KOSDAQ, ``"2"`` KOSPI200, ...)."""
    code = market_code(market, SECTOR_MARKETS, "ka10101")
    return sectors_from(await client.pages("ka10101", {"mrkt_tp": code}).collect(), code)


def sectors(client: Kiwoom, market: str) -> list[Sector]:
    """As :func:`sectors_async`, through the blocking client."""
    code = market_code(market, SECTOR_MARKETS, "ka10101")
    return sectors_from(client.pages("ka10101", {"mrkt_tp": code}).collect(), code)


def codes(
    listings: list[Listing],
    *,
    ats: bool = True,
    etf: bool = True,
    etn: bool = True,
    spac: bool = True,
) -> list[str]:
    """The codes of ``listings`` (integrated ``_AL`` codes with ``ats``), filtered, sorted.

    ``etf``/``etn``/``spac`` False leave those kinds out.
    """
    kept = [
        x for x in listings
        if (etf or not x.etf) and (etn or not x.etn) and (spac or not x.spac)
    ]  # fmt: skip
    return sorted(x.integrated if ats else x.code for x in kept)
