"""SnapStart as a deploy option (issue 15): with ``-c snapStart=true`` every API function and every
TOKEN authorizer runs from snapshots of its published versions, and API Gateway invokes the current
version; nothing else changes, and without the option nothing has SnapStart (docs/decisions.md). Both
syntheses fit CloudFormation's 500 resources per stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match, Template

from infra import constants as c


@pytest.fixture(scope="module")
def con_snapstart(tmp_path_factory) -> tuple[Any, dict[str, Any]]:
    from infra.app import build_app

    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    app, stack = build_app(str(tmp_path_factory.mktemp("cdk.out")), str(layer), context={c.SNAPSTART_CONTEXT: "true"})
    app.synth()
    return stack, Template.from_stack(stack).to_json()["Resources"]


def _of(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in resources.items() if v["Type"] == kind}


def _invoked_by_api(resources: dict[str, Any]) -> set[str]:
    """The logical ids every API method integration and every authorizer names in its URI."""
    names: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "Ref" in value:
                names.add(value["Ref"])
            if "Fn::GetAtt" in value:
                names.add(value["Fn::GetAtt"][0])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for method in _of(resources, "AWS::ApiGateway::Method").values():
        walk(method["Properties"].get("Integration", {}).get("Uri"))
    for authorizer in _of(resources, "AWS::ApiGateway::Authorizer").values():
        walk(authorizer["Properties"].get("AuthorizerUri"))
    return names


def _version_function(resources: dict[str, Any], version_id: str) -> dict[str, Any]:
    version = _of(resources, "AWS::Lambda::Version")[version_id]
    return _of(resources, "AWS::Lambda::Function")[version["Properties"]["FunctionName"]["Ref"]]


def test_given_the_option_then_every_api_function_and_authorizer_is_invoked_through_a_published_version(
    con_snapstart,
):
    _, resources = con_snapstart
    versions = _of(resources, "AWS::Lambda::Version")
    invoked = _invoked_by_api(resources)
    # Then API Gateway names published versions only, never a function's $LATEST
    assert invoked & set(_of(resources, "AWS::Lambda::Function")) == set()
    assert invoked & set(versions) == set(versions) and versions
    # and each is a version of a function with SnapStart on its published versions
    for version_id in versions:
        assert _version_function(resources, version_id)["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    # and the authorizers (one per token API) are among them
    authorizers = _of(resources, "AWS::ApiGateway::Authorizer")
    assert len(authorizers) >= 2
    for authorizer in authorizers.values():
        uri = json.dumps(authorizer["Properties"]["AuthorizerUri"])
        assert any(f'"{v}"' in uri for v in versions), uri


def test_given_the_option_then_gateway_may_invoke_the_versions_and_nothing_else_has_snapstart(con_snapstart):
    _, resources = con_snapstart
    versions = set(_of(resources, "AWS::Lambda::Version"))
    # Then every permission for API Gateway names a version
    gateway = [p["Properties"] for p in _of(resources, "AWS::Lambda::Permission").values()]
    gateway = [p for p in gateway if p["Principal"] == "apigateway.amazonaws.com"]
    assert gateway and all(p["FunctionName"].get("Ref") in versions for p in gateway)
    # and functions that no API invokes (the S3 import, the flows' tasks, schedules) keep no SnapStart
    functions = _of(resources, "AWS::Lambda::Function")
    with_snapstart = {k for k, v in functions.items() if "SnapStart" in v["Properties"]}
    assert with_snapstart == {_version_function_id(resources, v) for v in versions}
    importer = [v for v in functions.values() if v["Properties"]["Handler"] == "cobranzas.importar_s3.handler"]
    assert importer and "SnapStart" not in importer[0]["Properties"]


def _version_function_id(resources: dict[str, Any], version_id: str) -> str:
    return str(_of(resources, "AWS::Lambda::Version")[version_id]["Properties"]["FunctionName"]["Ref"])


def test_given_the_option_then_cdk_nag_finds_nothing_unsuppressed_and_the_stack_fits(con_snapstart):
    stack, resources = con_snapstart
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert errors == [] and warnings == []
    assert len(resources) <= c.STACK_RESOURCE_LIMIT


def test_given_no_option_then_no_function_has_snapstart_and_routes_invoke_functions(synthesized):
    # Given the default synthesis (the one the local stack serves)
    resources = synthesized[1].to_json()["Resources"]
    # Then no SnapStart, no version, and API Gateway invokes the functions themselves
    assert all("SnapStart" not in v["Properties"] for v in _of(resources, "AWS::Lambda::Function").values())
    assert _of(resources, "AWS::Lambda::Version") == {}
    assert _invoked_by_api(resources) & set(_of(resources, "AWS::Lambda::Function"))
    # and the stack keeps room under CloudFormation's cap (SnapStart adds a version per API function)
    assert len(resources) <= c.STACK_RESOURCE_LIMIT - c.STACK_RESOURCE_HEADROOM


def test_given_any_route_then_no_test_invoke_permission(synthesized):
    # Given the default synthesis / Then API Gateway may invoke a function only from a deployed stage
    # (the console's test-invoke would pass around the authorizer and the WAF)
    resources = synthesized[1].to_json()["Resources"]
    for permission in _of(resources, "AWS::Lambda::Permission").values():
        assert "test-invoke-stage" not in json.dumps(permission["Properties"].get("SourceArn", ""))
