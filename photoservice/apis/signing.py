"""The up.* request checks: the platform MD5 signature, call_id parsing, source-address checks.

The signature follows the historical REST clients exactly: every argument except ``sig`` and the image, as raw
``key=value`` strings (UTF-8, not URL-encoded), sorted by key, concatenated with no separator, the
application's secret appended, MD5, lower-case hex. Comparison is constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

__all__ = ["signature", "check_signature", "parse_call_id", "BadCallId", "address_allowed"]


def signature(args: Mapping[str, str], secret: str) -> str:
    """The lower-case hex MD5 signature of ``args`` (``sig`` itself is skipped) with ``secret``."""
    raw = "".join(f"{k}={args[k]}" for k in sorted(args) if k != "sig")
    return hashlib.md5((raw + secret).encode("utf-8")).hexdigest()


def check_signature(args: Mapping[str, str], secret: str, sig: str) -> bool:
    """Whether ``sig`` is exactly the signature of ``args`` (case matters), compared in constant time."""
    expected = signature(args, secret).encode("ascii")
    try:
        given = sig.encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


class BadCallId(ValueError):
    """call_id is not a finite non-negative decimal number."""


def parse_call_id(value: str) -> Decimal:
    """Parse a call_id (seconds as a float like ``1172623588.023010`` or integer milliseconds) exactly."""
    text = value.strip()
    if not text or len(text) > 40 or not all(ch.isdigit() or ch == "." for ch in text) or text.count(".") > 1:
        raise BadCallId(f"call_id {value!r} is not a number")
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise BadCallId(f"call_id {value!r} is not a number") from exc
    if not number.is_finite():
        raise BadCallId(f"call_id {value!r} is not finite")
    return number


def address_allowed(client: str | None, allowed: Iterable[str]) -> bool:
    """Whether ``client`` matches one of ``allowed`` (addresses or CIDR networks); an empty list allows all."""
    rules = [a for a in allowed if a]
    if not rules:
        return True
    if not client:
        return False
    try:
        addr = ipaddress.ip_address(client)
    except ValueError:
        return False
    for rule in rules:
        try:
            if addr in ipaddress.ip_network(rule, strict=False):
                return True
        except ValueError:
            continue
    return False
