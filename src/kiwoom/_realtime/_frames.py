"""The socket's frames: fast envelope decoders and the frames the client sends.

Every frame is a JSON object whose ``trnm`` says what it is; one tagged union decodes them all.
``REAL`` frames are by far the most frequent. When consumers want some real-time types,
:class:`TypedFrames` decodes a ``REAL`` frame in a single pass with its items tagged by
``type``, each ``values`` straight into that type's wire Struct (every FID a string), ready
for the catalogue's typed conversion. A frame that does not fit (an item of a type nobody
consumes, a value that is not a string) falls back to :func:`decode_frame`, whose items keep
their ``values`` as :class:`msgspec.Raw` (undecoded bytes) until a consumer wants them. An
unknown ``trnm`` falls back to a decoder of ``trnm`` alone.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec

__all__ = ["Control", "Head", "Item", "Real", "TypedFrames", "decode_frame", "encode"]


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


class TypedFrames:
    """One-pass decoder of frames whose ``REAL`` items are of the given types."""

    def __init__(self, wire_types: dict[str, Any]) -> None:
        """``wire_types``: type id -> the Struct its values decode into (or ``msgspec.Raw``)."""
        self.type_of: dict[type, str] = {}
        items: list[Any] = []
        for type_id, wire in wire_types.items():
            cls = msgspec.defstruct(
                f"Item{type_id}",
                [("values", wire), ("item", str, ""), ("name", str, "")],
                tag_field="type",
                tag=type_id,
                gc=False,
            )
            self.type_of[cls] = type_id
            items.append(cls)
        data_type: Any = items[0] if len(items) == 1 else typing.Union[tuple(items)]  # noqa: UP007
        self.real = msgspec.defstruct(
            "TypedReal", [("data", list[data_type], [])], tag_field="trnm", tag="REAL"
        )
        frame: Any = typing.Union[(self.real, *Frame.__args__[1:])]
        self._decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(frame)

    def decode(self, raw: str | bytes) -> Any:
        """A typed ``REAL`` frame or a control frame; otherwise :func:`decode_frame`'s answer."""
        try:
            return self._decoder.decode(raw)
        except msgspec.ValidationError:
            return decode_frame(raw)


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
