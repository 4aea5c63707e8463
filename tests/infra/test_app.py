"""``python -m infra.app`` (what ``make synth`` and ``make run`` call) reads the synthesis errors from the
assembly's own files, whichever copy of ``aws_cdk.cloud_assembly_schema`` the install left."""

from __future__ import annotations

import json

from infra.app import synthesis_errors


def test_given_an_assembly_with_an_error_when_read_then_the_error_is_reported(tmp_path):
    # Given a stack's metadata file with an error (as cdk-nag writes one) and a manifest with another
    (tmp_path / "Recaudo.metadata.json").write_text(
        json.dumps(
            {
                "/Recaudo/Fn/Resource": [
                    {"type": "aws:cdk:logicalId", "data": "Fn"},
                    {"type": "aws:cdk:error", "data": "AwsSolutions-L1: runtime"},
                ]
            }
        )
    )
    manifest = {"artifacts": {"Recaudo": {"metadata": {"/Recaudo/Bucket": [{"type": "aws:cdk:error", "data": "x"}]}}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    # When read / Then both errors, named by their construct; nothing else
    assert synthesis_errors(str(tmp_path)) == ["/Recaudo/Fn/Resource: AwsSolutions-L1: runtime", "/Recaudo/Bucket: x"]


def test_given_the_synthesized_app_then_its_assembly_has_no_error(synthesized):
    # Given the app as the suite synthesizes it / Then the assembly's files carry no error
    _, _, artifact = synthesized
    assert synthesis_errors(artifact.assembly.directory) == []
