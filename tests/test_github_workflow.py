"""`.github/workflows/plan.yml` is a valid workflow that plans, never applies, and comments once.

actionlint is not installable offline here (its PyPI package downloads the binary when it builds),
so the workflow is checked structurally: it parses, every job step is well formed, permissions are
the least the job needs, and every `provisioner` invocation exists in our CLI with those flags.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from provisioner.cli import build_parser

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "plan.yml"


def load() -> dict:
    document = yaml.safe_load(WORKFLOW.read_text())
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    document["on"] = document.pop(True, document.get("on"))
    return document


def test_workflow_shape() -> None:
    workflow = load()
    assert set(workflow["on"]) == {"pull_request"}
    assert workflow["permissions"] == {"contents": "read", "id-token": "write", "pull-requests": "write"}
    (job,) = workflow["jobs"].values()
    for step in job["steps"]:
        assert ("uses" in step) != ("run" in step), step
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]
    uses = [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]
    checkout = next(step for step in job["steps"] if step.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False, "PR code must not find the token in .git/config"
    token_steps = [step for step in job["steps"] if "GITHUB_TOKEN" in str(step.get("env", {}))]
    assert len(token_steps) == 1 and "pr-comment" in token_steps[0]["run"], "only the comment step holds the token"
    assert "aws-actions/configure-aws-credentials" in uses
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "apply" not in runs and "cdktf deploy" not in runs
    assert "aws-access-key-id" not in WORKFLOW.read_text(), "OIDC only: no stored AWS keys"


def test_every_provisioner_call_parses_with_our_cli() -> None:
    parser = build_parser()
    (job,) = load()["jobs"].values()
    calls = [step["run"] for step in job["steps"] if "provisioner" in step.get("run", "")]
    assert len(calls) == 2
    for call in calls:
        # The values GitHub puts in the step's environment.
        for variable, value in {"$PR_NUMBER": "12", "$GITHUB_REPOSITORY": "acme/infra"}.items():
            call = call.replace(variable, value)
        words = shlex.split(call.replace(".venv/bin/provisioner", "provisioner"))
        args = parser.parse_args(words[1:])
        assert callable(args.func)
