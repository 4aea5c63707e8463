"""Money is Decimal end to end; JSON amounts are written exactly, never through float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any

import simplejson
from pydantic import AfterValidator, BeforeValidator

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


_MAX_ADJUSTED = MAX_AMOUNT.adjusted()


def check_money(amount: Decimal) -> Decimal:
    if not amount.is_finite():
        raise InvalidAmount("amount must be finite")
    if amount.adjusted() >= _MAX_ADJUSTED:  # no arithmetic on a huge exponent
        raise InvalidAmount(f"amount out of range: {amount}")
    cents = amount.quantize(CENT, rounding=ROUND_HALF_EVEN)  # one quantize: cheaper than as_tuple()
    if cents != amount:
        raise InvalidAmount(f"amount has more than two decimal places: {amount}")
    return cents


_PLAIN_AMOUNT = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


def strict_amount(value: Any) -> Any:
    """A JSON number, or a string of ASCII digits with an optional dot: never ``"１２.００"``,
    ``"1_000.00"``, ``" 12"``, ``"1e2"`` or ``"+12"``, which ``Decimal`` itself would accept."""
    if isinstance(value, bool | float):
        raise InvalidAmount("el monto debe ser un número JSON exacto o un texto con dígitos y punto decimal")
    if isinstance(value, str) and not _PLAIN_AMOUNT.fullmatch(value):
        raise InvalidAmount(f"monto inválido: {value[:40]!r}; se esperan dígitos ASCII y punto decimal")
    return value


class _JsonNumber:
    """Money's JSON schema, in requests and replies alike: a JSON number, as amounts travel (``dumps``
    writes them exactly, never as strings; pydantic alone would say "string" for a serialised Decimal).
    Field constraints (``gt=0``) are kept. No ``multipleOf: 0.01``: validators that test it in floating
    point refuse real amounts (0.07 / 0.01 = 7.000000000000001); ``format: decimal`` tells generators to
    read a decimal, not a float."""

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        generated = handler(core_schema)  # validation: anyOf number (with the bounds) | string
        number = next((s for s in generated.get("anyOf", ()) if s.get("type") == "number"), {"type": "number"})
        return {**number, "format": "decimal", "description": "Importe exacto con dos decimales (7700.00)"}


# A pydantic field type for amounts: a Decimal with exactly two places.
Money = Annotated[Decimal, BeforeValidator(strict_amount), AfterValidator(check_money), _JsonNumber()]


# Built once: simplejson.dumps with any non-default option builds a new encoder per call. No namedtuple
# probing (our payloads are dicts, lists and scalars; asking each for ``_asdict`` costs an AttributeError)
# and no cycle check (they are trees: a cycle would still fail, with RecursionError).
_ENCODERS = {
    ascii_only: simplejson.JSONEncoder(
        use_decimal=True,
        separators=(",", ":"),
        ensure_ascii=ascii_only,
        namedtuple_as_object=False,
        check_circular=False,
    )
    for ascii_only in (True, False)
}


def dumps(obj: Any, ensure_ascii: bool = True) -> str:
    """JSON with Decimals written as exact JSON numbers (no float round trip)."""
    return _ENCODERS[ensure_ascii].encode(obj)


class DuplicateKey(ValueError):
    """A JSON object that names the same member twice: which value wins is parser-defined."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        name = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise DuplicateKey(f"clave JSON repetida: {name[:40]!r}")
    return obj


def loads(text: str | bytes) -> Any:
    """JSON with every number that has a fraction read as Decimal; an object that repeats a key is
    refused (``DuplicateKey``), never resolved silently to its last value."""
    return simplejson.loads(text, use_decimal=True, object_pairs_hook=_object)
