"""Every entry of the catalogue decodes a body built from its own field list, into the right types.

The bodies are made here from the catalogue, one value per semantic type, so the test needs
no recorded data and covers every generated converter.
"""

import msgspec
import pytest
from samples import STRUCTS, sample_body

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
    assert msgspec.to_builtins(wire_obj)
