"""The socket's frames: a fast envelope decoder and the frames the client sends.

Every frame is a JSON object whose ``trnm`` says what it is. ``REAL`` frames are by far the
most frequent, so they decode in one pass through a tagged union into items whose ``values``
stay :class:`msgspec.Raw` (undecoded bytes) until a consumer wants them typed. Any other frame
keeps its ``data`` raw too; an unknown ``trnm`` falls back to a decoder of ``trnm`` alone.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["Control", "Head", "Item", "Real", "decode_frame", "encode"]


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
