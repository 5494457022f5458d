"""The intermediate model the templates render: structs, fields and their conversions."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from msgspec import UNSET

from . import _schema as s
from .load import Catalogue

# Fields every response inherits from kiwoom._model.Response.
BASE_RESPONSE_FIELDS = ("return_code", "return_msg")

# Names the generated annotations use: a field called ``int`` would shadow the builtin for
# every annotation after it in the class body (msgspec evaluates them in class scope).
RESERVED = frozenset({"int", "float", "str", "list", "msgspec"})


# Kiwoom's special times (chart bars, trade times): what the typed value holds for each.
SENTINEL_DOC = (
    "888888 = 16:00:00 closing auction (17:00:00 for sector codes 253 and 254),"
    " 999999 = 18:00:00 after-hours close"
)


# The price sign code of many responses: kiwoom.PriceSign reads it.
PRICE_SIGN_CODES = {"1": "상한가", "2": "상승", "3": "보합", "4": "하한가", "5": "하락"}


def camel(name: str) -> str:
    """``stk_dt_pole_chart_qry`` -> ``StkDtPoleChartQry``."""
    parts = re.split(r"[^0-9A-Za-z]+", name)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


def py_name(name: str) -> str:
    """A valid attribute name for a wire name."""
    out = re.sub(r"\W", "_", name)
    if not out or out[0].isdigit():
        out = "f_" + out
    if keyword.iskeyword(out) or out in RESERVED:
        out += "_"
    return out


def _get(value, default=None):  # type: ignore[no-untyped-def]
    return default if value is UNSET else value


@dataclass
class FieldM:
    attr: str
    wire: str
    label: str
    type: str
    required: bool = False
    length: int | None = None
    unit: str | None = None
    sign: str = "none"
    scale: int | None = None
    format: str | None = None
    codes: dict[str, str] | None = None
    codes_open: bool = False  # the code table is known incomplete: any text is sent
    aliases: tuple[str, ...] = ()  # other wire names the server sends for this field
    struct: StructM | None = None
    realtime: bool = False  # a field of a real-time values object
    request: bool = False  # a field of a request body

    @property
    def number_text(self) -> bool:
        """Text that only ever holds digits and a sign: a string field with a ``sign`` (a
        number whose format is not pinned) or a real-time code. A '+' in it is a sign and is
        dropped on every road, so the real-time decoder may strip '+' from a whole frame."""
        if self.type == "string":
            return self.sign != "none"
        return self.type == "code" and self.realtime

    @property
    def renamed(self) -> bool:
        return self.attr != self.wire

    @property
    def closed_codes(self) -> dict[str, str] | None:
        """The code table a request value must come from (None: any text)."""
        if self.type == "code" and self.codes and not self.codes_open:
            return self.codes
        return None

    # --- typed response side -------------------------------------------------
    @property
    def annotation(self) -> str:
        if self.type == "list":
            assert self.struct
            return f"list[{self.struct.name}]"
        if self.type == "object":
            assert self.struct
            return f"{self.struct.name} | None"
        return {
            "integer": "int",
            "decimal": "float",
            "date": "_dt.date",
            "time": "_dt.time",
            "datetime": "_dt.datetime",
        }.get(self.type, "str") + " | None"

    @property
    def default(self) -> str:
        return "[]" if self.type == "list" else "None"

    def convert(self, v: str) -> str:
        """A Python expression turning the wire value in variable ``v`` into the typed value."""
        t = self.type
        if t == "list":
            assert self.struct
            return f"[{self.struct.converter}(x) for x in {v}] if {v} else []"
        if t == "object":
            assert self.struct
            return f"{self.struct.converter}({v}) if {v} is not None else None"
        if t == "integer":
            num = f"int({v})"
        elif t == "decimal":
            num = f"float({v}) / {10**self.scale}" if self.scale else f"float({v})"
        elif t == "date":
            return f"_fast_date({v}) if {v} else None"
        elif t == "time":
            return f"_fast_time({v}) if {v} else None"
        elif t == "datetime":
            return f"_to_datetime({v}) if {v} else None"
        elif self.number_text:
            return f'{v}.replace("+", "") or None'
        else:
            return f"{v} or None"
        if self.sign == "direction":
            num = f"abs({num})"
        return f"{num} if {v} else None"

    @property
    def kind_code(self) -> str:
        """How the tolerant converter (kiwoom._convert) reads this field."""
        if self.type in ("list", "object"):
            return self.type
        if self.type in ("integer", "decimal"):
            code = "int" if self.type == "integer" else "float"
            if self.scale:
                code += f"/{10**self.scale}"
            return ("abs " if self.sign == "direction" else "") + code
        if self.type in ("date", "time", "datetime"):
            return self.type
        return "num text" if self.number_text else "str"

    # --- wire side -----------------------------------------------------------
    @property
    def wire_annotation(self) -> str:
        if self.type == "list":
            assert self.struct
            return f"list[{self.struct.wire_name}]"
        if self.type == "object":
            assert self.struct
            return f"{self.struct.wire_name} | None"
        return "str"

    @property
    def wire_default(self) -> str:
        return {"list": "[]", "object": "None"}.get(self.type, '""')

    # --- request side --------------------------------------------------------
    @property
    def request_annotation(self) -> str:
        if self.type == "list":
            assert self.struct
            base = f"list[{self.struct.name}]"
        else:
            codes = self.closed_codes
            if codes is not None:
                return (
                    "_Code["
                    + ", ".join(repr(c) for c in codes)
                    + "]"
                    + ("" if self.required else " | None")
                )
            base = {
                "integer": "int | str",
                "decimal": "_DecimalText",
                "date": "_DateText",
                "time": "_TimeText",
                "datetime": "_DateTimeText",
            }.get(self.type, "str")
        return base if self.required else f"{base} | None"

    @property
    def rule_kind(self) -> str:
        return {
            "integer": "int",
            "decimal": "decimal",
            "date": "date",
            "time": "time",
            "datetime": "datetime",
            "list": "list",
            "object": "list",
        }.get(self.type, "str")

    @property
    def rule_args(self) -> str:
        """The arguments of this field's ``FieldRule`` after ``kind`` (format, code table)."""
        out = ""
        if self.format:
            out += f", fmt={self.format!r}"
        if self.closed_codes is not None:
            out += f", codes={self.closed_codes!r}"
        return out

    @property
    def doc(self) -> str:
        """The one-line docstring the IDE shows: label, unit, format, sign, codes."""
        bits: list[str] = []
        if self.unit:
            bits.append(f"단위 {self.unit}")
        if self.scale:
            bits.append(f"wire value / {10**self.scale}")
        if self.format:
            bits.append(self.format)
        if self.type == "string" and self.sign != "none":
            bits.append("a number kept as text, '+' dropped")
        elif self.sign == "direction":
            bits.append("magnitude; the wire sign is the direction vs the previous close")
        elif self.sign == "real":
            bits.append("signed")
        if self.length:
            bits.append(f"max {self.length}")
        if self.codes_open:
            bits.append("codes known incomplete: other codes are sent as given")
        if self.codes == PRICE_SIGN_CODES and not self.request:
            bits.append("kiwoom.PriceSign(value) reads it")
        if self.aliases:
            bits.append("also read from " + ", ".join(self.aliases))
        if self.type in ("time", "datetime") and not self.request:
            bits.append(SENTINEL_DOC)
        text = self.label or self.wire
        if self.renamed:
            text += f" [{self.wire}]"
        if bits:
            text += " (" + ", ".join(bits) + ")"
        if self.codes:
            codes = ", ".join(f"{k}: {v}" for k, v in self.codes.items())
            text += ". " + codes
        return text.replace("\\", "\\\\").replace('"""', "'''")


@dataclass
class StructM:
    name: str
    fields: list[FieldM]
    doc: str
    kind: str  # "request" | "request_row" | "response" | "row" | "values"
    array_like: bool = False  # rows sent as JSON arrays of values, in field order

    @property
    def wire_name(self) -> str:
        return self.name + "Wire"

    @property
    def converter(self) -> str:
        return "_c_" + self.name

    def nested(self) -> list[StructM]:
        """Structs this one refers to, innermost first, then itself."""
        out: list[StructM] = []
        for f in self.fields:
            if f.struct:
                out.extend(f.struct.nested())
        out.append(self)
        return out


@dataclass
class ApiM:
    id: str
    name: str
    method: str
    kind: str
    order: bool
    paging: bool
    mock: bool
    path: str
    group: str
    region: str
    request: StructM
    response: StructM
    module: str = ""  # the API's own module, under its group's package

    @property
    def class_prefix(self) -> str:
        return self.id[:1].upper() + self.id[1:]

    def public_names(self) -> list[str]:
        names = [st.name for st in self.request.nested()]
        for st in self.response.nested():
            names += [st.name, st.wire_name]
        return names


@dataclass
class ModuleM:
    """One generated module: an API group (a package: its namespace classes, and one module
    per API holding that API's models, loaded on first use) or a real-time group."""

    name: str  # dotted, relative to kiwoom._generated: "domestic.chart"
    title: str
    region: str
    path: str
    apis: list[ApiM] = field(default_factory=list)
    realtime: list[RealtimeM] = field(default_factory=list)

    @property
    def qualname(self) -> str:
        return "kiwoom._generated." + self.name

    def public_names(self) -> list[str]:
        names = [n for api in self.apis for n in api.public_names()]
        for rt in self.realtime:
            names += [rt.values.name, rt.values.wire_name]
        return names

    def name_modules(self) -> list[tuple[str, str]]:
        """Each public name with the module that defines it."""
        out = [(n, api.module) for api in self.apis for n in api.public_names()]
        for rt in self.realtime:
            out += [(rt.values.name, self.qualname), (rt.values.wire_name, self.qualname)]
        return out


@dataclass
class RealtimeM:
    id: str
    name: str
    py: str
    region: str
    path: str
    values: StructM
    module: str = ""


def _fields(raw: list[s.Field], owner: str, kind: str, skip: tuple[str, ...] = ()) -> list[FieldM]:
    out: list[FieldM] = []
    used: set[str] = set()
    for f in raw:
        if f.name in skip:
            continue
        attr = _get(f.py) or py_name(f.name)
        while attr in used:
            attr += "_"
        used.add(attr)
        m = FieldM(
            attr=attr,
            wire=f.name,
            label=_get(f.label, ""),
            type=f.type,
            required=bool(_get(f.required, False)),
            length=_get(f.length),
            unit=_get(f.unit),
            sign=_get(f.sign, "none"),
            scale=_get(f.scale),
            format=_get(f.format),
            codes=_get(f.codes),
            codes_open=bool(_get(f.codes_open, False)),
            aliases=tuple(_get(f.aliases, ())),
            realtime=kind == "values",
            request=kind.startswith("request"),
        )
        if f.type in ("list", "object"):
            child_kind = "request_row" if kind.startswith("request") else "row"
            name = owner + camel(f.name)
            m.struct = StructM(
                name=name,
                fields=_fields(_get(f.fields, []), name, child_kind),
                doc=f"{m.label or f.name} [{f.name}]",
                kind=child_kind,
                array_like=bool(_get(f.array_like, False)),
            )
        out.append(m)
    return out


def build(cat: Catalogue) -> list[ModuleM]:
    modules: list[ModuleM] = []
    for g in sorted(cat.groups, key=lambda g: g.group):
        mod = ModuleM(name=g.group, title=g.title, region=g.region, path=g.path)
        for a in sorted(g.apis, key=lambda a: a.id):
            prefix = a.id[:1].upper() + a.id[1:]
            api = ApiM(
                id=a.id,
                name=a.name,
                method=a.method,
                kind=a.kind,
                order=bool(_get(a.order, False)),
                paging=bool(_get(a.paging, False)),
                mock=bool(_get(a.mock, True)),
                path=_get(a.path) or g.path,
                group=g.group,
                region=g.region,
                module=f"{mod.qualname}.{a.id}",
                request=StructM(
                    name=prefix + "Request",
                    fields=_fields(a.request, prefix + "Request", "request"),
                    doc=f"{a.name} ({a.id}) request body.",
                    kind="request",
                ),
                response=StructM(
                    name=prefix + "Response",
                    fields=_fields(a.response, prefix, "response", BASE_RESPONSE_FIELDS),
                    doc=f"{a.name} ({a.id}) response body.",
                    kind="response",
                ),
            )
            mod.apis.append(api)
        modules.append(mod)
    for rt in sorted(cat.realtime, key=lambda r: r.group):
        mod = ModuleM(name=rt.group, title=rt.title, region=rt.region, path=rt.path)
        for t in rt.types:
            name = "Real" + t.id
            mod.realtime.append(
                RealtimeM(
                    id=t.id,
                    name=t.name,
                    py=_get(t.py) or ("type_" + t.id.lower()),
                    region=rt.region,
                    path=rt.path,
                    module=mod.qualname,
                    values=StructM(
                        name=name,
                        fields=_fields(t.fields, name, "values"),
                        doc=f"{t.name} ({t.id}) real-time values, keyed on the wire by FID.",
                        kind="values",
                    ),
                )
            )
        modules.append(mod)
    return modules
