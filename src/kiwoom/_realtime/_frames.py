"""The socket's frames: fast envelope decoders and the frames the client sends.

Every frame is a JSON object whose ``trnm`` says what it is; one tagged union decodes them all.
``REAL`` frames are by far the most frequent. When consumers want typed values,
:class:`StrippedFrames` reads a ``REAL`` frame straight into them: the signs' '+' are removed
from the frame first (one C call where the accelerator is built), so msgspec parses the
signed numbers itself, and each item's values are finished by the fixer of
:mod:`kiwoom._fastdecode`. A frame it cannot take
exactly (free text in a value, a shape it does not read) is decoded as sent, where
:class:`TypedFrames` decodes a ``REAL`` frame in a single pass with its items tagged by
``type``, each ``values`` straight into that type's wire Struct (every FID a string), ready
for the catalogue's typed conversion. A frame that does not fit (an item of a type nobody
consumes, a value that is not a string) falls back to :func:`decode_frame`, whose items keep
their ``values`` as :class:`msgspec.Raw` (undecoded bytes) until a consumer wants them. An
unknown ``trnm`` falls back to a decoder of ``trnm`` alone.
"""

from __future__ import annotations

import functools
import logging
import typing
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from .._convert import Field, layout
from .._fastdecode import FastDecoder, Unfit, fix_values, strip_signs
from ._tick import Tick, subclass

__all__ = [
    "MALFORMED",
    "Control",
    "Head",
    "Item",
    "Real",
    "StrippedFrames",
    "TypedFrames",
    "decode_frame",
    "encode",
]


class Item(msgspec.Struct, gc=False):
    """One element of a ``REAL`` frame's ``data``: a type, an item (code) and its raw values."""

    type: str
    values: msgspec.Raw = msgspec.Raw(b"{}")
    item: str = ""
    name: str = ""


class Real(msgspec.Struct, tag_field="trnm", tag="REAL"):
    data: list[Item] = []


class Control(msgspec.Struct, tag_field="trnm"):
    """LOGIN, PING, REG, REMOVE, SYSTEM and condition-search frames: the answer code only."""

    return_code: int | str | None = None
    return_msg: str = ""


class Login(Control, tag="LOGIN"):
    pass


class Ping(Control, tag="PING"):
    pass


class Reg(Control, tag="REG"):
    pass


class Remove(Control, tag="REMOVE"):
    pass


class System(Control, tag="SYSTEM"):
    code: str = ""
    message: str = ""


class ConditionList(Control, tag="CNSRLST"):
    pass


class ConditionRequest(Control, tag="CNSRREQ"):
    pass


class ConditionClear(Control, tag="CNSRCLR"):
    pass


class Head(msgspec.Struct):
    """Any frame, read for its ``trnm`` only (the fallback for names we do not know)."""

    trnm: str
    return_code: int | str | None = None
    return_msg: str = ""


Frame = (
    Real | Login | Ping | Reg | Remove | System | ConditionList | ConditionRequest | ConditionClear
)

_frame_decoder: msgspec.json.Decoder[Frame] = msgspec.json.Decoder(Frame)

_head_decoder = msgspec.json.Decoder(Head)

log = logging.getLogger("kiwoom.realtime")

MALFORMED = (msgspec.DecodeError, UnicodeError)
"""What decoding a frame that is not JSON raises: msgspec's errors (a ValidationError is a
DecodeError), UnicodeDecodeError for bytes that are not UTF-8 (the socket is read as bytes,
so nothing checked them before), or UnicodeEncodeError for text with lone surrogates (frames
given to ``process`` as ``str``)."""


def trnm_of(frame: Real | Control | Head) -> str:
    """The ``trnm`` of a decoded frame."""
    if isinstance(frame, Head):
        return frame.trnm
    return type(frame).__struct_config__.tag  # type: ignore[return-value]


def decode_frame(raw: str | bytes) -> Real | Control | Head:
    """Decode one frame; raises :class:`msgspec.DecodeError` or ``ValidationError`` if malformed."""
    try:
        return _frame_decoder.decode(raw)
    except msgspec.ValidationError:
        # An unknown trnm, or a known one of an unexpected shape: read the name alone.
        return _head_decoder.decode(raw)


def _real_decoder(
    name: str, items: list[Any], strict: bool = True
) -> tuple[type[msgspec.Struct], msgspec.json.Decoder[Any]]:
    """A ``REAL`` frame class whose ``data`` holds the given item classes (tagged by
    ``type``), and a decoder of it or of any control frame."""
    data_type: Any = items[0] if len(items) == 1 else typing.Union[tuple(items)]  # noqa: UP007
    real = msgspec.defstruct(name, [("data", list[data_type], [])], tag_field="trnm", tag="REAL")
    frame: Any = typing.Union[(real, *Frame.__args__[1:])]
    return real, msgspec.json.Decoder(frame, strict=strict)


@functools.cache
def _wire_item(type_id: str, wire: Any) -> type[msgspec.Struct]:
    # One class per type and process: msgspec reads a class once, so a decoder of classes it
    # knows is built in a fraction of a millisecond.
    return msgspec.defstruct(
        f"Item{type_id}",
        [("values", wire), ("item", str, ""), ("name", str, "")],
        tag_field="type",
        tag=type_id,
        gc=False,
    )


class TypedFrames:
    """One-pass decoder of frames whose ``REAL`` items are of the given types."""

    def __init__(self, wire_types: dict[str, Any]) -> None:
        """``wire_types``: type id -> the Struct its values decode into (or ``msgspec.Raw``)."""
        self.type_of: dict[type, str] = {}
        items: list[Any] = []
        for type_id, wire in wire_types.items():
            cls = _wire_item(type_id, wire)
            self.type_of[cls] = type_id
            items.append(cls)
        self.real, self._decoder = _real_decoder("TypedReal", items)

    def decode(self, raw: str | bytes) -> Any:
        """A typed ``REAL`` frame or a control frame; otherwise :func:`decode_frame`'s answer."""
        try:
            return self._decoder.decode(raw)
        except msgspec.ValidationError:
            return decode_frame(raw)


@functools.cache
def _stripped_decoder(typed: type[msgspec.Struct]) -> FastDecoder:
    # One per values type and process: what one socket learns, the next one knows.
    return FastDecoder(typed, stripped=True)


def _ignore(values: Any) -> bool:
    """The fixer of a type nobody consumes: its values stay raw."""
    return False


class StrippedFrames:
    """One-pass decoder of ``REAL`` frames into typed values, with the signs' '+' removed
    first (:func:`~kiwoom._fastdecode.strip_signs`).

    ``decode`` returns the frame's items as ticks (each type's Tick class, see ``_tick``), their
    ``values`` already the catalogue's typed Struct (raw for types nobody consumes; the item's
    ``name`` is not read: the class has it), or None when the frame must be decoded as sent:
    not a ``REAL`` frame, an item of a type in ``exact``, or a value this road does not read
    (the plan learns from it first, as the REST road does).

    Free text is the one kind of value the removal could change (``"+5%"``), and it stays
    non-empty. Where a frame's free text holds anything, the fixers say so, and those fields
    are read again from the frame as sent by a second decoder that reads nothing else.
    """

    def __init__(
        self,
        typed: dict[str, type[msgspec.Struct]],
        known: Iterable[str] = (),
        exact: Iterable[str] = (),
        name_of: Callable[[str], str] = lambda type_id: "",
        classes: dict[tuple[str, Any], type[Tick[Any]]] | None = None,
    ) -> None:
        """``typed``: type id -> its typed values Struct, for the consumed types.
        ``known``: other types a frame may carry (counted, not read).
        ``exact``: consumed types whose frames must be read as sent (wire consumers).
        ``classes``: tick classes made so far by the caller's roads (filled as it goes)."""
        self._decoders = {t: _stripped_decoder(cls) for t, cls in typed.items()}
        self._known = tuple(known)
        self._exact = frozenset(exact)
        self._name_of = name_of
        self._types = sorted({*self._decoders, *self._known})
        self.failures = 0
        """Frames on which this road raised (a bug): each was read as sent instead."""
        self.builds: Counter[str] = Counter()
        """Per type id: tick classes made for it (one, then one per plan its frames taught)."""
        # (type id, values class) -> tick class, shared by the roads of one dispatcher (a tick
        # class knows its dispatcher's route) so that a new subscription reuses them all.
        self._classes = {} if classes is None else classes
        self.type_of: dict[type, str] = {}
        self._fixes: dict[type, Callable[[Any], Any] | None] = {}
        self._texts: dict[type, tuple[str, ...]] = {}  # tick class -> its free-text fields
        text_items: list[Any] = []
        for type_id in self._types:
            cls = typed.get(type_id) if type_id not in self._exact else None
            fields = () if cls is None else layout(cls)
            text_items.append(_text_item(type_id, [f for f in fields if f.kind == "str"]))
        # The free text of a type never changes with its plan: one decoder for good.
        text_real, self._text_decoder = _real_decoder("TextReal", text_items)
        self._text_real: Any = text_real
        self._build()

    def _build(self) -> None:
        # Only a type whose plan changed gets a new tick class; msgspec keeps what it read of
        # the other classes, so the union decoder is rebuilt in about 0.1 ms, not the 5-20 ms
        # that new classes of every type cost.
        items: list[Any] = []
        type_of: dict[type, str] = {}
        fixes: dict[type, Callable[[Any], Any] | None] = {}
        for type_id in self._types:
            decoder = self._decoders.get(type_id)
            fix: Callable[[Any], Any] | None = _ignore  # nobody consumes it: counted, not read
            plan: Any = None
            if decoder is not None:
                if type_id in self._exact:
                    fix = None  # read as sent
                else:
                    plan = decoder.plan
                    fix = plan.fix
            values: Any = msgspec.Raw if plan is None else plan.twin
            cls = self._classes.get((type_id, values))
            if cls is None:
                cls = subclass(type_id, self._name_of(type_id), values)
                self._classes[type_id, values] = cls
                self.builds[type_id] += 1
            if cls not in self._texts:  # a class's plan, so its free text, never changes
                texts = () if plan is None else layout(plan.program.typed)
                self._texts[cls] = tuple(f.attr for f in texts if f.kind == "str")
            type_of[cls] = type_id
            fixes[cls] = fix
            items.append(cls)
        self.type_of = type_of
        self._fixes = fixes
        real, self._decoder = _real_decoder("StrippedReal", items, strict=False)
        self.real: Any = real
        self._decode = self._decoder.decode
        self.fast = self._fast_road()

    def _fast_road(self) -> Callable[[Any], list[Tick[Any]] | None]:
        """:meth:`decode` for the common case only, in one function over local names: a
        ``REAL`` frame in bytes whose items all read. Anything else gives None, and the caller
        takes :meth:`decode`, which does it again with the bookkeeping (learning)."""
        decode, fixes, strip, restore = self._decode, self._fixes, strip_signs, self._restore_text
        real: Any = self.real

        def fast(raw: Any) -> list[Tick[Any]] | None:
            if type(raw) is not bytes:
                return None
            seen: list[int] = []
            try:
                frame: Any = decode(strip(raw))
                if type(frame) is not real:
                    return None
                ticks = fix_values(frame.data, fixes, seen)
                if ticks is None or (seen and not restore(raw, ticks, seen)):
                    return None
            except Exception:
                return None
            return ticks

        return fast

    def decode(self, raw: str | bytes) -> list[Tick[Any]] | None:
        """The ticks of a ``REAL`` frame, or None: decode this frame as sent."""
        try:
            return self._read(raw)
        except Exception:  # a bug of this road must not end the socket: read it as sent
            self.failures += 1
            if self.failures <= 10 or self.failures % 1000 == 0:
                log.exception("the stripped road failed on a frame (%d so far)", self.failures)
            return None

    def _read(self, raw: str | bytes) -> list[Tick[Any]] | None:
        if isinstance(raw, str):
            try:
                raw = raw.encode()
            except UnicodeEncodeError:  # lone surrogates: not a frame this road reads
                return None
        text = strip_signs(raw)
        frame: Any
        try:
            frame = self._decode(text)
        except msgspec.ValidationError:
            if not self._learn(text):
                return None
            try:
                frame = self._decode(text)
            except MALFORMED:
                return None
        except MALFORMED:
            return None
        if type(frame) is not self.real:
            return None  # a control frame: its messages are text, read them as sent
        seen: list[int] = []
        try:
            data = fix_values(frame.data, self._fixes, seen)
        except (Unfit, ValueError, TypeError, ArithmeticError, AttributeError):
            return None
        if data is None or (seen and not self._restore_text(raw, data, seen)):
            return None
        return data

    def _restore_text(self, raw: bytes, ticks: list[Tick[Any]], seen: list[int]) -> bool:
        """Set the free text of ``ticks[i]`` for i in ``seen`` as ``raw`` (the frame as sent)
        has it; False if the frame does not read so."""
        try:
            frame: Any = self._text_decoder.decode(raw)
        except MALFORMED:
            return False
        if type(frame) is not self._text_real or len(frame.data) != len(ticks):
            return False
        for i in seen:
            values, sent = ticks[i].values, frame.data[i].values
            for attr in self._texts[type(ticks[i])]:
                setattr(values, attr, getattr(sent, attr) or None)
        return True

    def _learn(self, text: str | bytes) -> bool:
        """Teach the plans what this frame's values need; True if a plan changed.

        Every lesson whose plan was built ahead is taken (a swap), and at most one that
        builds a plan (up to 2 ms, the order book's), to keep each frame's cost near a
        millisecond: a frame whose other types need new plans too is read as sent, and the
        next such frame teaches them. One rebuild of the union decoder follows, however many
        types learnt."""
        try:
            frame = decode_frame(text)
        except MALFORMED:
            return False
        if not isinstance(frame, Real):
            return False
        changed = built = False
        for it in frame.data:
            decoder = self._decoders.get(it.type)
            if decoder is None:
                continue
            made = decoder.made
            try:
                if decoder.learn(bytes(it.values), build=not built):
                    changed = True
            except Unfit:
                continue
            built = built or decoder.made != made
        if changed:
            self._build()
        return changed


def _text_item(type_id: str, texts: list[Field]) -> type[msgspec.Struct]:
    """An item of ``type_id`` that reads only the free text of its values."""
    fields: list[Any] = [
        (f.attr, str | None, msgspec.field(default=None, name=f.wire)) for f in texts
    ]
    values = msgspec.defstruct(f"Text{type_id}Values", fields, gc=False)
    return msgspec.defstruct(
        f"Text{type_id}",
        [("values", values, msgspec.field(default_factory=values))],
        tag_field="type",
        tag=type_id,
        gc=False,
    )


def return_code(frame: Control | Head) -> int:
    """The answer's return code as an int (Kiwoom sends 0 or a number, sometimes as text)."""
    code = frame.return_code
    if code is None or code == "":
        return 0
    try:
        return int(code)
    except ValueError:
        return -1


_encoder = msgspec.json.Encoder()


def encode(message: Any) -> str:
    """A frame to send, as JSON text (the socket carries text frames)."""
    return _encoder.encode(message).decode()
