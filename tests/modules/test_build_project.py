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
from provisioner.delivery import buildspecs
from tests.modules.helpers import (
    EXAMPLE_BUILDSPEC,
    REFERENCE,
    at_path,
    comments_on_pull_requests,
    deployment_role_arn,
    drift_project_names,
    plan_role_arn,
    plans_pull_requests,
    ref,
    team_step_project,
    team_steps,
    terraform_string,
    where,
)


def projects(synth) -> dict[str, dict]:
    return synth.stacks["devops"]["resource"]["aws_codebuild_project"]


def expected_projects(synth) -> dict[str, tuple[str, str]]:
    """Project name -> (construct id of its service role, buildspec the product generates)."""
    devops = synth.project.devops
    prefix = devops.name_prefix
    expected = {f"{prefix}-synth": ("synth-build-role", buildspecs.synth("make scan"))}
    for env in synth.project.environments:
        expected[f"{prefix}-plan-{env.name}"] = (
            f"plan-build-role-{env.name}",
            buildspecs.plan(env.workload_stack, plan_role_arn(synth.project, env), env.deployment_role.external_id, env.bootstrap_stack),
        )
        expected[f"{prefix}-apply-{env.name}"] = (f"apply-build-role-{env.name}", buildspecs.apply(env.workload_stack, deployment_role_arn(env)))
    for env, step in team_steps(synth.project):
        expected[team_step_project(synth.project, env, step)] = (
            f"step-role-{env.name}-{step.name}",
            buildspecs.render(buildspecs.team_spec(
                env.name, env.workload_stack, env.region, plan_role_arn(synth.project, env), env.deployment_role.external_id, step.commands,
            )),
        )
    if plans_pull_requests(synth.project):
        # Pull requests: their own projects and roles; the same synth and policy gate as releases.
        expected[f"{prefix}-pr-synth"] = ("pr-synth-build-role", buildspecs.synth("make scan"))
        plan_roles = {env.name: plan_role_arn(synth.project, env) for env in synth.project.environments}
        expected[f"{prefix}-pr-plan"] = ("pr-plan-build-role", buildspecs.pr_plan(plan_roles))
    if comments_on_pull_requests(synth.project):
        expected[f"{prefix}-pr-comment"] = (
            "pr-comment-build-role", buildspecs.pr_comment(devops.source.repository, devops.github_token_secret)
        )  # fmt: skip
    if synth.project.devops.self_update:
        revision = "S3_OBJECT_VERSION_ID" if devops.source.type == "s3" else "COMMIT_ID"
        expected[f"{prefix}-devops-plan"] = ("devops-plan-build-role", buildspecs.render(buildspecs.devops_plan_spec("devops")))
        expected[f"{prefix}-devops-apply"] = (
            "devops-apply-build-role", buildspecs.render(buildspecs.devops_apply_spec("devops", f"{prefix}-delivery", revision))
        )  # fmt: skip
    for name in drift_project_names(synth.project):
        topic = f"arn:aws:sns:{devops.region}:{devops.account_id}:{prefix}-delivery-events"
        expected[name] = ("drift-build-role", buildspecs.render(buildspecs.drift_spec(topic)))
    return expected


@pytest.fixture(params=["example_synth", "alt_synth", "token_synth"])
def any_synth(request: pytest.FixtureRequest):
    """The two projects, and the GitHub source with a token (which adds the comment build)."""
    return request.getfixturevalue(request.param)


def test_one_project_per_step_and_environment(any_synth) -> None:
    synth = any_synth
    assert sorted(p["name"] for p in projects(synth).values()) == sorted(expected_projects(synth))


def test_a_team_step_runs_its_commands_read_only_with_its_own_timeout(alt_synth) -> None:
    """environment.hcl's step blocks: the commands as written, the plan role to read with, the timeout."""
    found = {p["name"]: p for p in projects(alt_synth).values()}
    live = next(env for env in alt_synth.project.environments if env.name == "live")
    smoke, drain = found["alt-step-smoke-test-live"], found["alt-step-drain-check-live"]
    spec = yaml.safe_load(terraform_string(smoke["source"]["buildspec"]))
    assert spec["phases"]["build"]["commands"][1:] == ["python3 checks/smoke.py", "echo smoke test passed"]
    variables = spec["env"]["variables"]
    assert (variables["ENVIRONMENT"], variables["STACK"]) == ("live", "workload-live")
    assert variables["WORKLOAD_ROLE_ARN"] == plan_role_arn(alt_synth.project, live) == "arn:aws:iam::210987654323:role/alt-plan-live"
    assert (smoke["build_timeout"], drain["build_timeout"], found["alt-step-smoke-test-qa"]["build_timeout"]) == (10, 10, 15)
    assert found["alt-plan-live"]["build_timeout"] == alt_synth.project.devops.build.timeout_minutes


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


def test_projects_run_as_the_right_service_role(any_synth) -> None:
    synth = any_synth
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


def test_buildspec_reaches_codebuild_as_the_yaml_the_product_generates(any_synth) -> None:
    synth = any_synth
    expected = expected_projects(synth)
    for project in projects(synth).values():
        received = terraform_string(project["source"]["buildspec"])
        parsed = yaml.safe_load(received)
        assert isinstance(parsed, dict) and parsed["version"] == 0.2, f"{project['name']}: {received[:60]!r}"
        assert received == expected[project["name"]][1], project["name"]


def test_module_buildspec_reaches_codebuild_unchanged(examples) -> None:
    _, project = where(examples, "aws_codebuild_project", name="example-docker")
    assert terraform_string(project["source"]["buildspec"]) == EXAMPLE_BUILDSPEC


def test_terraform_reads_the_buildspec_as_the_tests_assume(example_synth, tmp_path: Path) -> None:
    """Check ``terraform_string`` against terraform itself, on a synthesized buildspec."""
    if shutil.which("terraform") is None:
        pytest.fail("terraform is not on the PATH; install terraform 1.11.x (see README, Setup)")
    raw = next(p for p in projects(example_synth).values() if p["name"] == "acme-platform-plan-prod")["source"]["buildspec"]
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
        BuildProjectProps(
            project_name="acme-synth",
            service_role_arn="arn:aws:iam::111111111111:role/acme-synth-build",
            kms_key_arn="arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            buildspec="version: 0.2\n",
            timeout_minutes=minutes,
        )
    assert str(error.value) == f"BuildProjectProps.timeout_minutes {minutes} must be 5-2160"


def test_repo_pull_request_plans_run_as_the_read_only_build_role_with_each_plan_role(example_synth) -> None:
    devops = example_synth.stacks["devops"]
    (project,) = [p for p in projects(example_synth).values() if p["name"] == "acme-platform-pr-plan"]
    role_id, role = at_path(devops, "aws_iam_role", "devops/pr-plan-build-role/role")
    assert role["name"] == "acme-platform-pr-plan-build"
    assert project["service_role"] == ref("aws_iam_role", role_id, "arn")
    spec = yaml.safe_load(terraform_string(project["source"]["buildspec"]))
    assert spec["env"]["variables"]["PLAN_ROLES"] == " ".join(
        f"{env}=arn:aws:iam::{account}:role/acme-platform-plan-{env}"
        for env, account in (("dev", "222222222222"), ("staging", "333333333333"), ("prod", "444444444444"))
    )


def test_repo_release_plans_and_applies_name_their_environments_roles(example_synth) -> None:
    """Each plan project passes its environment's read-only plan role, each apply project its deployment role."""
    roles = {}
    for project in projects(example_synth).values():
        spec = yaml.safe_load(terraform_string(project["source"]["buildspec"]))
        if "TF_VAR_workload_role_arn" in spec["env"]["variables"]:
            roles[project["name"]] = spec["env"]["variables"]["TF_VAR_workload_role_arn"]
    assert roles == {
        f"acme-platform-{step}-{env}": f"arn:aws:iam::{account}:role/acme-platform-{kind}-{env}"
        for env, account in (("dev", "222222222222"), ("staging", "333333333333"), ("prod", "444444444444"))
        for step, kind in (("plan", "plan"), ("apply", "deploy"))
    }


def test_release_projects_lock_the_state(synth) -> None:
    """Only pull-request plans and the devops stack's plan (read-only; its apply locks) plan without the lock."""
    for project in projects(synth).values():
        if not project["name"].endswith(("-pr-plan", "-devops-plan")):
            assert "-lock=false" not in project["source"]["buildspec"], project["name"]


def test_token_source_plans_without_the_token_and_comments_in_a_separate_build(token_synth) -> None:
    """The plan build runs the pull request's code: no token. The comment build holds it and runs no PR code."""
    devops = token_synth.stacks["devops"]
    by_name = {p["name"]: p for p in projects(token_synth).values()}
    plan_role_id, _ = at_path(devops, "aws_iam_role", "devops/pr-plan-build-role/role")
    comment_role_id, _ = at_path(devops, "aws_iam_role", "devops/pr-comment-build-role/role")
    assert by_name["tok-pr-plan"]["service_role"] == ref("aws_iam_role", plan_role_id, "arn")
    assert by_name["tok-pr-comment"]["service_role"] == ref("aws_iam_role", comment_role_id, "arn")
    plan = terraform_string(by_name["tok-pr-plan"]["source"]["buildspec"])
    assert plan == buildspecs.pr_plan({"dev": "arn:aws:iam::666666666666:role/tok-plan-dev"})
    assert "secrets-manager" not in yaml.safe_load(plan)["env"] and "GITHUB_TOKEN" not in plan
    comment = terraform_string(by_name["tok-pr-comment"]["source"]["buildspec"])
    assert comment == buildspecs.pr_comment("tok/infra", "tok/github-token")
    assert yaml.safe_load(comment)["env"]["secrets-manager"] == {"GITHUB_TOKEN": "tok/github-token"}


def test_only_the_comment_project_is_given_a_secret(any_synth) -> None:
    """Exactly one project (pr-comment, with a token secret) reads Secrets Manager; no project passes secrets as variables."""
    prefix = any_synth.project.devops.name_prefix
    with_secrets = []
    for project in projects(any_synth).values():
        spec = yaml.safe_load(terraform_string(project["source"]["buildspec"]))
        if "secrets-manager" in spec.get("env", {}) or "parameter-store" in spec.get("env", {}):
            with_secrets.append(project["name"])
        assert all(v["type"] == "PLAINTEXT" and "TOKEN" not in v["name"] for v in project["environment"].get("environment_variable", [])), project["name"]
    assert with_secrets == ([f"{prefix}-pr-comment"] if comments_on_pull_requests(any_synth.project) else [])


def test_pull_request_projects_use_no_release_cache(any_synth) -> None:
    """The release synth caches in the release artifact bucket, which pull-request roles cannot (and must not) reach."""
    release_bucket = any_synth.project.naming.artifact_bucket
    for project in projects(any_synth).values():
        if "-pr-" in project["name"]:
            assert "cache" not in project, project["name"]
        elif project["name"].endswith("-synth"):
            assert project["cache"]["location"].startswith(f"{release_bucket}/"), project["name"]


def test_builds_run_in_the_vpc_of_devops_hcl_and_pull_requests_in_their_own_subnets(token_synth) -> None:
    vpc = token_synth.project.devops.build.vpc
    for project in projects(token_synth).values():
        expected = vpc.pull_request_subnet_ids if project["name"].startswith("tok-pr-") else vpc.subnet_ids
        assert project["vpc_config"] == {
            "vpc_id": "vpc-0a1b2c3d4e5f60718", "subnets": list(expected), "security_group_ids": ["sg-0a1b2c3d4e5f60719"],
        }, project["name"]  # fmt: skip
    assert {p["name"]: p["vpc_config"]["subnets"] for p in projects(token_synth).values()}["tok-pr-plan"] == ["subnet-0a1b2c3d4e5f60713"]


def test_without_a_vpc_block_builds_use_codebuilds_network(synth) -> None:
    for project in projects(synth).values():
        assert "vpc_config" not in project, project["name"]


def test_a_build_vpc_takes_what_codebuild_takes() -> None:
    from modules.build_project import BuildVpc

    with pytest.raises(ValueError, match="CodeBuild takes 1-16"):
        BuildVpc(vpc_id="vpc-1", subnet_ids=[], security_group_ids=["sg-1"])
    with pytest.raises(ValueError, match="CodeBuild takes 1-5"):
        BuildVpc(vpc_id="vpc-1", subnet_ids=["subnet-1"], security_group_ids=[f"sg-{n}" for n in range(6)])
