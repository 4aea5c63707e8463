"""IAM policy evaluation, as AWS does it for one request, for the policies a CDK template holds.

The local stack authorizes every AWS call a function makes against that function's own role, and
every invocation of a function by a service (API Gateway, S3, EventBridge) against the function's
resource policy. This module is the evaluator; ``local_stack.authz`` turns requests into
(action, resource, context) and enforces the decision.

What it implements (AWS's evaluation logic for a single account, no SCPs, no boundaries, no sessions):
- an explicit ``Deny`` wins; otherwise some ``Allow`` must match; otherwise the request is denied;
- ``Action`` / ``NotAction`` (case-insensitive, ``*`` and ``?`` wildcards);
- ``Resource`` / ``NotResource`` (case-sensitive, ``*`` and ``?`` wildcards);
- ``Principal`` for resource policies: ``*``, ``{"Service": …}``, ``{"AWS": …}``;
- ``Condition`` with the operators in ``OPERATORS`` (``…IfExists`` and the ``ForAllValues:`` /
  ``ForAnyValue:`` set qualifiers included) over the keys in ``SUPPORTED_KEYS``.

A policy using an operator or key that is not implemented is refused when the stack starts
(``unsupported``), never evaluated loosely: a condition we cannot evaluate would make the local
answer differ from AWS's.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

Policy = Mapping[str, Any]
# A context key's values: IAM keys are single- or multi-valued; we always carry a list.
Context = Mapping[str, Sequence[str]]

# Global keys the local stack sets on every request, and the service keys it derives (authz.py).
SUPPORTED_KEYS = frozenset(
    {
        "aws:SecureTransport",
        "aws:SourceArn",
        "aws:SourceAccount",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:RequestedRegion",
        "aws:CurrentTime",
        "dynamodb:LeadingKeys",
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "lambda:FunctionArn",
        "events:source",
        "events:detail-type",
        "kms:EncryptionContextKeys",
        "secretsmanager:SecretId",
        "states:StateMachineArn",
    }
)
# Keys whose names carry a suffix chosen by the policy (kms:EncryptionContext:<name>).
SUPPORTED_KEY_PREFIXES = ("kms:EncryptionContext:",)


class UnsupportedPolicy(ValueError):
    """The policy uses IAM features this evaluator does not implement."""


@functools.lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    # IAM knows only * and ? (fnmatch would also give [] a meaning)
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(f"^{regex}$", (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return _wildcard(pattern, ignore_case).match(value) is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# ---- condition operators ----


def _str_eq(a: str, b: str) -> bool:
    return a == b


def _str_eq_ic(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _str_like(value: str, pattern: str) -> bool:
    return like(pattern, value)


def _arn_like(value: str, pattern: str) -> bool:
    # ARN matching is per component (six parts); a wildcard never crosses a ':' of the first five.
    v_parts, p_parts = value.split(":", 5), pattern.split(":", 5)
    if len(v_parts) != 6 or len(p_parts) != 6:
        return False
    return all(like(p, v) for p, v in zip(p_parts, v_parts, strict=True))


def _num(op: str) -> Any:
    def compare(value: str, expected: str) -> bool:
        try:
            a, b = float(value), float(expected)
        except ValueError:
            return False
        return {"eq": a == b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]

    return compare


def _date(op: str) -> Any:
    def parse(text: str) -> datetime | None:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None

    def compare(value: str, expected: str) -> bool:
        a, b = parse(value), parse(expected)
        if a is None or b is None:
            return False
        return {"eq": a == b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]

    return compare


def _bool(value: str, expected: str) -> bool:
    return value.lower() == str(expected).lower()


def _ip(value: str, cidr: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


# name -> (match one value against one expected value, negated)
OPERATORS: dict[str, tuple[Any, bool]] = {
    "StringEquals": (_str_eq, False),
    "StringNotEquals": (_str_eq, True),
    "StringEqualsIgnoreCase": (_str_eq_ic, False),
    "StringNotEqualsIgnoreCase": (_str_eq_ic, True),
    "StringLike": (_str_like, False),
    "StringNotLike": (_str_like, True),
    "ArnEquals": (_arn_like, False),
    "ArnLike": (_arn_like, False),
    "ArnNotEquals": (_arn_like, True),
    "ArnNotLike": (_arn_like, True),
    "NumericEquals": (_num("eq"), False),
    "NumericNotEquals": (_num("eq"), True),
    "NumericLessThan": (_num("lt"), False),
    "NumericLessThanEquals": (_num("le"), False),
    "NumericGreaterThan": (_num("gt"), False),
    "NumericGreaterThanEquals": (_num("ge"), False),
    "DateEquals": (_date("eq"), False),
    "DateNotEquals": (_date("eq"), True),
    "DateLessThan": (_date("lt"), False),
    "DateLessThanEquals": (_date("le"), False),
    "DateGreaterThan": (_date("gt"), False),
    "DateGreaterThanEquals": (_date("ge"), False),
    "Bool": (_bool, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
}


def _split_operator(raw: str) -> tuple[str | None, str, bool]:
    """'ForAnyValue:StringLikeIfExists' -> ('ForAnyValue', 'StringLike', True)."""
    qualifier, _, name = raw.rpartition(":")
    if_exists = name.endswith("IfExists") and name != "IfExists"
    return (qualifier or None), name.removesuffix("IfExists") if if_exists else name, if_exists


_SUPPORTED_LOWER = frozenset(k.lower() for k in SUPPORTED_KEYS)


def _key_supported(key: str) -> bool:
    # condition key names are case-insensitive (Lambda writes "AWS:SourceArn")
    lowered = key.lower()
    return lowered in _SUPPORTED_LOWER or any(lowered.startswith(p.lower()) for p in SUPPORTED_KEY_PREFIXES)


def _condition_holds(raw_operator: str, key: str, expected: Any, context: Context) -> bool:
    if raw_operator == "Null":
        present = bool(context.get(key))
        return any((str(e).lower() == "true") != present for e in _as_list(expected))
    qualifier, name, if_exists = _split_operator(raw_operator)
    match, negated = OPERATORS[name]
    expected_values = [str(e).lower() if isinstance(e, bool) else str(e) for e in _as_list(expected)]
    values = list(context.get(key) or [])
    if not values:
        if qualifier == "ForAllValues":
            return True  # vacuously true, as in AWS
        return if_exists
    if qualifier == "ForAllValues":
        return all(any(match(v, e) for e in expected_values) != negated for v in values)
    # ForAnyValue, and single-valued keys: any value matching any expected value
    hit = any(match(v, e) for v in values for e in expected_values)
    return hit != negated


def _conditions_hold(conditions: Mapping[str, Any] | None, context: Context) -> bool:
    if not conditions:
        return True
    lowered = {k.lower(): v for k, v in context.items()}  # condition key names are case-insensitive
    for operator, pairs in conditions.items():
        for key, expected in pairs.items():
            if not _condition_holds(operator, key.lower(), expected, lowered):
                return False
    return True


def _principal_matches(principal: Any, caller: str) -> bool:
    """``caller`` is a service principal (``s3.amazonaws.com``) or an ARN."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    for kind, values in principal.items():
        for value in _as_list(values):
            if value == "*":
                return True
            if kind == "Service" and value == caller:
                return True
            if kind == "AWS" and (
                value == caller or (value.endswith(":root") and caller.split(":")[4:5] == value.split(":")[4:5])
            ):
                return True
    return False


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Context = field(default_factory=dict)
    principal: str | None = None  # for resource policies: who is calling


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # "allowed" | "explicit deny" | "no statement allows it"
    statement: str | None = None  # the Sid (or index) of the deciding statement


def _statements(policy: Policy) -> Iterable[tuple[str, Mapping[str, Any]]]:
    for index, statement in enumerate(_as_list(policy.get("Statement"))):
        yield str(statement.get("Sid") or index), statement


def _applies(statement: Mapping[str, Any], request: Request, resource_policy: bool) -> bool:
    if "NotAction" in statement:
        if any(like(a, request.action, ignore_case=True) for a in _as_list(statement["NotAction"])):
            return False
    elif not any(like(a, request.action, ignore_case=True) for a in _as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(like(r, request.resource) for r in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement:
        if not any(like(r, request.resource) for r in _as_list(statement["Resource"])):
            return False
    elif not resource_policy:
        return False  # an identity policy statement always names its resources
    if resource_policy and not _principal_matches(statement.get("Principal"), request.principal or ""):
        return False
    return _conditions_hold(statement.get("Condition"), request.context)


def evaluate(policies: Iterable[Policy], request: Request, resource_policy: bool = False) -> Decision:
    """AWS's decision for ``request`` under ``policies`` (all identity policies, or one resource policy)."""
    allowed_by = None
    for policy in policies:
        for sid, statement in _statements(policy):
            if not _applies(statement, request, resource_policy):
                continue
            if statement.get("Effect") == "Deny":
                return Decision(False, "explicit deny", sid)
            if statement.get("Effect") == "Allow" and allowed_by is None:
                allowed_by = sid
    if allowed_by is not None:
        return Decision(True, "allowed", allowed_by)
    return Decision(False, "no statement allows it")


def unsupported(policy: Policy) -> list[str]:
    """What in ``policy`` this evaluator cannot evaluate faithfully (empty when all is supported)."""
    problems = []
    for sid, statement in _statements(policy):
        for raw_operator, pairs in (statement.get("Condition") or {}).items():
            if raw_operator != "Null":
                qualifier, name, _ = _split_operator(raw_operator)
                if name not in OPERATORS or qualifier not in (None, "ForAllValues", "ForAnyValue"):
                    problems.append(f"statement {sid}: condition operator {raw_operator}")
            for key in pairs:
                if not _key_supported(key):
                    problems.append(f"statement {sid}: condition key {key}")
        for element in ("Action", "NotAction", "Resource", "NotResource"):
            for value in _as_list(statement.get(element)):
                if not isinstance(value, str):
                    problems.append(f"statement {sid}: unresolved {element} {value!r}")
                elif "${" in value:
                    problems.append(f"statement {sid}: policy variable in {element} {value}")
    return problems


__all__ = [
    "OPERATORS",
    "SUPPORTED_KEYS",
    "Decision",
    "Request",
    "UnsupportedPolicy",
    "evaluate",
    "like",
    "unsupported",
]
