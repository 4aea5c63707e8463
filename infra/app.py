"""The CDK app: ``python -m infra.app`` writes cdk.out (no Docker, no AWS account)."""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from infra import constants as c
from infra.layer import build_layer
from infra.stack import RecaudoStack


def build_app(outdir: str | None = None, layer_dir: str | None = None) -> tuple[App, RecaudoStack]:
    app = App(
        outdir=outdir or os.environ.get("CDK_OUTDIR") or str(c.CDK_OUT),
        # as the CDK CLI does: construct paths in the template (the local stack names things by them)
        context={
            "aws:cdk:enable-path-metadata": True,
            # server access logs delivered under a bucket policy, not the legacy LogDeliveryWrite ACL
            "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
        },
    )
    stack = RecaudoStack(
        app,
        c.STACK_NAME,
        layer_dir=layer_dir or str(build_layer()),
        env=Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION")),
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app, stack


def main() -> int:
    app, stack = build_app()
    assembly = app.synth()
    errors = [
        f"{m.id}: {m.entry.data}"
        for artifact in assembly.stacks
        for m in artifact.messages
        if m.entry.type == "aws:cdk:error"
    ]
    for line in errors:
        print(line, file=sys.stderr)
    print(f"synthesized {stack.stack_name} into {assembly.directory} ({len(errors)} errors)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
