"""Import Kiwoom's official API catalogue into our own catalogue under ``spec/``.

Only facts are taken from the official file (ids, names, paths, wire names, Korean labels,
required flags, lengths, units, formats, code values); semantic types are inferred from the
descriptions (see ``infer``), checked against the official examples, and corrected by
``spec/overrides/fields.yaml``. Output is deterministic.
"""

from __future__ import annotations

import json
import keyword
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from . import conflicts, infer
from .examples import ExampleSyntaxError, parse_examples
from .infer import Typing
from .overrides import Overrides
from .overrides import load as load_overrides

__all__ = ["Report", "run"]

GROUPS = {
    "ELW": "elw",
    "ETF": "etf",
    "계좌": "account",
    "공매도": "short_selling",
    "관심종목": "watchlist",
    "기관/외국인": "institutional",
    "대차거래": "lending",
    "순위정보": "ranking",
    "시세": "market",
    "신용주문": "credit_order",
    "업종": "sector",
    "조건검색": "condition",
    "종목정보": "stock_info",
    "주문": "order",
    "차트": "chart",
    "테마": "theme",
    "투자정보": "invest_info",
    "환전": "exchange",
}
REGIONS = {"OAuth 인증": "oauth", "국내주식": "domestic", "미국주식": "us"}
REALTIME_MENU = "실시간시세"
OAUTH_PATH = "/oauth2/token"

ERROR_SUMMARIES = {
    1501: "api-id header missing or empty",
    1504: "this api id is not served at this URL",
    1505: "unknown api id",
    1511: "a required input is missing",
    1512: "HTTP header missing or unreadable",
    1513: "authorization header missing",
    1514: "authorization header malformed",
    1515: "authorization header has an unknown grant type",
    1516: "authorization header carries no token",
    1517: "an input value has the wrong format",
    1687: "recursive calls detected: this api id is throttled",
    1700: "too many requests for this API id",
    1701: "too many requests in total",
    1702: "too many requests for this API group",
    1901: "no market code for this stock code",
    1902: "unknown stock code",
    1903: "unknown stock code on this exchange",
    1999: "unexpected server error",
    8001: "app key / secret key rejected",
    8002: "app key / secret key rejected (reason given)",
    8003: "access token lookup failed",
    8005: "token invalid or expired",
    8006: "access token could not be created",
    8009: "access token could not be issued",
    8010: "token used from another IP than the one it was issued to",
    8011: "token request lacks grant_type",
    8012: "token request has a wrong grant_type",
    8015: "access token could not be revoked",
    8016: "revoke request lacks the token",
    8020: "appkey or secretkey missing",
    8030: "app key belongs to the other environment (real vs mock)",
    8031: "token belongs to the other environment (real vs mock)",
    8040: "device authentication failed",
    8050: "designated-device authentication failed",
    8103: "token or device authentication failed",
    8104: "API not available on the mock-trading server",
    8200: "API not available to corporate customers",
}

_PY_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_FIELD_ORDER = ("name", "py", "label", "type", "required", "length", "unit", "sign", "scale")


# =========================================================================== model


@dataclass
class Node:
    """One field while it is being typed."""

    name: str
    label: str
    description: str
    required: bool
    length: int | None
    container: str | None  # None | "list" | "object"
    path: str
    children: list[Node] = field(default_factory=list)
    typing: Typing | None = None
    source: str = ""  # desc | borrow | label | default | override
    py: str | None = None
    examples: list[str] = field(default_factory=list)
    json_numbers: bool = False  # every example value is a JSON number, not a string
    json_strings: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    in_example: bool = False  # the field appears in one of Kiwoom's examples
    example_names: set[str] = field(default_factory=set)  # other names an example gives it

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class Api:
    id: str
    name: str
    region: str  # oauth | domestic | us
    group: str  # english group name (oauth for the OAuth APIs)
    title: str  # Korean menu name
    kind: str  # oauth | rest | condition | realtime
    url: str
    overview: list[str]
    request: list[Node]
    response: list[Node]
    raw: dict[str, Any]
    unknown_keys: set[str] = field(default_factory=set)  # example keys the table lacks

    def nodes(self) -> Iterator[Node]:
        for top in (*self.request, *self.response):
            yield from top.walk()


# =========================================================================== report


@dataclass
class Report:
    apis: Counter[str] = field(default_factory=Counter)
    typed: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    sources: Counter[str] = field(default_factory=Counter)
    untyped: list[str] = field(default_factory=list)
    unnamed_fids: list[str] = field(default_factory=list)
    renamed_fids: list[str] = field(default_factory=list)
    missing_methods: list[str] = field(default_factory=list)
    oddities: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    padded: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    conflicts: list[conflicts.Conflict] = field(default_factory=list)  # as Kiwoom wrote it
    unresolved: list[conflicts.Conflict] = field(default_factory=list)  # after spec/overrides

    def conflict_counts(self) -> dict[str, tuple[int, int]]:
        """Conflict class -> (found, left unresolved)."""
        found = Counter(c.kind for c in self.conflicts)
        left = Counter(c.kind for c in self.unresolved)
        return {kind: (found[kind], left[kind]) for kind in conflicts.CLASSES}

    def __str__(self) -> str:
        lines = [f"wrote {len(self.files)} files"]
        lines.append("APIs: " + ", ".join(f"{k} {n}" for k, n in sorted(self.apis.items())))
        for part in ("request", "response", "realtime"):
            counts = self.typed.get(part, Counter())
            lines.append(
                f"{part} fields: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
            )
        lines.append(
            "typed from: " + ", ".join(f"{k} {n}" for k, n in sorted(self.sources.items()))
        )
        sections = (
            ("left as string although they look numeric", self.untyped),
            ("real-time FIDs without a Python name", self.unnamed_fids),
            ("real-time names made unique", self.renamed_fids),
            ("missing method names (api id used)", self.missing_methods),
            ("oddities in the official data", self.oddities),
        )
        for title, items in sections:
            lines.append(f"{title}: {len(items)}")
            lines.extend(f"  {item}" for item in items)
        lines.append("conflicts in the official catalogue (found, left unresolved):")
        for kind, (found, left) in self.conflict_counts().items():
            lines.append(f"  {kind}: {found}, {left}  ({conflicts.CLASSES[kind]})")
        lines.append(f"unresolved conflicts: {len(self.unresolved)}")
        lines.extend(f"  {c}" for c in self.unresolved)
        return "\n".join(lines)


# =========================================================================== reading


def _length(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _build_tree(rows: list[dict[str, Any]], prefix: str, report: Report, api_id: str) -> list[Node]:
    """Nest the flat official rows by depth; merge rows repeated at one level."""
    top: list[Node] = []
    containers: dict[int, Node] = {}
    sections = 0
    for row in rows:
        if row.get("is_section"):
            sections += 1
            continue
        depth = int(row.get("depth") or 0)
        kind = str(row.get("type") or "")
        container = (
            "list" if kind.upper().startswith("LIST") else "object" if kind == "Object" else None
        )
        parent = containers.get(depth - 1) if depth > 0 else None
        siblings = parent.children if parent is not None else top
        base = parent.path if parent is not None else prefix
        name = str(row["element"]).strip()
        node = Node(
            name=name,
            label=str(row.get("한글명") or "").strip(),
            description=str(row.get("description") or ""),
            required=str(row.get("required") or "").strip().upper() == "Y",
            length=_length(str(row.get("length") or "")),
            container=container,
            path=f"{base}.{name}" if base else name,
        )
        same = next((s for s in siblings if s.name == name), None)
        if same is not None:
            # A repeated name at one level (ka10173 documents its query answer and its REAL
            # frame in one table): one field whose children are the union.
            if container and same.container is None:
                same.container = container
            node = same
        else:
            siblings.append(node)
        if container:
            containers[depth] = node
            for deeper in [d for d in containers if d > depth]:
                del containers[deeper]
    if sections:
        report.oddities.append(
            f"{api_id}: {sections} section rows in the response table (two messages in one "
            "table); modelled as one response whose repeated fields are merged, all optional"
        )
        for top_node in top:
            for node in top_node.walk():
                node.required = False
    return top


def _load(source: Path, report: Report) -> list[Api]:
    data = json.loads(source.read_text(encoding="utf-8"))
    apis: list[Api] = []
    for key, entry in data["apis"].items():
        meta = entry["meta"]
        menu = [p.strip() for p in meta["메뉴 위치"].split(">")]
        region = REGIONS[menu[0]]
        api_id = str(meta["API ID"]).strip()
        name = str(meta.get("API 명") or key).strip()
        url = str(meta["URL"]).strip()
        overview = [k for k in meta if k not in _META_KEYS] + [
            v for v in meta.values() if isinstance(v, str) and "모의투자" in v and "지원" in v
        ]
        if region == "oauth":
            kind, group, title = "oauth", "oauth", menu[0]
        elif menu[1] == REALTIME_MENU:
            kind, group, title = "realtime", "realtime", menu[1]
        else:
            group, title = GROUPS[menu[1]], menu[1]
            kind = "condition" if url.endswith("/websocket") else "rest"
        request = _build_tree(entry["request"]["body"], "request", report, api_id)
        response = _build_tree(entry["response"]["body"], "response", report, api_id)
        apis.append(
            Api(api_id, name, region, group, title, kind, url, overview, request, response, entry)
        )
    return apis


_META_KEYS = {
    "◀ API 리스트 이동",
    "키움 REST API",
    "API 정보",
    "메뉴 위치",
    "API 명",
    "API ID",
    "기본정보",
    "Method",
    "운영 도메인",
    "모의투자 도메인",
    "URL",
    "Format",
    "Content-Type",
    "개요",
}


# =========================================================================== examples


def _collect(nodes: list[Node], message: Any, api: Api, report: Report, seen: set[str]) -> None:
    """Walk one example message along the field tree, recording scalar values, the keys the
    table lacks and the list names the example spells differently."""
    if not isinstance(message, dict):
        return
    names = {n.name for n in nodes}
    where = nodes[0].path.rsplit(".", 1)[0] if nodes else "?"
    extra = sorted(set(message) - names - _ENVELOPE)
    for node in nodes:
        value = message.get(node.name, _MISSING)
        if value is _MISSING and node.container:
            spare = [
                k
                for k, v in message.items()
                if k not in names and isinstance(v, (list, dict)) and k not in seen
            ]
            if len(spare) == 1:
                value = message[spare[0]]
                seen.add(spare[0])
                extra.remove(spare[0])
                node.example_names.add(spare[0])
        if value is _MISSING:
            continue
        node.in_example = True
        if node.container:
            rows = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
            for row in rows:
                if isinstance(row, list) and node.children:
                    note = f"{api.id}: {node.path} rows are positional arrays, not objects"
                    if note not in report.oddities:
                        report.oddities.append(note)
                    row = {c.name: v for c, v in zip(node.children, row, strict=False)}
                _collect(node.children, row, api, report, seen)
            continue
        text = infer.value_text(value)
        if text is None:
            continue
        if isinstance(value, str) and value != text and text:
            report.padded[api.id].append(f"{node.path.rsplit('.', 1)[-1]}={value!r}")
        node.examples.append(text)
        if isinstance(value, (int, float)):
            node.json_numbers = not node.json_strings
        else:
            node.json_strings, node.json_numbers = True, False
    api.unknown_keys.update(f"{where}.{key}" for key in extra)


_MISSING = object()
_ENVELOPE = {"return_code", "return_msg"}


def _examples(api: Api, report: Report) -> None:
    sides = [("request_example", api.request), ("response_example", api.response)]
    if api.kind == "realtime":
        sides = sides[1:]  # the registration request is generic, not catalogued per type
    for side, nodes in sides:
        text = api.raw.get(side) or ""
        try:
            messages = parse_examples(text)
        except ExampleSyntaxError as exc:
            report.oddities.append(f"{api.id}: {side} unreadable ({exc})")
            continue
        for message in messages:
            _collect(nodes, message, api, report, set())


# =========================================================================== typing


def _leaves(api: Api) -> Iterator[Node]:
    """The scalar fields written to the catalogue (for a real-time type: its values)."""
    if api.kind == "realtime":
        data = _find(api.response, ["data"])
        values = _find(data.children, ["values"]) if data else None
        nodes = values.children if values else []
    else:
        nodes = [n for top in (*api.request, *api.response) for n in top.walk()]
    for node in nodes:
        if node.container is None:
            yield node


def _is_fid(node: Node) -> bool:
    return node.name.isdigit()


def _describe(apis: list[Api]) -> None:
    for api in apis:
        for node in _leaves(api):
            t = infer.infer_from_description(
                node.label, node.description, node.length, node.path.startswith("request")
            )
            if t is not None:
                node.typing, node.source = t, "desc"


def _borrow_index(apis: list[Api]) -> dict[tuple[str, ...], Typing]:
    """Most common described typing per (region, wire name, label), per real-time FID, and
    per (region, label) over REST responses."""
    counts: dict[tuple[str, ...], Counter[tuple[object, ...]]] = defaultdict(Counter)
    typings: dict[tuple[object, ...], Typing] = {}
    for api in apis:
        for node in _leaves(api):
            if node.source not in ("desc", "override"):
                continue
            if not infer.borrowable(node.typing or infer.STRING):
                continue
            assert node.typing is not None
            label = infer.normalize_label(node.label)
            keys: list[tuple[str, ...]] = []
            if api.kind == "realtime":
                keys.append((api.region, "fid", node.name, label))
            elif not _is_fid(node):
                keys.append((api.region, "wire", node.name, label))
                if api.kind == "rest" and node.path.startswith("response"):
                    keys.append((api.region, "label", label))
            for key in keys:
                counts[key][node.typing.key()] += 1
                typings[node.typing.key()] = node.typing
    return {
        key: typings[sorted(c.items(), key=lambda kv: (-kv[1], repr(kv[0])))[0][0]]
        for key, c in counts.items()
    }


def _fallback(apis: list[Api], index: dict[tuple[str, ...], Typing]) -> None:
    for api in apis:
        for node in _leaves(api):
            if node.typing is not None:
                continue
            label = infer.normalize_label(node.label)
            if api.kind == "realtime" or _is_fid(node):
                keys = [(api.region, "fid", node.name, label), (api.region, "label", label)]
            else:
                keys = [(api.region, "wire", node.name, label)]
            for key in keys:
                borrowed = index.get(key)
                if borrowed is not None and not _may_borrow_codes(borrowed, node.description):
                    continue
                if borrowed is not None and all(infer.fits(borrowed, v) for v in node.examples):
                    node.typing, node.source = borrowed, "borrow"
                    break
            if node.typing is not None:
                continue
            typing = infer.infer_from_label(node.label, api.region, node.length, node.examples)
            if typing is not None:
                node.typing, node.source = typing, "label"
                continue
            if node.json_numbers and all(infer.fits(_INTEGER, v) for v in node.examples):
                node.typing, node.source = _INTEGER, "examples"
                continue
            node.typing, node.source = infer.STRING, "default"


_INTEGER = Typing(type="integer")


def _may_borrow_codes(borrowed: Typing, description: str) -> bool:
    """A code table is borrowed only by a field that describes nothing, or names every code
    of it (``0 or 1 / ...``): a field described otherwise (``검색하려는 종목코드``) is not
    limited to another field's codes (the gold codes of a gold API's ``stk_cd``)."""
    if borrowed.type != "code" or not borrowed.codes or not description.strip():
        return True
    return all(
        re.search(rf"(?<![0-9A-Za-z]){re.escape(code)}(?![0-9A-Za-z])", description)
        for code in borrowed.codes
    )


def _signs(apis: list[Api], report: Report) -> None:
    for api in apis:
        for node in _leaves(api):
            assert node.typing is not None
            if node.source == "override":
                continue
            signed = infer.sign_from_examples(node.typing, node.label, node.examples)
            if not signed.same(node.typing):
                node.typing = signed
                report.sources["sign from examples"] += 1
            elif node.typing.sign == "none" and infer.is_level(node.typing, node.label):
                # A price level is never negative: should the server sign it, the sign can
                # only be the direction against the previous close.
                node.typing = replace(node.typing, sign="direction")
                report.sources["price level"] += 1


def _code_labels(apis: list[Api]) -> None:
    """Codes listed without labels (``0 or 1``) take the labels another field of the same
    wire name gives the same codes."""
    known: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
    for api in apis:
        for node in _leaves(api):
            codes = node.typing.codes if node.typing else None
            if codes and all(codes.values()):
                known.setdefault((node.name, tuple(sorted(codes))), dict(codes))
    for api in apis:
        for node in _leaves(api):
            codes = node.typing.codes if node.typing else None
            if codes and not any(codes.values()) and node.source != "override":
                labels = known.get((node.name, tuple(sorted(codes))))
                if labels and node.typing is not None:
                    node.typing = replace(node.typing, codes=labels)


def _find(nodes: list[Node], parts: list[str]) -> Node | None:
    for node in nodes:
        if node.name == parts[0]:
            return node if len(parts) == 1 else _find(node.children, parts[1:])
    return None


def _apply_overrides(apis: list[Api], ov: Overrides, report: Report) -> None:
    by_id = {api.id: api for api in apis}
    for api_id, paths in sorted(ov.fields.items()):
        api = by_id.get(api_id)
        if api is None:
            report.oddities.append(f"fields.yaml: unknown api or type id {api_id}")
            continue
        for path, keys in paths.items():
            parts = path.split(".")
            if api.kind == "realtime":
                node = _find(_realtime_fields(api, report), parts)
            elif parts[0] in ("request", "response"):
                node = _find(api.request if parts[0] == "request" else api.response, parts[1:])
            else:
                node = None
            if node is None:
                report.oddities.append(f"fields.yaml: {api_id}: no field {path}")
                continue
            node.overrides = dict(keys)
            changes = {k: keys[k] for k in _TYPING_KEYS if k in keys}
            if changes:
                if "sign" in changes and changes["sign"] is None:
                    changes["sign"] = "none"
                node.typing = replace(node.typing or infer.STRING, **changes)
                node.source = "override"
            if keys.get("py"):
                node.py = keys["py"]


_TYPING_KEYS = ("type", "unit", "sign", "scale", "format", "codes")


# =========================================================================== names


def _rest_vocabulary(apis: list[Api]) -> dict[str, str]:
    """Normalized REST response label -> most frequent wire name having it."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for api in apis:
        if api.kind != "rest" or api.region not in ("domestic", "us"):
            continue
        for top in api.response:
            for node in top.walk():
                if node.container or not _PY_RE.match(node.name) or keyword.iskeyword(node.name):
                    continue
                counts[infer.normalize_label(node.label)][node.name] += 1
    return {
        label: sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        for label, c in counts.items()
        if label
    }


def _name_fids(
    owner: str, nodes: list[Node], vocab: dict[str, str], ov: Overrides, report: Report
) -> None:
    """Python names for FID-named fields, unique among ``nodes``."""
    used: set[str] = {n.py or n.name for n in nodes if not _is_fid(n)}
    for node in nodes:
        if not _is_fid(node):
            continue
        if "py" in node.overrides:
            name = node.overrides["py"]
        elif node.name in ov.fids:
            name = ov.fids[node.name]
        elif infer.normalize_label(node.label) in vocab:
            name = vocab[infer.normalize_label(node.label)]
        else:
            name = f"fid_{node.name}"
            report.unnamed_fids.append(f"{owner} {node.name} ({node.label})")
        if name in used:
            unique = f"{name}_{node.name}"
            report.renamed_fids.append(f"{owner} {node.name} ({node.label}): {name} -> {unique}")
            name = unique
        used.add(name)
        node.py = name


def _names(apis: list[Api], ov: Overrides, report: Report) -> None:
    vocab = _rest_vocabulary(apis)
    for api in apis:
        for top in (api.request, api.response):
            for node in (n for t in top for n in t.walk()):
                if node.py is None and not _is_fid(node):
                    node.py = infer.py_name(node.name)
        groups: list[list[Node]] = [api.request, api.response]
        groups += [n.children for n in api.nodes() if n.container]
        for nodes in groups:
            if any(_is_fid(n) for n in nodes):
                _name_fids(api.id, nodes, vocab, ov, report)


# =========================================================================== output


class _Flow(dict[str, Any]):
    """A field mapping written on one line."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


def _field(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"name": node.name}
    if node.py and node.py != node.name:
        out["py"] = node.py
    if node.label:
        out["label"] = node.label
    if node.container:
        out["type"] = node.container
    else:
        assert node.typing is not None
        out["type"] = node.typing.type
    if node.overrides.get("label"):
        out["label"] = node.overrides["label"]
    required = node.overrides.get("required", node.required)
    if required:
        out["required"] = True
    length = node.overrides.get("length", node.length)
    if length:
        out["length"] = length
    if node.container:
        if node.overrides.get("array_like"):
            out["array_like"] = True
        if node.overrides.get("aliases"):
            out["aliases"] = list(node.overrides["aliases"])
        out["fields"] = [_field(c) for c in node.children]
        return out
    t = node.typing
    assert t is not None
    if t.unit:
        out["unit"] = t.unit
    # On a string field only an override sets a sign: text holding a number, '+' dropped.
    if t.sign != "none" and (t.type in infer.NUMERIC_TYPES or "sign" in node.overrides):
        out["sign"] = t.sign
    if t.scale and t.type == "decimal":
        out["scale"] = t.scale
    if t.format and t.type in ("date", "time", "datetime", "string"):
        out["format"] = t.format
    if t.codes is not None and t.type == "code":
        out["codes"] = dict(t.codes)
        if node.overrides.get("codes_open"):
            out["codes_open"] = True
    return _Flow(out)


def _api_entry(api: Api, ov: Overrides, group_path: str, report: Report) -> dict[str, Any]:
    method = ov.methods.get(api.id)
    if not method:
        method = api.id
        report.missing_methods.append(f"{api.id} ({api.name})")
    entry: dict[str, Any] = {
        "id": api.id,
        "name": api.name,
        "method": method,
        "kind": "condition" if api.kind == "condition" else "rest",
    }
    if infer.is_order_api(api.region, api.group, api.name):
        entry["order"] = True
    has_list = any(n.container == "list" for top in api.response for n in top.walk())
    if api.kind in ("rest", "oauth") and has_list:
        entry["paging"] = True
    if not infer.mock_supported(api.overview):
        entry["mock"] = False
    if api.url != group_path:
        entry["path"] = api.url
    entry["request"] = [_field(n) for n in api.request]
    entry["response"] = [_field(n) for n in api.response]
    return entry


def _realtime_fields(api: Api, report: Report) -> list[Node]:
    data = _find(api.response, ["data"])
    values = _find(data.children, ["values"]) if data else None
    if values is None:
        report.oddities.append(f"{api.id}: no data.values in the real-time table")
        return []
    return values.children


def _write(path: Path, data: Any, report: Report, root: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _dump(data)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")
    report.files.append(str(path.relative_to(root)))


def _count(report: Report, part: str, nodes: list[Node]) -> None:
    for top in nodes:
        for node in top.walk():
            if node.container:
                report.typed[part][node.container] += 1
            elif node.typing is not None:
                report.typed[part][node.typing.type] += 1


def _typed_apis(source: Path, ov: Overrides | None, report: Report) -> list[Api]:
    """The official APIs, typed from their descriptions (and ``ov``'s corrections)."""
    apis = sorted(_load(Path(source), report), key=lambda a: a.id)
    for api in apis:
        _examples(api, report)
    _describe(apis)
    if ov is not None:
        _apply_overrides(apis, ov, report)
    _fallback(apis, _borrow_index(apis))
    _signs(apis, report)
    _code_labels(apis)
    return apis


def run(source: Path, spec_dir: Path) -> Report:
    """Read the official catalogue at ``source``; write ``spec_dir``'s catalogue files."""
    report = Report()
    ov = load_overrides(spec_dir / "overrides")
    # Once as Kiwoom wrote it (every conflict found), once corrected (what is left).
    report.conflicts = conflicts.find(_typed_apis(source, None, Report()), None)
    apis = _typed_apis(source, ov, report)
    report.unresolved = conflicts.find(apis, ov)
    for api_id, values in sorted(report.padded.items()):
        report.oddities.append(
            f"{api_id}: {len(values)} example values padded with blanks (the decoder must strip"
            f" them): {', '.join(values[:4])}{', ...' if len(values) > 4 else ''}"
        )
    _names(apis, ov, report)

    # ------------------------------------------------------------------ report bits
    for api in apis:
        report.apis[api.kind] += 1
        if api.kind == "realtime":
            _count(report, "realtime", _realtime_fields(api, report))
        else:
            _count(report, "request", api.request)
            _count(report, "response", api.response)
        for node in _leaves(api):
            report.sources[node.source] += 1
            if (
                node.typing is not None
                and node.typing.type == "string"
                and infer.looks_numeric(node.label, node.description)
            ):
                report.untyped.append(f"{api.id} {node.path} ({node.label})")
    # ------------------------------------------------------------------ files
    written: set[Path] = set()
    groups: dict[tuple[str, str], list[Api]] = defaultdict(list)
    for api in apis:
        if api.kind != "realtime":
            groups[(api.region, api.group)].append(api)
    for (region, group), members in sorted(groups.items()):
        if region == "oauth":
            group_id, path, out = "oauth", OAUTH_PATH, spec_dir / "oauth.yaml"
        else:
            group_id = f"{region}.{group}"
            path = Counter(a.url for a in members).most_common(1)[0][0]
            out = spec_dir / region / f"{group}.yaml"
        doc = {
            "group": group_id,
            "title": members[0].title,
            "region": region,
            "path": path,
            "apis": [_api_entry(a, ov, path, report) for a in members],
        }
        _write(out, doc, report, spec_dir)
        written.add(out)
    for region in ("domestic", "us"):
        members = [a for a in apis if a.kind == "realtime" and a.region == region]
        if not members:
            continue
        types = []
        for api in members:
            entry: dict[str, Any] = {"id": api.id, "name": api.name}
            py = ov.methods.get(api.id)
            if py:
                entry["py"] = py
            else:
                report.missing_methods.append(f"{api.id} ({api.name}, real-time type)")
            entry["fields"] = [_field(n) for n in _realtime_fields(api, report)]
            types.append(entry)
        doc = {
            "group": f"realtime.{region}",
            "title": REALTIME_MENU,
            "region": region,
            "path": Counter(a.url for a in members).most_common(1)[0][0],
            "types": types,
        }
        out = spec_dir / "realtime" / f"{region}.yaml"
        _write(out, doc, report, spec_dir)
        written.add(out)
    out = spec_dir / "errors.yaml"
    _write(out, {"errors": _errors(Path(source), report)}, report, spec_dir)
    written.add(out)
    for sub in ("domestic", "us", "realtime"):
        for stale in sorted((spec_dir / sub).glob("*.yaml")):
            if stale not in written:
                stale.unlink()
                report.oddities.append(f"removed stale {stale.relative_to(spec_dir)}")
    return report


def _errors(source: Path, report: Report) -> list[dict[str, Any]]:
    data = json.loads(source.read_text(encoding="utf-8"))
    out = []
    for row in sorted(data.get("error_codes", []), key=lambda r: int(r["오류코드"])):
        code = int(row["오류코드"])
        summary = ERROR_SUMMARIES.get(code)
        if summary is None:
            summary = f"error {code}"
            report.oddities.append(f"error code {code} has no summary yet")
        out.append({"code": code, "kind": infer.error_kind(code), "summary": summary})
    return out
