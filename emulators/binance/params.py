"""Reading a Binance request's parameters the way the venue does, refusing in its words.

- `read_params`: the query string and, for POST/PUT/DELETE, the form body; a name twice in one of them is
  -1101, a name in both takes the query string's value (rest-api "General Information on Endpoints"); bytes
  that are not UTF-8 are -1100.
- `check_reads`: every parameter a route does not read is -1104 ("Not all sent parameters were read").
- the typed readers (`whole`, `limit`, `decimal`, `symbols_list`, ...) answer malformed values with -1100 and
  the documented legal range, as Binance does, never with a 500.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from emulators.binance import errors
from emulators.engine.server import HttpRequest

WHOLE = re.compile(r"^[0-9]{1,20}$")
SIGNED_INT = re.compile(r"^-?[0-9]{1,20}$")
DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
CLIENT_ID = re.compile(r"^[a-zA-Z0-9\-_.]{1,36}$")
SYMBOL = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
INT64_MAX = 2**63 - 1
MAX_DECIMALS = 8  # Binance's assets and prices carry 8 decimals

Params = Mapping[str, Any]


def _pairs(text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    try:
        parsed = parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise errors.illegal_any() from None
    for name, value in parsed:
        if name in pairs:
            raise errors.duplicate()
        pairs[name] = value
    return pairs


def read_params(request: HttpRequest) -> dict[str, str]:
    """The request's parameters: the query string over the form body (POST/PUT/DELETE only)."""
    query = _pairs(request.query_string)
    if request.method == "GET" or not request.body:
        return query
    content_type = request.headers.get("content-type", "application/x-www-form-urlencoded")
    if "application/x-www-form-urlencoded" not in content_type:
        return query  # Binance reads form bodies only
    try:
        body_text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.illegal_any() from None
    body = _pairs(body_text)
    return {**body, **query}


def body_text(request: HttpRequest) -> str:
    """The raw body as signed (only called after `read_params` accepted it as UTF-8)."""
    return request.body.decode("utf-8") if request.method != "GET" else ""


def check_reads(params: Params, reads: frozenset[str]) -> None:
    unread = [name for name in params if name not in reads]
    if unread:
        raise errors.unread(len(params) - len(unread), len(params))


# ---------------------------------------------------------------------- typed values
def text(params: Params, name: str) -> str | None:
    """A parameter as text, or None when absent (an empty value counts as absent, as Binance reads it)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    return str(value)


def whole(params: Params, name: str, *, required: bool = False) -> int | None:
    """A LONG/INT parameter: digits only, at most 20, within int64."""
    raw = text(params, name)
    if raw is None:
        if required:
            raise errors.mandatory(name)
        return None
    if not WHOLE.match(raw) or int(raw) > INT64_MAX:
        raise errors.illegal(name, errors.WHOLE_RANGE)
    return int(raw)


def limit(params: Params, *, default: int, maximum: int, truncate: bool = True) -> int:
    """``limit``: the default when absent, at least 1; above ``maximum`` it is cut to it (``truncate``) or refused."""
    value = whole(params, "limit")
    if value is None:
        return default
    if value < 1 or (value > maximum and not truncate):
        raise errors.illegal("limit", f"[1, {maximum}]")
    return min(value, maximum)


def decimal(params: Params, name: str, *, required: bool = False) -> Decimal | None:
    raw = text(params, name)
    if raw is None:
        if required:
            raise errors.mandatory(name)
        return None
    if not DECIMAL.match(raw):
        raise errors.illegal(name, errors.DECIMAL_RANGE)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise errors.illegal(name, errors.DECIMAL_RANGE) from None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
        raise errors.too_precise(name)
    return value


def boolean(params: Params, name: str) -> bool | None:
    raw = text(params, name)
    if raw is None:
        return None
    if raw.lower() not in ("true", "false"):
        raise errors.illegal(name, "true, false")
    return raw.lower() == "true"


def client_id(params: Params, name: str) -> str | None:
    raw = text(params, name)
    if raw is not None and not CLIENT_ID.match(raw):
        raise errors.illegal(name, errors.CLIENT_ID_RANGE)
    return raw


def symbols_list(params: Params) -> list[str] | None:
    """``symbols``: a JSON list of symbols (``["BTCUSDT","BNBUSDT"]``), refused in Binance's words otherwise."""
    raw = text(params, "symbols")
    if raw is None:
        return None
    try:
        names = json.loads(raw)
    except (ValueError, RecursionError):
        raise errors.illegal("symbols", errors.SYMBOLS_RANGE) from None
    if not isinstance(names, list) or not all(isinstance(n, str) and SYMBOL.match(n) for n in names):
        raise errors.illegal("symbols", errors.SYMBOLS_RANGE)
    if len(set(names)) != len(names):
        raise errors.duplicate_symbols()
    return names


def choice(params: Params, name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    raw = text(params, name)
    if raw is None:
        return default
    if raw not in allowed:
        raise errors.illegal(name, ", ".join(allowed))
    return raw


def time_zone_ms(params: Params) -> int:
    """``timeZone`` ("-1:00", "05:45", "8", "+08:00"), strictly within [-12:00, +14:00], as an offset in ms."""
    raw = text(params, "timeZone")
    if raw is None:
        return 0
    match = re.match(r"^([+-]?)(\d{1,2})(?::(\d{2}))?$", raw)
    if match is None:
        raise errors.illegal("timeZone", "[-12:00 to +14:00]")
    sign = -1 if match.group(1) == "-" else 1
    minutes = sign * (int(match.group(2)) * 60 + int(match.group(3) or 0))
    if not -12 * 60 <= minutes <= 14 * 60 or int(match.group(3) or 0) >= 60:
        raise errors.illegal("timeZone", "[-12:00 to +14:00]")
    return minutes * 60_000
