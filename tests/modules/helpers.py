"""Reading synthesized ``cdk.tf.json`` the way Terraform and AWS read it."""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig, StepConfig

KMS_USE_ACTIONS = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"]
"""What reference.md says every cross-account artifact user needs, written out (not imported) on purpose."""

# Inputs of the module-level examples (conftest.py, fixture ``examples``).
EXAMPLE_ACCOUNT = "111111111111"
READER_A = "arn:aws:iam::222222222222:role/reader-a"
READER_B = "arn:aws:iam::333333333333:role/reader-b"
EXAMPLE_PIPELINE_ROLE = "arn:aws:iam::111111111111:role/example-deploy-build"
EXAMPLE_BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n    - echo "${GREETING}"\n'

REFERENCE = re.compile(r"^\$\{(?P<type>aws_[a-z0-9_]+)\.(?P<id>[^.}]+)\.(?P<attr>[a-z_]+)\}$")


def ref(resource_type: str, logical_id: str, attribute: str) -> str:
    """A Terraform reference as cdktf writes it: ``${aws_kms_key.<id>.arn}``."""
    return "${%s.%s.%s}" % (resource_type, logical_id, attribute)


def as_list(value: Any) -> list:
    if value is None:
        return []
    return [value] if isinstance(value, (str, dict)) else list(value)


def statements(resource: dict, field: str = "policy") -> list[dict]:
    document = json.loads(resource[field])
    assert document["Version"] == "2012-10-17"
    return document["Statement"]


def by_sid(resource: dict, field: str = "policy") -> dict[str, dict]:
    found: dict[str, dict] = {}
    for statement in statements(resource, field):
        assert statement["Sid"] not in found, f"duplicate Sid {statement['Sid']}"
        found[statement["Sid"]] = statement
    return found


def path_of(resource: dict) -> str:
    return resource["//"]["metadata"]["path"]


def at_path(stack: dict, resource_type: str, path: str) -> tuple[str, dict]:
    """(logical id, resource) of the one ``resource_type`` whose construct path is ``path``."""
    found = [(lid, r) for lid, r in stack.get("resource", {}).get(resource_type, {}).items() if path_of(r) == path]
    assert len(found) == 1, f"expected one {resource_type} at {path}, found {[lid for lid, _ in found]}"
    return found[0]


def where(stack: dict, resource_type: str, **attributes: Any) -> tuple[str, dict]:
    """(logical id, resource) of the one ``resource_type`` with exactly these attribute values."""
    found = [
        (lid, r)
        for lid, r in stack.get("resource", {}).get(resource_type, {}).items()
        if all(r.get(key) == value for key, value in attributes.items())
    ]
    assert len(found) == 1, f"expected one {resource_type} with {attributes}, found {[lid for lid, _ in found]}"
    return found[0]


def all_resources(stacks: dict[str, dict], resource_type: str) -> Iterator[tuple[str, str, dict]]:
    """(stack, logical id, resource) of every ``resource_type`` in every stack."""
    for stack_name, stack in stacks.items():
        for lid, resource in stack.get("resource", {}).get(resource_type, {}).items():
            yield stack_name, lid, resource


def terraform_string(raw: str) -> str:
    """The value Terraform gives a string in JSON configuration.

    Terraform parses it as a template whose only escapes are ``$${`` and ``%%{``; backslash sequences
    are *not* escapes there (JSON already decoded them), so a literal ``\\n`` stays two characters.
    """
    assert not re.search(r"(?<!\$)\$\{", raw.replace("$${", "")), f"unescaped interpolation in {raw[:80]!r}"
    return re.sub(r"\$\$\{|%%\{", lambda match: match.group(0)[1:], raw)


# --- expected names, written from the configuration (not from provisioner.configuration.naming) -------------
def role_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def root_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def deployment_role_arn(env: EnvironmentConfig) -> str:
    return role_arn(env.account_id, env.deployment_role.name)


def plan_build_role_arn(project: ProjectConfig, env: EnvironmentConfig) -> str:
    """The DevOps-account role of ``env``'s release plan build: ``<prefix>-plan-build-<env>``."""
    return role_arn(project.devops.account_id, f"{project.devops.name_prefix}-plan-build-{env.name}")


def apply_build_role_arn(project: ProjectConfig, env: EnvironmentConfig) -> str:
    """The DevOps-account role of ``env``'s apply build, the only pipeline role its deployment role trusts."""
    return role_arn(project.devops.account_id, f"{project.devops.name_prefix}-apply-build-{env.name}")


def plan_role_arn(project: ProjectConfig, env: EnvironmentConfig) -> str:
    """The read-only role pull-request plans assume in ``env``'s account: ``<prefix>-plan-<env>``."""
    return role_arn(env.account_id, f"{project.devops.name_prefix}-plan-{env.name}")


def pr_plan_build_role_arn(project: ProjectConfig) -> str:
    return role_arn(project.devops.account_id, f"{project.devops.name_prefix}-pr-plan-build")


def plans_pull_requests(project: ProjectConfig) -> bool:
    """CodeStar sources (and only they) get the pull-request pipeline."""
    return project.devops.source.type == "codestar"


def comments_on_pull_requests(project: ProjectConfig) -> bool:
    """A token secret is set and the connection is to GitHub (or GitHub Enterprise Server)."""
    devops = project.devops
    return (
        plans_pull_requests(project)
        and devops.github_token_secret is not None
        and devops.source.connection_provider in ("GitHub", "GitHubEnterpriseServer")
    )


def pr_role_suffixes(project: ProjectConfig) -> list[str]:
    if not plans_pull_requests(project):
        return []
    return ["pr-synth-build", "pr-plan-build", *(["pr-comment-build"] if comments_on_pull_requests(project) else [])]


def pr_role_arns(project: ProjectConfig) -> list[str]:
    """The pull-request build roles (sorted); none without a CodeStar source."""
    devops = project.devops
    return sorted(role_arn(devops.account_id, f"{devops.name_prefix}-{suffix}") for suffix in pr_role_suffixes(project))


def project_arn(project: ProjectConfig, name: str) -> str:
    devops = project.devops
    return f"arn:aws:codebuild:{devops.region}:{devops.account_id}:project/{name}"


def team_steps(project: ProjectConfig) -> list[tuple[EnvironmentConfig, StepConfig]]:
    """The teams' own steps (``step "<name>" {}`` in environment.hcl), with their environments."""
    return [(env, step) for env in project.environments for step in env.steps]


def team_step_project(project: ProjectConfig, env: EnvironmentConfig, step: StepConfig) -> str:
    """A team step's CodeBuild project: ``<prefix>-step-<name>-<env>``."""
    return f"{project.devops.name_prefix}-step-{step.name}-{env.name}"


def team_step_role_arn(project: ProjectConfig, env: EnvironmentConfig, step: StepConfig) -> str:
    """A team step's DevOps-account role: ``<prefix>-step-<name>-build-<env>``."""
    return role_arn(project.devops.account_id, f"{project.devops.name_prefix}-step-{step.name}-build-{env.name}")


def release_project_names(project: ProjectConfig) -> list[str]:
    """Release CodeBuild projects, the product's and the teams' steps."""
    prefix = project.devops.name_prefix
    names = [f"{prefix}-synth", *self_update_project_names(project)]
    for env in project.environments:
        names += [f"{prefix}-plan-{env.name}", f"{prefix}-apply-{env.name}"]
    return names + [team_step_project(project, env, step) for env, step in team_steps(project)]


def self_update_project_names(project: ProjectConfig) -> list[str]:
    """The release's plan and apply of the devops stack itself; none with ``self_update = false``."""
    prefix = project.devops.name_prefix
    return [f"{prefix}-devops-plan", f"{prefix}-devops-apply"] if project.devops.self_update else []


def drift_project_names(project: ProjectConfig) -> list[str]:
    """The scheduled drift run's own CodeBuild project (its Synth is the release's); none when it is off."""
    return [f"{project.devops.name_prefix}-drift-plan"] if project.devops.drift_schedule else []


def drift_role_arns(project: ProjectConfig) -> list[str]:
    devops = project.devops
    return [role_arn(devops.account_id, f"{devops.name_prefix}-drift-plan-build")] if devops.drift_schedule else []


def pr_project_names(project: ProjectConfig) -> list[str]:
    """Pull-request CodeBuild projects, in the order the devops stack declares them."""
    prefix = project.devops.name_prefix
    if not plans_pull_requests(project):
        return []
    return [f"{prefix}-pr-synth", f"{prefix}-pr-plan", *([f"{prefix}-pr-comment"] if comments_on_pull_requests(project) else [])]


def environment(project: ProjectConfig, name: str) -> EnvironmentConfig:
    return next(env for env in project.environments if env.name == name)
