"""``modules.build_project.BuildProject``: every CodeBuild project of the pipeline, and what CodeBuild receives."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from modules.build_project import BuildProjectProps
from provisioner import buildspecs
from tests.modules.helpers import EXAMPLE_BUILDSPEC, REFERENCE, at_path, plan_role_arn, ref, terraform_string, where

def projects(synth) -> dict[str, dict]:
    return synth.stacks["devops"]["resource"]["aws_codebuild_project"]


def expected_projects(synth) -> dict[str, tuple[str, str]]:
    """Project name -> (construct id of its service role, buildspec the product generates)."""
    devops = synth.project.devops
    prefix = devops.name_prefix
    expected = {f"{prefix}-synth": ("synth-build-role", buildspecs.synth("make scan"))}
    for env in synth.project.environments:
        expected[f"{prefix}-plan-{env.name}"] = ("deploy-build-role", buildspecs.plan(env.workload_stack))
        expected[f"{prefix}-apply-{env.name}"] = ("deploy-build-role", buildspecs.apply(env.workload_stack))
    if devops.source.type == "codestar":
        plan_roles = {env.workload_stack: plan_role_arn(synth.project, env) for env in synth.project.environments}
        pr_plan = buildspecs.pr_plan(plan_roles, devops.source.repository, devops.github_token_secret)
        expected[f"{prefix}-pr-plan"] = ("pr-plan-build-role", pr_plan)
    return expected


def test_one_project_per_step_and_environment(synth) -> None:
    assert sorted(p["name"] for p in projects(synth).values()) == sorted(expected_projects(synth))


def test_projects_encrypt_artifacts_with_the_artifact_key_arn(synth) -> None:
    key_id, _ = at_path(synth.stacks["devops"], "aws_kms_key", "devops/artifacts/key/key")
    for project in projects(synth).values():
        assert project["encryption_key"] == ref("aws_kms_key", key_id, "arn"), project["name"]


def test_projects_are_not_privileged(synth) -> None:
    for project in projects(synth).values():
        assert project["environment"]["privileged_mode"] is False, project["name"]


def test_privileged_mode_and_variables_come_from_the_props(examples) -> None:
    _, project = where(examples, "aws_codebuild_project", name="example-docker")
    environment = project["environment"]
    assert environment["privileged_mode"] is True
    assert environment["environment_variable"] == [
        {"name": "GREETING", "type": "PLAINTEXT", "value": "hello"},
        {"name": "STAGE", "type": "PLAINTEXT", "value": "test"},
    ]
    assert project["cache"] == {"type": "S3", "location": "example-cache/docker"}


def test_projects_run_as_the_right_service_role(synth) -> None:
    devops = synth.stacks["devops"]
    expected = expected_projects(synth)
    for project in projects(synth).values():
        role_id, _ = at_path(devops, "aws_iam_role", f"devops/{expected[project['name']][0]}/role")
        assert project["service_role"] == ref("aws_iam_role", role_id, "arn"), project["name"]


def test_projects_log_to_an_encrypted_log_group_with_retention(synth) -> None:
    devops = synth.stacks["devops"]
    key_arn = ref("aws_kms_key", at_path(devops, "aws_kms_key", "devops/artifacts/key/key")[0], "arn")
    retention = synth.project.devops.build.log_retention_days
    assert retention in (90, 365), "devops.hcl (repo) and the default (alt) both keep build logs for months"
    for project in projects(synth).values():
        logs = project["logs_config"]["cloudwatch_logs"]
        assert logs["status"] == "ENABLED"
        group_ref = REFERENCE.match(logs["group_name"])
        assert group_ref and group_ref["type"] == "aws_cloudwatch_log_group" and group_ref["attr"] == "name", logs
        group = devops["resource"]["aws_cloudwatch_log_group"][group_ref["id"]]
        assert group["name"] == f"/aws/codebuild/{project['name']}"
        assert group["retention_in_days"] == retention
        assert group["kms_key_id"] == key_arn


def test_log_retention_comes_from_the_props(examples) -> None:
    _, group = where(examples, "aws_cloudwatch_log_group", name="/aws/codebuild/example-docker")
    assert group["retention_in_days"] == 14


def test_source_and_artifacts_come_from_codepipeline(synth) -> None:
    for project in projects(synth).values():
        assert project["source"]["type"] == "CODEPIPELINE"
        assert project["artifacts"] == {"type": "CODEPIPELINE"}


def test_buildspecs_hold_no_terraform_interpolation(synth) -> None:
    """A shell ``${VAR}`` left unescaped would make terraform fail on an unknown reference."""
    for project in projects(synth).values():
        terraform_string(project["source"]["buildspec"])  # asserts every ${ is escaped


def test_buildspec_reaches_codebuild_as_the_yaml_the_product_generates(synth) -> None:
    expected = expected_projects(synth)
    for project in projects(synth).values():
        received = terraform_string(project["source"]["buildspec"])
        parsed = yaml.safe_load(received)
        assert isinstance(parsed, dict) and parsed["version"] == 0.2, f"{project['name']}: {received[:60]!r}"
        assert received == expected[project["name"]][1], project["name"]


def test_module_buildspec_reaches_codebuild_unchanged(examples) -> None:
    _, project = where(examples, "aws_codebuild_project", name="example-docker")
    assert terraform_string(project["source"]["buildspec"]) == EXAMPLE_BUILDSPEC


def test_terraform_reads_the_buildspec_as_the_tests_assume(repo_synth, tmp_path: Path) -> None:
    """Check ``terraform_string`` against terraform itself, on a synthesized buildspec."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on the PATH; install terraform 1.11.x (see README, Setup)")
    raw = next(p for p in projects(repo_synth).values() if p["name"] == "acme-platform-plan-prod")["source"]["buildspec"]
    (tmp_path / "main.tf.json").write_text(json.dumps({"locals": {"buildspec": raw}}))
    env = dict(os.environ, CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=os.devnull)
    result = subprocess.run(
        ["terraform", "console"], input="jsonencode(local.buildspec)\n", cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    value = json.loads(json.loads(result.stdout))  # console prints the jsonencode()d value as a quoted string
    assert value == terraform_string(raw)


@pytest.mark.parametrize("minutes", [4, 2161])
def test_timeout_must_be_5_to_2160_minutes(minutes: int) -> None:
    with pytest.raises(ValueError) as error:
        BuildProjectProps(project_name="p", service_role_arn="r", kms_key_arn="k", buildspec="b", timeout_minutes=minutes)
    assert str(error.value) == f"BuildProjectProps.timeout_minutes {minutes} must be 5-2160"


def test_repo_pull_request_plans_run_as_the_read_only_build_role_with_each_plan_role(repo_synth) -> None:
    devops = repo_synth.stacks["devops"]
    (project,) = [p for p in projects(repo_synth).values() if p["name"] == "acme-platform-pr-plan"]
    role_id, role = at_path(devops, "aws_iam_role", "devops/pr-plan-build-role/role")
    assert role["name"] == "acme-platform-pr-plan-build"
    assert project["service_role"] == ref("aws_iam_role", role_id, "arn")
    commands = yaml.safe_load(terraform_string(project["source"]["buildspec"]))["phases"]["build"]["commands"]
    plans = [c for c in commands if "terraform plan" in c]
    assert plans == [
        f'(cd "cdktf.out/stacks/workload-{env}" && terraform init -input=false -no-color '
        f"&& terraform plan -input=false -no-color -lock=false -var deployment_role_arn=arn:aws:iam::{account}:role/acme-platform-plan-{env} "
        "-out=tfplan && terraform show -json tfplan > plan.json)"
        for env, account in (("dev", "222222222222"), ("staging", "333333333333"), ("prod", "444444444444"))
    ]


def test_release_projects_never_pass_another_role(synth) -> None:
    """The release pipeline's plans and applies keep the variable's default: the deployment role."""
    for project in projects(synth).values():
        if not project["name"].endswith("-pr-plan"):
            assert "deployment_role_arn" not in project["source"]["buildspec"], project["name"]
            assert "-lock=false" not in project["source"]["buildspec"], project["name"]


def test_token_source_comments_with_the_read_only_build_role(token_synth) -> None:
    devops = token_synth.stacks["devops"]
    (project,) = [p for p in projects(token_synth).values() if p["name"] == "tok-pr-plan"]
    role_id, _ = at_path(devops, "aws_iam_role", "devops/pr-plan-build-role/role")
    assert project["service_role"] == ref("aws_iam_role", role_id, "arn")
    expected = buildspecs.pr_plan({"workload-dev": "arn:aws:iam::666666666666:role/tok-plan-dev"}, "tok/infra", "tok/github-token")
    received = terraform_string(project["source"]["buildspec"])
    assert received == expected
    assert yaml.safe_load(received)["env"]["secrets-manager"] == {"GITHUB_TOKEN": "tok/github-token"}
