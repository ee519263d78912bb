"""``provisioner.configuration.settings.load``: the repository's own environments/ and every kind of bad input."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from provisioner.configuration import limits, settings
from provisioner.configuration.naming import Naming
from provisioner.configuration.settings import (
    DEFAULT_MANAGED_POLICIES,
    BootstrapConfig,
    BuildConfig,
    Kind,
    ProjectConfig,
    load,
)
from provisioner.errors import ConfigErrors, UserError

REPO_ENVIRONMENTS = Path(__file__).resolve().parent.parent / "examples" / "environments"

DEVOPS = """\
account_id  = "111111111111"
region      = "eu-west-1"
name_prefix = "acme"

source {
  type       = "codestar"
  repository = "acme/infra"
}
"""

DEV = """\
account_id = "222222222222"
region     = "eu-west-1"
bootstrap {
  role_arn = "arn:aws:iam::222222222222:role/admin"
}
"""

DEV_FILE = "environments/dev/environment.hcl"
DEVOPS_FILE = "environments/devops.hcl"


def bootstrap_hcl() -> str:
    return 'bootstrap {\n  profile = "admin"\n}\n'


def env_hcl(account_id: str = "222222222222", region: str = "eu-west-1", extra: str = "") -> str:
    """An environment file; a bootstrap block is added unless ``extra`` has one."""
    bootstrap = "" if "bootstrap" in extra else bootstrap_hcl()
    return f'account_id = "{account_id}"\nregion     = "{region}"\n{extra}{bootstrap}'


def write_config(root: Path, devops: str | bytes | None = DEVOPS, envs: dict[str, str | bytes | None] | None = None) -> Path:
    """Lay out ``root/environments``: devops.hcl (None: left out) and one folder per entry of ``envs``.

    An environment whose text is None gets a folder without environment.hcl.
    """
    environments = root / "environments"
    environments.mkdir(parents=True)
    if devops is not None:
        _write(environments / "devops.hcl", devops)
    for name, text in ({"dev": DEV} if envs is None else envs).items():
        folder = environments / name
        folder.mkdir()
        if text is not None:
            _write(folder / "environment.hcl", text)
    return environments


def _write(path: Path, text: str | bytes) -> None:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def problems(environments: Path) -> list[str]:
    """The problems ``load`` reports, each one line naming a file under environments/; without the
    line numbers, which the tests under "Line numbers" check."""
    return [without_line(line) for line in problems_with_lines(environments)]


def problems_with_lines(environments: Path) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load(environments)
    lines = caught.value.problems
    assert lines, "ConfigErrors without problems"
    for line in lines:
        assert len(line.splitlines()) == 1, f"not one line: {line!r}"
        assert line.startswith("environments"), line
    assert str(caught.value).splitlines() == lines
    return lines


def without_line(problem: str) -> str:
    return re.sub(r"^([^:]+):\d+: ", r"\1: ", problem)


def only_problem(environments: Path) -> str:
    lines = problems(environments)
    assert len(lines) == 1, lines
    return lines[0]


def only_problem_with_line(environments: Path) -> str:
    lines = problems_with_lines(environments)
    assert len(lines) == 1, lines
    return lines[0]


# --------------------------------------------------------------------------------------------
# The repository's own environments/
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def repo_project() -> ProjectConfig:
    return load(REPO_ENVIRONMENTS)


def test_repo_environments_load_in_order(repo_project: ProjectConfig) -> None:
    assert [env.name for env in repo_project.environments] == ["dev", "staging", "prod"]
    assert [env.order for env in repo_project.environments] == [1, 2, 3]
    assert [env.account_id for env in repo_project.environments] == ["222222222222", "333333333333", "444444444444"]


def test_repo_devops_account(repo_project: ProjectConfig) -> None:
    devops = repo_project.devops
    assert (devops.account_id, devops.region, devops.name_prefix) == ("111111111111", "eu-west-1", "acme-platform")
    assert devops.source.type == "codestar"
    assert devops.source.repository == "acme/platform-infrastructure"
    assert devops.source.branch == "main"
    assert devops.source.connection_arn is None
    assert devops.notification_emails == ("platform-team@example.com",)
    assert devops.build == BuildConfig(compute_type="BUILD_GENERAL1_SMALL", log_retention_days=365)
    assert dict(devops.tags) == {"team": "platform"}


def test_repo_only_prod_requires_approval(repo_project: ProjectConfig) -> None:
    assert {env.name: env.requires_approval for env in repo_project.environments} == {
        "dev": False,
        "staging": False,
        "prod": True,
    }


def test_repo_deployment_role_defaults(repo_project: ProjectConfig) -> None:
    for env in repo_project.environments:
        role = env.deployment_role
        assert role.name == f"acme-platform-deploy-{env.name}"
        assert role.managed_policy_arns == ("arn:aws:iam::aws:policy/PowerUserAccess",)
        assert role.max_session_duration == 3600
        assert role.permissions_boundary_arn is None
    by_name = {env.name: env for env in repo_project.environments}
    assert by_name["prod"].deployment_role.external_id == "acme-platform-prod"
    assert by_name["dev"].deployment_role.external_id is None
    assert dict(by_name["prod"].tags) == {"cost-center": "prod", "criticality": "high"}
    assert repo_project.deployment_role_arn(by_name["dev"]) == "arn:aws:iam::222222222222:role/acme-platform-deploy-dev"


def test_repo_plan_role_arns(repo_project: ProjectConfig) -> None:
    assert [repo_project.plan_role_arn(env) for env in repo_project.environments] == [
        "arn:aws:iam::222222222222:role/acme-platform-plan-dev",
        "arn:aws:iam::333333333333:role/acme-platform-plan-staging",
        "arn:aws:iam::444444444444:role/acme-platform-plan-prod",
    ]


def test_repo_waves_one_environment_each(repo_project: ProjectConfig) -> None:
    assert [[env.name for env in wave] for wave in repo_project.waves()] == [["dev"], ["staging"], ["prod"]]


# --------------------------------------------------------------------------------------------
# Valid configurations
# --------------------------------------------------------------------------------------------
def test_minimal_environment_gets_documented_defaults(tmp_path: Path) -> None:
    project = load(write_config(tmp_path))
    (env,) = project.environments
    assert env.name == "dev"
    assert env.order == 1
    assert env.requires_approval is False
    assert env.bootstrap.role_arn == "arn:aws:iam::222222222222:role/admin"
    assert (env.bootstrap.profile, env.bootstrap.state_role_arn, env.bootstrap.state_profile) == (None, None, None)
    assert dict(env.tags) == {}
    role = env.deployment_role
    assert role.name == "acme-deploy-dev"
    assert DEFAULT_MANAGED_POLICIES == ("PowerUserAccess",)
    assert role.managed_policy_arns == ("arn:aws:iam::aws:policy/PowerUserAccess",)
    assert role.permissions_boundary_arn is None
    assert role.max_session_duration == 3600
    assert role.external_id is None
    assert role.extra_trusted_role_arns == ()
    assert role.plan_trusted_role_arns == ()
    devops = project.devops
    assert devops.source.branch == "main"
    assert devops.source.connection_provider == "GitHub"
    assert devops.source.trigger_paths == ()
    assert devops.notification_emails == ()
    assert devops.github_token_secret is None
    assert devops.build == BuildConfig()
    assert (devops.build.compute_type, devops.build.timeout_minutes, devops.build.log_retention_days) == (
        "BUILD_GENERAL1_SMALL",
        60,
        365,
    )


def test_every_field_set(tmp_path: Path) -> None:
    devops = """\
account_id  = "111111111111"
region      = "us-east-1"
name_prefix = "plat"
source {
  type                = "codestar"
  repository          = "acme/infra"
  branch              = "release"
  connection_arn      = "arn:aws:codeconnections:us-east-1:111111111111:connection/abc-123"
  connection_provider = "GitLab"
  trigger_paths       = ["environments/**", "stacks/**"]
}
notification_emails = ["a@example.com", "b@example.com"]
build {
  compute_type       = "BUILD_GENERAL1_MEDIUM"
  image              = "aws/codebuild/standard:7.0"
  timeout_minutes    = 120
  log_retention_days = 30
}
github_token_secret = "ci/github-token"
tags = {
  team = "platform"
}
"""
    prod = env_hcl(
        "444444444444",
        "us-west-2",
        """\
order             = 5
requires_approval = true
bootstrap {
  role_arn       = "arn:aws:iam::444444444444:role/Admin"
  profile        = "prod-source"
  state_role_arn = "arn:aws:iam::111111111111:role/state-admin"
  state_profile  = "devops-source"
}
deployment_role {
  name                     = "deployer"
  managed_policy_arns      = ["arn:aws:iam::aws:policy/AdministratorAccess"]
  permissions_boundary_arn = "arn:aws:iam::444444444444:policy/boundary"
  max_session_duration     = 3600
  external_id              = "secret-id"
  extra_trusted_role_arns  = ["arn:aws:iam::111111111111:role/operator"]
}
tags = {
  "cost-center" = "prod"
}
""",
    )
    project = load(write_config(tmp_path, devops, {"prod": prod}))
    source = project.devops.source
    assert (source.branch, source.connection_provider) == ("release", "GitLab")
    assert source.connection_arn == "arn:aws:codeconnections:us-east-1:111111111111:connection/abc-123"
    assert source.trigger_paths == ("environments/**", "stacks/**")
    assert project.devops.notification_emails == ("a@example.com", "b@example.com")
    assert project.devops.build == BuildConfig("BUILD_GENERAL1_MEDIUM", "aws/codebuild/standard:7.0", 120, 30)
    assert project.devops.github_token_secret == "ci/github-token"
    (env,) = project.environments
    assert (env.order, env.requires_approval, env.region) == (5, True, "us-west-2")
    assert env.bootstrap == BootstrapConfig(
        role_arn="arn:aws:iam::444444444444:role/Admin",
        profile="prod-source",
        state_role_arn="arn:aws:iam::111111111111:role/state-admin",
        state_profile="devops-source",
    )
    role = env.deployment_role
    assert role.name == "deployer"
    assert role.managed_policy_arns == ("arn:aws:iam::aws:policy/AdministratorAccess",)
    assert role.permissions_boundary_arn == "arn:aws:iam::444444444444:policy/boundary"
    assert role.max_session_duration == 3600
    assert role.external_id == "secret-id"
    assert role.extra_trusted_role_arns == ("arn:aws:iam::111111111111:role/operator",)
    assert dict(env.tags) == {"cost-center": "prod"}


def test_codecommit_and_s3_sources(tmp_path: Path) -> None:
    codecommit = DEVOPS.replace('"codestar"', '"codecommit"').replace('"acme/infra"', '"infra"')
    assert load(write_config(tmp_path / "cc", codecommit)).devops.source.type == "codecommit"
    s3 = DEVOPS.replace('"codestar"', '"s3"').replace('"acme/infra"', '"infra.zip"\n  bucket = "acme-source-bucket"')
    source = load(write_config(tmp_path / "s3", s3)).devops.source
    assert (source.type, source.repository, source.bucket) == ("s3", "infra.zip", "acme-source-bucket")


def test_waves_group_equal_orders_in_ascending_order(tmp_path: Path) -> None:
    envs = {
        "alpha": env_hcl("222222222222", extra="order = 2\n"),
        "beta": env_hcl("333333333333", extra="order = 1\n"),
        "gamma": env_hcl("444444444444", extra="order = 2\n"),
        "delta": env_hcl("555555555555", extra="order = 0\n"),
        "epsilon": env_hcl("666666666666", extra="order = 10\n"),
    }
    project = load(write_config(tmp_path, envs=envs))
    assert [[env.name for env in wave] for wave in project.waves()] == [
        ["delta"],
        ["beta"],
        ["alpha", "gamma"],
        ["epsilon"],
    ]
    assert [env.name for env in project.environments] == ["delta", "beta", "alpha", "gamma", "epsilon"]


def test_hidden_and_underscore_folders_and_stray_files_are_ignored(tmp_path: Path) -> None:
    environments = write_config(tmp_path)
    (environments / ".terraform").mkdir()
    (environments / "_shared").mkdir()
    (environments / "README.md").write_text("notes\n")
    assert [env.name for env in load(environments).environments] == ["dev"]


def test_files_an_environment_folder_holds_besides_environment_hcl_are_warned_about(tmp_path: Path) -> None:
    environments = write_config(tmp_path)
    (environments / "dev" / "environment.tf").write_text("x\n")
    (environments / "dev" / "notes").mkdir()
    (environments / "dev" / ".gitkeep").write_text("")
    found = settings.examine(environments)
    assert found.project is not None and found.errors == ()
    assert [str(warning) for warning in found.warnings] == [
        "environments/dev/environment.tf: ignored: an environment folder is read for environment.hcl only",
        "environments/dev/notes: ignored: an environment folder is read for environment.hcl only",
    ]


def test_byte_order_mark_and_crlf_are_accepted(tmp_path: Path) -> None:
    text = b"\xef\xbb\xbf" + DEV.replace("\n", "\r\n").encode()
    (env,) = load(write_config(tmp_path, envs={"dev": text})).environments
    assert (env.account_id, env.region) == ("222222222222", "eu-west-1")


def test_tag_values_may_hold_unicode_letters(tmp_path: Path) -> None:
    env = load(write_config(tmp_path, envs={"dev": env_hcl(extra='tags = {\n  owner = "Zoë Müller"\n}\n')})).environments[0]
    assert dict(env.tags) == {"owner": "Zoë Müller"}


def test_dataclasses_are_frozen(tmp_path: Path) -> None:
    project = load(write_config(tmp_path))
    env = project.environments[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.devops.account_id = "999999999999"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.devops.source.branch = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.order = 7  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.deployment_role.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        project.environments = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        env.tags["team"] = "x"  # type: ignore[index]
    assert isinstance(project.environments, tuple)


MODELS = {
    "devops": settings.DevOpsConfig, "source": settings.SourceConfig, "build": settings.BuildConfig,
    "environment": settings.EnvironmentConfig, "deployment_role": settings.DeploymentRoleConfig,
    "bootstrap": settings.BootstrapConfig, "step": settings.StepConfig, "workload": settings.WorkloadConfig,
    "input": settings.InputConfig, "vpc": settings.VpcConfig,
}  # fmt: skip


@pytest.mark.parametrize("schema", settings.SCHEMAS, ids=lambda schema: schema.name)
def test_a_dataclass_defaults_each_field_to_its_declared_default(schema: settings.Schema) -> None:
    """Built without the file's field (``BuildConfig()`` when there is no build block), a dataclass holds
    what the declaration, and so README.md, says."""
    model = {item.name: item for item in dataclasses.fields(MODELS[schema.name])}
    for spec in schema.fields:
        worked_out = spec.required or spec.shown_default  # by the loader, from the file or the environment's name
        if spec.kind in (Kind.STRING, Kind.INTEGER, Kind.BOOLEAN, Kind.STRINGS) and not worked_out and spec.name in model:
            assert model[spec.name].default == spec.default, f"{schema.name}.{spec.name}"


# --------------------------------------------------------------------------------------------
# Bad input: unknown keys
# --------------------------------------------------------------------------------------------
def test_config_errors_are_user_errors_with_exit_code_2(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load(write_config(tmp_path, envs={"dev": env_hcl(account_id="1234")}))
    assert isinstance(caught.value, UserError)
    assert caught.value.exit_code == 2


def test_unknown_key_suggests_the_closest_field(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra="requires_aproval = true\n")}))
    assert line == f'{DEV_FILE}: unknown field requires_aproval (did you mean "requires_approval"?)'


def test_unknown_key_without_close_match_lists_allowed_fields(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra='colour = "blue"\n')}))
    assert line.startswith(f"{DEV_FILE}: unknown field colour (allowed: account_id, region, order, requires_approval,")


def test_unknown_key_in_devops_file(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, DEVOPS + 'notification_email = ["a@example.com"]\n'))
    assert line == f'{DEVOPS_FILE}: unknown field notification_email (did you mean "notification_emails"?)'


@pytest.mark.parametrize(
    ("block", "typo", "field"),
    [
        ("deployment_role", "max_session", "max_session_duration"),
        ("deployment_role", "nam", "name"),
    ],
)
def test_unknown_key_inside_deployment_role(tmp_path: Path, block: str, typo: str, field: str) -> None:
    extra = f"{block} {{\n  {typo} = 1\n}}\n"
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == f'{DEV_FILE}: unknown field {block}.{typo} (did you mean "{field}"?)'


def test_unknown_key_inside_source_and_build(tmp_path: Path) -> None:
    devops = DEVOPS.replace('repository = "acme/infra"', 'repository = "acme/infra"\n  branches = ["main"]')
    devops += "build {\n  compute = \"BUILD_GENERAL1_SMALL\"\n}\n"
    assert problems(write_config(tmp_path, devops)) == [
        f'{DEVOPS_FILE}: unknown field source.branches (did you mean "branch"?)',
        f'{DEVOPS_FILE}: unknown field build.compute (did you mean "compute_type"?)',
    ]


# --------------------------------------------------------------------------------------------
# Bad input: wrong types
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('requires_approval = "true"\n', 'requires_approval must be true or false (unquoted), got string "true"'),
        ("requires_approval = 1\n", "requires_approval must be true or false (unquoted), got number 1"),
        ('order = "2"\n', 'order must be a whole number, got string "2"'),
        ("order = 1.5\n", "order must be a whole number, got number 1.5"),
        ("order = true\n", "order must be a whole number, got bool true"),
        ("order = -1\n", "order -1 must be between 0 and 1000"),
        ("order = 1001\n", "order 1001 must be between 0 and 1000"),
        ('tags = ["a"]\n', "tags must be a map of strings, got a list"),
        ('tags = "team"\n', 'tags must be a map of strings, got string "team"'),
        ("tags = {\n  count = 1\n}\n", "tags.count must be a quoted string, got number 1"),
        ("tags = {\n  on = true\n}\n", "tags.on must be a quoted string, got bool true"),
        ('tags = {\n  list = ["a"]\n}\n', "tags.list must be a quoted string, got a list"),
        ('tags = {\n  "aws:team" = "x"\n}\n', "tags.aws:team tag keys must be 1-128 characters and must not start with aws:"),
        ("deployment_role = [1, 2]\n", "deployment_role must be a block (deployment_role { ... }), got a list"),
        (
            'deployment_role = "acme-deploy"\n',
            'deployment_role must be a block (deployment_role { ... }), got string "acme-deploy"',
        ),
        ("deployment_role {\n  name = true\n}\n", "deployment_role.name must be a quoted string, got bool true"),
        (
            "deployment_role {\n  max_session_duration = \"3600\"\n}\n",
            'deployment_role.max_session_duration must be a whole number, got string "3600"',
        ),
        (
            "deployment_role {\n  max_session_duration = 600\n}\n",
            "deployment_role.max_session_duration 600 must be between 3600 and 43200",
        ),
        (
            'deployment_role {\n  managed_policy_arns = "arn:aws:iam::aws:policy/ReadOnlyAccess"\n}\n',
            'deployment_role.managed_policy_arns must be a list of strings, got string "arn:aws:iam::aws:policy/ReadOnlyAccess"',
        ),
        (
            "deployment_role {\n  managed_policy_arns = [1]\n}\n",
            "deployment_role.managed_policy_arns[0] must be a quoted string, got number 1",
        ),
    ],
)
def test_wrong_type_in_environment(tmp_path: Path, extra: str, expected: str) -> None:
    assert only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)})) == f"{DEV_FILE}: {expected}"


def test_account_id_given_as_a_number(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": 'account_id = 222222222222\nregion = "eu-west-1"\n' + bootstrap_hcl()}))
    assert line == f"{DEV_FILE}: account_id must be a quoted string, got number 222222222222"


def test_bool_where_a_string_is_expected(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": 'account_id = "222222222222"\nregion = true\n' + bootstrap_hcl()}))
    assert line == f"{DEV_FILE}: region must be a quoted string, got bool true"


def test_null_for_a_required_field(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": 'account_id = null\nregion = "eu-west-1"\n' + bootstrap_hcl()}))
    assert line == f"{DEV_FILE}: account_id is required and must not be null"


def test_empty_environment_file_lists_required_fields(tmp_path: Path) -> None:
    assert problems(write_config(tmp_path, envs={"dev": ""})) == [
        f"{DEV_FILE}: account_id is required",
        f"{DEV_FILE}: region is required",
        f'{DEV_FILE}: bootstrap {{ role_arn = "..." }} or bootstrap {{ profile = "..." }} is required: how an admin reaches '
        'account <account_id> to apply bootstrap-dev (README, "Bootstrap a workload account")',
    ]


def test_empty_devops_file_lists_required_fields(tmp_path: Path) -> None:
    assert problems(write_config(tmp_path, "# nothing yet\n")) == [
        f"{DEVOPS_FILE}: account_id is required",
        f"{DEVOPS_FILE}: region is required",
        f"{DEVOPS_FILE}: name_prefix is required",
        f"{DEVOPS_FILE}: source is required",
    ]


# --------------------------------------------------------------------------------------------
# Bad input: formats
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("account_id", "region", "expected"),
    [
        ("1234", "eu-west-1", 'account_id "1234" must be 12 digits'),
        ("22222222222a", "eu-west-1", 'account_id "22222222222a" must be 12 digits'),
        ("222222222222\\n", "eu-west-1", 'account_id "222222222222\\n" must be 12 digits'),
        ("١١١١١١١١١١١١", "eu-west-1", 'account_id "١١١١١١١١١١١١" must be 12 digits'),
        ("222222222222", "eu-west-7", 'region "eu-west-7" is not an AWS region code (did you mean "eu-west-3"?)'),
        ("222222222222", "eu-wset-1", 'region "eu-wset-1" is not an AWS region code (did you mean "eu-west-1"?)'),
        ("222222222222", "EU-WEST-1", 'region "EU-WEST-1" is not an AWS region code'),
    ],
)
def test_bad_account_id_or_region(tmp_path: Path, account_id: str, region: str, expected: str) -> None:
    assert only_problem(write_config(tmp_path, envs={"dev": env_hcl(account_id, region)})) == f"{DEV_FILE}: {expected}"


def test_region_typo_in_devops_file(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, DEVOPS.replace('"eu-west-1"', '"us-east-3"')))
    assert line == f'{DEVOPS_FILE}: region "us-east-3" is not an AWS region code (did you mean "us-east-2"?)'


@pytest.mark.parametrize(
    ("role_block", "expected"),
    [
        (
            'managed_policy_arns = ["PowerUserAccess"]',
            'deployment_role.managed_policy_arns[0] "PowerUserAccess" is not an IAM policy ARN',
        ),
        (
            'managed_policy_arns = ["arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::aws:policy/PowerUserAccess"]',
            "deployment_role.managed_policy_arns lists the same value twice",
        ),
        (
            'permissions_boundary_arn = "arn:aws:iam::222222222222:role/x"',
            'deployment_role.permissions_boundary_arn "arn:aws:iam::222222222222:role/x" is not an IAM policy ARN',
        ),
        ('external_id = "x"', 'deployment_role.external_id "x" must be 2-1224 characters of letters, digits and +=,.@:/-_'),
        (
            'extra_trusted_role_arns = ["arn:aws:iam::111111111111:user/bob"]',
            'deployment_role.extra_trusted_role_arns[0] "arn:aws:iam::111111111111:user/bob" is not an IAM role ARN',
        ),
        (
            'plan_trusted_role_arns = ["arn:aws:iam::111111111111:role/ok", "arn:aws:iam::111111111111:user/bob"]',
            'deployment_role.plan_trusted_role_arns[1] "arn:aws:iam::111111111111:user/bob" is not an IAM role ARN',
        ),
        (
            'plan_trusted_role_arns = ["arn:aws:iam::111111111111:role/*"]',
            'deployment_role.plan_trusted_role_arns[0] "arn:aws:iam::111111111111:role/*" is not an IAM role ARN',
        ),
        (
            'plan_trusted_role_arns = "arn:aws:iam::111111111111:role/ok"',
            'deployment_role.plan_trusted_role_arns must be a list of strings, got string "arn:aws:iam::111111111111:role/ok"',
        ),
        ('name = "deploy role"', 'deployment_role.name "deploy role" must be 1-64 characters of letters, digits and +=,.@_-'),
        ('name = "rôle"', 'deployment_role.name "rôle" must be 1-64 characters of letters, digits and +=,.@_-'),
    ],
)
def test_bad_deployment_role_formats(tmp_path: Path, role_block: str, expected: str) -> None:
    extra = f"deployment_role {{\n  {role_block}\n}}\n"
    assert only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)})) == f"{DEV_FILE}: {expected}"


def test_bootstrap_role_arn_moved_into_the_bootstrap_block(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra='bootstrap_role_arn = "Admin"\n' + bootstrap_hcl())}))
    assert line == f'{DEV_FILE}: bootstrap_role_arn moved into the bootstrap block: write bootstrap {{ role_arn = "Admin" }} (README, "Bootstrap a workload account")'


def test_an_environment_without_a_bootstrap_block_says_what_to_set(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": 'account_id = "222222222222"\nregion = "eu-west-1"\n'}))
    assert line == (
        f'{DEV_FILE}: bootstrap {{ role_arn = "..." }} or bootstrap {{ profile = "..." }} is required: how an admin reaches '
        'account 222222222222 to apply bootstrap-dev (README, "Bootstrap a workload account")'
    )


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("", 'bootstrap.role_arn or bootstrap.profile is required: how an admin reaches account 222222222222 to apply bootstrap-dev (README, "Bootstrap a workload account")'),
        ('state_profile = "devops"', 'bootstrap.role_arn or bootstrap.profile is required: how an admin reaches account 222222222222 to apply bootstrap-dev (README, "Bootstrap a workload account")'),
        ('role_arn = "Admin"', 'bootstrap.role_arn "Admin" is not an IAM role ARN'),
        ('role_arn = "arn:aws:iam::333333333333:role/Admin"', "bootstrap.role_arn \"arn:aws:iam::333333333333:role/Admin\" is in account 333333333333: the provider must act in this environment's account 222222222222"),
        ('profile = "dev admin"', 'bootstrap.profile "dev admin" is not an AWS profile name'),
        ('profile = "a"\n  state_role_arn = "arn:aws:iam::999999999999:role/x"', 'bootstrap.state_role_arn "arn:aws:iam::999999999999:role/x" is in account 999999999999: the state bucket is in the DevOps account 111111111111'),
        ('profile = "a"\n  state_profile = ""', 'bootstrap.state_profile "" is not an AWS profile name'),
        ('profile = "a"\n  rolearn = "x"', 'unknown field bootstrap.rolearn (did you mean "role_arn"?)'),
    ],
)
def test_bad_bootstrap_blocks(tmp_path: Path, block: str, expected: str) -> None:
    extra = f"bootstrap {{\n  {block}\n}}\n"
    assert only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)})) == f"{DEV_FILE}: {expected}"


def test_a_longer_session_duration_is_refused_because_chained_sessions_last_an_hour(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra="deployment_role {\n  max_session_duration = 7200\n}\n")}))
    assert line == (
        f"{DEV_FILE}: deployment_role.max_session_duration 7200 has no effect: every principal the roles trust is a role, "
        "and a session one role opens for another (role chaining) lasts at most 3600 seconds; remove the field"
    )


def test_an_environment_in_the_devops_account_may_not_create_a_role_the_devops_stack_creates(tmp_path: Path) -> None:
    """Environment "build-dev" in the DevOps account would create acme-plan-build-dev, the plan build role of "dev"."""
    envs = {"dev": env_hcl(), "build-dev": env_hcl("111111111111")}
    line = only_problem(write_config(tmp_path, envs=envs))
    assert line == (
        "environments/build-dev/environment.hcl: the role acme-plan-build-dev in account 111111111111 would be created "
        "by the devops stack and by environment build-dev; rename the environment"
    )


def test_bootstrap_blocks_for_organizations_and_standalone_accounts(tmp_path: Path) -> None:
    organizations = 'bootstrap {\n  role_arn = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"\n  state_role_arn = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"\n}\n'
    standalone = 'bootstrap {\n  profile = "staging-admin"\n  state_profile = "devops-admin"\n}\n'
    project = load(write_config(tmp_path, envs={"dev": env_hcl(extra=organizations), "staging": env_hcl("333333333333", extra=standalone)}))
    dev, staging = project.environments
    assert (dev.bootstrap.role_arn, dev.bootstrap.profile) == ("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole", None)
    assert (dev.bootstrap.state_role_arn, dev.bootstrap.state_profile) == ("arn:aws:iam::111111111111:role/OrganizationAccountAccessRole", None)
    assert (staging.bootstrap.role_arn, staging.bootstrap.profile) == (None, "staging-admin")
    assert (staging.bootstrap.state_role_arn, staging.bootstrap.state_profile) == (None, "devops-admin")


@pytest.mark.parametrize(
    ("devops_extra", "expected"),
    [
        ('notification_emails = ["not-an-email"]\n', 'notification_emails[0] "not-an-email" is not an email address'),
        ('notification_emails = "a@example.com"\n', 'notification_emails must be a list of strings, got string "a@example.com"'),
        ('github_token_secret = "my secret"\n', 'github_token_secret "my secret" is not a valid Secrets Manager secret name'),
        (
            'build {\n  compute_type = "BUILD_GENERAL1_SMAL"\n}\n',
            'build.compute_type "BUILD_GENERAL1_SMAL" must be one of BUILD_GENERAL1_SMALL, '
            'BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE (did you mean "BUILD_GENERAL1_SMALL"?)',
        ),
        ("build {\n  timeout_minutes = 3\n}\n", "build.timeout_minutes 3 must be between 5 and 2160"),
        (
            "build {\n  log_retention_days = 91\n}\n",
            "build.log_retention_days 91 is not a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, "
            "150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)",
        ),
        ('build {\n  image = "my image"\n}\n', 'build.image "my image" is not a container image name'),
        ("build = 1\n", "build must be a block (build { ... }), got number 1"),
    ],
)
def test_bad_devops_fields(tmp_path: Path, devops_extra: str, expected: str) -> None:
    assert only_problem(write_config(tmp_path, DEVOPS + devops_extra)) == f"{DEVOPS_FILE}: {expected}"


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("Acme", '"Acme" must be 2-20 characters: lowercase letters, digits and hyphens, starting with a letter'),
        ("a", '"a" must be 2-20 characters: lowercase letters, digits and hyphens, starting with a letter'),
        ("a" * 21, f'"{"a" * 21}" must be 2-20 characters: lowercase letters, digits and hyphens, starting with a letter'),
        (
            "acme_platform",
            '"acme_platform" must be 2-20 characters: lowercase letters, digits and hyphens, starting with a letter',
        ),
    ],
)
def test_bad_name_prefix(tmp_path: Path, prefix: str, expected: str) -> None:
    line = only_problem(write_config(tmp_path, DEVOPS.replace('"acme"', f'"{prefix}"')))
    assert line == f"{DEVOPS_FILE}: name_prefix {expected}"


# --------------------------------------------------------------------------------------------
# Bad input: source {}
# --------------------------------------------------------------------------------------------
def source_devops(body: str) -> str:
    return f'account_id = "111111111111"\nregion = "eu-west-1"\nname_prefix = "acme"\nsource {{\n{body}\n}}\n'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('type = "github"\nrepository = "acme/infra"', 'source.type "github" must be one of codestar, codecommit, s3'),
        (
            'type = "codecomit"\nrepository = "infra"',
            'source.type "codecomit" must be one of codestar, codecommit, s3 (did you mean "codecommit"?)',
        ),
        ('type = "codestar"\nrepository = "infra"', 'source.repository "infra" must be owner/name for a codestar source'),
        ('type = "codestar"\nrepository = "acme/"', 'source.repository "acme/" must be owner/name for a codestar source'),
        ('type = "codecommit"\nrepository = "acme/infra"', 'source.repository "acme/infra" is not a CodeCommit repository name'),
        ('type = "s3"\nrepository = "infra.zip"', "source.bucket is required when type is s3"),
        (
            'type = "s3"\nrepository = "infra.zip"\nbucket = "Acme_Bucket"',
            'source.bucket "Acme_Bucket" may hold only lowercase letters, digits, dots and hyphens, and must '
            'start and end with a letter or digit',
        ),
        (
            'type = "s3"\nrepository = "infra.zip"\nbucket = "ab"',
            'source.bucket "ab" is 2 characters; S3 bucket names must be 3-63',
        ),
        (
            'type = "s3"\nrepository = "infra.zip"\nbucket = "192.168.1.1"',
            'source.bucket "192.168.1.1" must not be formatted as an IP address',
        ),
        (
            'type = "s3"\nrepository = "infra.zip"\nbucket = "acme..source"',
            'source.bucket "acme..source" must not contain two adjacent periods or a period next to a hyphen',
        ),
        (
            'type = "s3"\nrepository = "infra.zip"\nbucket = "xn--source"',
            'source.bucket "xn--source" uses a prefix or suffix that S3 reserves',
        ),
        ('type = "codestar"\nrepository = "acme/infra"\nbucket = "acme-source"', 'source.bucket is only used when type is "s3"'),
        (
            'type = "codecommit"\nrepository = "infra"\ntrigger_paths = ["a/**"]',
            'source.trigger_paths is only used when type is "codestar"',
        ),
        (
            'type = "codestar"\nrepository = "acme/infra"\nconnection_arn = "arn:aws:iam::111111111111:role/x"',
            'source.connection_arn "arn:aws:iam::111111111111:role/x" is not a CodeStar/CodeConnections connection ARN',
        ),
        (
            'type = "codestar"\nrepository = "acme/infra"\nconnection_provider = "github"',
            'source.connection_provider "github" must be one of GitHub, GitHubEnterpriseServer, GitLab, '
            'GitLabSelfManaged, Bitbucket (did you mean "GitHub"?)',
        ),
        (
            'type = "codestar"\nrepository = "acme/infra"\nbranch = "feature branch"',
            'source.branch "feature branch" is not a git branch name of 1-255 characters',
        ),
        ('repository = "acme/infra"', "source.type is required"),
    ],
)
def test_bad_source(tmp_path: Path, body: str, expected: str) -> None:
    assert only_problem(write_config(tmp_path, source_devops(body))) == f"{DEVOPS_FILE}: {expected}"


def test_source_given_as_a_list(tmp_path: Path) -> None:
    devops = 'account_id = "111111111111"\nregion = "eu-west-1"\nname_prefix = "acme"\nsource = ["acme/infra"]\n'
    assert only_problem(write_config(tmp_path, devops)) == f"{DEVOPS_FILE}: source must be a block (source {{ ... }}), got a list"


# --------------------------------------------------------------------------------------------
# Bad input: duplicates and interpolation
# --------------------------------------------------------------------------------------------
def test_duplicate_source_block(tmp_path: Path) -> None:
    devops = DEVOPS + 'source {\n  type = "codecommit"\n  repository = "infra"\n}\n'
    assert only_problem(write_config(tmp_path, devops)) == f"{DEVOPS_FILE}: source block is given 2 times; give it once"


def test_duplicate_deployment_role_block(tmp_path: Path) -> None:
    extra = 'deployment_role {\n  name = "a"\n}\ndeployment_role {\n  name = "b"\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == f"{DEV_FILE}: deployment_role block is given 2 times; give it once"


def test_attribute_set_twice(tmp_path: Path) -> None:
    text = 'account_id = "222222222222"\nregion = "eu-west-1"\norder = 1\norder = 2\n' + bootstrap_hcl()
    assert only_problem(write_config(tmp_path, envs={"dev": text})) == f"{DEV_FILE}: order is set twice (lines 3 and 4); keep one"


def test_attribute_set_twice_inside_a_block(tmp_path: Path) -> None:
    extra = 'deployment_role {\n  name = "a"\n  name = "b"\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == f"{DEV_FILE}: deployment_role.name is set twice (lines 4 and 5); keep one"


def test_block_and_attribute_of_the_same_name(tmp_path: Path) -> None:
    extra = 'deployment_role {\n  name = "a"\n}\ndeployment_role = {\n  name = "b"\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == f"{DEV_FILE}: deployment_role is set twice (lines 3 and 6); keep one"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            'tags = {\n  team = "${var.team}"\n}\n',
            'tags.team "${var.team}": interpolation is not supported in environments/ files',
        ),
        (
            'deployment_role {\n  managed_policy_arns = ["arn:aws:iam::${local.account}:policy/x"]\n}\n',
            'deployment_role.managed_policy_arns[0] "arn:aws:iam::${local.account}:policy/x": interpolation is not supported in environments/ files',
        ),
        (
            'deployment_role {\n  name = "deploy-${var.env}"\n}\n',
            'deployment_role.name "deploy-${var.env}": interpolation is not supported in environments/ files',
        ),
        ("order = 1 + 1\n", 'order must be a whole number, got string "${1 + 1}"'),
    ],
)
def test_interpolation_is_rejected(tmp_path: Path, extra: str, expected: str) -> None:
    assert only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)})) == f"{DEV_FILE}: {expected}"


def test_interpolation_in_region_and_trigger_paths(tmp_path: Path) -> None:
    devops = DEVOPS.replace('repository = "acme/infra"', 'repository = "acme/infra"\n  trigger_paths = ["${var.path}"]')
    environments = write_config(tmp_path, devops, {"dev": env_hcl(region="${var.region}")})
    assert problems(environments) == [
        f'{DEVOPS_FILE}: source.trigger_paths[0] "${{var.path}}": interpolation is not supported in environments/ files',
        f'{DEV_FILE}: region "${{var.region}}": interpolation is not supported in environments/ files',
    ]


def test_tag_with_characters_iam_refuses(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra='tags = {\n  team = "a;b"\n}\n')}))
    assert line == f'{DEV_FILE}: tags.team "a;b": tag keys and values may hold only letters, digits, spaces and _.:/=+-@'


def test_tag_value_too_long(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=f'tags = {{\n  team = "{"x" * 257}"\n}}\n')}))
    assert line == f"{DEV_FILE}: tags.team tag values must be at most 256 characters"


# --------------------------------------------------------------------------------------------
# Bad input: layout
# --------------------------------------------------------------------------------------------
def test_folder_without_environment_file(tmp_path: Path) -> None:
    environments = write_config(tmp_path, envs={"dev": DEV, "qa": None})
    assert only_problem(environments) == "environments/qa: has no environment.hcl: every environment folder needs one"


def test_environment_file_with_another_name(tmp_path: Path) -> None:
    environments = write_config(tmp_path, envs={"dev": DEV, "qa": None})
    (environments / "qa" / "environments.hcl").write_text(DEV)
    assert only_problem(environments) == "environments/qa: has no environment.hcl: every environment folder needs one"


def test_no_environments(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={}))
    assert line == "environments: holds no environment folder: add environments/<name>/environment.hcl"


def test_a_devops_file_that_is_a_folder_is_reported_as_a_folder_once(tmp_path: Path) -> None:
    environments = write_config(tmp_path, devops=None)
    (environments / "devops.hcl").mkdir()
    assert only_problem(environments) == "environments/devops.hcl: is a folder: it must be a file describing the DevOps account (see README, 'Environment format')"


def test_missing_devops_file(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, devops=None))
    assert line == "environments/devops.hcl: is missing: it describes the DevOps account (see README, 'Environment format')"


def test_missing_environments_folder(tmp_path: Path) -> None:
    assert only_problem(tmp_path / "environments").startswith("environments: is not a folder")


@pytest.mark.parametrize("folder", ["Prod", "1dev", "my_env", "dev.eu", "a" * 21, "dév"])
def test_invalid_folder_name(tmp_path: Path, folder: str) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": DEV, folder: DEV}))
    assert line == (
        f"environments/{folder}: folder name must be 1-20 characters: lowercase letters, digits and hyphens, "
        "starting with a letter (it becomes part of stack and resource names)"
    )


def test_valid_folder_names_at_the_limits(tmp_path: Path) -> None:
    envs = {"a": env_hcl("222222222222"), "b" * 20: env_hcl("333333333333"), "eu-1": env_hcl("444444444444")}
    assert sorted(env.name for env in load(write_config(tmp_path, envs=envs)).environments) == ["a", "b" * 20, "eu-1"]


# --------------------------------------------------------------------------------------------
# Bad input: HCL syntax and odd files
# --------------------------------------------------------------------------------------------
def test_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    text = 'account_id = "222222222222"\nregion = = "eu-west-1"\n'
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": text}))
    assert line == f"{DEV_FILE}:2: HCL syntax error at column 10: unexpected '='"


def test_syntax_error_unexpected_character(tmp_path: Path) -> None:
    text = 'account_id = "222222222222"\nregion = "eu-west-1"\n  order ~ 1\n'
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": text}))
    assert line.startswith(f"{DEV_FILE}:3: HCL syntax error at column ")
    assert "'~'" in line


def test_unclosed_block(tmp_path: Path) -> None:
    text = 'account_id = "222222222222"\nregion = "eu-west-1"\ndeployment_role {\n  name = "x"\n'
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": text}))
    assert line == f"{DEV_FILE}:5: HCL syntax error at column 1: unexpected end of file (an unclosed block, string or bracket?)"


def test_unclosed_string(tmp_path: Path) -> None:
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": 'account_id = "2222'}))
    assert line.startswith(f"{DEV_FILE}:1: HCL syntax error at column ")
    assert line.endswith("unexpected end of file (an unclosed block, string or bracket?)")


def test_file_that_is_a_list(tmp_path: Path) -> None:
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": '["a", "b"]\n'}))
    assert line.startswith(f"{DEV_FILE}:1: HCL syntax error at column 1: unexpected ")


def test_json_file(tmp_path: Path) -> None:
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": '{"account_id": "222222222222"}\n'}))
    assert line.startswith(f"{DEV_FILE}:1: HCL syntax error at column 1")


def test_not_utf8(tmp_path: Path) -> None:
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": b'account_id = "\xff\xfe"\nregion = "eu-west-1"\n'}))
    assert line == f"{DEV_FILE}: cannot read: not UTF-8 text"


def test_nul_byte(tmp_path: Path) -> None:
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": b'account_id = "222222222222"\x00\nregion = "eu-west-1"\n'}))
    assert line == f"{DEV_FILE}:1: HCL syntax error at column 28: unexpected '\\x00'"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('"22\\n22"', '"22\\n22"'),
        ("<<EOT\n2222\nEOT", '"<<EOT\\n2222\\nEOT"'),
        ('"22\u202822"', '"22\\u202822"'),
    ],
)
def test_line_breaks_in_values_stay_on_one_line(tmp_path: Path, value: str, shown: str) -> None:
    text = f'account_id = {value}\nregion = "eu-west-1"\n' + bootstrap_hcl()
    line = only_problem(write_config(tmp_path, envs={"dev": text}))
    assert line == f"{DEV_FILE}: account_id {shown} must be 12 digits"


def test_line_break_in_tag_key_stays_on_one_line(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra='tags = {\n  "a\\nb" = 1\n}\n')}))
    assert line == f"{DEV_FILE}: tags.a\\nb must be a quoted string, got number 1"


# --------------------------------------------------------------------------------------------
# Names AWS would refuse
# --------------------------------------------------------------------------------------------
def test_explicit_role_name_longer_than_64(tmp_path: Path) -> None:
    name = "r" * 65
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=f'deployment_role {{\n  name = "{name}"\n}}\n')}))
    assert line == f'{DEV_FILE}: deployment_role.name "{name}" must be 1-64 characters of letters, digits and +=,.@_-'


def test_role_name_of_64_is_accepted(tmp_path: Path) -> None:
    name = "r" * 64
    project = load(write_config(tmp_path, envs={"dev": env_hcl(extra=f'deployment_role {{\n  name = "{name}"\n}}\n')}))
    assert project.environments[0].deployment_role.name == name


def test_name_prefix_that_makes_reserved_bucket_names_is_one_problem_on_name_prefix(tmp_path: Path) -> None:
    devops = DEVOPS.replace('"acme"', '"xn--acme"')
    assert problems_with_lines(write_config(tmp_path, devops)) == [
        f'{DEVOPS_FILE}:3: name_prefix "xn--acme" makes bucket names S3 refuses: "xn--acme-tfstate-111111111111-eu-west-1" '
        "uses a prefix or suffix that S3 reserves"
    ]


def test_name_prefix_ending_in_hyphen_is_still_a_valid_bucket(tmp_path: Path) -> None:
    project = load(write_config(tmp_path, DEVOPS.replace('"acme"', '"acme-"')))
    assert project.naming.state_bucket == "acme--tfstate-111111111111-eu-west-1"


def test_same_role_name_in_the_same_account(tmp_path: Path) -> None:
    role = 'deployment_role {\n  name = "shared-deploy"\n}\n'
    envs = {"dev": env_hcl(extra=role), "test": env_hcl(extra=role)}
    line = only_problem(write_config(tmp_path, envs=envs))
    assert line == (
        'environments/test/environment.hcl: deployment_role.name "shared-deploy" is also used by environment "dev" '
        "in account 222222222222; give one of them another name"
    )


def test_role_names_that_differ_only_in_case_clash_in_one_account(tmp_path: Path) -> None:
    """IAM role names are case-insensitive: Acme-Deploy-Dev and acme-deploy-dev are one role."""
    envs = {"dev": env_hcl(), "test": env_hcl(extra='order = 2\ndeployment_role {\n  name = "Acme-Deploy-Dev"\n}\n')}
    line = only_problem(write_config(tmp_path, envs=envs))
    assert line == (
        'environments/test/environment.hcl: deployment_role.name "Acme-Deploy-Dev" is also used by environment "dev" '
        "in account 222222222222; give one of them another name"
    )


def test_role_names_that_differ_only_in_case_are_fine_in_different_accounts(tmp_path: Path) -> None:
    envs = {"dev": env_hcl("222222222222"), "test": env_hcl("333333333333", extra='deployment_role {\n  name = "Acme-Deploy-Dev"\n}\n')}
    project = load(write_config(tmp_path, envs=envs))
    assert [env.deployment_role.name for env in project.environments] == ["acme-deploy-dev", "Acme-Deploy-Dev"]


def test_deployment_role_named_like_a_plan_role_in_another_case(tmp_path: Path) -> None:
    role = 'deployment_role {\n  name = "ACME-PLAN-DEV"\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=role)}))
    assert line == (
        f'{DEV_FILE}: deployment_role.name "ACME-PLAN-DEV" is the name of the read-only plan role '
        'of environment "dev" in account 222222222222; choose another name'
    )


def test_plan_trusted_role_arns_are_loaded_apart_from_extra_trusted_role_arns(tmp_path: Path) -> None:
    role = (
        "deployment_role {\n"
        '  extra_trusted_role_arns = ["arn:aws:iam::111111111111:role/break-glass"]\n'
        '  plan_trusted_role_arns  = ["arn:aws:iam::111111111111:role/operator", "arn:aws:iam::999999999999:role/gha-plan"]\n'
        "}\n"
    )
    (env,) = load(write_config(tmp_path, envs={"dev": env_hcl(extra=role)})).environments
    assert env.deployment_role.extra_trusted_role_arns == ("arn:aws:iam::111111111111:role/break-glass",)
    assert env.deployment_role.plan_trusted_role_arns == ("arn:aws:iam::111111111111:role/operator", "arn:aws:iam::999999999999:role/gha-plan")
    assert env.deployment_role.name == "acme-deploy-dev", "the block keeps its defaults"


def test_unknown_key_near_plan_trusted_role_arns_suggests_it(tmp_path: Path) -> None:
    role = 'deployment_role {\n  plan_trusted_roles = ["arn:aws:iam::111111111111:role/operator"]\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=role)}))
    assert line == f'{DEV_FILE}: unknown field deployment_role.plan_trusted_roles (did you mean "plan_trusted_role_arns"?)'


def test_explicit_name_clashing_with_a_default_name(tmp_path: Path) -> None:
    envs = {"dev": env_hcl(), "test": env_hcl(extra='order = 2\ndeployment_role {\n  name = "acme-deploy-dev"\n}\n')}
    line = only_problem(write_config(tmp_path, envs=envs))
    assert line.startswith('environments/test/environment.hcl: deployment_role.name "acme-deploy-dev" is also used by environment "dev"')


def test_deployment_role_named_like_another_environments_plan_role(tmp_path: Path) -> None:
    """Both roles live in the same account: the read-only plan role and a deployment role cannot share a name."""
    envs = {"dev": env_hcl(), "test": env_hcl(extra='order = 2\ndeployment_role {\n  name = "acme-plan-dev"\n}\n')}
    line = only_problem(write_config(tmp_path, envs=envs))
    assert line == (
        'environments/test/environment.hcl: deployment_role.name "acme-plan-dev" is the name of the read-only plan role '
        'of environment "dev" in account 222222222222; choose another name'
    )


def test_deployment_role_named_like_its_own_plan_role(tmp_path: Path) -> None:
    role = 'deployment_role {\n  name = "acme-plan-dev"\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=role)}))
    assert line == (
        f'{DEV_FILE}: deployment_role.name "acme-plan-dev" is the name of the read-only plan role '
        'of environment "dev" in account 222222222222; choose another name'
    )


def test_plan_role_name_in_another_account_is_fine(tmp_path: Path) -> None:
    envs = {"dev": env_hcl("222222222222"), "test": env_hcl("333333333333", extra='deployment_role {\n  name = "acme-plan-dev"\n}\n')}
    project = load(write_config(tmp_path, envs=envs))
    by_name = {env.name: env for env in project.environments}
    assert by_name["test"].deployment_role.name == "acme-plan-dev"
    assert project.plan_role_arn(by_name["dev"]) == "arn:aws:iam::222222222222:role/acme-plan-dev"
    assert project.deployment_role_arn(by_name["test"]) == "arn:aws:iam::333333333333:role/acme-plan-dev"


def test_same_role_name_in_different_accounts_is_fine(tmp_path: Path) -> None:
    role = 'deployment_role {\n  name = "shared-deploy"\n}\n'
    envs = {"dev": env_hcl("222222222222", extra=role), "test": env_hcl("333333333333", extra=role)}
    project = load(write_config(tmp_path, envs=envs))
    assert [env.deployment_role.name for env in project.environments] == ["shared-deploy", "shared-deploy"]


def test_default_role_names_in_one_account_do_not_clash(tmp_path: Path) -> None:
    project = load(write_config(tmp_path, envs={"dev": env_hcl(), "test": env_hcl()}))
    assert [env.deployment_role.name for env in project.environments] == ["acme-deploy-dev", "acme-deploy-test"]


def test_administrator_access_without_boundary_is_rejected(tmp_path: Path) -> None:
    role = 'deployment_role {\n  managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]\n}\n'
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=role)}))
    assert line == (
        f"{DEV_FILE}: deployment_role.managed_policy_arns grants AdministratorAccess without a permissions_boundary_arn; "
        "set a boundary or use narrower policies"
    )


def test_administrator_access_with_boundary_is_accepted(tmp_path: Path) -> None:
    role = (
        "deployment_role {\n"
        '  managed_policy_arns      = ["arn:aws-us-gov:iam::aws:policy/AdministratorAccess"]\n'
        '  permissions_boundary_arn = "arn:aws-us-gov:iam::222222222222:policy/boundary"\n'
        "}\n"
    )
    project = load(write_config(tmp_path, GOVCLOUD_DEVOPS, envs={"dev": env_hcl(region="us-gov-west-1", extra=role)}))
    assert project.environments[0].deployment_role.permissions_boundary_arn == "arn:aws-us-gov:iam::222222222222:policy/boundary"


# --------------------------------------------------------------------------------------------
# Partitions: China and GovCloud (US) installations, and nothing that crosses partitions
# --------------------------------------------------------------------------------------------
GOVCLOUD_DEVOPS = DEVOPS.replace('"eu-west-1"', '"us-gov-west-1"')


@pytest.mark.parametrize(
    ("region", "partition"),
    [("eu-west-1", "aws"), ("us-east-1", "aws"), ("cn-north-1", "aws-cn"), ("cn-northwest-1", "aws-cn"),
     ("us-gov-west-1", "aws-us-gov"), ("us-gov-east-1", "aws-us-gov")],
)  # fmt: skip
def test_the_partition_follows_the_devops_region(region: str, partition: str) -> None:
    naming = Naming("acme", "111111111111", region)
    assert naming.partition == partition
    assert naming.role_arn("222222222222", "x") == f"arn:{partition}:iam::222222222222:role/x"
    assert naming.state_bucket_arn == f"arn:{partition}:s3:::{naming.state_bucket}"
    assert naming.pipeline_arn == f"arn:{partition}:codepipeline:{region}:111111111111:acme-delivery"


def test_a_china_installation_names_every_role_and_default_policy_in_aws_cn(tmp_path: Path) -> None:
    devops = DEVOPS.replace('"eu-west-1"', '"cn-north-1"')
    project = load(write_config(tmp_path, devops, envs={"dev": env_hcl(region="cn-northwest-1")}))
    (env,) = project.environments
    assert project.deployment_role_arn(env) == "arn:aws-cn:iam::222222222222:role/acme-deploy-dev"
    assert project.plan_role_arn(env) == "arn:aws-cn:iam::222222222222:role/acme-plan-dev"
    assert env.deployment_role.managed_policy_arns == ("arn:aws-cn:iam::aws:policy/PowerUserAccess",)


def test_an_environment_in_another_partition_is_refused(tmp_path: Path) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(region="cn-north-1")}))
    assert line == (
        f'{DEV_FILE}: region "cn-north-1" is in the aws-cn partition, but the DevOps region eu-west-1 is in aws: '
        "a pipeline deploys only within its own partition"
    )


@pytest.mark.parametrize(
    ("extra", "field", "arn"),
    [
        ('deployment_role {\n  plan_trusted_role_arns = ["arn:aws:iam::111111111111:role/ok", "arn:aws-us-gov:iam::999999999999:role/gha"]\n}\n',
         "deployment_role.plan_trusted_role_arns[1]", "arn:aws-us-gov:iam::999999999999:role/gha"),
        ('deployment_role {\n  managed_policy_arns = ["arn:aws-cn:iam::aws:policy/ReadOnlyAccess"]\n}\n',
         "deployment_role.managed_policy_arns[0]", "arn:aws-cn:iam::aws:policy/ReadOnlyAccess"),
        ('bootstrap {\n  role_arn = "arn:aws-us-gov:iam::222222222222:role/admin"\n}\n',
         "bootstrap.role_arn", "arn:aws-us-gov:iam::222222222222:role/admin"),
    ],
)  # fmt: skip
def test_an_arn_in_another_partition_is_refused_naming_file_and_field(tmp_path: Path, extra: str, field: str, arn: str) -> None:
    line = only_problem(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == f'{DEV_FILE}: {field} "{arn}" is in the {arn.split(":")[1]} partition, but region eu-west-1 is in aws'


def test_a_connection_in_another_partition_is_refused(tmp_path: Path) -> None:
    connection = "arn:aws:codestar-connections:us-east-1:111111111111:connection/abc"
    devops = GOVCLOUD_DEVOPS.replace('repository = "acme/infra"', f'repository = "acme/infra"\n  connection_arn = "{connection}"')
    line = only_problem(write_config(tmp_path, devops, envs={"dev": env_hcl(region="us-gov-west-1")}))
    assert line == f'{DEVOPS_FILE}: source.connection_arn "{connection}" is in the aws partition, but region us-gov-west-1 is in aws-us-gov'


# --------------------------------------------------------------------------------------------
# Line numbers
# --------------------------------------------------------------------------------------------
def test_a_field_problem_names_the_line_of_the_field(tmp_path: Path) -> None:
    text = '# dev\n\naccount_id = "1234"\nregion     = "eu-west-1"\nbootstrap {\n  profile = "admin"\n}\n'
    assert problems_with_lines(write_config(tmp_path, envs={"dev": text})) == [f'{DEV_FILE}:3: account_id "1234" must be 12 digits']


def test_nested_fields_list_items_and_map_keys_name_their_own_line(tmp_path: Path) -> None:
    extra = (
        "deployment_role {\n"  # line 3
        '  name = "bad name"\n'  # 4
        "  managed_policy_arns = [\n"  # 5
        '    "arn:aws:iam::aws:policy/ReadOnlyAccess",\n'  # 6
        '    "not-an-arn",\n'  # 7
        "  ]\n"
        "}\n"
        "tags = {\n"  # 10
        '  team = "a"\n'  # 11
        '  "aws:x" = "b"\n'  # 12
        "}\n"
        'step "smoke" {\n'  # 14
        '  when = "later"\n'  # 15
        '  commands = ["true"]\n'
        "}\n"
    )
    lines = problems_with_lines(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert sorted(line.split(": ", 1)[0] for line in lines) == [f"{DEV_FILE}:{n}" for n in (12, 15, 4, 7)], lines


def test_a_missing_field_names_its_block_or_no_line(tmp_path: Path) -> None:
    devops = 'account_id = "111111111111"\nregion = "eu-west-1"\nname_prefix = "acme"\n\nsource {\n  type = "codestar"\n}\n'
    assert problems_with_lines(write_config(tmp_path, devops)) == [f"{DEVOPS_FILE}:5: source.repository is required"]
    assert problems_with_lines(write_config(tmp_path / "2", 'region = "eu-west-1"\nname_prefix = "acme"\nsource {\n  type = "s3"\n  repository = "a.zip"\n  bucket = "acme-source"\n}\n')) == [
        f"{DEVOPS_FILE}: account_id is required"
    ]


def test_problems_carry_file_line_field_and_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load(write_config(tmp_path, envs={"dev": env_hcl(account_id="1234")}))
    (problem,) = caught.value.details
    assert (problem.file, problem.line, problem.field, problem.message) == (DEV_FILE, 1, "account_id", 'account_id "1234" must be 12 digits')


# --------------------------------------------------------------------------------------------
# Every problem at once
# --------------------------------------------------------------------------------------------
def test_every_problem_in_every_file_is_reported_together(tmp_path: Path) -> None:
    envs = {
        "dev": env_hcl(account_id="1234"),
        "qa-two": env_hcl("555555555555", extra='bootstrap {\n  role_arn = "arn:aws:iam::666666666666:role/admin"\n}\n'),
        "staging": env_hcl("333333333333", extra="requires_approval = \"yes\"\nordr = 2\n"),
        "prod": 'account_id = "444444444444"\nregion = = "eu-west-1"\n',
        "qa": None,
        "Bad_Name": DEV,
    }
    lines = problems(write_config(tmp_path, DEVOPS.replace('"eu-west-1"', '"eu-west-7"'), envs))
    expected = [
        'environments/devops.hcl: region "eu-west-7" is not an AWS region code (did you mean "eu-west-3"?)',
        'environments/dev/environment.hcl: account_id "1234" must be 12 digits',
        'environments/staging/environment.hcl: unknown field ordr (did you mean "order"?)',
        'environments/staging/environment.hcl: requires_approval must be true or false (unquoted), got string "yes"',
        "environments/prod/environment.hcl: HCL syntax error at column 10: unexpected '='",
        "environments/qa: has no environment.hcl: every environment folder needs one",
        'environments/qa-two/environment.hcl: bootstrap.role_arn "arn:aws:iam::666666666666:role/admin" is in account '
        "666666666666: the provider must act in this environment's account 555555555555",
        "environments/Bad_Name: folder name must be 1-20 characters: lowercase letters, digits and hyphens, "
        "starting with a letter (it becomes part of stack and resource names)",
    ]
    assert sorted(lines) == sorted(expected)


def test_environment_problems_are_reported_even_when_devops_is_broken(tmp_path: Path) -> None:
    environments = write_config(tmp_path, "account_id = 1\n", {"dev": env_hcl(region="mars-1")})
    lines = problems(environments)
    assert f"{DEVOPS_FILE}: account_id must be a quoted string, got number 1" in lines
    assert f'{DEV_FILE}: region "mars-1" is not an AWS region code' in lines


# --------------------------------------------------------------------------------------------
# Odd input never crashes
# --------------------------------------------------------------------------------------------
VALID_ENV = """\
account_id        = "222222222222"
region            = "eu-west-1"
order             = 2
requires_approval = true
deployment_role {
  name                 = "deployer"
  managed_policy_arns  = ["arn:aws:iam::aws:policy/PowerUserAccess"]
  max_session_duration = 3600
  external_id          = "ext-id"
}
tags = {
  team = "platform"
}
bootstrap {
  role_arn = "arn:aws:iam::222222222222:role/admin"
}
"""

ODD_VALUES = ("true", "1", "-1", "1.5", "null", "[]", "{}", '["a"]', "[[1]]", '{ a = 1 }', '"x"', '"${x}"', '"a\\nb"', "<<EOT\nx\nEOT", "foo", "upper(x)")  # fmt: skip

ODD_SNIPPETS = (
    "",
    "\n\n\n",
    "# only a comment\n",
    "[1, 2]\n",
    "{}\n",
    '"account_id" = "1"\n',
    "account_id\n",
    "= 1\n",
    "}\n",
    "{\n",
    "deployment_role {\n}\n",
    "deployment_role \"label\" {\n  name = \"x\"\n}\n",
    "deployment_role {\n  deployment_role {\n    name = 1\n  }\n}\n",
    "deployment_role = null\n",
    "deployment_role = [{}, {}]\n",
    "deployment_role = [{ name = \"a\" }, 1]\n",
    "tags = {\n  (var.k) = \"v\"\n}\n",
    "tags = { for k in [] : k => k }\n",
    "locals {\n  a = 1\n}\n",
    "order = 99999999999999999999999999\n",
    "order = 1e3\n",
    "region.x = 1\n",
    "in {\n}\n",
    "null = 1\n",
)


def mutations() -> list[str]:
    texts = list(ODD_SNIPPETS)
    texts += [VALID_ENV + snippet for snippet in ODD_SNIPPETS]
    lines = VALID_ENV.splitlines(keepends=True)
    texts += ["".join(lines[:index] + lines[index + 1 :]) for index in range(len(lines))]
    texts += [VALID_ENV[:cut] for cut in range(0, len(VALID_ENV), 23)]
    for key in ("account_id", "region", "order", "requires_approval", "name", "managed_policy_arns", "max_session_duration", "external_id", "team"):  # fmt: skip
        line = next(line for line in lines if line.strip().startswith(key))
        texts += [VALID_ENV.replace(line, f"{line.split('=')[0]}= {value}\n") for value in ODD_VALUES]
    texts += [VALID_ENV.replace("deployment_role {", f"deployment_role = {value}\ndeployment_role_old {{") for value in ODD_VALUES]
    texts += [VALID_ENV.replace("tags = {", f"tags = {value}\ntags_old = {{") for value in ODD_VALUES]
    return texts


def test_odd_environment_files_give_config_errors_or_load(tmp_path: Path) -> None:
    outcomes = {"loaded": 0, "rejected": 0}
    for index, text in enumerate(mutations()):
        try:
            project = load(write_config(tmp_path / str(index), envs={"dev": text}))
        except ConfigErrors as error:
            outcomes["rejected"] += 1
            assert error.problems, text
            for line in error.problems:
                assert len(line.splitlines()) == 1, (text, line)
                assert without_line(line).startswith(("environments/dev/environment.hcl: ", "environments/devops.hcl: ")), (text, line)
        else:
            outcomes["loaded"] += 1
            assert project.environments[0].name == "dev"
    assert outcomes["rejected"] > 100
    assert outcomes["loaded"] > 0


def test_odd_devops_files_give_config_errors_or_load(tmp_path: Path) -> None:
    lines = DEVOPS.splitlines(keepends=True)
    texts = list(ODD_SNIPPETS) + [DEVOPS + snippet.replace("deployment_role", "source") for snippet in ODD_SNIPPETS]
    texts += ["".join(lines[:index] + lines[index + 1 :]) for index in range(len(lines))]
    texts += [DEVOPS.replace('"codestar"', value) for value in ODD_VALUES]
    texts += [DEVOPS + f"build = {value}\n" for value in ODD_VALUES]
    texts += [DEVOPS + f"notification_emails = {value}\n" for value in ODD_VALUES]
    rejected = 0
    for index, text in enumerate(texts):
        try:
            load(write_config(tmp_path / str(index), text))
        except ConfigErrors as error:
            rejected += 1
            for line in error.problems:
                assert len(line.splitlines()) == 1, (text, line)
                assert line.startswith("environments/"), (text, line)
    assert rejected >= len(texts) - 8  # the few harmless ones: empty additions, null or empty optional fields


# --------------------------------------------------------------------------------------------
# AWS rules check refuses before any synth (docs/configuration-rules.md lists them)
# --------------------------------------------------------------------------------------------
def tags_hcl(tags: dict[str, str]) -> str:
    return "tags = {\n" + "".join(f'  "{key}" = "{value}"\n' for key, value in tags.items()) + "}\n"


def test_more_tags_than_aws_allows_per_resource_are_refused_counting_the_products_own(tmp_path: Path) -> None:
    """ManagedBy, Project and Environment go on every resource too: 47 of the team's own fit, 48 do not."""
    load(write_config(tmp_path / "ok", envs={"dev": env_hcl(extra=tags_hcl({f"k{i}": "v" for i in range(47)}))}))
    line = only_problem_with_line(write_config(tmp_path / "over", envs={"dev": env_hcl(extra=tags_hcl({f"k{i}": "v" for i in range(48)}))}))
    assert line == (
        f"{DEV_FILE}:3: tags has 48 tags; with the product's ManagedBy, Project and Environment that is 51 on every resource, "
        "over AWS's 50 tags per resource"
    )


def test_tag_keys_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    lines = problems(write_config(tmp_path, envs={"dev": env_hcl(extra=tags_hcl({"Team": "a", "team": "b", "environment": "x"}))}))
    assert lines == [
        f'{DEV_FILE}: tags.team differs from tags.Team only in case: IAM tag keys are case-insensitive, keep one',
        f'{DEV_FILE}: tags.environment differs from the product\'s tag Environment only in case: IAM tag keys are '
        'case-insensitive; write "Environment" to replace the product\'s value, or choose another key',
    ]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"k" * 129: "v"}, f'tags.{"k" * 129} tag keys must be 1-128 characters and must not start with aws:'),
        ({"AWS:team": "v"}, "tags.AWS:team tag keys must be 1-128 characters and must not start with aws:"),
        ({"team": "v" * 257}, "tags.team tag values must be at most 256 characters"),
        ({"team": "a;b"}, 'tags.team "a;b": tag keys and values may hold only letters, digits, spaces and _.:/=+-@'),
    ],
)
def test_tag_key_and_value_rules(tmp_path: Path, tags: dict[str, str], expected: str) -> None:
    assert only_problem(write_config(tmp_path, DEVOPS + tags_hcl(tags))) == f"{DEVOPS_FILE}: {expected}"


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ("[]", "source.trigger_paths is empty: leave it out to start a release on any change"),
        (
            "[" + ", ".join(f'"p{i}/**"' for i in range(9)) + "]",
            "source.trigger_paths has 9 entries; CodePipeline git triggers take 1-8 file paths",
        ),
        ('["' + "a" * 256 + '"]', f'source.trigger_paths[0] "{"a" * 256}" must be 1-255 characters (a CodePipeline git trigger file path)'),
        ('[""]', 'source.trigger_paths[0] "" must be 1-255 characters (a CodePipeline git trigger file path)'),
    ],
)
def test_trigger_paths_follow_codepipeline_git_trigger_rules(tmp_path: Path, paths: str, expected: str) -> None:
    devops = source_devops(f'type = "codestar"\nrepository = "acme/infra"\ntrigger_paths = {paths}')
    assert only_problem(write_config(tmp_path, devops)) == f"{DEVOPS_FILE}: {expected}"


def test_eight_trigger_paths_are_accepted(tmp_path: Path) -> None:
    paths = "[" + ", ".join(f'"p{i}/**"' for i in range(8)) + "]"
    project = load(write_config(tmp_path, source_devops(f'type = "codestar"\nrepository = "acme/infra"\ntrigger_paths = {paths}')))
    assert len(project.devops.source.trigger_paths) == 8


def test_more_than_twenty_managed_policies_are_refused_naming_the_quota(tmp_path: Path) -> None:
    policies = ", ".join(f'"arn:aws:iam::222222222222:policy/p{i}"' for i in range(21))
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": env_hcl(extra=f"deployment_role {{\n  managed_policy_arns = [{policies}]\n}}\n")}))
    assert line == (
        f"{DEV_FILE}:4: deployment_role.managed_policy_arns has 21 policies; IAM attaches at most 10 managed policies "
        "per role by default and 20 when the quota is raised: combine policies into fewer managed policies"
    )


def test_a_bootstrap_role_in_another_account_is_refused(tmp_path: Path) -> None:
    extra = 'bootstrap {\n  role_arn = "arn:aws:iam::999999999999:role/admin"\n}\n'
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == (
        f'{DEV_FILE}:4: bootstrap.role_arn "arn:aws:iam::999999999999:role/admin" is in account 999999999999: '
        "the provider must act in this environment's account 222222222222"
    )


def test_extra_trusted_roles_must_be_in_the_devops_account(tmp_path: Path) -> None:
    extra = 'deployment_role {\n  extra_trusted_role_arns = ["arn:aws:iam::111111111111:role/ok", "arn:aws:iam::999999999999:role/break-glass"]\n}\n'
    line = only_problem_with_line(write_config(tmp_path, envs={"dev": env_hcl(extra=extra)}))
    assert line == (
        f'{DEV_FILE}:4: deployment_role.extra_trusted_role_arns[1] "arn:aws:iam::999999999999:role/break-glass" is in account '
        "999999999999: extra_trusted_role_arns are DevOps-account roles (111111111111); a role of another account goes in plan_trusted_role_arns"
    )


@pytest.mark.parametrize(
    "email",
    ["a@example..com", ".a@example.com", "a.@example.com", "a..b@example.com", "a@-example.com", "a@example-.com", "a@.example.com",
     "a@example.com.", "a@example", "a b@example.com", "a@exa_mple.com", f"{'a' * 65}@example.com", f"a@{'b' * 64}.com"],
)  # fmt: skip
def test_malformed_emails_are_refused(tmp_path: Path, email: str) -> None:
    line = only_problem(write_config(tmp_path, DEVOPS + f'notification_emails = ["{email}"]\n'))
    assert line == f'{DEVOPS_FILE}: notification_emails[0] "{email}" is not an email address'


def test_ordinary_emails_are_accepted(tmp_path: Path) -> None:
    emails = ["a@example.com", "first.last+tag@mail.example.co.uk", "ops-team@xn--bcher-kva.example", "o'brien@example.io"]
    project = load(write_config(tmp_path, DEVOPS + "notification_emails = [" + ", ".join(f'"{e}"' for e in emails) + "]\n"))
    assert project.devops.notification_emails == tuple(emails)


def test_an_environment_role_named_like_a_devops_role_in_the_devops_account_is_refused(tmp_path: Path) -> None:
    extra = 'deployment_role {\n  name = "acme-synth-build"\n}\n'
    envs = {"dev": env_hcl(), "tools": env_hcl("111111111111", extra=extra), "broken": env_hcl(account_id="1")}
    lines = problems_with_lines(write_config(tmp_path, envs=envs))
    assert "environments/tools/environment.hcl:4: deployment_role.name \"acme-synth-build\" is a role the devops stack creates in account " \
        "111111111111 (IAM role names are unique in an account); choose another name" in lines, lines


def test_two_steps_whose_codebuild_projects_share_a_name_are_refused(tmp_path: Path) -> None:
    """Step "a-b" of environment "c" and step "a" of environment "b-c" are both the project acme-step-a-b-c."""
    def step(name: str) -> str:
        return f'step "{name}" {{\n  when = "after-apply"\n  commands = ["true"]\n}}\n'

    envs = {"c": env_hcl(extra=step("a-b")), "b-c": env_hcl("333333333333", extra=step("a"))}
    assert problems(write_config(tmp_path, envs=envs)) == [
        'environments/c/environment.hcl: step "a-b": its CodeBuild project acme-step-a-b-c in account 111111111111 '
        'is also the project of step "a" of environment b-c; rename one of the steps'
    ]


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    import time

    padding = "# " + "x" * 98 + "\n"
    environments = write_config(tmp_path, envs={"dev": env_hcl() + padding * (4 * 1024 * 1024 // len(padding))})
    started = time.monotonic()
    line = only_problem(environments)
    assert time.monotonic() - started < 2
    assert line == f"{DEV_FILE}: is {(environments / 'dev' / 'environment.hcl').stat().st_size:,} bytes, over the 256 KiB a configuration file may hold"


def test_more_environments_than_one_installation_holds_are_refused_at_once(tmp_path: Path) -> None:
    limit = limits.ENVIRONMENTS.limit
    envs = {f"e{i:03d}": env_hcl(f"2{i:011d}") for i in range(limit + 1)}
    assert problems(write_config(tmp_path, envs=envs)) == [
        f"environments: holds {limit + 1} environment folders, over the {limit} one installation "
        "may hold (its pipeline's stages and the pull-request plan's role and buildspec grow with each)"
    ]
