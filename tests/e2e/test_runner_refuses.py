"""The runner, started as a user starts it, refuses a template it cannot honour."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_given_a_template_with_an_unknown_resource_type_then_start_up_fails_loudly(tmp_path):
    # Given a cloud assembly whose stack holds a queue (not emulated, not on the ignore list)
    template = {
        "Resources": {
            "Jobs": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Meta": {"Type": "AWS::CDK::Metadata", "Properties": {}},
        }
    }
    (tmp_path / "Odd.template.json").write_text(json.dumps(template))
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "version": "1",
                "artifacts": {
                    "Odd": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "Odd.template.json"}}
                },
            }
        )
    )
    # When it is started
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "local_stack",
            "--cdk-out",
            str(tmp_path),
            "--port",
            "0",
            "--no-seed",
            "--state-file",
            str(tmp_path / "stack.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then it stops with the type's name, writes no state and leaves nothing running
    assert result.returncode == 1
    assert "AWS::SQS::Queue" in result.stderr and "NOT_EMULATED" in result.stderr
    assert not (tmp_path / "stack.json").exists()
