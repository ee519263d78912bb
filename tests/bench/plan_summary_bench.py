"""How long ``provisioner plan-summary`` takes on a 6,000-resource plan (target: under 2 s).

Run with ``python -m tests.bench.plan_summary_bench``. Builds a plan JSON shaped like
``terraform show -json`` output (resource changes with full before/after values, planned values
and prior state, so the file is as heavy to parse as a real one) in a temporary folder, then prints
the median of 3 wall times for reading and summarizing it as Markdown and as JSON, in process and
through the CLI (Python start-up included).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from provisioner.commands import plan_summary as plan_summary_command

RESOURCES = 6_000
RUNS = 3


def replicate_plan(template: dict, resource_count: int) -> dict:
    """``template`` with its ``resource_changes`` copied into ``module.copy_<n>`` until there are
    ``resource_count`` of them; every other key is kept as it is."""
    changes = template.get("resource_changes") or []
    if not changes:
        raise ValueError("the template plan has no resource_changes to replicate")
    replicated = []
    for index in range(resource_count):
        change = copy.deepcopy(changes[index % len(changes)])
        prefix = f"module.copy_{index // len(changes)}."
        change["address"] = prefix + change["address"]
        if change.get("previous_address"):
            change["previous_address"] = prefix + change["previous_address"]
        change["module_address"] = prefix.rstrip(".")
        replicated.append(change)
    return {**template, "resource_changes": replicated}


def synthetic_template() -> dict:
    """A small plan in ``terraform show -json`` shape: AWS-like resources, every action kind."""
    changes = [
        _change("aws_iam_role", "deploy", ["update"]),
        _change("aws_s3_bucket", "artifacts", ["create"]),
        _change("aws_codebuild_project", "plan", ["delete", "create"], replace_paths=[["name"]]),
        _change("aws_security_group_rule", "egress", ["delete"]),
        _change("aws_kms_key", "artifacts", ["no-op"]),
        _change("aws_cloudwatch_log_group", "build", ["no-op"]),
        _change("aws_sns_topic", "alerts", ["create", "delete"], replace_paths=[["name"]]),
        _change("aws_ssm_parameter", "version", ["update"]),
    ]
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "variables": {"account_id": {"value": "123456789012"}},
        "planned_values": {"root_module": {}},
        "resource_changes": changes,
        "output_changes": {"role_arn": {"actions": ["update"], "before": "a", "after": "b"}},
        "applyable": True,
        "complete": True,
        "errored": False,
    }


def with_state_values(plan: dict) -> dict:
    """``plan`` with ``planned_values`` and ``prior_state`` listing every resource, as terraform writes them."""

    def resources(side: str) -> list[dict]:
        return [
            {"address": c["address"], "type": c["type"], "name": c["name"], "values": c["change"][side]}
            for c in plan["resource_changes"]
            if c["change"][side] is not None
        ]

    return {
        **plan,
        "planned_values": {"root_module": {"resources": resources("after")}},
        "prior_state": {"format_version": "1.0", "values": {"root_module": {"resources": resources("before")}}},
    }


def _change(resource_type: str, name: str, actions: list[str], replace_paths: list | None = None) -> dict:
    attributes = {
        "arn": f"arn:aws:service:eu-west-1:123456789012:{resource_type}/{name}",
        "name": name,
        "policy": json.dumps({"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"] * 20, "Resource": "*"}]}),
        "tags": {f"tag{index}": f"value{index}" for index in range(15)},
        "tags_all": {f"tag{index}": f"value{index}" for index in range(15)},
        **{f"attribute_{index}": f"value {index} of {name}" for index in range(25)},
    }
    before = None if actions == ["create"] else attributes
    after = None if actions == ["delete"] else {**attributes, "name": f"{name}-v2"}
    change = {
        "address": f"{resource_type}.{name}",
        "mode": "managed",
        "type": resource_type,
        "name": name,
        "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {"id": True},
            "before_sensitive": {} if before else False,
            "after_sensitive": {} if after else False,
        },
    }
    if replace_paths:
        change["change"]["replace_paths"] = replace_paths
        change["action_reason"] = "replace_because_cannot_update"
    return change


def median_seconds(command) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        command()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def summarize_in_process(plan: Path, output_format: str) -> None:
    parser = argparse.ArgumentParser()
    plan_summary_command.register(parser.add_subparsers())
    args = parser.parse_args(["plan-summary", "--format", output_format, str(plan)])
    with redirect_stdout(io.StringIO()):
        args.func(args)


def summarize_with_cli(plan: Path, output_format: str) -> None:
    command = [sys.executable, "-m", "provisioner", "plan-summary", "--format", output_format, str(plan)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        plan = Path(folder) / "workload-bench.plan.json"
        plan.write_text(json.dumps(with_state_values(replicate_plan(synthetic_template(), RESOURCES))))
        size = plan.stat().st_size / 1_000_000
        print(f"plan-summary on {RESOURCES:,} resources ({size:.1f} MB of plan JSON), median of {RUNS} runs:")
        for output_format in ("markdown", "json"):
            in_process = median_seconds(lambda: summarize_in_process(plan, output_format))
            cli = median_seconds(lambda: summarize_with_cli(plan, output_format))
            print(f"  {output_format:<8}  in process {in_process:6.3f} s   CLI (python start-up included) {cli:6.3f} s")


if __name__ == "__main__":
    main()
