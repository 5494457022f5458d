"""Semantic typing of catalogue fields: pure functions, no I/O.

The official catalogue types every field as ``String``; the meaning lives in the Korean
``description`` (units, number formats, date formats, code lists) and in the label. The
functions here turn that text into a :class:`Typing` and check typings against example
values.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

__all__ = [
    "Typing",
    "borrowable",
    "error_kind",
    "fits",
    "infer_from_description",
    "infer_from_label",
    "is_direction_label",
    "is_order_api",
    "looks_numeric",
    "mock_supported",
    "normalize_label",
    "normalize_unit",
    "parse_codes",
    "py_name",
    "sign_from_examples",
    "value_text",
]

NUMERIC_TYPES = ("integer", "decimal")


@dataclass(frozen=True)
class Typing:
    """The semantic type of one field (the parts of a catalogue field that inference sets)."""

    type: str = "string"
    unit: str | None = None
    sign: str = "none"
    scale: int | None = None
    format: str | None = None
    codes: Mapping[str, str] | None = field(default=None, compare=False, hash=False)

    def key(self) -> tuple[object, ...]:
        """A hashable identity, codes included (for counting and comparing)."""
        codes = tuple(self.codes.items()) if self.codes is not None else None
        return (self.type, self.unit, self.sign, self.scale, self.format, codes)

    def same(self, other: Typing) -> bool:
        return self.key() == other.key()


STRING = Typing()


# --------------------------------------------------------------------------- labels


def normalize_label(label: str) -> str:
    """The label without whitespace and ``()[]``: ``(최우선)매도호가`` -> ``최우선매도호가``."""
    return re.sub(r"[\s()\[\]]", "", label)


_LEVEL_ENDINGS = (
    "현재가",
    "시가",
    "고가",
    "저가",
    "종가",
    "기준가",
    "호가",
    "체결가",
    "상한가",
    "하한가",
    "최고가",
    "최저가",
    "최고",
    "최저",
    "중간가",
    "NAV",
    "NAV지수",
    "KOSPI200",
)
_NOT_LEVEL = (
    "대비",
    "등락",
    "증감",
    "변동",
    "손익",
    "수익",
    "율",
    "률",
    "비율",
    "비중",
    "잔량",
    "단위",
)


def is_level(typing: Typing, label: str) -> bool:
    """A numeric field naming a price level (never negative)."""
    return typing.type in NUMERIC_TYPES and is_direction_label(label)


def is_direction_label(label: str) -> bool:
    """True for labels naming a price LEVEL (a price is never negative, so a sign on it only
    tells the move versus the previous close): 현재가, 시가, 고가, 매도호가3, 매도2차선호가, ..."""
    norm = normalize_label(label)
    if any(word in norm for word in _NOT_LEVEL):
        return False
    base = re.sub(r"(n|\d+)$", "", norm)
    return any(base.endswith(ending) for ending in _LEVEL_ENDINGS)


# --------------------------------------------------------------------------- codes

_CODE_KEY = re.compile(r"^(?:[0-9A-Za-z%+\-._]{1,12}|'')$")
_NOT_CODES = ("참고", "나머지", "ex.", "ex)", "(ex", "예)", "API", "...")
_PAIR = re.compile(r"^\s*([^\s:;]+?)\s*[:;]\s*(.*?)\s*$", re.S)
_BARE_CODE = re.compile(r"^(?:[A-Z]{1,5}|통합)$")
_DATE_TOKENS = ("YYYY", "YYYYMM", "YYYYMMDD", "MMDD", "HHmmss", "HHmm")


def _split_top(text: str, seps: str = ",\n") -> list[str]:
    """Split at separators outside parentheses."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        if ch in seps and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def _split_spaced_pairs(segment: str) -> list[str]:
    """``'004:소형주 101:종합'`` -> ``['004:소형주', '101:종합']``: a new pair starts at a
    whitespace-preceded ``code:`` token outside parentheses."""
    starts = [0]
    depth = 0
    for i, ch in enumerate(segment):
        if ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
        elif (
            ch.isspace() and depth == 0 and re.match(r"\s+[0-9A-Za-z%+\-._]{1,12}\s*:", segment[i:])
        ):
            starts.append(i)
    parts = [segment[a:b] for a, b in zip(starts, [*starts[1:], len(segment)], strict=True)]
    return [p for p in (s.strip() for s in parts) if p]


def parse_codes(description: str, single: bool = True) -> dict[str, str] | None:
    """The code list of a description, or None when it is not a clean list of codes.

    Accepts ``1: 상한가, 2:상승``, ``NA: AMEX, ND: NASDAQ``, ``1:KRX, 2:NXT 3.통합``,
    multi-line lists, reversed ``코스피:0, 코스닥:1``, ``0 or 1``, ``Y,N``, ``KRX,NXT,SOR``.
    A code without a label gets ``""``. ``single=False`` rejects a lone pair (in a response
    ``0: 순위 변동 없음`` names one special value of a number, not a closed set).
    """
    text = description.strip().strip('"').strip()
    if not text:
        return None
    text = text.split("※", 1)[0].strip()
    if any(word in description for word in _NOT_CODES):
        return None
    if re.fullmatch(r"(\w)\s+or\s+(\w)", text):
        a, b = re.fullmatch(r"(\w)\s+or\s+(\w)", text).groups()  # type: ignore[union-attr]
        return {a: "", b: ""}
    # "3.통합" -> "3:통합"; "03시장가" at a pair boundary -> "03:시장가"
    if len(re.findall(r"[0-9A-Za-z]\s*:", text)) >= 2:
        text = re.sub(r"(?<![\d.])(\d+)\.(?=[^\d\s.])", r"\1:", text)
        text = re.sub(r"(?<=\s)(\d{2})(?=[가-힣])", r"\1:", text)
    segments: list[str] = []
    for seg in _split_top(text):
        segments.extend(_split_spaced_pairs(seg))
    if not segments:
        return None
    if ":" not in text and ";" not in text:
        tokens = [s.strip() for s in segments]
        if (
            len(tokens) >= 2
            and all(_BARE_CODE.match(t) for t in tokens)
            and any(t != "통합" for t in tokens)
        ):
            return {t: "" for t in tokens}
        return None
    pairs: list[tuple[str, str]] = []
    for seg in segments:
        m = _PAIR.match(seg)
        if m and m.group(1) == "기본값":
            continue
        if m and _CODE_KEY.match(m.group(1)) and m.group(1) not in _DATE_TOKENS:
            pairs.append((m.group(1), _clean_label(m.group(2))))
            continue
        if (
            m
            and re.search(r"[가-힣]", m.group(1))
            and re.fullmatch(r"[0-9A-Za-z]{1,4}", m.group(2).strip())
        ):
            pairs.append((m.group(2).strip(), _clean_label(m.group(1))))  # reversed
            continue
        if pairs and len(seg) <= 12 and re.fullmatch(r"[^:\d]*[가-힣][^:\d]*", seg):
            code, lab = pairs[-1]
            pairs[-1] = (code, f"{lab}, {seg}")  # a label that held a comma
            continue
        return None
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys) or not keys or (len(keys) == 1 and not single):
        return None
    return {("" if k == "''" else k): v for k, v in pairs}


def _clean_label(label: str) -> str:
    label = label.strip().rstrip(".,").strip()
    if label.count("(") > label.count(")"):
        label = label[: label.rfind("(")].strip()
    return label


# --------------------------------------------------------------------------- units

_UNITS = {
    "원": "원",
    "1원": "원",
    "주": "주",
    "1주": "주",
    "1000주": "천주",
    "천주": "천주",
    "1000주(천주)": "천주",
    "100주": "백주",
    "백만원": "백만원",
    "억원": "억원",
    "천원": "천원",
    "천만": "천만원",
    "천만원": "천만원",
    "종목수": "종목수",
    "%": "%",
    "USD": "USD",
    "천USD": "천USD",
    "지수": "지수",
}
_INTEGER_UNITS = {"원", "주", "천주", "백주", "백만원", "억원", "천원", "천만원", "종목수", "천USD"}
_UNIT_WORDS = {"원", "1주", "주", "1000주", "백만원", "억원", "천원", "USD", "%"}


def normalize_unit(text: str) -> str | None:
    """``'1주'`` -> ``'주'``, ``'1000주'`` -> ``'천주'``; None for an ambiguous unit."""
    text = text.strip()
    if "혹은" in text or "또는" in text:
        return None
    return _UNITS.get(text)


def _unit_of(desc: str) -> tuple[str | None, bool]:
    """(unit, ambiguous) from a ``단위: X`` description."""
    found = re.findall(r"단위\s*:\s*([^,\n]+)", desc)
    if not found:
        return None, False
    if len(found) > 1:
        return None, True
    m = re.search(r"단위\s*:\s*[^,\n]+,\s*([^,\n]+)", desc)
    if m and m.group(1).strip() in _UNIT_WORDS:
        return None, True  # "단위: 백만원, 1주": amount or quantity
    raw = found[0].strip()
    unit = normalize_unit(raw)
    return unit, unit is None


# --------------------------------------------------------------------------- description

_FORMATS = ("YYYYMMDDHHmmss", "YYYYMMDD", "YYYYMM", "YYYY", "MMDD", "HH:mm:ss", "HH:mm", "HHmmss")
_FORMAT_TYPE = {
    "YYYYMMDDHHmmss": "datetime",
    "YYYYMMDD": "date",
    "YYYMMDD": "date",
    "YYYYMM": "string",
    "YYYY": "string",
    "MMDD": "string",
    "HHmmss": "time",
    "HH:mm:ss": "time",
    "HH:mm": "time",
    "HHmm": "time",
}
_SIGNED = re.compile(r"부호\s*(?:가\s*)?(?:포함|있는)|[+]는\s*매수")
_DECIMAL_FMT = re.compile(
    r"소수점\s*\S*\s*자리까지\s*포맷|소수점\s*이하\s*\d\s*자리|소수점\s*\d\s*자리"
)
_SCALED = re.compile(r"소수점\s*제거")


def _format_of(desc: str) -> str | None:
    for token in ("YYYYMMDDHHmmss", "YYYYMMDD", "YYYMMDD", "YYYYMM", "HH:mm:ss", "HH:mm"):
        for m in re.finditer(re.escape(token), desc):
            before = desc[m.start() - 1] if m.start() else ""
            after = desc[m.end() : m.end() + 1]
            if (before.isalpha() and before.isascii()) or (after.isalpha() and after.isascii()):
                continue
            if after == ":" and token not in ("HH:mm",):
                continue  # "YYYY:년도" is a code label, not a format
            return "YYYYMMDD" if token == "YYYMMDD" else token
    for token in ("HHmmss", "HHmm", "YYYY", "MMDD"):
        m = re.search(rf"(?<![A-Za-z]){token}(?![A-Za-z:])", desc)
        if m:
            return token
    return None


def _scale_of(desc: str) -> int:
    """Decimal places of a ``소수점 제거`` value, read from its worked example (default 2)."""
    m = re.search(r'"[+-]?\d+"\s*(?:값)?\s*[은는]\s*[+-]?[\d,]*\.(\d+)', desc)
    if m:
        return len(m.group(1))
    return 2


def infer_from_description(
    label: str, description: str, length: int | None = None, request: bool = False
) -> Typing | None:
    """The typing a description states, or None when it says nothing about the type.

    ``request``: the field is sent, so a single ``code: label`` pair is a fixed value.
    """
    desc = description.strip()
    if not desc:
        return None
    signed = bool(_SIGNED.search(desc))
    fmt = _format_of(desc)
    if fmt is not None and not re.search(r"\d\s*:", desc.replace(fmt, "")):
        return Typing(type=_FORMAT_TYPE[fmt], format=fmt)
    codes = parse_codes(desc, single=request)
    if codes is not None:
        return Typing(type="code", codes=codes)
    unit, ambiguous = _unit_of(desc)
    sign = _sign_for(label, desc) if signed else "none"
    if _SCALED.search(desc):
        return Typing(type="decimal", unit=unit, sign=sign, scale=_scale_of(desc))
    if unit == "지수" and "100배" in desc:
        return Typing(type="decimal", unit=unit, sign=sign, scale=2)
    if _DECIMAL_FMT.search(desc) or unit == "%":
        return Typing(type="decimal", unit=unit, sign=sign)
    if unit in ("USD", "지수"):
        # "단위: USD" without a format, "단위: 지수, 부호가 포함된 숫자": an index or a dollar
        # amount is fractional; the examples confirm.
        return Typing(type="decimal", unit=unit, sign=sign)
    if unit in _INTEGER_UNITS or ambiguous:
        return Typing(type="integer", unit=unit, sign=sign)
    if "0-padding" in desc or signed:
        return Typing(type="integer", unit=unit, sign=sign)
    return None


def _sign_for(label: str, desc: str) -> str:
    return "direction" if is_direction_label(label) else "real"


# --------------------------------------------------------------------------- label fallback


def _label_candidates(label: str, region: str, length: int | None) -> list[tuple[Typing, bool]]:
    """(typing, needs evidence) candidates read from the label alone, best first."""
    norm = re.sub(r"(n|\d+)$", "", normalize_label(re.sub(r"\(.*?\)", "", label)))
    date = Typing(type="date", format="YYYYMMDD")
    stamp = Typing(type="datetime", format="YYYYMMDDHHmmss")
    time = Typing(type="time", format="HHmmss")
    if re.search(r"(코드|명|번호|구분|여부|ticker|색깔|유형|상태|사유|Item)$", norm):
        return []
    if re.search(r"(일자|날짜)$", norm):
        return [(date, length != 8), (stamp, True)]
    if re.search(r"일$", norm) and not re.search(r"(요일|일수|전일|금일|당일)$", norm):
        return [(date, True), (stamp, True)]
    if re.search(r"(시간|시각)$", norm):
        return [(time, True), (replace(time, format="HH:mm:ss"), True), (stamp, True)]
    if re.search(r"(율|률|비율|비중)$", norm):
        return [(Typing(type="decimal"), False)]
    if re.search(r"(수량|잔량|거래량|주식수|체결량|건수|횟수|종목수|매수량|매도량)$", norm):
        return [(Typing(type="integer"), False), (Typing(type="decimal"), False)]
    if re.search(r"(대비|증감|변동)$", norm):
        signed = Typing(type="integer", sign="real")
        return [(signed, True), (replace(signed, type="decimal"), True)]
    hint = re.search(r"\((원|억|백만)\)", label)
    if re.search(r"(금액|대금|금|가|가격|단가|손익|세금|수수료|비용)$", norm) or hint:
        unit = {"원": "원", "억": "억원", "백만": "백만원"}[hint.group(1)] if hint else None
        if region == "us":
            return [(Typing(type="decimal", unit=unit), True)]
        money = Typing(type="integer", unit=unit)
        return [(money, hint is None), (replace(money, type="decimal"), True)]
    return []


def infer_from_label(
    label: str, region: str, length: int | None = None, examples: Iterable[str] = ()
) -> Typing | None:
    """A weaker typing read from the label alone (when the description says nothing).

    Applied only when every example value fits it; the weaker rules (dates, times, money
    without a unit hint) also need at least one non-empty example value.
    """
    values = list(examples)
    present = any(values)
    for typing, needs_evidence in _label_candidates(label, region, length):
        if needs_evidence and not present:
            continue
        if all(fits(typing, v) for v in values):
            return typing
    return None


def looks_numeric(label: str, description: str) -> bool:
    """Whether the label or description suggests a number (for the could-not-type report)."""
    if re.search(r"[0-9A-Za-z]\s*:", description):
        return False  # a code list (or thresholds), not a number
    if re.search(r"단위|숫자|소수점|백분율|0-padding", description):
        return True
    norm = re.sub(r"(n|\d+)$", "", normalize_label(label))
    if re.search(r"(코드|명|번호|구분|여부)$", norm):
        return False
    return bool(
        re.search(
            r"(수량|잔량|거래량|주식수|체결량|금액|대금|가격|단가|율|률|비율|비중|손익|대비|증감|건수)$",
            norm,
        )
    )


# --------------------------------------------------------------------------- examples


def value_text(value: object) -> str | None:
    """An example value as wire text (stripped), or None for a non-scalar."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return None


# Kiwoom now and then doubles a sign ("--1100", "++0.34"); the SDK's tolerant converter
# (kiwoom._values.to_number) reads those, so they do not make a field text.
# A whole number, perhaps written with zero decimals ("3179.00"): the SDK reads it exactly.
_INT = re.compile(r"^[+-]{0,2}\d+(\.0+)?$")
_DEC = re.compile(r"^[+-]{0,2}(\d+\.?\d*|\.\d+)$")
_TIME_RE = {
    "HHmmss": re.compile(r"^\d{6}$"),
    "HHmm": re.compile(r"^\d{4}$"),
    "HH:mm:ss": re.compile(r"^\d{2}:\d{2}:\d{2}$"),
    "HH:mm": re.compile(r"^\d{2}:\d{2}$"),
}


def fits(typing: Typing, value: str) -> bool:
    """Whether one (stripped) example value is readable as ``typing``. ``""`` always fits."""
    if value == "":
        return True
    t = typing.type
    if t in NUMERIC_TYPES:
        value = value.replace(",", "")  # a thousands separator: the decoder drops it
    if t == "integer":
        return bool(_INT.match(value))
    if t == "decimal":
        return bool(_INT.match(value)) if typing.scale else bool(_DEC.match(value))
    if t == "date":
        return bool(re.fullmatch(r"\d{8}", value))
    if t == "datetime":
        return bool(re.fullmatch(r"\d{14}", value))
    if t == "time":
        return bool(_TIME_RE[typing.format or "HHmmss"].match(value))
    if t == "code":
        return typing.codes is None or value in typing.codes
    return True


def sign_from_examples(typing: Typing, label: str, values: Iterable[str]) -> Typing:
    """A numeric typing without a sign whose examples carry one gets one."""
    if typing.type not in NUMERIC_TYPES or typing.sign != "none":
        return typing
    if not any(v[:1] in "+-" for v in values if v):
        return typing
    return replace(typing, sign="direction" if is_direction_label(label) else "real")


def borrowable(typing: Typing) -> bool:
    return typing.type != "string"


# --------------------------------------------------------------------------- names


def py_name(wire: str) -> str | None:
    """The Python name of a REST wire name, or None when the wire name will do.

    Keywords get a trailing ``_``; a leading number moves to the end
    (``52wk_hgst_pric`` -> ``hgst_pric_52wk``, ``100ord_alow_amt`` -> ``ord_alow_amt_100``).
    """
    if wire.isidentifier() and not keyword.iskeyword(wire):
        return None
    if keyword.iskeyword(wire):
        return wire + "_"
    m = re.fullmatch(r"(\d+(?:d|wk|w|m|y)?)_(\w+)", wire)
    if m:
        return f"{m.group(2)}_{m.group(1)}"
    m = re.fullmatch(r"(\d+)([A-Za-z_]\w*)", wire)
    if m:
        return f"{m.group(2)}_{m.group(1)}"
    return None


# --------------------------------------------------------------------------- APIs and errors


def mock_supported(overview: Iterable[str]) -> bool:
    """False when an overview sentence says the mock-trading server does not serve the API."""
    return not any(re.search(r"모의투자\S*\s*(를|은|에서)?\s*지원하지\s*않", s) for s in overview)


def is_order_api(region: str, group: str, name: str) -> bool:
    """APIs that move money: orders (buy/sell/modify/cancel) and currency exchange requests."""
    if group in ("order", "credit_order"):
        return bool(re.search(r"(매수|매도|정정|취소)\s*주문", name))
    if group == "exchange":
        return "신청" in name
    return False


def error_kind(code: int) -> str:
    if code in (1687, 1700, 1701, 1702):
        return "rate_limit"
    if code == 1999:
        return "server"
    if 1500 <= code < 1600:
        return "input"
    if 1900 <= code < 2000:
        return "not_found"
    if code in (8104, 8200):
        return "unsupported"
    if 8000 <= code < 9000:
        return "auth"
    return "server"
