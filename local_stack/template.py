"""Read a CDK cloud assembly and resolve the CloudFormation intrinsics its template uses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class TemplateError(Exception):
    """The template uses something the local stack cannot honour."""


@dataclass(frozen=True)
class Naming:
    """Physical names and ARNs, as CloudFormation would produce them (deterministic here)."""

    stack: str
    region: str
    account: str

    def physical_name(self, logical_id: str, resource: dict[str, Any]) -> str:
        kind, props = resource["Type"], resource.get("Properties", {})
        explicit = {
            "AWS::DynamoDB::Table": "TableName",
            "AWS::S3::Bucket": "BucketName",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::IAM::Role": "RoleName",
            "AWS::StepFunctions::StateMachine": "StateMachineName",
            "AWS::Events::Rule": "Name",
            "AWS::Events::EventBus": "Name",
            "AWS::Logs::LogGroup": "LogGroupName",
            "AWS::Scheduler::Schedule": "Name",
            # Ref of a stage is its name (execute-api ARNs in Lambda permissions are built from it)
            "AWS::ApiGateway::Stage": "StageName",
            "AWS::KMS::Alias": "AliasName",
            "AWS::SecretsManager::Secret": "Name",
            "AWS::SQS::Queue": "QueueName",
            # Ref of a custom domain is its name (base path mappings name it so)
            "AWS::ApiGateway::DomainName": "DomainName",
        }.get(kind)
        if explicit and isinstance(props.get(explicit), str):
            return props[explicit]
        name = f"{self.stack}-{logical_id}"
        limit = 63 if kind == "AWS::S3::Bucket" else 64
        if len(name) > limit:  # keep CDK's hash suffix, which is what makes the name unique
            name = name[: limit - 9] + name[-9:]
        return name.lower() if kind == "AWS::S3::Bucket" else name

    def arn(self, kind: str, name: str) -> str:
        r, a = self.region, self.account
        return {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{r}:{a}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{r}:{a}:function:{name}",
            "AWS::Lambda::LayerVersion": f"arn:aws:lambda:{r}:{a}:layer:{name}:1",
            "AWS::IAM::Role": f"arn:aws:iam::{a}:role/{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{r}:{a}:stateMachine:{name}",
            "AWS::Events::Rule": f"arn:aws:events:{r}:{a}:rule/{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{r}:{a}:event-bus/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{r}:{a}:log-group:{name}:*",
            "AWS::Scheduler::Schedule": f"arn:aws:scheduler:{r}:{a}:schedule/default/{name}",
            "AWS::KMS::Key": f"arn:aws:kms:{r}:{a}:key/{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{r}:{a}:{name}",
            # provisioned, a secret's physical id is the ARN the emulator chose (a random suffix)
            "AWS::SecretsManager::Secret": name
            if name.startswith("arn:")
            else f"arn:aws:secretsmanager:{r}:{a}:secret:{name}",
        }.get(kind, f"arn:aws:local:{r}:{a}:{kind.split('::')[-1].lower()}/{name}")


@dataclass
class Stack:
    name: str
    template: dict[str, Any]
    assembly_dir: Path
    naming: Naming
    resources: dict[str, dict[str, Any]] = field(init=False)
    physical: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.resources = self.template.get("Resources", {})
        self.physical = {lid: self.naming.physical_name(lid, res) for lid, res in self.resources.items()}

    # ---- intrinsics ----

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Region": self.naming.region,
            "AWS::AccountId": self.naming.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name,
            "AWS::NoValue": None,
        }
        if logical_id in pseudo:
            return pseudo[logical_id]  # type: ignore[return-value]
        if logical_id in self.template.get("Parameters", {}):
            return self.template["Parameters"][logical_id].get("Default", "")
        if logical_id not in self.resources:
            raise TemplateError(f"Ref to unknown resource {logical_id!r}")
        kind = self.resources[logical_id]["Type"]
        name = self.physical[logical_id]
        if kind in ("AWS::StepFunctions::StateMachine", "AWS::Lambda::LayerVersion", "AWS::SecretsManager::Secret"):
            return self.naming.arn(kind, name)
        if kind == "AWS::SQS::Queue":  # Ref of a queue is its URL
            return f"https://sqs.{self.naming.region}.amazonaws.com/{self.naming.account}/{name}"
        return name

    def get_att(self, logical_id: str, attribute: str) -> str:
        if logical_id not in self.resources:
            raise TemplateError(f"Fn::GetAtt on unknown resource {logical_id!r}")
        kind = self.resources[logical_id]["Type"]
        name = self.physical[logical_id]
        if attribute == "Arn" and kind == "AWS::Events::Rule":
            bus = self.resolve(self.resources[logical_id].get("Properties", {}).get("EventBusName")) or "default"
            bus = str(bus).rsplit("/", 1)[-1]
            if bus != "default":  # a rule on a custom bus: rule/<bus>/<name>, as EventBridge names it
                return f"arn:aws:events:{self.naming.region}:{self.naming.account}:rule/{bus}/{name}"
        if attribute == "Arn":
            return self.naming.arn(kind, name)
        if attribute in ("Name", "TableName", "BucketName", "FunctionName", "RoleName", "QueueName"):
            return name
        if attribute == "RootResourceId":
            return f"{name}-root"
        if attribute == "RoleId":
            return f"AROA{abs(hash(name)) % 10**16:016d}"
        if attribute in ("DomainName", "RegionalDomainName"):
            return f"{name}.s3.{self.naming.region}.amazonaws.com"
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) is not emulated")

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic in ``value``; an unknown one is an error, never left as is."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((fn, arg),) = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if fn == "Fn::Join":
                delimiter, parts = arg
                return delimiter.join(str(self.resolve(p)) for p in self.resolve(parts))
            if fn == "Fn::Sub":
                return self._sub(arg)
            if fn == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if fn == "Fn::Split":
                delimiter, text = arg
                return str(self.resolve(text)).split(delimiter)
            if fn == "Fn::GetAZs":
                return [f"{self.naming.region}{z}" for z in "abc"]
            if fn.startswith("Fn::") or fn == "Condition":
                raise TemplateError(f"intrinsic {fn} is not emulated")
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    # ---- queries ----

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == kind}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolve(self.resources[logical_id].get("Properties", {}))

    def asset_dir(self, code: dict[str, Any]) -> Path:
        """The staged asset directory of a Lambda ``Code`` / layer ``Content`` S3 location."""
        key = self.resolve(code.get("S3Key", ""))
        folder = self.assembly_dir / f"asset.{str(key).removesuffix('.zip')}"
        if not folder.is_dir():
            raise TemplateError(f"asset {key!r} is not staged in {self.assembly_dir} (run `make synth`)")
        return folder


def load_stacks(assembly_dir: Path, region: str, account: str) -> list[Stack]:
    manifest_path = assembly_dir / "manifest.json"
    if not manifest_path.exists():
        raise TemplateError(f"no cloud assembly at {assembly_dir}: run `make synth` first")
    manifest = json.loads(manifest_path.read_text())
    stacks = []
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template = json.loads((assembly_dir / artifact["properties"]["templateFile"]).read_text())
        stack_name = artifact.get("properties", {}).get("stackName", name)
        stacks.append(Stack(stack_name, template, assembly_dir, Naming(stack_name, region, account)))
    if not stacks:
        raise TemplateError(f"the cloud assembly at {assembly_dir} holds no stack")
    return stacks
