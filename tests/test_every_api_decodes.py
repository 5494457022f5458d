"""Every entry of the catalogue decodes a body built from its own field list, into the right types.

The bodies are made here from the catalogue, one value per semantic type, so the test needs
no recorded data and covers every generated converter.
"""

from typing import Any

import msgspec
import pytest
from samples import STRUCTS, sample_body

from codegen.model import StructM
from kiwoom import _convert, catalog
from kiwoom._fastdecode import FastDecoder


def _check(obj: object, expected: dict, where: str) -> None:
    for attr, want in expected.items():
        got = getattr(obj, attr)
        if isinstance(want, list):
            assert len(got) == len(want), where + attr
            for i, (row, row_want) in enumerate(zip(got, want, strict=True)):
                _check(row, row_want, f"{where}{attr}[{i}].")
                if not row_want:  # the empty row: every scalar is None, every list empty
                    for f in msgspec.structs.fields(type(row)):
                        assert getattr(row, f.name) in (None, []), f"{where}{attr}[{i}].{f.name}"
        elif isinstance(want, dict):
            _check(got, want, f"{where}{attr}.")
        elif isinstance(want, float):
            assert got == pytest.approx(want), where + attr
        else:
            assert got == want and type(got) is type(want), f"{where}{attr}: {got!r} != {want!r}"


def _check_wire(obj: object, sent: dict[str, Any], st: StructM, where: str) -> None:
    """The wire model holds every value as the exact text sent ("" where nothing was sent):
    signs, leading zeros and trailing decimal zeros kept, nothing converted."""
    for f in st.fields:
        got = getattr(obj, f.attr)
        want = sent.get(f.wire)
        if f.struct is None:
            assert got == ("" if want is None else want), f"{where}{f.attr}: {got!r} != {want!r}"
            assert type(got) is str, f"{where}{f.attr}"
        elif f.type == "list":
            assert isinstance(want, list) and len(got) == len(want), where + f.attr
            for i, (row, row_sent) in enumerate(zip(got, want, strict=True)):
                if f.struct.array_like:  # a row sent as the list of its values, in field order
                    row_sent = dict(zip((g.wire for g in f.struct.fields), row_sent, strict=False))
                _check_wire(row, row_sent, f.struct, f"{where}{f.attr}[{i}].")
        elif want is None:  # an object not sent (in the empty row)
            assert got is None, f"{where}{f.attr}"
        else:
            _check_wire(got, want, f.struct, f"{where}{f.attr}.")


@pytest.mark.parametrize("api_id", sorted(STRUCTS))
def test_entry_decodes_its_own_shape(api_id):
    wire, expected = sample_body(STRUCTS[api_id])
    entry = catalog.get(api_id)
    # the fast road (lax msgspec parsing) takes every shape of the sample without falling back
    typed = FastDecoder(entry.response_type).decode(msgspec.json.encode(wire))
    assert type(typed) is entry.response_type
    _check(typed, expected, f"{api_id}: ")
    assert entry.decode(msgspec.json.encode(wire)) == typed
    # the tolerant road (taken when the fast road gives up) gives the same values
    wire_obj = entry.decode_wire(msgspec.json.encode(wire))
    assert _convert.convert(api_id, wire_obj, entry.response_type) == typed
    # and the wire model keeps exactly what was sent
    _check_wire(wire_obj, wire, STRUCTS[api_id], f"{api_id} (wire): ")
