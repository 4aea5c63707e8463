"""Sistema UNO's API as synthesized: the matrix-parameter route, the XML dialect of API Gateway's own
refusals, raw bodies for the XML parser, and the business tokens (docs/decisions.md, "UNO")."""

from __future__ import annotations

import pytest
from lxml import etree

from infra import constants as c


@pytest.fixture(scope="module")
def resources(synthesized) -> dict:
    return synthesized[1].to_json()["Resources"]


def of_type(resources: dict, kind: str) -> dict:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def _uno(resources: dict, kind: str) -> dict:
    return {
        k: v for k, v in of_type(resources, kind).items() if v["Properties"]["RestApiId"]["Ref"].startswith("CuotasApi")
    }


def _path(resources: dict, resource_id: dict) -> str:
    if "Fn::GetAtt" in resource_id:
        return ""
    props = resources[resource_id["Ref"]]["Properties"]
    return f"{_path(resources, props['ParentId'])}/{props['PathPart']}"


def test_given_the_uno_api_then_both_methods_sit_on_one_path_parameter_under_wssb_admin(resources):
    # Given the template / When UNO's methods are read / Then POST and GET share /wssb/admin/{recurso}:
    # "paymentDue;contextId=…" is ONE path segment to API Gateway, so it can only reach us as a parameter
    methods = _uno(resources, "AWS::ApiGateway::Method")
    routes = {
        (m["Properties"]["HttpMethod"], _path(resources, m["Properties"]["ResourceId"])) for m in methods.values()
    }
    assert routes == {("POST", "/wssb/admin/{recurso}"), ("GET", "/wssb/admin/{recurso}")}
    assert c.CUOTAS_PATH == "wssb/admin/{recurso}"
    stages = [s["Properties"]["StageName"] for s in _uno(resources, "AWS::ApiGateway::Stage").values()]
    assert stages == [c.CUOTAS_STAGE]


def test_given_the_uno_functions_then_each_method_invokes_its_own_handler(resources):
    functions = {k: f["Properties"]["Handler"] for k, f in of_type(resources, "AWS::Lambda::Function").items()}
    integrated = set()
    for method in _uno(resources, "AWS::ApiGateway::Method").values():
        uri = str(method["Properties"]["Integration"]["Uri"])
        (fn,) = [h for k, h in functions.items() if k in uri]
        integrated.add((method["Properties"]["HttpMethod"], fn))
    assert integrated == {("POST", "cuotas.configurar.handler"), ("GET", "cuotas.consultar.handler")}


def test_given_the_uno_api_then_every_body_reaches_the_function_as_sent(resources):
    # Then: binary media type */*, so API Gateway base64-encodes the bytes and the XML's BOM and
    # encoding declaration, not API Gateway, decide how they are read
    (api,) = [a for k, a in of_type(resources, "AWS::ApiGateway::RestApi").items() if k.startswith("CuotasApi")]
    assert api["Properties"]["BinaryMediaTypes"] == ["*/*"]


def test_given_the_gateway_refusals_then_each_is_a_uno_xml_error_with_the_request_id_as_ref_id(resources):
    replies = _uno(resources, "AWS::ApiGateway::GatewayResponse")
    by_type = {r["Properties"]["ResponseType"]: r["Properties"] for r in replies.values()}
    # Then every refusal API Gateway makes itself (route, auth, size, throttling, its 4xx and 5xx) is covered
    assert {
        "UNAUTHORIZED",
        "ACCESS_DENIED",
        "MISSING_AUTHENTICATION_TOKEN",
        "REQUEST_TOO_LARGE",
        "THROTTLED",
        "INTEGRATION_FAILURE",
        "DEFAULT_4XX",
        "DEFAULT_5XX",
    } <= set(by_type)
    for kind, props in by_type.items():
        assert props["ResponseParameters"]["gatewayresponse.header.Content-Type"] == "'application/xml; charset=utf-8'"
        templates = props["ResponseTemplates"]
        # whichever template API Gateway picks, the same XML
        assert set(templates) == {"application/json", "application/xml", "text/xml"}, kind
        assert len(set(templates.values())) == 1, kind
        body = templates["application/xml"].replace("$context.requestId", "r-1")
        error = etree.fromstring(body.encode("utf-8"))
        assert error.tag == "error" and error.get("refId") == "r-1", kind
        assert error.findtext("code") == props["StatusCode"], kind
        assert error.findtext("message"), kind


def test_given_the_uno_authorizer_then_it_accepts_only_business_tokens(resources):
    authorizers = [
        f["Properties"]
        for k, f in of_type(resources, "AWS::Lambda::Function").items()
        if k.startswith("CuotasApi") and f["Properties"]["Handler"] == "authorizer.token.handler"
    ]
    assert [a["Environment"]["Variables"]["TOKEN_SCOPE"] for a in authorizers] == ["uno"]
    methods = _uno(resources, "AWS::ApiGateway::Method")
    assert all(m["Properties"]["AuthorizationType"] == "CUSTOM" for m in methods.values())
