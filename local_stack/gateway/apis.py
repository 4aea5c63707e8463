"""The REST APIs of a template, as API Gateway would serve them: resources and methods, path
parameters, ``{proxy+}`` and ``ANY``, Lambda authorizers, required parameters, API keys, binary media
types, gateway responses, the web ACL on the stage and the custom domains' base path mappings."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

from local_stack.gateway.waf import WebAcl, load_web_acls
from local_stack.template import Stack, TemplateError

_FUNCTION_IN_URI = re.compile(r"functions/(arn:aws:lambda:[^/]+)/invocations")


@dataclass
class Authorizer:
    logical_id: str
    authorizer_id: str  # what Ref gives: the id in execute-api ARNs (…/authorizers/<id>)
    kind: str  # TOKEN | REQUEST
    function_arn: str
    identity_sources: list[str]
    validation: re.Pattern[str] | None
    ttl: int
    cache: dict[Any, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Route:
    http_method: str
    template_path: str
    pattern: re.Pattern[str]
    specificity: tuple[int, int]
    function_arn: str
    authorizer: Authorizer | None
    required_params: list[str]
    resource_id: str
    api_key_required: bool = False


@dataclass
class RestApi:
    logical_id: str
    api_id: str
    stage: str
    routes: list[Route]
    replies: dict[str, tuple[int | None, dict[str, str], str | None]]
    binary_media_types: list[str]
    api_key_source: str = "HEADER"  # HEADER: the x-api-key header; AUTHORIZER: its usageIdentifierKey
    web_acl: WebAcl | None = None


@dataclass(frozen=True)
class BasePathMapping:
    """``https://<domain>/<base_path>/…`` serves ``api``'s stage (an empty base path: the domain's root)."""

    domain: str
    base_path: str
    api: RestApi


def _path_regex(path: str) -> tuple[re.Pattern[str], tuple[int, int]]:
    parts, static, greedy = [], 0, 0
    for segment in [s for s in path.split("/") if s]:
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"(?P<{segment[1:-2]}>.+)")
            greedy += 1
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"(?P<{segment[1:-1]}>[^/]+)")
        else:
            parts.append(re.escape(segment))
            static += 1
    return re.compile("^/" + "/".join(parts) + "$"), (static, -greedy)


def _of_api(stack: Stack, kind: str, api_id: str) -> dict[str, dict[str, Any]]:
    return {lid: res for lid, res in stack.of_type(kind).items() if res["Properties"]["RestApiId"] == {"Ref": api_id}}


def _authorizers(stack: Stack, api_id: str) -> dict[str, Authorizer]:
    authorizers = {}
    for lid in _of_api(stack, "AWS::ApiGateway::Authorizer", api_id):
        a = stack.properties(lid)
        match = _FUNCTION_IN_URI.search(a["AuthorizerUri"])
        if not match:
            raise TemplateError(f"authorizer {lid}: only Lambda authorizers are emulated")
        authorizers[lid] = Authorizer(
            logical_id=lid,
            authorizer_id=stack.ref(lid),
            kind=a["Type"],
            function_arn=match.group(1),
            identity_sources=[s.strip() for s in a.get("IdentitySource", "").split(",") if s.strip()],
            validation=re.compile(a["IdentityValidationExpression"]) if a.get("IdentityValidationExpression") else None,
            ttl=int(a.get("AuthorizerResultTtlInSeconds", 300)),
        )
    return authorizers


def _replies(stack: Stack, api_id: str) -> dict[str, tuple[int | None, dict[str, str], str | None]]:
    replies = {}
    for lid in _of_api(stack, "AWS::ApiGateway::GatewayResponse", api_id):
        g = stack.properties(lid)
        headers = {
            k.removeprefix("gatewayresponse.header."): v.strip("'")
            for k, v in (g.get("ResponseParameters") or {}).items()
        }
        template = (g.get("ResponseTemplates") or {}).get("application/json")
        replies[g["ResponseType"]] = (int(g["StatusCode"]) if g.get("StatusCode") else None, headers, template)
    return replies


def load_apis(stack: Stack) -> list[RestApi]:
    paths: dict[str, str] = {}  # resource logical id -> its full path (resource ids are unique in a stack)

    def path_of(resource_ref: Any) -> str:
        if isinstance(resource_ref, dict) and "Fn::GetAtt" in resource_ref:
            return ""  # the root resource
        logical = resource_ref["Ref"]
        if logical not in paths:
            res = stack.resources[logical]["Properties"]
            paths[logical] = f"{path_of(res['ParentId'])}/{res['PathPart']}"
        return paths[logical]

    apis = []
    web_acls = load_web_acls(stack)
    for api_id in stack.of_type("AWS::ApiGateway::RestApi"):
        props = stack.properties(api_id)
        authorizers = _authorizers(stack, api_id)
        validators = {lid: stack.properties(lid) for lid in _of_api(stack, "AWS::ApiGateway::RequestValidator", api_id)}
        routes = []
        for lid, res in _of_api(stack, "AWS::ApiGateway::Method", api_id).items():
            raw = res["Properties"]
            m = stack.properties(lid)
            integration = m.get("Integration", {})
            if integration.get("Type") != "AWS_PROXY":
                raise TemplateError(f"method {lid}: only Lambda proxy (AWS_PROXY) integrations are emulated")
            function = _FUNCTION_IN_URI.search(integration["Uri"])
            if not function:
                raise TemplateError(f"method {lid}: integration is not a Lambda function")
            template_path = path_of(raw["ResourceId"]) or "/"
            pattern, specificity = _path_regex(template_path)
            validator = validators.get((raw.get("RequestValidatorId") or {}).get("Ref", ""), {})
            required = (
                [p for p, req in (m.get("RequestParameters") or {}).items() if req]
                if validator.get("ValidateRequestParameters")
                else []
            )
            authorizer = authorizers[raw["AuthorizerId"]["Ref"]] if m.get("AuthorizationType") == "CUSTOM" else None
            routes.append(
                Route(
                    m["HttpMethod"],
                    template_path,
                    pattern,
                    specificity,
                    function.group(1),
                    authorizer,
                    required,
                    lid,
                    bool(m.get("ApiKeyRequired")),
                )
            )
        routes.sort(key=lambda r: r.specificity, reverse=True)
        stages = [stack.properties(lid)["StageName"] for lid in _of_api(stack, "AWS::ApiGateway::Stage", api_id)]
        if len(stages) != 1:
            raise TemplateError(f"REST API {api_id}: expected exactly one stage, found {stages}")
        apis.append(
            RestApi(
                api_id,
                stack.physical[api_id],
                stages[0],
                routes,
                _replies(stack, api_id),
                props.get("BinaryMediaTypes") or [],
                props.get("ApiKeySourceType") or "HEADER",
                web_acls.get((stack.physical[api_id], stages[0])),
            )
        )
    names = [a.stage for a in apis]
    if len(names) != len(set(names)):
        raise TemplateError(f"REST APIs must have distinct stage names to share one local port: {names}")
    return apis


def load_mappings(stack: Stack, apis: list[RestApi]) -> list[BasePathMapping]:
    """The custom domains' base path mappings, each to one of ``apis`` (this stack's) and its stage."""
    by_id = {api.logical_id: api for api in apis}
    mappings = []
    for lid, res in stack.of_type("AWS::ApiGateway::BasePathMapping").items():
        raw, props = res["Properties"], stack.properties(lid)
        api = by_id.get((raw.get("RestApiId") or {}).get("Ref", ""))
        if api is None:
            raise TemplateError(f"base path mapping {lid}: only a REST API of this stack is emulated")
        if props.get("Stage") not in (None, api.stage):
            raise TemplateError(f"base path mapping {lid}: stage {props.get('Stage')!r} is not {api.logical_id}'s")
        base_path = str(props.get("BasePath") or "").strip("/")
        mappings.append(BasePathMapping(str(props["DomainName"]), "" if base_path == "(none)" else base_path, api))
    return mappings


def check_mappings(apis: list[RestApi], mappings: list[BasePathMapping]) -> None:
    """On one local port, ``/<stage>/…`` is the stage's URL and ``/<base path>/…`` a mapping's: a base
    path may not be a stage's name, two mappings may not share one, and no route of a root-mapped API
    may start with a stage's name or a base path (the stage would shadow it)."""
    stages = {api.stage for api in apis}
    seen: set[str] = set()
    for mapping in mappings:
        if mapping.base_path in stages or mapping.base_path in seen:
            raise TemplateError(f"base path {mapping.base_path!r} is taken on the local port (stage or mapping)")
        seen.add(mapping.base_path)
    taken = stages | (seen - {""})
    for mapping in mappings:
        if mapping.base_path:
            continue
        for route in mapping.api.routes:
            first = route.template_path.strip("/").split("/", 1)[0]
            if first in taken:
                raise TemplateError(
                    f"{mapping.api.logical_id}'s route {route.template_path} starts with {first!r}, a stage or "
                    "base path: at the root of the local port it would be shadowed"
                )
