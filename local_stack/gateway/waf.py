"""A WAFv2 web ACL associated with a stage, as far as one machine can honour it: its body-size rules
(a ``SizeConstraintStatement`` on the body that blocks), with the body inspection limit the ACL's
``AssociationConfig`` sets for API Gateway and its oversize handling, answered with the rule's custom
response. AWS's managed rule groups (and any other statement) are AWS's own: they are listed as not
emulated, never guessed at."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local_stack.template import Stack, TemplateError

# API Gateway forwards 16 KB of a body to WAF unless the web ACL asks for more (KB_16 … KB_64).
DEFAULT_INSPECTION_BYTES = 16 * 1024
CONTENT_TYPES = {"APPLICATION_JSON": "application/json", "TEXT_PLAIN": "text/plain", "TEXT_HTML": "text/html"}
COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "EQ": operator.eq,
    "NE": operator.ne,
    "LE": operator.le,
    "LT": operator.lt,
    "GE": operator.ge,
    "GT": operator.gt,
}
_STAGE_ARN = re.compile(r"^arn:aws[\w-]*:apigateway:[^:]*::/restapis/([^/]+)/stages/([^/]+)$")


@dataclass(frozen=True)
class Blocked:
    """WAF's answer: a custom response (status, content type, body, headers), or None for API
    Gateway's own WAF_FILTERED reply."""

    rule: str
    status: int | None = None
    content_type: str = "application/json"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SizeRule:
    name: str
    priority: int
    comparison: str
    size: int
    oversize: str  # CONTINUE | MATCH | NO_MATCH
    block: Blocked | None  # None: the rule only counts

    def matches(self, body: bytes, inspection_limit: int) -> bool:
        if len(body) > inspection_limit:
            if self.oversize == "MATCH":
                return True
            if self.oversize == "NO_MATCH":
                return False
            return COMPARISONS[self.comparison](inspection_limit, self.size)  # CONTINUE: what WAF saw
        return COMPARISONS[self.comparison](len(body), self.size)


@dataclass
class WebAcl:
    name: str
    inspection_limit: int
    rules: list[SizeRule]
    not_emulated: list[str] = field(default_factory=list)  # rule names, in priority order

    def inspect(self, body: bytes) -> Blocked | None:
        """The first blocking rule that matches, in priority order (counting rules never stop a request)."""
        for rule in self.rules:
            if rule.block is not None and rule.matches(body, self.inspection_limit):
                return rule.block
        return None


def _inspection_limit(props: dict[str, Any]) -> int:
    config = ((props.get("AssociationConfig") or {}).get("RequestBody") or {}).get("API_GATEWAY") or {}
    limit = config.get("DefaultSizeInspectionLimit")
    if not limit:
        return DEFAULT_INSPECTION_BYTES
    match = re.fullmatch(r"KB_(\d+)", str(limit))
    if match is None:
        raise TemplateError(f"web ACL: unknown DefaultSizeInspectionLimit {limit!r}")
    return int(match.group(1)) * 1024


def _blocked(name: str, action: dict[str, Any], bodies: dict[str, Any]) -> Blocked | None:
    if "Block" not in action:
        return None
    custom = (action["Block"] or {}).get("CustomResponse")
    if not custom:
        return Blocked(name)
    content_type, text = "application/json", ""
    if custom.get("CustomResponseBodyKey"):
        body = bodies.get(custom["CustomResponseBodyKey"])
        if body is None:
            raise TemplateError(f"web ACL rule {name}: no custom response body {custom['CustomResponseBodyKey']!r}")
        content_type, text = CONTENT_TYPES.get(body["ContentType"], "text/plain"), body["Content"]
    headers = tuple((f"x-amzn-waf-{h['Name']}", str(h["Value"])) for h in custom.get("ResponseHeaders") or [])
    return Blocked(name, int(custom["ResponseCode"]), content_type, text.encode("utf-8"), headers)


def _web_acl(stack: Stack, logical_id: str) -> WebAcl:
    props = stack.properties(logical_id)
    if props.get("Scope") != "REGIONAL":
        raise TemplateError(f"web ACL {logical_id}: only REGIONAL web ACLs protect a REST API stage")
    bodies = props.get("CustomResponseBodies") or {}
    rules, skipped = [], []
    for rule in sorted(props.get("Rules") or [], key=lambda r: int(r["Priority"])):
        statement = rule.get("Statement") or {}
        size = statement.get("SizeConstraintStatement")
        action = rule.get("Action") or {}
        transforms = {t.get("Type") for t in (size or {}).get("TextTransformations") or []}
        if size and "Body" in (size.get("FieldToMatch") or {}) and transforms <= {"NONE"} and action:
            rules.append(
                SizeRule(
                    rule["Name"],
                    int(rule["Priority"]),
                    size["ComparisonOperator"],
                    int(size["Size"]),
                    (size["FieldToMatch"]["Body"] or {}).get("OversizeHandling", "CONTINUE"),
                    _blocked(rule["Name"], action, bodies),
                )
            )
        else:
            skipped.append(rule["Name"])
    return WebAcl(props.get("Name") or stack.physical[logical_id], _inspection_limit(props), rules, skipped)


def load_web_acls(stack: Stack) -> dict[tuple[str, str], WebAcl]:
    """(REST API id, stage name) -> the web ACL associated with that stage."""
    acls: dict[tuple[str, str], WebAcl] = {}
    for lid, res in stack.of_type("AWS::WAFv2::WebACLAssociation").items():
        raw = res["Properties"]
        acl_ref = raw["WebACLArn"]
        if not (isinstance(acl_ref, dict) and "Fn::GetAtt" in acl_ref):
            raise TemplateError(f"web ACL association {lid}: only a web ACL of this stack is emulated")
        resource_arn = str(stack.resolve(raw["ResourceArn"]))
        match = _STAGE_ARN.match(resource_arn)
        if match is None:
            raise TemplateError(f"web ACL association {lid}: {resource_arn} is not a REST API stage")
        acls[(match.group(1), match.group(2))] = _web_acl(stack, acl_ref["Fn::GetAtt"][0])
    return acls
