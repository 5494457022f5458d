# The C accelerator of the fast road's fixers (see _speedups.c and _fastdecode.py).
from typing import Any

PROTOCOL: int
OP_ABS: int
OP_ABS_BLANK: int
OP_BLANK: int
OP_FREE_TEXT: int
OP_OR_NONE: int
OP_NUM_TEXT: int
OP_CALL: int
OP_DATE: int
OP_TIME: int
OP_LIST: int
OP_OBJECT: int
OP_TO_INT: int
OP_TO_ABS_INT: int
OP_TO_FLOAT: int
OP_TO_ABS_FLOAT: int

def strip_signs(raw: bytes, /) -> bytes: ...
def fix_values(
    items: list[Any], fixes: dict[type, Any], seen: list[int], /
) -> list[Any] | None: ...

class Fixer:
    def __init__(self, typed: type, twin: type, ops: tuple[tuple[int, str, Any], ...]) -> None: ...
    def __call__(self, obj: Any, /) -> bool: ...
