"""The template's IAM, as the local stack enforces it: each role's policies and each function's
resource policy, read from the synthesized template (never from a second description).

- A role's policies are its inline ``Policies``, every ``AWS::IAM::Policy`` and
  ``AWS::IAM::ManagedPolicy`` attached to it, and its ``ManagedPolicyArns`` (AWS-managed documents come
  from moto's copy of them; an unknown one stops the start-up).
- A function's resource policy is built from its ``AWS::Lambda::Permission`` resources, in the form
  Lambda itself stores them (``AWS:SourceArn`` / ``AWS:SourceAccount`` conditions).
- Anything the evaluator cannot evaluate faithfully stops the start-up with its name.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from local_stack.iam import Policy, unsupported
from local_stack.template import Stack, TemplateError


@cache
def _aws_managed() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data: dict[str, Any] = json.loads(aws_managed_policies_data)
    return data


def _checked(where: str, document: Policy) -> Policy:
    problems = unsupported(document)
    if problems:
        raise TemplateError(f"{where}: the local stack cannot enforce {'; '.join(problems)}")
    return document


def role_policies(stack: Stack) -> dict[str, tuple[Policy, ...]]:
    """Role ARN -> every policy document that applies to it."""
    by_role: dict[str, list[Policy]] = {}
    role_arn = {lid: stack.naming.arn("AWS::IAM::Role", stack.physical[lid]) for lid in stack.of_type("AWS::IAM::Role")}
    customer_managed: dict[str, Policy] = {}
    for lid in stack.of_type("AWS::IAM::ManagedPolicy"):
        props = stack.properties(lid)
        arn = f"arn:aws:iam::{stack.naming.account}:policy/{props.get('ManagedPolicyName') or stack.physical[lid]}"
        customer_managed[arn] = _checked(f"managed policy {lid}", props["PolicyDocument"])
        for role_name in props.get("Roles") or []:
            by_role.setdefault(stack.naming.arn("AWS::IAM::Role", role_name), []).append(customer_managed[arn])

    for lid, arn in role_arn.items():
        props = stack.properties(lid)
        documents = by_role.setdefault(arn, [])
        for inline in props.get("Policies") or []:
            documents.append(_checked(f"role {lid}, policy {inline.get('PolicyName')}", inline["PolicyDocument"]))
        for managed in props.get("ManagedPolicyArns") or []:
            if managed in customer_managed:
                documents.append(customer_managed[managed])
                continue
            name = managed.rsplit("/", 1)[-1]
            if ":aws:policy/" not in managed or name not in _aws_managed():
                raise TemplateError(f"role {lid}: managed policy {managed} is not known to the local stack")
            documents.append(_checked(f"role {lid}, {managed}", _aws_managed()[name]["Document"]))

    for lid in stack.of_type("AWS::IAM::Policy"):
        props = stack.properties(lid)
        document = _checked(f"policy {lid}", props["PolicyDocument"])
        for role_name in props.get("Roles") or []:
            by_role.setdefault(stack.naming.arn("AWS::IAM::Role", role_name), []).append(document)
        if props.get("Users") or props.get("Groups"):
            raise TemplateError(f"policy {lid}: only role policies are emulated")
    return {arn: tuple(documents) for arn, documents in by_role.items()}


def _function_arn(stack: Stack, value: str) -> str:
    if value.startswith("arn:"):
        return value
    return stack.naming.arn("AWS::Lambda::Function", value)


def function_policies(stack: Stack) -> dict[str, Policy]:
    """Function ARN -> its resource policy, one statement per AWS::Lambda::Permission."""
    statements: dict[str, list[dict[str, Any]]] = {}
    for lid in stack.of_type("AWS::Lambda::Permission"):
        props = stack.properties(lid)
        arn = _function_arn(stack, str(props["FunctionName"]))
        principal = str(props["Principal"])
        if principal.endswith(".amazonaws.com"):
            who: Any = {"Service": principal}
        elif principal == "*":
            who = "*"
        else:
            account = principal if principal.isdigit() else principal.split(":")[4]
            who = {"AWS": f"arn:aws:iam::{account}:root"}
        condition: dict[str, dict[str, str]] = {}
        if props.get("SourceArn"):
            condition["ArnLike"] = {"AWS:SourceArn": str(props["SourceArn"])}
        if props.get("SourceAccount"):
            condition["StringEquals"] = {"AWS:SourceAccount": str(props["SourceAccount"])}
        statement: dict[str, Any] = {
            "Sid": lid,
            "Effect": "Allow",
            "Principal": who,
            "Action": props["Action"],
            "Resource": arn,
        }
        if condition:
            statement["Condition"] = condition
        statements.setdefault(arn, []).append(statement)
    return {
        arn: _checked(f"resource policy of {arn}", {"Version": "2012-10-17", "Statement": found})
        for arn, found in statements.items()
    }
