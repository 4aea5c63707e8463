"""Money is Decimal end to end; JSON amounts are written exactly, never through float."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any

import simplejson
from pydantic import AfterValidator

CENT = Decimal("0.01")


class InvalidAmount(ValueError):
    """An amount that is not a finite decimal with at most two places."""


def to_money(value: Any) -> Decimal:
    """Parse an amount exactly. Floats are refused: they have already lost the cents."""
    if isinstance(value, bool | float):
        raise InvalidAmount(f"amount must be a decimal string or Decimal, not {type(value).__name__}")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise InvalidAmount(f"not a decimal amount: {value!r}") from exc
    return check_money(amount)


# Far above any real receipt, and well inside Decimal's and DynamoDB's precision.
MAX_AMOUNT = Decimal("1E13")


def check_money(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise InvalidAmount("amount must be finite")
    if amount.adjusted() >= MAX_AMOUNT.adjusted():  # no arithmetic on a huge exponent
        raise InvalidAmount(f"amount out of range: {amount}")
    if amount.as_tuple().exponent == -2:
        return amount  # already exactly cents: the common case, kept cheap
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_EVEN):
        raise InvalidAmount(f"amount has more than two decimal places: {amount}")
    return amount.quantize(CENT)


# A pydantic field type for amounts: a Decimal with exactly two places.
Money = Annotated[Decimal, AfterValidator(check_money)]


def dumps(obj: Any, ensure_ascii: bool = True) -> str:
    """JSON with Decimals written as exact JSON numbers (no float round trip)."""
    return simplejson.dumps(obj, use_decimal=True, separators=(",", ":"), ensure_ascii=ensure_ascii)


def loads(text: str | bytes) -> Any:
    """JSON with every number that has a fraction read as Decimal."""
    return simplejson.loads(text, use_decimal=True)
