"""The catalogue at run time: every API and real-time type, its types, and a decoder.

>>> entry = kiwoom.catalog.get("ka10081")
>>> entry.name, entry.path, entry.kind
('주식일봉차트조회요청', '/api/dostk/chart', 'rest')
>>> resp = entry.decode(body_bytes)          # -> Ka10081Response
>>> wire = entry.decode_wire(body_bytes)     # -> Ka10081ResponseWire, every value as sent
"""

from __future__ import annotations

import importlib
import re
import typing
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from . import _convert
from ._errors import DecodeError, InvalidRequestError
from ._generated import _registry
from ._model import Request
from ._request import request_from

if TYPE_CHECKING:
    from ._fastdecode import FastDecoder

__all__ = ["Entry", "entries", "get"]

Kind = Literal["rest", "realtime", "condition"]


class Entry:
    """One API or real-time type of the catalogue."""

    __slots__ = (
        "__dict__",
        "_decoded",
        "api_id",
        "group",
        "is_order",
        "kind",
        "method",
        "mock",
        "module",
        "name",
        "pages",
        "path",
        "region",
    )

    def __init__(
        self,
        api_id: str,
        name: str,
        kind: Kind,
        group: str,
        region: str,
        path: str,
        method: str,
        is_order: bool,
        pages: bool,
        mock: bool,
        module: str,
    ) -> None:
        self.api_id = api_id
        """API id (``ka10081``) or real-time type (``0B``)."""
        self.name = name
        """Korean name (``주식일봉차트조회요청``)."""
        self.kind: Kind = kind
        self.group = group
        self.region = region
        self.path = path
        """URL path the API is POSTed to, or the WebSocket path."""
        self.method = method
        """Python name (``daily``; for real-time types ``trade``)."""
        self.is_order = is_order
        """True when the API moves money: never retried automatically."""
        self.pages = pages
        """True when the response pages with ``cont-yn``/``next-key``."""
        self.mock = mock
        """False when Kiwoom's mock-trading server does not serve it."""
        self.module = module
        self._decoded = False

    def __repr__(self) -> str:
        return f"<Entry {self.api_id} {self.name} {self.kind} {self.path}>"

    @cached_property
    def _types(self) -> tuple[Any, ...]:
        mod = importlib.import_module(self.module)
        return mod.TYPES[self.api_id]  # type: ignore[no-any-return]

    @property
    def request_type(self) -> type[msgspec.Struct] | None:
        """The request body Struct (``None`` for real-time types)."""
        return self._types[0]  # type: ignore[no-any-return]

    @property
    def response_type(self) -> type[msgspec.Struct]:
        """The typed response Struct; for a real-time type, its values Struct."""
        return self._types[1]  # type: ignore[no-any-return]

    @property
    def wire_type(self) -> type[msgspec.Struct]:
        """The response Struct with every value exactly as sent (strings)."""
        return self._types[2]  # type: ignore[no-any-return]

    @cached_property
    def _aliases(self) -> tuple[tuple[bytes, bytes], ...]:
        if self.kind == "realtime":
            return ()
        mod = importlib.import_module(self.module)
        return getattr(mod, "ALIASES", {}).get(self.api_id, ())  # type: ignore[no-any-return]

    def _unalias(self, raw: bytes | str) -> bytes | str:
        """The body with a list Kiwoom names two ways (``inds_dt_pole_qry`` for the table's
        ``inds_min_pole_qry``) under the catalogue's name, so neither name is lost."""
        for alias, name in self._aliases:
            data = raw.encode() if isinstance(raw, str) else bytes(raw)
            if alias in data and name not in data:
                raw = data.replace(alias, name, 1)
        return raw

    @cached_property
    def _decoder(self) -> msgspec.json.Decoder[Any]:
        return msgspec.json.Decoder(self.wire_type)

    def decode_wire(self, raw: bytes | str) -> Any:
        """Decode a response body (for real-time types: one ``values`` object) as sent."""
        raw = self._unalias(raw)
        try:
            try:
                return self._decoder.decode(raw)
            except msgspec.ValidationError:
                # A value of an unexpected JSON type (a number or null where Kiwoom documents
                # a string): take the slow road, turning every scalar into its wire text.
                return msgspec.convert(_as_text(msgspec.json.decode(raw)), self.wire_type)
        except msgspec.ValidationError as exc:
            raise DecodeError(self.api_id, None, _preview(raw), str(exc)) from None
        except msgspec.DecodeError as exc:
            raise DecodeError(self.api_id, None, _preview(raw), f"not JSON: {exc}") from None

    def convert(self, wire: Any) -> Any:
        """Turn a wire Struct of this entry into its typed Struct."""
        try:
            return self._types[3](wire)
        except (ValueError, TypeError, ArithmeticError):
            # An unusual shape (blanks, a doubled sign, a zero date): the tolerant road.
            return _convert.convert(self.api_id, wire, self.response_type)

    def build_request(self, data: Mapping[str, Any] | msgspec.Struct) -> msgspec.Struct:
        """The typed request of this entry from a dict of wire names (or a request, as is).

        Raises :class:`InvalidRequestError` naming the API id and the field.
        """
        req_type = self.request_type
        if req_type is None:
            raise InvalidRequestError(self.api_id, None, "a real-time type has no request body")
        # The road of ``call()`` and of the typed methods: one set of checks, one wording.
        return request_from(self.api_id, typing.cast("type[Request]", req_type), data)

    @cached_property
    def _fast(self) -> FastDecoder:
        # Imported with the first plan: a program that decodes each API once never loads it.
        from ._fastdecode import FastDecoder

        return FastDecoder(self.response_type)

    def decode(self, raw: bytes | str) -> Any:
        """Decode a response body (for real-time types: one ``values`` object) into typed values."""
        raw = self._unalias(raw)
        typed = self._decode(raw)
        if getattr(typed, "inds_cd", None) in _convert.LATE_CLOSE_SECTORS:
            _convert.late_close(typed, self.decode_wire(raw))
        return typed

    def _decode(self, raw: bytes | str) -> Any:
        # The first body takes the converter road: building the fast plan costs more (1.5 ms
        # for one row, 12 ms for a 600-row chart) than that road spends on any one body (0.5
        # to 1.3 ms), and many programs decode an API once (the token, a quote).
        if not self._decoded:
            self._decoded = True
            return self.convert(self.decode_wire(raw))
        fast = self._fast
        if fast.useful:
            typed = fast.decode_or_none(raw)
            if typed is not None:
                return typed
        return self.convert(self.decode_wire(raw))


# msgspec names the field as "... field `stk_cd`" or "... - at `$.stk_cd`".


# A body quoted in an error must not carry a secret (au10001 answers with the token).
# Compiled on first use (re caches it): only an error quotes a body.
_SECRET_VALUE = r'(?i)("(?:token|appkey|secretkey)"\s*:\s*")[^"]*(")'


def _preview(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes | bytearray) else raw
    text = re.sub(_SECRET_VALUE, r"\1<hidden>\2", text)
    return text if len(text) <= 120 else text[:117] + "..."


def _as_text(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _as_text(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_as_text(v) for v in data]
    if data is None:
        return ""
    if isinstance(data, bool):
        return "Y" if data else "N"
    if isinstance(data, int | float):
        return str(data)
    return data


def _build() -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for (
        api_id,
        name,
        kind,
        group,
        region,
        path,
        method,
        order,
        pages,
        mock,
        module,
        *_,
    ) in _registry.APIS:
        out[api_id] = Entry(
            api_id, name, typing.cast(Kind, kind), group, region, path, method, order, pages, mock,
            module,
        )  # fmt: skip
    for type_id, name, region, path, py, module, _values in _registry.REALTIME:
        # Domestic and US real-time types never share an id (0B vs FE).
        out[type_id] = Entry(
            type_id, name, "realtime", "realtime." + region, region, path, py, False, False, True,
            module,
        )  # fmt: skip
    return out


_ENTRIES = _build()


def get(api_id: str) -> Entry:
    """The entry of one API id (``ka10081``) or real-time type (``0B``); KeyError if unknown."""
    try:
        return _ENTRIES[api_id]
    except KeyError:
        raise KeyError(f"{api_id!r} is not in the Kiwoom catalogue") from None


def entries(kind: Kind | None = None) -> Iterator[Entry]:
    """Every entry, in catalogue order; only those of one kind when given."""
    return (e for e in _ENTRIES.values() if kind is None or e.kind == kind)
