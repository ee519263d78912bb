"""What the platform team declared: ``environments/`` parsed into frozen dataclasses.

Nothing here imports cdktf or the provider bindings: a bad configuration is reported in well under a
second, with every problem at once, each on one line naming the file (relative to the repository)
and the field.

Layout::

    environments/
      devops.hcl                 the DevOps account (DevOpsConfig)
      <name>/environment.hcl     one workload environment per folder (EnvironmentConfig)
    workloads/
      workload.hcl               the team's workload: its entry point and the inputs environments set (WorkloadConfig)
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping

from provisioner.configuration import limits
from provisioner.configuration.naming import Naming, aws_managed_policy_arn, bootstrap_stack, partition_of, standard_tags, workload_stack
from provisioner.errors import ConfigErrors
from provisioner.paths import ENVIRONMENTS_DIR, ENVIRONMENTS_VARIABLE, REPO_ROOT, WORKLOAD_FILE, importable_repository

DEVOPS_FILE = "devops.hcl"
ENVIRONMENT_FILE = "environment.hcl"

# AWS region codes (commercial, China, GovCloud). A typo such as "eu-west-7" is caught at load time.
AWS_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
        "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
        "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1",
        "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1",
        "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
        "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
    }
)  # fmt: skip

SOURCE_TYPES = ("codestar", "codecommit", "s3")
CONNECTION_PROVIDERS = ("GitHub", "GitHubEnterpriseServer", "GitLab", "GitLabSelfManaged", "Bitbucket")
CODEBUILD_COMPUTE_TYPES = (
    "BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
)  # fmt: skip
# Retention values CloudWatch Logs accepts.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip

DEFAULT_MANAGED_POLICIES = ("PowerUserAccess",)
"""AWS managed policies of a deployment role whose environment.hcl names none, in the environment's partition."""
DEFAULT_MANAGED_POLICY_ARNS = tuple(aws_managed_policy_arn("aws", name) for name in DEFAULT_MANAGED_POLICIES)
"""The same in the commercial partition (what the field reference shows)."""
ADMIN_POLICY_ARN_SUFFIX = ":iam::aws:policy/AdministratorAccess"

ACCOUNT_ID = re.compile(r"^\d{12}$", re.ASCII)
ENVIRONMENT_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,19}$")
POLICY_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$", re.ASCII)
ROLE_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:iam::\d{12}:role/[\w+=,.@/-]+$", re.ASCII)
CONNECTION_ARN = re.compile(r"^arn:aws(-cn|-us-gov)?:(codestar-connections|codeconnections):[a-z0-9-]+:\d{12}:connection/[\w-]+$", re.ASCII)
SECRET_NAME = re.compile(r"^[\w/+=.@-]{1,512}$", re.ASCII)
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$", re.ASCII)
EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$", re.ASCII)
PROFILE = re.compile(r"^[\w+=,.@:/-]{1,128}$", re.ASCII)
CHAINED_SESSION_SECONDS = 3600
"""A role session obtained with another role's credentials (CodeBuild assuming a deployment role) lasts
at most one hour, whatever the role's max_session_duration says."""
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The dot-atom form of RFC 5322 (no quoted local parts, which SNS and most mail systems refuse anyway), with
# RFC 5321's lengths: 64 for the local part, 254 in all; the domain has at least two labels.
EMAIL = re.compile(rf"^(?=.{{1,254}}$)(?=[^@]{{1,64}}@){_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$", re.ASCII)
BRANCH = re.compile(rf"^[^\s~^:?*\[\\]{{1,{limits.BRANCH.limit}}}$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
CODEBUILD_IMAGE = re.compile(r"^[\w./:@-]+$", re.ASCII)
# Besides letters and digits, the characters IAM accepts in tags (tags go on the deployment role too).
TAG_PUNCTUATION = frozenset(" _.:/=+-@")
ENTRY = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$", re.ASCII)
INPUT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
INPUT_TYPES = ("string", "number", "bool", "list(string)", "map(string)")
SCHEDULE = re.compile(r"^(rate\((?P<value>[1-9]\d{0,5}) (?P<unit>minutes?|hours?|days?)\)|cron\((?P<cron>[^()]+)\))$")
SCHEDULE_OFF = "off"
VPC_ID = re.compile(r"^vpc-([0-9a-f]{8}|[0-9a-f]{17})$")
SUBNET_ID = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
SECURITY_GROUP_ID = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
MAX_BUILD_SUBNETS = 16
MAX_BUILD_SECURITY_GROUPS = 5
"""CodeBuild's limits on a project's ``vpcConfig``."""
STEP_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
STEP_WHEN = ("before-apply", "after-apply")
RESERVED_STEP_NAMES = ("plan", "apply", "approve", "synth")
"""Names of the pipeline's own actions: a team step named like one would be confused with it."""
# Every character str.splitlines() breaks on, written as its escape instead.
LINE_BREAK_ESCAPES = {ord(c): repr(c)[1:-1] for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"}


# --------------------------------------------------------------------------------------------
# What the files may say: each field declared once
# --------------------------------------------------------------------------------------------
class Kind(Enum):
    """How a field is written, and so how ``_Fields.read`` reads it. The value is README.md's type."""

    STRING = "string"
    INTEGER = "int"
    BOOLEAN = "bool"
    STRINGS = "list of strings"
    TAGS = "map of strings"
    BLOCK = "block"
    NAMED_BLOCKS = "block per name"
    INPUT_VALUES = "map of input name to value"
    """``inputs = {...}`` in environment.hcl: its loader checks each value against the declared input."""
    INPUT_VALUE = "a value of the input's type"
    """``default`` of an input: its loader checks it against the input's ``type``."""


@dataclass(frozen=True)
class Field:
    """One field of a configuration file or block: its kind, default, simple rules and meaning.

    The loaders read it with ``_Fields.read``, the dataclasses below take their defaults from it and
    README.md's field tables are generated from it (tests/test_readme.py). Rules between fields stay in
    the loaders.
    """

    name: str
    kind: Kind
    meaning: str
    """One line for the user: README.md's "meaning" column."""
    required: bool = False
    default: Any = None
    pattern: re.Pattern[str] | None = None
    """A string, each string of a list or each block name must match it."""
    rule: str = ""
    """The problem when ``pattern`` does not match, written after the quoted value: "must be 12 digits"."""
    choices: tuple[Any, ...] = ()
    choice_name: str = "an allowed value"
    """Names the choices in a problem when they are too many to list."""
    minimum: int | None = None
    maximum: int | None = None
    shown_type: str = ""
    """README.md's type when the rules do not say it; otherwise it is derived from them."""
    shown_default: str = ""
    """README.md's default when the loader works it out; otherwise it is derived from ``default``."""


@dataclass(frozen=True)
class Schema:
    """The fields of one file or block, in the order README.md lists them and the loaders read them."""

    name: str
    """Names README.md's generated table: ``<!-- fields:<name>:start -->``."""
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)

    def __getitem__(self, name: str) -> Field:
        return {spec.name: spec for spec in self.fields}[name]


ROLE_ARN_RULE = "is not an IAM role ARN"
POLICY_ARN_RULE = "is not an IAM policy ARN"
PROFILE_RULE = "is not an AWS profile name"
REGION_CHOICES = {"choices": tuple(sorted(AWS_REGIONS)), "choice_name": "an AWS region code"}

DEVOPS_FIELDS = Schema("devops", (
    Field("account_id", Kind.STRING, "the DevOps account", required=True, pattern=ACCOUNT_ID, rule="must be 12 digits"),
    Field("region", Kind.STRING, "where the pipeline and the state live; its partition (`aws`, `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`) "
          "is that of every ARN, and every environment and ARN in the configuration must be in it", required=True, **REGION_CHOICES),
    Field("name_prefix", Kind.STRING, "prefix of every name (`<prefix>-delivery`, `<prefix>-tfstate-<account>-<region>`, ...)",
          required=True, pattern=PREFIX,
          rule="must be 2-20 characters: lowercase letters, digits and hyphens, starting with a letter"),
    Field("source", Kind.BLOCK, "where releases come from, see below", required=True),
    Field("notification_emails", Kind.STRINGS, "subscribed to pipeline notifications (each confirms once by email)",
          default=(), pattern=EMAIL, rule="is not an email address"),
    Field("build", Kind.BLOCK, "CodeBuild settings of every project"),
    Field("github_token_secret", Kind.STRING, "Secrets Manager secret holding a GitHub token for pull-request plan comments",
          pattern=SECRET_NAME, rule="is not a valid Secrets Manager secret name"),
    Field("drift_schedule", Kind.STRING,
          "when the drift run plans every workload stack (an EventBridge `rate(...)` or `cron(...)` expression), "
          f'or `"{SCHEDULE_OFF}"`; see "Drift detection"', default="rate(1 day)"),
    Field("self_update", Kind.BOOLEAN,
          'a release that changes the devops stack plans it, waits for an approval and applies it, then restarts; '
          'see "The pipeline updates itself"', default=True),
    Field("tags", Kind.TAGS, "added to every DevOps resource"),
))  # fmt: skip

SOURCE_FIELDS = Schema("source", (
    Field("type", Kind.STRING,
          "where the repository lives: `codestar` is GitHub, GitLab or Bitbucket through a CodeStar connection, "
          "`s3` a zipped repository in a bucket",
          required=True, choices=SOURCE_TYPES),
    Field("repository", Kind.STRING,
          "`owner/name` (codestar), the repository name (codecommit), the object key of the zipped repository (s3)",
          required=True),
    Field("branch", Kind.STRING, "branch that releases (codestar, codecommit)",
          default="main", pattern=BRANCH, rule=f"is not a git branch name of 1-{limits.BRANCH.limit} characters"),
    Field("connection_arn", Kind.STRING,
          'codestar: an existing connection; omitted, the `devops` stack creates one (see "Connect the source repository")',
          pattern=CONNECTION_ARN, rule="is not a CodeStar/CodeConnections connection ARN"),
    Field("connection_provider", Kind.STRING, "codestar: provider of the connection the `devops` stack creates",
          default="GitHub", choices=CONNECTION_PROVIDERS),
    Field("bucket", Kind.STRING, "s3 (and required for it): the versioned bucket holding the zipped repository",
          shown_type="S3 bucket name"),
    Field("trigger_paths", Kind.STRINGS,
          f"codestar: file-path globs a push must touch to start a release, 1-{limits.TRIGGER_PATHS.limit} of them",
          default=(), shown_default="none: any change starts a release", pattern=re.compile(rf"^.{{1,{limits.TRIGGER_PATH.limit}}}$", re.S),
          rule=f"must be 1-{limits.TRIGGER_PATH.limit} characters (a CodePipeline git trigger file path)"),
))  # fmt: skip

BUILD_FIELDS = Schema("build", (
    Field("compute_type", Kind.STRING, "CodeBuild compute type", default="BUILD_GENERAL1_SMALL", choices=CODEBUILD_COMPUTE_TYPES),
    Field("image", Kind.STRING, "CodeBuild image",
          default="aws/codebuild/standard:7.0", pattern=CODEBUILD_IMAGE, rule="is not a container image name"),
    Field("timeout_minutes", Kind.INTEGER, "minutes a build may run", default=60, minimum=5, maximum=2160),
    Field("log_retention_days", Kind.INTEGER, "days the build logs, an audit trail of every release, are kept",
          default=365, minimum=1, maximum=3653, choices=LOG_RETENTION_DAYS, choice_name="a CloudWatch Logs retention"),
    Field("vpc", Kind.BLOCK, 'run every build in your VPC, see "Builds in a VPC"'),
))  # fmt: skip

VPC_FIELDS = Schema("vpc", (
    Field("vpc_id", Kind.STRING, "the VPC of the subnets", required=True, pattern=VPC_ID, rule="is not a VPC id (vpc-...)"),
    Field("subnet_ids", Kind.STRINGS, f"private subnets of the release builds, 1-{MAX_BUILD_SUBNETS}", required=True,
          pattern=SUBNET_ID, rule="is not a subnet id (subnet-...)"),
    Field("security_group_ids", Kind.STRINGS, f"security groups of every build, 1-{MAX_BUILD_SECURITY_GROUPS}", required=True,
          pattern=SECURITY_GROUP_ID, rule="is not a security group id (sg-...)"),
    Field("pull_request_subnet_ids", Kind.STRINGS,
          f"subnets of the pull-request builds (for example without a route to the internet), 1-{MAX_BUILD_SUBNETS}",
          pattern=SUBNET_ID, rule="is not a subnet id (subnet-...)", shown_default="`subnet_ids`"),
))  # fmt: skip

ENVIRONMENT_FIELDS = Schema("environment", (
    Field("account_id", Kind.STRING, "the workload account", required=True, pattern=ACCOUNT_ID, rule="must be 12 digits"),
    Field("region", Kind.STRING, "where its resources live", required=True, **REGION_CHOICES),
    Field("order", Kind.INTEGER, "environments deploy in ascending order; equal orders deploy in parallel",
          default=1, minimum=0, maximum=1000),
    Field("requires_approval", Kind.BOOLEAN, "a person approves the reviewed plan before it is applied", default=False),
    Field("deployment_role", Kind.BLOCK, "the roles the pipeline assumes in this account"),
    Field("bootstrap", Kind.BLOCK, "how an admin reaches this account and the state bucket to apply `bootstrap-<env>`, see below",
          required=True),
    Field("tags", Kind.TAGS, "added to every resource of the environment"),
    Field("inputs", Kind.INPUT_VALUES,
          "values of the inputs `workloads/workload.hcl` declares (`inputs = { name = value }`), each of its input's type",
          shown_default="each input's `default`"),
    Field("step", Kind.NAMED_BLOCKS,
          "a command step of the team's own before or after this environment's apply, see below; "
          f"not named like the pipeline's own actions ({', '.join(f'`{name}`' for name in RESERVED_STEP_NAMES)})",
          pattern=STEP_NAME, rule="must be 1-16 characters: lowercase letters, digits and hyphens, starting with a letter"),
))  # fmt: skip

DEPLOYMENT_ROLE_FIELDS = Schema("deployment_role", (
    Field("name", Kind.STRING, "role name, unique in the account",
          pattern=ROLE_NAME, rule="must be 1-64 characters of letters, digits and +=,.@_-", shown_default="`<prefix>-deploy-<env>`"),
    Field("managed_policy_arns", Kind.STRINGS, "what deployments may do (the default in the environment's partition: `arn:aws-cn:` in China, "
          "`arn:aws-us-gov:` in GovCloud); AdministratorAccess is refused unless a boundary is set",
          default=DEFAULT_MANAGED_POLICY_ARNS, pattern=POLICY_ARN, rule=POLICY_ARN_RULE),
    Field("permissions_boundary_arn", Kind.STRING, "the most the role may ever do", pattern=POLICY_ARN, rule=POLICY_ARN_RULE),
    Field("max_session_duration", Kind.INTEGER,
          "seconds; only 3600 is accepted: every principal these roles trust is a role, and a session one role opens for "
          "another lasts an hour at most",
          default=CHAINED_SESSION_SECONDS, minimum=3600, maximum=43200, shown_type="int, 3600 only"),
    Field("external_id", Kind.STRING, "`sts:ExternalId` the pipeline must present",
          pattern=EXTERNAL_ID, rule="must be 2-1224 characters of letters, digits and +=,.@:/-_"),
    Field("extra_trusted_role_arns", Kind.STRINGS,
          "more DevOps-account roles allowed to assume it (and the plan role), for example a break-glass role",
          default=(), pattern=ROLE_ARN, rule=ROLE_ARN_RULE),
    Field("plan_trusted_role_arns", Kind.STRINGS,
          "roles allowed to assume only the read-only plan role `<prefix>-plan-<env>`: operators running `make plan`, "
          "the GitHub Actions plan role",
          default=(), pattern=ROLE_ARN, rule=ROLE_ARN_RULE),
))  # fmt: skip

BOOTSTRAP_FIELDS = Schema("bootstrap", (
    Field("role_arn", Kind.STRING,
          "role the provider assumes in this account (for example its `OrganizationAccountAccessRole`); must be in `account_id`",
          pattern=ROLE_ARN, rule=ROLE_ARN_RULE),
    Field("profile", Kind.STRING,
          "named AWS profile for the provider: credentials of this account, or the ones `role_arn` is assumed with",
          pattern=PROFILE, rule=PROFILE_RULE),
    Field("state_role_arn", Kind.STRING,
          "role the backend assumes in the DevOps account for the state bucket; must be in the DevOps account",
          pattern=ROLE_ARN, rule=ROLE_ARN_RULE),
    Field("state_profile", Kind.STRING,
          "named AWS profile for the backend; with neither state field, the caller's own (DevOps-account) credentials",
          pattern=PROFILE, rule=PROFILE_RULE),
))  # fmt: skip

STEP_FIELDS = Schema("step", (
    Field("when", Kind.STRING, "whether the step runs before the apply (after the approval, if any) or after it",
          required=True, choices=STEP_WHEN),
    Field("commands", Kind.STRINGS, "shell commands, at least one, run in a checkout of the released revision (with `cdktf.out/`)",
          required=True),
    Field("timeout_minutes", Kind.INTEGER, "minutes the step may run", default=10, minimum=5, maximum=480),
))  # fmt: skip

WORKLOAD_FIELDS = Schema("workload", (
    Field("entry", Kind.STRING,
          "the function called once per environment, inside its `workload-<env>` stack, as `define(scope, environment)`",
          required=True, pattern=ENTRY, rule="must be module:function, for example workloads.sample:define"),
    Field("input", Kind.NAMED_BLOCKS, "an input environments may set in their `inputs`, see below",
          pattern=INPUT_NAME, rule="must be 1-64 characters: lowercase letters, digits and _, starting with a letter"),
))  # fmt: skip

INPUT_FIELDS = Schema("input", (
    Field("type", Kind.STRING, "what values the input takes", required=True, choices=INPUT_TYPES),
    Field("default", Kind.INPUT_VALUE, "the value of every environment that does not set the input", required=True),
    Field("description", Kind.STRING, "what the input is for", default=""),
))  # fmt: skip

SCHEMAS = (
    DEVOPS_FIELDS, SOURCE_FIELDS, BUILD_FIELDS, VPC_FIELDS, ENVIRONMENT_FIELDS, DEPLOYMENT_ROLE_FIELDS, BOOTSTRAP_FIELDS, STEP_FIELDS,
    WORKLOAD_FIELDS, INPUT_FIELDS,
)  # fmt: skip
"""Every file and block README.md documents."""


# --------------------------------------------------------------------------------------------
# What the configuration says (each field's meaning, default and rules: the declarations above)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceConfig:
    """Where the pipeline takes the repository from (``source {}`` in devops.hcl: ``SOURCE_FIELDS``)."""

    type: str
    repository: str
    branch: str = SOURCE_FIELDS["branch"].default
    connection_arn: str | None = None
    connection_provider: str = SOURCE_FIELDS["connection_provider"].default
    bucket: str | None = None
    trigger_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class VpcConfig:
    """Where the builds run in the team's network (``vpc {}`` in ``build {}``: ``VPC_FIELDS``)."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    pull_request_subnet_ids: tuple[str, ...]
    """The loader fills in ``subnet_ids`` when the field is not set."""


@dataclass(frozen=True)
class BuildConfig:
    """CodeBuild settings shared by every project (``build {}`` in devops.hcl: ``BUILD_FIELDS``)."""

    compute_type: str = BUILD_FIELDS["compute_type"].default
    image: str = BUILD_FIELDS["image"].default
    timeout_minutes: int = BUILD_FIELDS["timeout_minutes"].default
    log_retention_days: int = BUILD_FIELDS["log_retention_days"].default
    vpc: VpcConfig | None = None


@dataclass(frozen=True)
class DevOpsConfig:
    """The DevOps account that runs the pipeline and holds remote state (``environments/devops.hcl``:
    ``DEVOPS_FIELDS``)."""

    account_id: str
    region: str
    name_prefix: str
    source: SourceConfig
    notification_emails: tuple[str, ...] = ()
    build: BuildConfig = field(default_factory=BuildConfig)
    github_token_secret: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    drift_schedule: str | None = DEVOPS_FIELDS["drift_schedule"].default
    """None: no scheduled drift run (``"off"`` in devops.hcl)."""
    self_update: bool = DEVOPS_FIELDS["self_update"].default


@dataclass(frozen=True)
class DeploymentRoleConfig:
    """The role the pipeline assumes in the workload account (``deployment_role {}``: ``DEPLOYMENT_ROLE_FIELDS``)."""

    name: str
    managed_policy_arns: tuple[str, ...] = DEPLOYMENT_ROLE_FIELDS["managed_policy_arns"].default
    """The loader writes the default in the environment's partition (``DEFAULT_MANAGED_POLICIES``)."""
    permissions_boundary_arn: str | None = None
    max_session_duration: int = DEPLOYMENT_ROLE_FIELDS["max_session_duration"].default
    external_id: str | None = None
    extra_trusted_role_arns: tuple[str, ...] = ()
    plan_trusted_role_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class BootstrapConfig:
    """How an admin reaches the accounts to apply ``bootstrap-<env>`` (``bootstrap {}``: ``BOOTSTRAP_FIELDS``).

    Two sets of credentials: the provider's act in the workload account (it creates the roles there);
    the backend's act in the DevOps account (the stack's state lives in the DevOps state bucket). With
    neither ``state_role_arn`` nor ``state_profile``, the backend uses the caller's own credentials.
    """

    role_arn: str | None = None
    profile: str | None = None
    state_role_arn: str | None = None
    state_profile: str | None = None


@dataclass(frozen=True)
class InputConfig:
    """One input environments may set (``input "<name>" {}`` in workloads/workload.hcl: ``INPUT_FIELDS``)."""

    name: str
    type: str
    default: Any
    description: str = ""


@dataclass(frozen=True)
class WorkloadConfig:
    """The team's code that declares each ``workload-<env>`` stack (``workloads/workload.hcl``: ``WORKLOAD_FIELDS``)."""

    entry: str | None = None
    """None without a workload file: the workload stacks hold no resources yet."""
    inputs: tuple[InputConfig, ...] = ()
    file: str = ""
    """The file it was read from, relative to the repository (for messages)."""


@dataclass(frozen=True)
class StepConfig:
    """A team's own pipeline step around an environment's apply (``step "<name>" {}`` in environment.hcl:
    ``STEP_FIELDS``)."""

    name: str
    when: str
    commands: tuple[str, ...]
    timeout_minutes: int = STEP_FIELDS["timeout_minutes"].default


@dataclass(frozen=True)
class EnvironmentConfig:
    """One workload environment (``environments/<name>/environment.hcl``: ``ENVIRONMENT_FIELDS``)."""

    name: str
    account_id: str
    region: str
    deployment_role: DeploymentRoleConfig
    order: int = ENVIRONMENT_FIELDS["order"].default
    requires_approval: bool = ENVIRONMENT_FIELDS["requires_approval"].default
    bootstrap: BootstrapConfig = field(default_factory=BootstrapConfig)
    """At least ``role_arn`` or ``profile`` is set."""
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    inputs: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """Every input of the workload, with this environment's value or the input's default."""
    steps: tuple[StepConfig, ...] = ()

    @property
    def bootstrap_stack(self) -> str:
        return bootstrap_stack(self.name)

    @property
    def workload_stack(self) -> str:
        return workload_stack(self.name)


@dataclass(frozen=True)
class ProjectConfig:
    """Everything in ``environments/``: the DevOps account and the workload environments by order."""

    devops: DevOpsConfig
    environments: tuple[EnvironmentConfig, ...]
    workload: WorkloadConfig = field(default_factory=WorkloadConfig)

    @property
    def naming(self) -> Naming:
        return Naming(self.devops.name_prefix, self.devops.account_id, self.devops.region)

    def waves(self) -> list[tuple[EnvironmentConfig, ...]]:
        """Environments grouped by ``order``, ascending; each group deploys in parallel."""
        orders = sorted({env.order for env in self.environments})
        return [tuple(env for env in self.environments if env.order == order) for order in orders]

    def deployment_role_arn(self, environment: EnvironmentConfig) -> str:
        return self.naming.role_arn(environment.account_id, environment.deployment_role.name)

    def plan_role_arn(self, environment: EnvironmentConfig) -> str:
        return self.naming.role_arn(environment.account_id, self.naming.plan_role(environment.name))


# --------------------------------------------------------------------------------------------
# Reading and checking
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One problem of the configuration: where it is and what is wrong, as ``provisioner check`` reports it."""

    file: str | None
    """Relative to the repository; None when no file holds the cause (an empty environment variable)."""
    message: str
    """Starts with the field when there is one: ``account_id "1234" must be 12 digits``."""
    field: str | None = None
    line: int | None = None
    """None when the field is not written in the file (a required field left out)."""

    def __str__(self) -> str:
        if self.file is None:
            return self.message
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"

    def as_json(self) -> dict[str, str | int | None]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class _Problems:
    """Collects problems; each names the file relative to the repository, the field and its line."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.found: list[Problem] = []
        self.warnings: list[Problem] = []
        self.field_lines: dict[Path, dict[str, int]] = {}
        """Per parsed file: the line each field, block, list item and map key starts on (``_line_index``)."""

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def add(self, path: Path | None, message: str, field: str | None = None, *, line: int | None = None) -> None:
        # Values, keys and folder names are quoted as written; a line break in one (a "\n" escape,
        # a heredoc) must not split the problem over several lines.
        message = message.translate(LINE_BREAK_ESCAPES)
        field = field.translate(LINE_BREAK_ESCAPES) if field else None
        if line is None and path is not None:
            line = self.line_of(path, field)
        self.found.append(Problem(self.rel(path) if path is not None else None, message, field, line))

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(Problem(self.rel(path), message.translate(LINE_BREAK_ESCAPES)))

    def line_of(self, path: Path, field: str | None) -> int | None:
        """The line of ``field``, else of the nearest enclosing list, block or map written in the file."""
        index = self.field_lines.get(path, {})
        while field:
            if field in index:
                return index[field]
            field = _enclosing(field)
        return None


def _enclosing(field: str) -> str:
    """What holds ``field``: ``a.b[2]`` -> ``a.b`` -> ``a``; ``step "x".when`` -> ``step "x"`` -> ``step``."""
    if field.endswith("]"):
        return field[: field.rindex("[")]
    if field.endswith('"'):
        return field[: field.rindex(' "')] if ' "' in field else ""
    return field.rpartition(".")[0]


class _Fields:
    """Typed access to one parsed HCL object; every mistake becomes a problem, never an exception."""

    def __init__(self, data: Mapping[str, Any], path: Path, problems: _Problems, where: str = "") -> None:
        self.data = data
        self.path = path
        self.problems = problems
        self.where = where

    def name(self, key: str) -> str:
        return f"{self.where}{key}"

    def problem(self, key: str, message: str) -> None:
        self.problems.add(self.path, f"{self.name(key)} {message}", self.name(key))

    def reject_unknown(self, allowed: tuple[str, ...]) -> None:
        for key in self.data:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f' (did you mean "{close[0]}"?)' if close else f" (allowed: {', '.join(allowed)})"
                self.problems.add(self.path, f"unknown field {self.name(key)}{hint}", self.name(key))

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                self.problems.add(self.path, f"{self.name(key)} is required", self.name(key))
            return None
        value = self.data[key]
        if value is None and required:
            self.problem(key, "is required and must not be null")
        return value

    def string(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        rule: str = "",
        choices: tuple[str, ...] = (),
        choice_name: str = "an allowed value",
    ) -> str | None:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            self.problem(key, f"must be a quoted string, got {_describe(value)}")
            return default
        if "${" in value:
            self.problem(key, f'"{value}": interpolation is not supported in environments/ files')
            return default
        if choices and value not in choices:
            close = difflib.get_close_matches(value, choices, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            allowed = f"must be one of {', '.join(choices)}" if len(choices) <= 8 else f"is not {choice_name}"
            self.problem(key, f'"{value}" {allowed}{hint}')
            return default
        if pattern is not None and not pattern.fullmatch(value):
            self.problem(key, f'"{value}" {rule}')
            return default
        return value

    def read(self, spec: Field, *, default: Any = None, required: bool | None = None) -> Any:
        """The field ``spec`` declares, checked by its kind and rules; ``default`` when the loader works it
        out, ``required=False`` when the loader reports a missing value itself."""
        required = spec.required if required is None else required
        default = spec.default if default is None else default
        if spec.kind is Kind.STRING:
            return self.string(
                spec.name, required=required, default=default, pattern=spec.pattern, rule=spec.rule, choices=spec.choices,
                choice_name=spec.choice_name,
            )  # fmt: skip
        if spec.kind is Kind.INTEGER:
            return self.integer(
                spec.name, default=default, minimum=spec.minimum, maximum=spec.maximum, choices=spec.choices, choice_name=spec.choice_name
            )
        if spec.kind is Kind.BOOLEAN:
            return self.boolean(spec.name, default=default)
        if spec.kind is Kind.STRINGS:
            check = _matching(spec.pattern, spec.rule) if spec.pattern else None
            return self.string_list(spec.name, required=required, default=default, check=check)
        if spec.kind is Kind.TAGS:
            return self.tags(spec.name)
        if spec.kind is Kind.BLOCK:
            return self.block(spec.name, required=required)
        if spec.kind is Kind.NAMED_BLOCKS:
            return self.labeled_blocks(spec.name, spec.pattern, spec.rule)
        raise TypeError(f"{spec.name}: its loader reads a {spec.kind.name} field")

    def integer(
        self, key: str, *, default: int, minimum: int, maximum: int, choices: tuple[int, ...] = (), choice_name: str = "an allowed value"
    ) -> int:
        value = self._get(key, False)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(key, f"must be a whole number, got {_describe(value)}")
            return default
        if not minimum <= value <= maximum:
            self.problem(key, f"{value} must be between {minimum} and {maximum}")
            return default
        if choices and value not in choices:
            self.problem(key, f"{value} is not {choice_name} ({', '.join(map(str, choices))})")
            return default
        return value

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.problem(key, f"must be true or false (unquoted), got {_describe(value)}")
            return default
        return value

    def string_list(
        self, key: str, *, required: bool = False, default: tuple[str, ...] = (), check: Callable[[str], str | None] | None = None
    ) -> tuple[str, ...]:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, list):
            self.problem(key, f"must be a list of strings, got {_describe(value)}")
            return default
        items: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.problem(f"{key}[{index}]", f"must be a quoted string, got {_describe(item)}")
                continue
            if "${" in item:
                self.problem(f"{key}[{index}]", f'"{item}": interpolation is not supported in environments/ files')
                continue
            complaint = check(item) if check else None
            if complaint:
                self.problem(f"{key}[{index}]", f'"{item}" {complaint}')
                continue
            items.append(item)
        if len(set(items)) != len(items):
            self.problem(key, "lists the same value twice")
        return tuple(items)

    def tags(self, key: str = "tags") -> Mapping[str, str]:
        value = self._get(key, False)
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, dict):
            self.problem(key, f"must be a map of strings, got {_describe(value)}")
            return MappingProxyType({})
        tags: dict[str, str] = {}
        for tag, tag_value in value.items():
            if not isinstance(tag_value, str):
                self.problem(f"{key}.{tag}", f"must be a quoted string, got {_describe(tag_value)}")
            elif not 1 <= len(tag) <= 128 or tag.lower().startswith("aws:"):
                self.problem(f"{key}.{tag}", "tag keys must be 1-128 characters and must not start with aws:")
            elif len(tag_value) > 256:
                self.problem(f"{key}.{tag}", "tag values must be at most 256 characters")
            elif "${" in tag or "${" in tag_value:
                self.problem(f"{key}.{tag}", f'"{tag_value}": interpolation is not supported in environments/ files')
            elif not all(c.isalnum() or c in TAG_PUNCTUATION for c in tag + tag_value):
                self.problem(f"{key}.{tag}", f'"{tag_value}": tag keys and values may hold only letters, digits, spaces and _.:/=+-@')
            else:
                tags[tag] = tag_value
        self._check_tag_keys(key, tags)
        return MappingProxyType(tags)

    def _check_tag_keys(self, key: str, tags: dict[str, str]) -> None:
        """What IAM refuses of a set of tags: every role carries these tags and the product's own, IAM counts
        at most 50 per resource and compares keys ignoring case."""
        product = standard_tags("prefix", "environment", {})
        total = len(product.keys() | tags.keys())
        if total > limits.TAGS_PER_RESOURCE.limit:
            self.problem(
                key,
                f"has {len(tags)} tags; with the product's {', '.join(list(product)[:-1])} and {list(product)[-1]} that is {total} "
                f"on every resource, over AWS's {limits.TAGS_PER_RESOURCE.limit} tags per resource",
            )
        seen: dict[str, str] = {}
        for tag in tags:
            first = seen.setdefault(tag.lower(), tag)
            if first != tag:
                self.problem(f"{key}.{tag}", f"differs from {self.name(key)}.{first} only in case: IAM tag keys are case-insensitive, keep one")
        for tag in tags:
            own = next((name for name in product if name.lower() == tag.lower() and name != tag), None)
            if own and seen[tag.lower()] == tag:
                self.problem(
                    f"{key}.{tag}",
                    f"differs from the product's tag {own} only in case: IAM tag keys are case-insensitive; "
                    f'write "{own}" to replace the product\'s value, or choose another key',
                )

    def block(self, key: str, *, required: bool = False) -> _Fields | None:
        """A nested block (``key { ... }``) or object (``key = { ... }``), given at most once."""
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
            value = value[0]
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            self.problem(key, f"block is given {len(value)} times; give it once")
            return None
        if not isinstance(value, dict):
            self.problem(key, f"must be a block ({key} {{ ... }}), got {_describe(value)}")
            return None
        return _Fields(value, self.path, self.problems, f"{self.name(key)}.")


    def labeled_blocks(self, key: str, label: re.Pattern[str], rule: str) -> list[tuple[str, _Fields]]:
        """Blocks with one label (``key "<label>" { ... }``), each label given once."""
        value = self.data.get(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        found: list[tuple[str, _Fields]] = []
        for item in items:
            if not isinstance(item, dict) or len(item) != 1 or not isinstance(next(iter(item.values())), dict):
                self.problem(key, f'must be written as {key} "<name>" {{ ... }}')
                continue
            (name, body), = item.items()
            if not label.fullmatch(name):
                self.problems.add(self.path, f'{self.name(key)} "{name}": the name {rule}', f'{self.name(key)} "{name}"')
            elif name in (seen[0] for seen in found):
                self.problems.add(self.path, f'{self.name(key)} "{name}" is given twice; give it once', f'{self.name(key)} "{name}"')
            else:
                found.append((name, _Fields(body, self.path, self.problems, f'{self.name(key)} "{name}".')))
        return found


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"bool {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"number {value}"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a block/map"
    return type(value).__name__


def _parse_hcl(path: Path, problems: _Problems) -> dict[str, Any] | None:
    # imported here: lark grammar loading is the slowest part of config loading
    from hcl2 import SerializationOptions
    from hcl2.api import parses_to_tree, serialize, transform
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    # Parsing takes seconds per 256 KiB and grows faster than the file: refuse a huge file before reading it.
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > limits.FILE_BYTES.limit:
        problems.add(path, f"is {size:,} bytes, over the {limits.FILE_BYTES.limit // 1024} KiB a configuration file may hold")
        return None
    try:
        # utf-8-sig: editors on Windows may start the file with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        problems.add(path, f"cannot read: {error.strerror if isinstance(error, OSError) else 'not UTF-8 text'}")
        return None
    unclosed = "unexpected end of file (an unclosed block, string or bracket?)"
    try:
        tree = parses_to_tree(text)
        problems.field_lines[path] = _line_index(tree)
        _report_redefined(tree, path, problems)
        data = serialize(transform(tree), serialization_options=options)
    except UnexpectedEOF:
        problems.add(path, f"HCL syntax error: {unclosed}")
        return None
    except UnexpectedCharacters as error:
        problems.add(path, f"HCL syntax error at column {error.column}: unexpected character {error.char!r}", line=error.line)
        return None
    except UnexpectedInput as error:
        token = getattr(error, "token", None)
        if token is not None and token.type == "$END":
            shown = unclosed
        elif token is not None and str(token).strip():
            shown = f"unexpected {str(token).strip().splitlines()[0][:40]!r}"
        else:
            shown = "unexpected end of line"
        problems.add(path, f"HCL syntax error at column {error.column}: {shown}", line=error.line)
        return None
    except Exception as error:  # python-hcl2 raises plain exceptions for some semantic errors
        problems.add(path, f"HCL error: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
        return None
    return data


def _line_index(tree: Any) -> dict[str, int]:
    """The line each field starts on, named as problems name it: ``account_id``, ``deployment_role.name``,
    ``step "smoke".when``, ``tags.team``, ``managed_policy_arns[1]``. python-hcl2 8 drops line numbers
    when it serializes (its ``with_meta`` option does nothing), so they are read from its parse tree."""
    from lark import Token, Tree

    index: dict[str, int] = {}

    def first_line(node: Any) -> int | None:
        if isinstance(node, Token):
            return node.line
        return next((line for child in node.children if (line := first_line(child)) is not None), None)

    def text(node: Any) -> str:
        """An identifier or a quoted string as python-hcl2 serializes it (labels, map keys)."""
        if isinstance(node, Token):
            return str(node)
        if node.data == "string":
            return "".join(text(child) for child in node.children if isinstance(child, Tree))
        return "".join(text(child) for child in node.children)

    def value(node: Any, name: str) -> None:
        while isinstance(node, Tree) and node.data == "expr_term" and len([c for c in node.children if isinstance(c, Tree)]) == 1:
            node = next(c for c in node.children if isinstance(c, Tree))
        if not isinstance(node, Tree):
            return
        if node.data == "tuple":
            items = [child for child in node.children if isinstance(child, Tree) and child.data != "new_line_or_comment"]
            for position, item in enumerate(items):
                record(f"{name}[{position}]", item)
                value(item, f"{name}[{position}]")
        elif node.data == "object":
            for element in (child for child in node.children if isinstance(child, Tree) and child.data == "object_elem"):
                key, *_, item = [child for child in element.children if isinstance(child, Tree)]
                record(f"{name}.{text(key)}", element)
                value(item, f"{name}.{text(key)}")

    def record(name: str, node: Any) -> None:
        if (line := first_line(node)) is not None:
            index.setdefault(name, line)

    def body(node: Any, where: str) -> None:
        for item in node.children:
            if not isinstance(item, Tree) or item.data not in ("attribute", "block"):
                continue
            name = f"{where}{text(item.children[0])}"
            record(name, item)
            if item.data == "attribute":
                value(item.children[-1], name)
                continue
            labels = [child for child in item.children[1:] if isinstance(child, Tree) and child.data != "body"]
            if labels:
                name = f'{name} "{text(labels[0])}"'
                record(name, item)
            body(next(child for child in item.children if isinstance(child, Tree) and child.data == "body"), f"{name}.")

    body(tree.children[0] if tree.data == "start" else tree, "")
    return index


def _report_redefined(tree: Any, path: Path, problems: _Problems, where: str = "") -> None:
    """python-hcl2 keeps the last of two same-named attributes; HCL forbids them, so report each one.

    Two blocks of one name are reported by ``_Fields.block`` instead, which knows which blocks may repeat.
    """
    from lark import Tree

    seen: dict[str, tuple[str, int]] = {}
    for node in tree.children[0].children if tree.data == "start" else tree.children:
        if not isinstance(node, Tree) or node.data not in ("attribute", "block"):
            continue
        token = node.children[0].children[0]
        name, line = str(token), token.line
        if name in seen and "attribute" in (node.data, seen[name][0]):
            problems.add(path, f"{where}{name} is set twice (lines {seen[name][1]} and {line}); keep one", f"{where}{name}", line=line)
        seen.setdefault(name, (node.data, line))
        if node.data == "block":
            body = next(child for child in node.children if isinstance(child, Tree) and child.data == "body")
            _report_redefined(body, path, problems, f"{where}{name}.")


def _matching(pattern: re.Pattern[str], rule: str) -> Callable[[str], str | None]:
    return lambda value: None if pattern.fullmatch(value) else rule


def _check_bucket_name(name: str) -> str | None:
    """S3's naming rules; None when ``name`` is valid, else the broken rule."""
    if not 3 <= len(name) <= 63:
        return f"is {len(name)} characters; S3 bucket names must be 3-63"
    if not BUCKET.fullmatch(name):
        return "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "must not contain two adjacent periods or a period next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
        return "must not be formatted as an IP address"
    except ValueError:
        pass
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(("-s3alias", "--ol-s3", "--x-s3", ".mrap")):
        return "uses a prefix or suffix that S3 reserves"
    return None


def _load_devops(path: Path, problems: _Problems) -> DevOpsConfig | None:
    if path.is_dir():
        problems.add(path, "is a folder: it must be a file describing the DevOps account (see README, 'Environment format')")
        return None
    if not path.is_file():
        problems.add(path, "is missing: it describes the DevOps account (see README, 'Environment format')")
        return None
    data = _parse_hcl(path, problems)
    if data is None:
        return None
    f = _Fields(data, path, problems)
    f.reject_unknown(DEVOPS_FIELDS.names)
    account_id = f.read(DEVOPS_FIELDS["account_id"])
    region = f.read(DEVOPS_FIELDS["region"])
    prefix = f.read(DEVOPS_FIELDS["name_prefix"])
    emails = f.read(DEVOPS_FIELDS["notification_emails"])
    secret = f.read(DEVOPS_FIELDS["github_token_secret"])
    tags = f.read(DEVOPS_FIELDS["tags"])
    drift_schedule = _schedule(f, DEVOPS_FIELDS["drift_schedule"])
    self_update = f.read(DEVOPS_FIELDS["self_update"])
    source = _load_source(f.read(DEVOPS_FIELDS["source"]), f)
    build = _load_build(f.read(DEVOPS_FIELDS["build"]))
    if None in (account_id, region, prefix, source):
        return None
    return DevOpsConfig(
        account_id=account_id, region=region, name_prefix=prefix, source=source,
        notification_emails=emails, build=build, github_token_secret=secret, tags=tags, drift_schedule=drift_schedule,
        self_update=self_update,
    )  # fmt: skip


def _schedule(f: _Fields, spec: Field) -> str | None:
    """An EventBridge schedule expression as EventBridge accepts it, or None for ``"off"``."""
    value = f.read(spec)
    if value == SCHEDULE_OFF:
        return None
    match = SCHEDULE.fullmatch(value)
    if match is None:
        f.problem(spec.name, f'"{value}" must be rate(<n> <unit>), cron(<6 fields>) or "{SCHEDULE_OFF}", for example "rate(1 day)"')
        return None
    if match["value"] is not None and (match["value"] == "1") != (not match["unit"].endswith("s")):
        unit = match["unit"].rstrip("s")
        expected = f"rate(1 {unit})" if match["value"] == "1" else f"rate({match['value']} {unit}s)"
        f.problem(spec.name, f'"{value}": EventBridge wants a singular unit for 1 and a plural one otherwise: "{expected}"')
        return None
    if match["cron"] is not None and len(match["cron"].split()) != 6:
        f.problem(spec.name, f'"{value}" must have 6 cron fields (minutes hours day-of-month month day-of-week year)')
        return None
    return value


def _load_source(f: _Fields | None, parent: _Fields) -> SourceConfig | None:
    if f is None:
        return None
    f.reject_unknown(SOURCE_FIELDS.names)
    kind = f.read(SOURCE_FIELDS["type"])
    repository = f.read(SOURCE_FIELDS["repository"])
    branch = f.read(SOURCE_FIELDS["branch"])
    connection_arn = f.read(SOURCE_FIELDS["connection_arn"])
    provider = f.read(SOURCE_FIELDS["connection_provider"])
    bucket = f.read(SOURCE_FIELDS["bucket"])
    trigger_paths = f.read(SOURCE_FIELDS["trigger_paths"])
    if kind is None or repository is None:
        return None
    if kind == "codestar" and not re.fullmatch(r"[\w.-]+(/[\w.-]+)+", repository, re.ASCII):
        f.problem("repository", f'"{repository}" must be owner/name for a codestar source')
    if kind == "codecommit" and not re.fullmatch(r"[\w.-]{1,100}", repository, re.ASCII):
        f.problem("repository", f'"{repository}" is not a CodeCommit repository name')
    if kind == "s3":
        if bucket is None:
            f.problem("bucket", "is required when type is s3")
        elif complaint := _check_bucket_name(bucket):
            f.problem("bucket", f'"{bucket}" {complaint}')
    elif bucket is not None:
        f.problem("bucket", 'is only used when type is "s3"')
    if kind != "codestar":
        for key in ("connection_arn", "trigger_paths"):
            if key in f.data:
                f.problem(key, 'is only used when type is "codestar"')
    elif f.data.get("trigger_paths") == []:
        f.problem("trigger_paths", "is empty: leave it out to start a release on any change")
    elif len(trigger_paths) > limits.TRIGGER_PATHS.limit:
        f.problem("trigger_paths", f"has {len(trigger_paths)} entries; CodePipeline git triggers take 1-{limits.TRIGGER_PATHS.limit} file paths")
    return SourceConfig(
        type=kind, repository=repository, branch=branch, connection_arn=connection_arn,
        connection_provider=provider, bucket=bucket, trigger_paths=trigger_paths,
    )  # fmt: skip


def _load_build(f: _Fields | None) -> BuildConfig:
    if f is None:
        return BuildConfig()
    f.reject_unknown(BUILD_FIELDS.names)
    compute = f.read(BUILD_FIELDS["compute_type"])
    image = f.read(BUILD_FIELDS["image"])
    timeout = f.read(BUILD_FIELDS["timeout_minutes"])
    retention = f.read(BUILD_FIELDS["log_retention_days"])
    vpc = _load_vpc(f.read(BUILD_FIELDS["vpc"]))
    return BuildConfig(compute_type=compute, image=image, timeout_minutes=timeout, log_retention_days=retention, vpc=vpc)


def _load_vpc(f: _Fields | None) -> VpcConfig | None:
    if f is None:
        return None
    f.reject_unknown(VPC_FIELDS.names)
    vpc_id = f.read(VPC_FIELDS["vpc_id"])
    subnets = f.read(VPC_FIELDS["subnet_ids"])
    groups = f.read(VPC_FIELDS["security_group_ids"])
    pull_request_subnets = f.read(VPC_FIELDS["pull_request_subnet_ids"])
    for key, values, most in (
        ("subnet_ids", subnets, MAX_BUILD_SUBNETS),
        ("security_group_ids", groups, MAX_BUILD_SECURITY_GROUPS),
        ("pull_request_subnet_ids", pull_request_subnets, MAX_BUILD_SUBNETS),
    ):
        if key in f.data and not values:
            f.problem(key, "is empty: CodeBuild needs at least one")
        elif len(values) > most:
            f.problem(key, f"has {len(values)} entries: CodeBuild allows at most {most}")
    if vpc_id is None or not subnets or not groups:
        return None
    return VpcConfig(
        vpc_id=vpc_id, subnet_ids=subnets, security_group_ids=groups, pull_request_subnet_ids=pull_request_subnets or subnets
    )


def _load_environment(
    name: str, path: Path, prefix: str | None, problems: _Problems, workload: WorkloadConfig | None, workload_path: Path
) -> EnvironmentConfig | None:
    data = _parse_hcl(path, problems)
    if data is None:
        return None
    f = _Fields(data, path, problems)
    if "bootstrap_role_arn" in data:
        moved = data.pop("bootstrap_role_arn")
        f.problem("bootstrap_role_arn", f'moved into the bootstrap block: write bootstrap {{ role_arn = "{moved}" }} (README, "Bootstrap a workload account")')
    f.reject_unknown(ENVIRONMENT_FIELDS.names)
    account_id = f.read(ENVIRONMENT_FIELDS["account_id"])
    region = f.read(ENVIRONMENT_FIELDS["region"])
    order = f.read(ENVIRONMENT_FIELDS["order"])
    approval = f.read(ENVIRONMENT_FIELDS["requires_approval"])
    tags = f.read(ENVIRONMENT_FIELDS["tags"])
    role = _load_deployment_role(f.read(ENVIRONMENT_FIELDS["deployment_role"]), name, prefix, region)
    bootstrap = _load_bootstrap(f, name, account_id)
    inputs = _load_inputs(f, workload, problems.rel(workload_path))
    steps = _load_steps(f)
    if None in (account_id, region, role, bootstrap):
        return None
    return EnvironmentConfig(
        name=name, account_id=account_id, region=region, deployment_role=role, order=order,
        requires_approval=approval, bootstrap=bootstrap, tags=tags, inputs=inputs, steps=steps,
    )  # fmt: skip


def _load_bootstrap(parent: _Fields, environment: str, account_id: str | None) -> BootstrapConfig | None:
    """``bootstrap {}``: required, since no default reaches every account (an Organizations member's
    OrganizationAccountAccessRole trusts only the management account, a standalone account has none)."""
    what = f"how an admin reaches account {account_id or '<account_id>'} to apply {bootstrap_stack(environment)}"
    f = parent.read(ENVIRONMENT_FIELDS["bootstrap"], required=False)
    if f is None:
        if "bootstrap" not in parent.data:
            parent.problems.add(
                parent.path, f'bootstrap {{ role_arn = "..." }} or bootstrap {{ profile = "..." }} is required: {what} (README, "Bootstrap a workload account")'
            )
        return None
    f.reject_unknown(BOOTSTRAP_FIELDS.names)
    role_arn = f.read(BOOTSTRAP_FIELDS["role_arn"])
    profile = f.read(BOOTSTRAP_FIELDS["profile"])
    state_role_arn = f.read(BOOTSTRAP_FIELDS["state_role_arn"])
    state_profile = f.read(BOOTSTRAP_FIELDS["state_profile"])
    if role_arn is None and profile is None and not {"role_arn", "profile"} & set(f.data):
        f.problem("role_arn", f'or bootstrap.profile is required: {what} (README, "Bootstrap a workload account")')
        return None
    if role_arn and account_id and role_arn.split(":")[4] != account_id:
        f.problem("role_arn", f'"{role_arn}" is in account {role_arn.split(":")[4]}: the provider must act in this environment\'s account {account_id}')
    return BootstrapConfig(role_arn=role_arn, profile=profile, state_role_arn=state_role_arn, state_profile=state_profile)


def _load_deployment_role(f: _Fields | None, environment: str, prefix: str | None, region: str | None) -> DeploymentRoleConfig | None:
    default_name = Naming(prefix, "", "").default_deployment_role(environment) if prefix else None
    default_policies = tuple(aws_managed_policy_arn(partition_of(region or ""), name) for name in DEFAULT_MANAGED_POLICIES)
    if f is None:
        return DeploymentRoleConfig(name=default_name, managed_policy_arns=default_policies) if default_name else None
    f.reject_unknown(DEPLOYMENT_ROLE_FIELDS.names)
    name = f.read(DEPLOYMENT_ROLE_FIELDS["name"], default=default_name)
    policies = f.read(DEPLOYMENT_ROLE_FIELDS["managed_policy_arns"], default=default_policies)
    boundary = f.read(DEPLOYMENT_ROLE_FIELDS["permissions_boundary_arn"])
    if len(policies) > limits.MANAGED_POLICIES.limit:
        f.problem(
            "managed_policy_arns",
            f"has {len(policies)} policies; IAM attaches at most 10 managed policies per role by default and "
            f"{limits.MANAGED_POLICIES.limit} when the quota is raised: combine policies into fewer managed policies",
        )
    duration = f.read(DEPLOYMENT_ROLE_FIELDS["max_session_duration"])
    if duration != CHAINED_SESSION_SECONDS:
        f.problem(
            "max_session_duration",
            f"{duration} has no effect: every principal the roles trust is a role, and a session one role opens "
            f"for another (role chaining) lasts at most {CHAINED_SESSION_SECONDS} seconds; remove the field",
        )
        duration = CHAINED_SESSION_SECONDS
    external_id = f.read(DEPLOYMENT_ROLE_FIELDS["external_id"])
    trusted = f.read(DEPLOYMENT_ROLE_FIELDS["extra_trusted_role_arns"])
    plan_trusted = f.read(DEPLOYMENT_ROLE_FIELDS["plan_trusted_role_arns"])
    if name is None:
        return None
    return DeploymentRoleConfig(
        name=name, managed_policy_arns=policies, permissions_boundary_arn=boundary,
        max_session_duration=duration, external_id=external_id, extra_trusted_role_arns=trusted,
        plan_trusted_role_arns=plan_trusted,
    )  # fmt: skip


def _load_workload(path: Path, problems: _Problems) -> WorkloadConfig | None:
    """``workloads/workload.hcl``: the team's entry point and inputs; without the file, an empty workload."""
    if not path.exists():
        return WorkloadConfig()
    if not path.is_file():
        problems.add(path, "is not a file: it names the code that declares the workload stacks (README, 'Your infrastructure')")
        return None
    data = _parse_hcl(path, problems)
    if data is None:
        return None
    f = _Fields(data, path, problems)
    f.reject_unknown(WORKLOAD_FIELDS.names)
    entry = f.read(WORKLOAD_FIELDS["entry"])
    inputs: list[InputConfig] = []
    for name, block in f.read(WORKLOAD_FIELDS["input"]):
        block.reject_unknown(INPUT_FIELDS.names)
        written = block.data.get("type")
        if isinstance(written, str) and written.startswith("${") and written.endswith("}"):
            block.data["type"] = written[2:-1]  # a bare type expression, map(string), as terraform writes it
        kind = block.read(INPUT_FIELDS["type"])
        description = block.read(INPUT_FIELDS["description"])
        if "default" not in block.data:
            block.problem("default", "is required: every input has a default, so a new environment works before it sets the input")
            continue
        if kind is None:
            continue
        complaint = _input_type_problem(block.data["default"], kind)
        if complaint:
            block.problem("default", complaint)
            continue
        inputs.append(InputConfig(name=name, type=kind, default=_frozen(block.data["default"]), description=description))
    if entry is not None:
        _check_entry_module(entry, f)
    try:
        shown = path.relative_to(REPO_ROOT).as_posix()
    except ValueError:
        shown = path.as_posix()
    return WorkloadConfig(entry=entry, inputs=tuple(inputs), file=shown)


def _check_entry_module(entry: str, f: _Fields) -> None:
    """The entry's module must exist; it is imported only at synth (it loads the provider bindings)."""
    import importlib.util

    module = entry.split(":")[0]
    importable_repository()
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        f.problem("entry", f'"{entry}": no module {module} in {REPO_ROOT} (a file {module.replace(".", "/")}.py, or a package folder)')


def _input_type_problem(value: Any, kind: str) -> str | None:
    """None when ``value`` is of the input type ``kind``, else what is wrong."""
    if kind == "string":
        ok = isinstance(value, str) and "${" not in value
    elif kind == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif kind == "bool":
        ok = isinstance(value, bool)
    elif kind == "list(string)":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
    else:
        ok = isinstance(value, dict) and all(isinstance(item, str) for item in value.values())
    return None if ok else f"must be a {kind}, got {_describe(value)}"


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return MappingProxyType(dict(value))
    return value


def _load_inputs(f: _Fields, workload: WorkloadConfig | None, where: str) -> Mapping[str, Any]:
    """``inputs = { ... }``: values for the workload's inputs, checked against their declared types."""
    declared = {spec.name: spec for spec in (workload.inputs if workload else ())}
    values = {name: spec.default for name, spec in declared.items()}
    given = f.data.get("inputs")
    if given is None:
        return MappingProxyType(values)
    if isinstance(given, list) and len(given) == 1 and isinstance(given[0], dict):
        given = given[0]
    if not isinstance(given, dict):
        f.problem("inputs", f"must be a map (inputs = {{ name = value }}), got {_describe(given)}")
        return MappingProxyType(values)
    for name, value in given.items():
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (declared: {', '.join(declared) or 'none'})"
            f.problem(f"inputs.{name}", f"is not an input declared in {where}{hint}")
        elif complaint := _input_type_problem(value, declared[name].type):
            f.problem(f"inputs.{name}", complaint)
        else:
            values[name] = _frozen(value)
    return MappingProxyType(values)


def _load_steps(f: _Fields) -> tuple[StepConfig, ...]:
    """``step "<name>" { when, commands, timeout_minutes }``: the team's steps around this environment's apply."""
    steps: list[StepConfig] = []
    for name, block in f.read(ENVIRONMENT_FIELDS["step"]):
        block.reject_unknown(STEP_FIELDS.names)
        when = block.read(STEP_FIELDS["when"])
        commands = block.read(STEP_FIELDS["commands"], required=False)  # a missing list is reported below, after the name's check
        timeout = block.read(STEP_FIELDS["timeout_minutes"])
        if name in RESERVED_STEP_NAMES:
            f.problems.add(f.path, f'step "{name}": the name is one of the pipeline\'s own actions ({", ".join(RESERVED_STEP_NAMES)}); choose another', f'step "{name}"')
            continue
        if "commands" in block.data and not commands and not block.data["commands"]:
            block.problem("commands", "is empty: a step runs at least one command")
            continue
        if "commands" not in block.data:
            block.problem("commands", "is required: the shell commands the step runs")
            continue
        if when is None or not commands:
            continue
        steps.append(StepConfig(name=name, when=when, commands=commands, timeout_minutes=timeout))
    return tuple(steps)


def _check_derived_names(project: ProjectConfig, devops_path: Path, env_paths: dict[str, Path], problems: _Problems) -> None:
    """Names the stacks will derive must be names AWS accepts; check them before synthesis."""
    naming = project.naming
    # The bucket names differ only after the prefix: a prefix S3 refuses in one is one problem, not three.
    for bucket in (naming.state_bucket, naming.artifact_bucket, naming.pr_artifact_bucket):
        if complaint := _check_bucket_name(bucket):
            problems.add(devops_path, f'name_prefix "{naming.prefix}" makes bucket names S3 refuses: "{bucket}" {complaint}', "name_prefix")
            break
    # Role names each environment creates in its account: the deployment role and the read-only plan role.
    # IAM role names are case-insensitive: compare them lowercased.
    plan_roles = {(env.account_id, naming.plan_role(env.name).lower()): env.name for env in project.environments}
    seen: dict[tuple[str, str], str] = {}
    for env in project.environments:
        path = env_paths[env.name]
        role = env.deployment_role.name
        if len(role) > 64:
            problems.add(path, f'deployment_role.name "{role}" is {len(role)} characters; IAM role names must be at most 64', "deployment_role.name")
        other = seen.setdefault((env.account_id, role.lower()), env.name)
        if other != env.name:
            problems.add(
                path,
                f'deployment_role.name "{role}" is also used by environment "{other}" in account {env.account_id}; '
                "give one of them another name",
                "deployment_role.name",
            )
        if (env.account_id, role.lower()) in plan_roles:
            problems.add(
                path,
                f'deployment_role.name "{role}" is the name of the read-only plan role of environment '
                f'"{plan_roles[(env.account_id, role.lower())]}" in account {env.account_id}; choose another name',
                "deployment_role.name",
            )
        for index, arn in enumerate(env.deployment_role.extra_trusted_role_arns):
            if arn.split(":")[4] != project.devops.account_id:
                problems.add(
                    path,
                    f'deployment_role.extra_trusted_role_arns[{index}] "{arn}" is in account {arn.split(":")[4]}: extra_trusted_role_arns are '
                    f"DevOps-account roles ({project.devops.account_id}); a role of another account goes in plan_trusted_role_arns",
                    f"deployment_role.extra_trusted_role_arns[{index}]",
                )
        state_role = env.bootstrap.state_role_arn
        if state_role and state_role.split(":")[4] != project.devops.account_id:
            problems.add(
                path,
                f'bootstrap.state_role_arn "{state_role}" is in account {state_role.split(":")[4]}: the state bucket is in '
                f"the DevOps account {project.devops.account_id}",
                "bootstrap.state_role_arn",
            )
        if any(arn.endswith(ADMIN_POLICY_ARN_SUFFIX) for arn in env.deployment_role.managed_policy_arns) and (
            env.deployment_role.permissions_boundary_arn is None
        ):
            problems.add(
                path,
                "deployment_role.managed_policy_arns grants AdministratorAccess without a permissions_boundary_arn; "
                "set a boundary or use narrower policies",
                "deployment_role.managed_policy_arns",
            )


def _check_partitions(project: ProjectConfig, devops_path: Path, env_paths: dict[str, Path], problems: _Problems) -> None:
    """Every account and every ARN in the DevOps region's partition: roles, keys and buckets are never shared
    across partitions (``aws``, ``aws-cn``, ``aws-us-gov``), so one pipeline cannot reach over."""
    devops, partition = project.devops, project.naming.partition

    def check(path: Path, key: str, arn: str | None, region: str) -> None:
        if arn is not None and arn.split(":")[1] != partition:
            problems.add(path, f'{key} "{arn}" is in the {arn.split(":")[1]} partition, but region {region} is in {partition}', key)

    check(devops_path, "source.connection_arn", devops.source.connection_arn, devops.region)
    connection = devops.source.connection_arn
    if connection and connection.split(":")[4] != devops.account_id:
        problems.add(
            devops_path,
            f'source.connection_arn "{connection}" is in account {connection.split(":")[4]}: a connection serves only its own '
            f"account's pipelines, and the pipeline is in the DevOps account {devops.account_id}",
            "source.connection_arn",
        )
    for env in project.environments:
        path = env_paths[env.name]
        if partition_of(env.region) != partition:
            problems.add(
                path,
                f'region "{env.region}" is in the {partition_of(env.region)} partition, but the DevOps region {devops.region} '
                f"is in {partition}: a pipeline deploys only within its own partition",
                "region",
            )
            continue
        role = env.deployment_role
        arns = [
            ("bootstrap.role_arn", env.bootstrap.role_arn),
            ("bootstrap.state_role_arn", env.bootstrap.state_role_arn),
            ("deployment_role.permissions_boundary_arn", role.permissions_boundary_arn),
            *((f"deployment_role.managed_policy_arns[{i}]", arn) for i, arn in enumerate(role.managed_policy_arns)),
            *((f"deployment_role.extra_trusted_role_arns[{i}]", arn) for i, arn in enumerate(role.extra_trusted_role_arns)),
            *((f"deployment_role.plan_trusted_role_arns[{i}]", arn) for i, arn in enumerate(role.plan_trusted_role_arns)),
        ]
        for key, arn in arns:
            check(path, key, arn, env.region)


def _check_name_clashes(project: ProjectConfig, devops_path: Path, env_paths: dict[str, Path], problems: _Problems) -> None:
    """Two resources of one name in one account, created by different stacks or steps: terraform would fail
    on the second (or, worse, the stacks would fight over one resource). IAM role names are unique per account
    ignoring case; CodeBuild project names per account and region (the DevOps region, for every project)."""
    from provisioner.app import access
    from provisioner.delivery.steps import TEAM_STEP_PREFIX, BuildStep, pull_request_steps, release_steps

    naming = project.naming
    # Clashes between two environments' roles are reported by _check_derived_names, with the names that clash.
    devops_roles: dict[tuple[str, str], str] = {}
    for spec in access.devops_roles(project, access.placeholders(project)):
        other = devops_roles.setdefault((spec.account_id, spec.name.lower()), spec.id)
        if other != spec.id:
            problems.add(
                env_paths[spec.environment] if spec.environment else devops_path,
                f"the devops stack would create the role {spec.name} in account {spec.account_id} twice ({other} and {spec.id}); rename the step",
            )
    for env in project.environments:
        for spec in access.environment_roles(project, env):
            if (spec.account_id, spec.name.lower()) not in devops_roles:
                continue
            if spec.id == "deployment-role" and spec.name != naming.default_deployment_role(env.name):
                problems.add(
                    env_paths[env.name],
                    f'deployment_role.name "{spec.name}" is a role the devops stack creates in account {spec.account_id} '
                    "(IAM role names are unique in an account); choose another name",
                    "deployment_role.name",
                )
            else:
                problems.add(
                    env_paths[env.name],
                    f"the role {spec.name} in account {spec.account_id} would be created by the devops stack and by environment {env.name}; "
                    "rename the environment",
                )

    steps = release_steps(project) + (pull_request_steps(project, comment=False) if access.plans_pull_requests(project) else [])
    projects: dict[str, BuildStep] = {}
    for step in steps:
        other = projects.setdefault(step.project_name(naming), step)
        if other is step:
            continue
        name = step.key.removeprefix(TEAM_STEP_PREFIX)
        problems.add(
            env_paths[step.environment] if step.environment else devops_path,
            f'step "{name}": its CodeBuild project {step.project_name(naming)} in account {project.devops.account_id} is also the project of '
            f'step "{other.key.removeprefix(TEAM_STEP_PREFIX)}" of environment {other.environment}; rename one of the steps',
            f'step "{name}"',
        )


@dataclass(frozen=True)
class Examination:
    """What ``provisioner check`` finds: the configuration when it is valid, every error and every warning."""

    project: ProjectConfig | None
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...] = ()


def load(environments_dir: Path, *, repo_root: Path | None = None, workload_file: Path | None = None) -> ProjectConfig:
    """Read and check ``environments/`` and the team's workload file (default ``workloads/workload.hcl``);
    raise ``ConfigErrors`` with every problem found."""
    found = examine(environments_dir, repo_root=repo_root, workload_file=workload_file)
    if found.project is None:
        raise ConfigErrors(list(found.errors))
    return found.project


def examine(environments_dir: Path, *, repo_root: Path | None = None, workload_file: Path | None = None) -> Examination:
    """Read and check ``environments/`` and the team's workload file, collecting every problem."""
    environments_dir = Path(environments_dir)
    problems = _Problems((repo_root or environments_dir.parent).resolve())
    if os.environ.get(ENVIRONMENTS_VARIABLE) == "" and environments_dir == ENVIRONMENTS_DIR:
        # An empty value names the current folder: every folder in it would be reported as a bad environment.
        problems.add(None, f"{ENVIRONMENTS_VARIABLE} is set but empty: unset it to read environments/ of the repository, or set it to the folder to read")
        return Examination(None, tuple(problems.found))
    project = _read(environments_dir.resolve(), workload_file, problems)
    if problems.found:
        project = None
    return Examination(project, tuple(problems.found), tuple(problems.warnings))


def _read(environments_dir: Path, workload_file: Path | None, problems: _Problems) -> ProjectConfig | None:
    if not environments_dir.is_dir():
        problems.add(environments_dir, "is not a folder: it should hold devops.hcl and one folder per environment")
        return None

    devops_path = environments_dir / DEVOPS_FILE
    devops = _load_devops(devops_path, problems)
    workload_path = Path(workload_file or WORKLOAD_FILE).resolve()
    workload = _load_workload(workload_path, problems)
    prefix = devops.name_prefix if devops else None

    environments: list[EnvironmentConfig] = []
    env_paths: dict[str, Path] = {}
    # devops.hcl written as a folder is reported once, by _load_devops, not also as a badly named environment.
    folders = sorted(p for p in environments_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")) and p != devops_path)
    if len(folders) > limits.ENVIRONMENTS.limit:
        problems.add(
            environments_dir,
            f"holds {len(folders)} environment folders, over the {limits.ENVIRONMENTS.limit} one installation may hold "
            "(its pipeline's stages and the pull-request plan's role and buildspec grow with each)",
        )
        return None
    for folder in folders:
        if not ENVIRONMENT_NAME.fullmatch(folder.name):
            problems.add(
                folder,
                "folder name must be 1-20 characters: lowercase letters, digits and hyphens, starting with a letter "
                "(it becomes part of stack and resource names)",
            )
            continue
        path = folder / ENVIRONMENT_FILE
        if not path.is_file():
            problems.add(folder, f"has no {ENVIRONMENT_FILE}: every environment folder needs one")
            continue
        # A misnamed file (environment.tf, a backup) would otherwise be silently left out; hidden files are the tools' own.
        for ignored in sorted(p for p in folder.iterdir() if p.name != ENVIRONMENT_FILE and not p.name.startswith(".")):
            problems.warn(ignored, f"ignored: an environment folder is read for {ENVIRONMENT_FILE} only")
        env = _load_environment(folder.name, path, prefix, problems, workload, workload_path)
        if env is not None:
            environments.append(env)
            env_paths[env.name] = path
    if not folders:
        problems.add(environments_dir, "holds no environment folder: add environments/<name>/environment.hcl")

    if devops is None or workload is None:
        return None
    environments.sort(key=lambda env: (env.order, env.name))
    project = ProjectConfig(devops=devops, environments=tuple(environments), workload=workload)
    _check_derived_names(project, devops_path, env_paths, problems)
    _check_partitions(project, devops_path, env_paths, problems)
    _check_name_clashes(project, devops_path, env_paths, problems)
    if not problems.found:
        # Sizes are measured on a configuration that is otherwise right (imported here: it needs this module).
        from provisioner.configuration import quotas

        for environment, field, message in quotas.problems(project):
            problems.add(env_paths[environment] if environment else devops_path, message, field)
    return project
