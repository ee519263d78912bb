"""``provisioner.stacks``: where every stack keeps its state, which account its provider may touch, and its names."""

from __future__ import annotations

import pytest

from provisioner.configuration.naming import Naming, standard_tags
from tests.modules.helpers import at_path, deployment_role_arn, environment, plan_role_arn

LOCAL_ONLY_SETTINGS = ("endpoints", "access_key", "secret_key", "skip_credentials_validation", "s3_use_path_style")


def expected_stacks(project) -> list[str]:
    return sorted(["devops", *(f"bootstrap-{env.name}" for env in project.environments), *(f"workload-{env.name}" for env in project.environments)])


ROLE_VARIABLE = "${var.workload_role_arn}"


def provider(synth, stack: str) -> dict:
    (aws,) = synth.stacks[stack]["provider"]["aws"]
    return aws


def role_variable(synth, env) -> dict:
    """The workload stack's ``workload_role_arn`` variable: the role its provider assumes."""
    return synth.stacks[env.workload_stack]["variable"]["workload_role_arn"]


def bootstrap_role(synth, env, construct: str) -> dict:
    return at_path(synth.stacks[env.bootstrap_stack], "aws_iam_role", f"{env.bootstrap_stack}/{construct}/role")[1]


def test_the_app_holds_devops_and_one_bootstrap_and_workload_stack_per_environment(synth) -> None:
    assert sorted(synth.stacks) == expected_stacks(synth.project)


def backend_credentials(synth, stack: str) -> dict:
    """What a bootstrap stack's backend adds to reach the state bucket with its own credentials (bootstrap {})."""
    env = next((env for env in synth.project.environments if env.bootstrap_stack == stack), None)
    if env is None:
        return {}
    found: dict = {}
    if env.bootstrap.state_profile:
        found["profile"] = env.bootstrap.state_profile
    if env.bootstrap.state_role_arn:
        found["assume_role"] = {"role_arn": env.bootstrap.state_role_arn, "session_name": f"{stack}-state"}
    return found


def test_every_stack_keeps_its_state_in_the_devops_state_bucket_under_its_own_key(synth) -> None:
    devops = synth.project.devops
    keys = []
    for stack, doc in synth.stacks.items():
        assert list(doc["terraform"]["backend"]) == ["s3"], stack
        backend = doc["terraform"]["backend"]["s3"]
        assert backend == {
            **backend_credentials(synth, stack),
            "bucket": f"{devops.name_prefix}-tfstate-{devops.account_id}-{devops.region}",
            "key": f"stacks/{stack}/terraform.tfstate",
            "region": devops.region,
            "encrypt": True,
            "kms_key_id": f"arn:aws:kms:{devops.region}:{devops.account_id}:alias/{devops.name_prefix}-tfstate",
            "use_lockfile": True,
        }, stack
        keys.append(backend["key"])
    assert len(set(keys)) == len(keys)


def test_backend_names_the_bucket_and_key_alias_the_devops_stack_creates(synth) -> None:
    devops = synth.stacks["devops"]
    backend = devops["terraform"]["backend"]["s3"]
    _, bucket = at_path(devops, "aws_s3_bucket", "devops/state-bucket/bucket")
    _, alias = at_path(devops, "aws_kms_alias", "devops/state-key/alias")
    assert bucket["bucket"] == backend["bucket"]
    assert backend["kms_key_id"].endswith(f":{alias['name']}")


def test_repo_backend_is_written_out(example_synth) -> None:
    backend = example_synth.stacks["workload-prod"]["terraform"]["backend"]["s3"]
    assert backend["bucket"] == "acme-platform-tfstate-111111111111-eu-west-1"
    assert backend["key"] == "stacks/workload-prod/terraform.tfstate"
    assert backend["kms_key_id"] == "arn:aws:kms:eu-west-1:111111111111:alias/acme-platform-tfstate"


def test_providers_refuse_every_account_but_their_own(synth) -> None:
    project = synth.project
    assert provider(synth, "devops")["allowed_account_ids"] == [project.devops.account_id]
    assert provider(synth, "devops")["region"] == project.devops.region
    for env in project.environments:
        for stack in (env.bootstrap_stack, env.workload_stack):
            assert provider(synth, stack)["allowed_account_ids"] == [env.account_id], stack
            assert provider(synth, stack)["region"] == env.region, stack


def test_providers_tag_everything_with_the_standard_and_configured_tags(synth) -> None:
    project = synth.project
    prefix = project.devops.name_prefix
    expected = {"devops": {"ManagedBy": "pipeline-provisioner", "Project": prefix, "Environment": "devops", **project.devops.tags}}
    for env in project.environments:
        tags = {"ManagedBy": "pipeline-provisioner", "Project": prefix, "Environment": env.name, **env.tags}
        expected[env.bootstrap_stack] = expected[env.workload_stack] = tags
    for stack, tags in expected.items():
        assert provider(synth, stack)["default_tags"] == [{"tags": tags}], stack


def test_repo_tags_are_written_out(example_synth) -> None:
    assert provider(example_synth, "devops")["default_tags"] == [
        {"tags": {"Environment": "devops", "ManagedBy": "pipeline-provisioner", "Project": "acme-platform", "team": "platform"}}
    ]
    assert provider(example_synth, "workload-prod")["default_tags"][0]["tags"] == {
        "Environment": "prod",
        "ManagedBy": "pipeline-provisioner",
        "Project": "acme-platform",
        "cost-center": "prod",
        "criticality": "high",
    }


def test_devops_provider_uses_the_callers_credentials(synth) -> None:
    assert "assume_role" not in provider(synth, "devops")


def test_bootstrap_provider_reaches_the_workload_account_as_configured(synth) -> None:
    for env in synth.project.environments:
        found = provider(synth, env.bootstrap_stack)
        if env.bootstrap.role_arn:
            assert found["assume_role"] == [{"role_arn": env.bootstrap.role_arn, "session_name": f"bootstrap-{env.name}"}], env.name
        else:
            assert "assume_role" not in found, env.name
        assert found.get("profile") == env.bootstrap.profile, env.name


def test_repo_bootstrap_credentials_are_written_out(example_synth) -> None:
    """Organizations members (dev, prod): the management account's admin assumes each account's
    OrganizationAccountAccessRole, and the DevOps account's for the state. Staging: named profiles."""
    for name, account in (("dev", "222222222222"), ("prod", "444444444444")):
        stack = example_synth.stacks[f"bootstrap-{name}"]
        assert stack["provider"]["aws"][0]["assume_role"] == [
            {"role_arn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "session_name": f"bootstrap-{name}"}
        ]
        assert stack["terraform"]["backend"]["s3"]["assume_role"] == {
            "role_arn": "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole", "session_name": f"bootstrap-{name}-state",
        }  # fmt: skip
    staging = example_synth.stacks["bootstrap-staging"]
    assert staging["provider"]["aws"][0]["profile"] == "acme-staging-admin"
    assert "assume_role" not in staging["provider"]["aws"][0]
    assert not {"assume_role", "profile"} & set(staging["terraform"]["backend"]["s3"]), "the caller's own DevOps credentials"


def test_workload_provider_assumes_the_role_variable_with_its_external_id(synth) -> None:
    for env in synth.project.environments:
        (assume,) = provider(synth, env.workload_stack)["assume_role"]
        assert assume["role_arn"] == ROLE_VARIABLE
        assert assume["session_name"] == f"deploy-{env.name}"
        if env.deployment_role.external_id:
            assert assume["external_id"] == env.deployment_role.external_id
        else:
            assert "external_id" not in assume


@pytest.mark.parametrize(("synth_name", "env_name", "external_id"), [("example_synth", "prod", "acme-platform-prod"), ("alt_synth", "live", "live-external-id")])
def test_external_ids_reach_the_workload_provider(request, synth_name: str, env_name: str, external_id: str) -> None:
    synth = request.getfixturevalue(synth_name)
    env = environment(synth.project, env_name)
    assert provider(synth, env.workload_stack)["assume_role"][0]["external_id"] == external_id


def test_workload_role_variable_is_ephemeral_and_defaults_to_the_read_only_plan_role(synth) -> None:
    """Ephemeral: not stored in a saved plan, so the plan build passes the plan role and the apply of that very plan
    the deployment role. The default can change nothing: a plan or apply that names no role only reads."""
    for env in synth.project.environments:
        variables = synth.stacks[env.workload_stack]["variable"]
        assert sorted(variables) == ["workload_role_arn"], env.name
        variable = variables["workload_role_arn"]
        assert variable["type"] == "string"
        assert variable["ephemeral"] is True
        assert variable["default"] == plan_role_arn(synth.project, env)
        assert variable["default"] != deployment_role_arn(env)


def test_the_roles_the_pipeline_passes_are_the_ones_the_bootstrap_stack_creates(synth) -> None:
    for env in synth.project.environments:
        for construct, arn in (("plan-role", plan_role_arn(synth.project, env)), ("deployment-role", deployment_role_arn(env))):
            role = bootstrap_role(synth, env, construct)
            assert arn == f"arn:aws:iam::{env.account_id}:role/{role['name']}", (env.name, construct)
            assert provider(synth, env.workload_stack)["allowed_account_ids"] == [arn.split(":")[4]]


def test_only_workload_stacks_declare_variables(synth) -> None:
    for stack, doc in synth.stacks.items():
        assert ("variable" in doc) == stack.startswith("workload-"), stack


def test_repo_workload_role_variable_defaults_are_written_out(example_synth) -> None:
    defaults = [role_variable(example_synth, env)["default"] for env in example_synth.project.environments]
    assert defaults == [
        "arn:aws:iam::222222222222:role/acme-platform-plan-dev",
        "arn:aws:iam::333333333333:role/acme-platform-plan-staging",
        "arn:aws:iam::444444444444:role/acme-platform-plan-prod",
    ]


def test_real_aws_output_has_no_emulator_settings(synth) -> None:
    for stack, doc in synth.stacks.items():
        aws = provider(synth, stack)
        assert not [key for key in LOCAL_ONLY_SETTINGS if key in aws], stack
        assert "endpoints" not in doc["terraform"]["backend"]["s3"], stack


# --- one naming helper ---------------------------------------------------------------------------
def test_devops_names_come_from_the_naming_helper(synth) -> None:
    naming: Naming = synth.project.naming
    devops = synth.stacks["devops"]
    assert at_path(devops, "aws_s3_bucket", "devops/state-bucket/bucket")[1]["bucket"] == naming.state_bucket
    assert at_path(devops, "aws_s3_bucket", "devops/artifacts/bucket/bucket")[1]["bucket"] == naming.artifact_bucket
    assert at_path(devops, "aws_kms_alias", "devops/state-key/alias")[1]["name"] == naming.state_key_alias
    assert at_path(devops, "aws_kms_alias", "devops/artifacts/key/alias")[1]["name"] == naming.artifact_key_alias
    assert at_path(devops, "aws_codepipeline", "devops/pipeline/pipeline")[1]["name"] == naming.pipeline
    assert at_path(devops, "aws_sns_topic", "devops/notifications/topic")[1]["name"] == naming.notifications_topic
    roles = {
        "devops/pipeline-role/role": naming.pipeline_role,
        "devops/synth-build-role/role": naming.synth_build_role,
    }
    for env in synth.project.environments:
        roles[f"devops/plan-build-role-{env.name}/role"] = naming.plan_build_role(env.name)
        roles[f"devops/apply-build-role-{env.name}/role"] = naming.apply_build_role(env.name)
    if synth.project.devops.source.type == "codestar":
        roles["devops/pr-plan-build-role/role"] = naming.pr_plan_build_role
        roles["devops/pr-synth-build-role/role"] = naming.pr_synth_build_role
        assert naming.pr_plan_build_role_arn() == naming.role_arn(synth.project.devops.account_id, naming.pr_plan_build_role)
        assert at_path(devops, "aws_s3_bucket", "devops/pr-artifacts/bucket")[1]["bucket"] == naming.pr_artifact_bucket
        assert at_path(devops, "aws_codepipeline", "devops/pr-pipeline/pipeline")[1]["name"] == naming.pr_pipeline
    for path, name in roles.items():
        assert at_path(devops, "aws_iam_role", path)[1]["name"] == name
    projects = {p["name"] for p in devops["resource"]["aws_codebuild_project"].values()}
    assert naming.build_project("synth") in projects
    for env in synth.project.environments:
        assert {naming.build_project("plan", env.name), naming.build_project("apply", env.name)} <= projects


def test_workload_account_names_come_from_the_naming_helper(synth) -> None:
    project = synth.project
    naming = project.naming
    for env in project.environments:
        role = bootstrap_role(synth, env, "deployment-role")
        assert project.naming.role_arn(env.account_id, role["name"]) == project.deployment_role_arn(env)
        if env.name != "live":
            assert role["name"] == naming.default_deployment_role(env.name)
        plan = bootstrap_role(synth, env, "plan-role")
        assert plan["name"] == naming.plan_role(env.name)
        assert project.naming.role_arn(env.account_id, plan["name"]) == project.plan_role_arn(env)
        for stack in (env.bootstrap_stack, env.workload_stack):
            assert synth.stacks[stack]["terraform"]["backend"]["s3"]["key"] == Naming.state_key(stack)
            assert provider(synth, stack)["default_tags"] == [{"tags": standard_tags(project.devops.name_prefix, env.name, dict(env.tags))}]


def test_repo_names_are_written_out(example_synth) -> None:
    naming = example_synth.project.naming
    assert (naming.state_bucket, naming.artifact_bucket, naming.pipeline, naming.plan_build_role("dev"), naming.apply_build_role("dev")) == (
        "acme-platform-tfstate-111111111111-eu-west-1",
        "acme-platform-artifacts-111111111111-eu-west-1",
        "acme-platform-delivery",
        "acme-platform-plan-build-dev",
        "acme-platform-apply-build-dev",
    )
    assert (naming.pr_artifact_bucket, naming.pr_pipeline, naming.pr_synth_build_role, naming.pr_comment_build_role) == (
        "acme-platform-pr-artifacts-111111111111-eu-west-1",
        "acme-platform-pr-plan",
        "acme-platform-pr-synth-build",
        "acme-platform-pr-comment-build",
    )
