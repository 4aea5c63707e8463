"""The CDK app: ``python -m infra.app`` writes cdk.out (no Docker, no AWS account)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from infra import constants as c
from infra.layer import build_layer
from infra.stack import RecaudoStack


def local_context(account: str | None) -> dict[str, str]:
    """What a synthesis without an AWS account (``make synth``, ``make run``, the tests) gets beyond the
    CDK CLI's context: a placeholder custom domain, so the template holds the base path mapping the local
    stack serves at its root. A deployment has an account: a domain only when the context names one."""
    if account:
        return {}
    return {
        "conectividadDominio": c.LOCAL_CONECTIVIDAD_DOMINIO,
        "conectividadCertificadoArn": c.LOCAL_CONECTIVIDAD_CERTIFICADO_ARN,
    }


def build_app(
    outdir: str | None = None, layer_dir: str | None = None, context: Mapping[str, Any] | None = None
) -> tuple[App, RecaudoStack]:
    """``context``: values the CDK CLI would pass with ``-c`` (they replace the local placeholders)."""
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    app = App(
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(c.CDK_OUT),
        # as the CDK CLI does: construct paths in the template (the local stack names things by them)
        context={
            "aws:cdk:enable-path-metadata": True,
            # server access logs delivered under a bucket policy, not the legacy LogDeliveryWrite ACL
            "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
            **local_context(account),
            **(context or {}),
        },
    )
    stack = RecaudoStack(
        app,
        c.STACK_NAME,
        layer_dir=layer_dir or str(build_layer()),
        env=Environment(account=account, region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack


def synthesis_errors(directory: str) -> list[str]:
    """The ``aws:cdk:error`` entries (cdk-nag's findings among them) the assembly wrote, read from its
    JSON files. Not through jsii's ``artifact.messages``: aws-cdk-lib and its dependency
    aws-cdk.cloud-assembly-schema both install ``aws_cdk/cloud_assembly_schema/__init__.py``, the last
    installed wins, and with the dependency's copy jsii cannot build a message ("Unknown interface:
    aws-cdk-lib.cloud_assembly_schema.MetadataEntry") - which depends on install order."""
    found: list[str] = []
    out = Path(directory)
    sources = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.metadata.json"))]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    sources += [a.get("metadata") or {} for a in manifest.get("artifacts", {}).values()]
    for metadata in sources:
        for construct, entries in metadata.items():
            found += [f"{construct}: {e.get('data')}" for e in entries if e.get("type") == "aws:cdk:error"]
    return found


def main() -> int:
    app, stack = build_app()
    assembly = app.synth()
    errors = synthesis_errors(assembly.directory)
    for line in errors:
        print(line, file=sys.stderr)
    print(f"synthesized {stack.stack_name} into {assembly.directory} ({len(errors)} errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
