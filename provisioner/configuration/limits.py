"""The AWS quotas and formats ``provisioner check`` enforces on what environments/ declares, each with the
limit AWS (or terraform) sets and the service that enforces it.

The loaders (``settings``) and the quota measures (``quotas``) take their limits from here, and
docs/configuration-rules.md is generated from ``RULES`` (tests/test_readme.py): the list users read is
the list the code checks. A rule here is one the emulator does not enforce; without it the mistake shows
up only in ``terraform apply`` against real AWS, half-way through.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One rule: where it applies, what it says and the AWS limit behind it."""

    fields: str
    """The fields or files it applies to, as problems name them."""
    rule: str
    """What is refused; ``{limit}`` stands for ``limit``."""
    source: str
    """Who sets the limit and where it is written down."""
    limit: int = 0

    @property
    def text(self) -> str:
        return self.rule.format(limit=f"{self.limit:,}")


FILE_BYTES = Rule(
    "devops.hcl, environment.hcl, workload.hcl", "at most {limit} bytes (256 KiB), measured before the file is parsed",
    "the product: keeps `provisioner check` fast on any input", 256 * 1024,
)  # fmt: skip
ENVIRONMENTS = Rule(
    "environments/", "at most {limit} environment folders",
    "the product: each environment grows the pipeline (50 stages) and the pull-request plan role's policies "
    "(10,240 characters) and buildspec; 50 fit with room to spare", 100,
)  # fmt: skip
ACCOUNT_ID = Rule("account_id", "12 digits", "AWS account identifiers")
REGION = Rule("region", "an AWS region code, in the DevOps region's partition (aws, aws-cn, aws-us-gov)", "AWS: IAM, KMS and S3 grants do not cross partitions")
NAME_PREFIX = Rule("name_prefix", "2-20 lowercase letters, digits and hyphens, starting with a letter", "the product: the longest derived names still fit IAM's 64 and S3's 63 characters")
BUCKET_NAME = Rule(
    "name_prefix (the state and artifact buckets), source.bucket",
    "3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit, no `..`, `.-`, `-.`, not an IP address, "
    "no reserved prefix (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffix (`-s3alias`, `--ol-s3`, `--x-s3`, `.mrap`)",
    "S3 bucket naming rules",
)  # fmt: skip
EMAIL_ADDRESS = Rule(
    "notification_emails",
    "an address: at most 254 characters, a local part of at most 64 without leading, trailing or consecutive dots, "
    "a domain of valid labels (1-63 letters, digits, hyphens, not starting or ending with a hyphen)",
    "SNS email subscriptions (RFC 5321/5322 addresses)",
)  # fmt: skip
SECRET_NAME = Rule("github_token_secret", "1-512 characters of letters, digits and /_+=.@-", "Secrets Manager secret names")
BRANCH = Rule("source.branch", "a git branch name of at most {limit} characters", "git ref names; CodePipeline git trigger branch filters (1-255)", 255)
CONNECTION = Rule(
    "source.connection_arn", "a CodeStar/CodeConnections connection ARN in the DevOps account",
    "CodeConnections: a connection has no resource policy, so only its own account's pipeline can use it",
)  # fmt: skip
TRIGGER_PATHS = Rule("source.trigger_paths", "1-{limit} entries when given", "CodePipeline V2 git trigger file-path filters", 8)
TRIGGER_PATH = Rule("source.trigger_paths[]", "1-{limit} characters each", "CodePipeline V2 git trigger file-path filters", 255)
BUILD_TIMEOUT = Rule("build.timeout_minutes", "5-2,160 minutes", "CodeBuild build timeout")
LOG_RETENTION = Rule("build.log_retention_days", "one of the retention periods CloudWatch Logs offers", "CloudWatch Logs PutRetentionPolicy")
ENVIRONMENT_NAME = Rule("environments/<name>", "1-20 lowercase letters, digits and hyphens, starting with a letter", "the product: part of stack, role and project names")
ROLE_NAME = Rule("deployment_role.name and every role the product derives", "1-{limit} characters of letters, digits and +=,.@_-", "IAM role names", 64)
ROLE_NAMES_UNIQUE = Rule(
    "deployment_role.name, environment and step names", "every role name unique in its account, ignoring case, across all stacks",
    "IAM: role names are unique per account and case-insensitive",
)  # fmt: skip
PROJECT_NAMES_UNIQUE = Rule("step names with environment names", "every CodeBuild project name unique in the DevOps account", "CodeBuild: project names are unique per account and region")
MANAGED_POLICIES = Rule(
    "deployment_role.managed_policy_arns", "at most {limit} policies (10 by default: see the quota below)",
    "IAM managed policies per role: 10 by default, 20 at most on request", 20,
)  # fmt: skip
POLICY_ARN = Rule("deployment_role.managed_policy_arns[], permissions_boundary_arn", "an IAM policy ARN, in the DevOps region's partition", "IAM ARNs")
SESSION_DURATION = Rule("deployment_role.max_session_duration", "3,600 only", "STS: a chained role session lasts at most one hour")
EXTERNAL_ID = Rule("deployment_role.external_id", "2-1,224 characters of letters, digits and +=,.@:/-_", "STS AssumeRole ExternalId")
EXTRA_TRUSTED = Rule(
    "deployment_role.extra_trusted_role_arns[]", "an IAM role ARN in the DevOps account",
    "the product's trust model: only DevOps-account roles may assume the deployment role",
)  # fmt: skip
PLAN_TRUSTED = Rule("deployment_role.plan_trusted_role_arns[]", "an IAM role ARN", "IAM ARNs")
BOOTSTRAP_ROLE = Rule("bootstrap.role_arn", "an IAM role ARN in the environment's account", "the AWS provider's allowed_account_ids")
STATE_ROLE = Rule("bootstrap.state_role_arn", "an IAM role ARN in the DevOps account", "the state bucket is in the DevOps account")
PROFILE = Rule("bootstrap.profile, bootstrap.state_profile", "1-128 characters of letters, digits and +=,.@:/-_", "AWS CLI/SDK profile names")
TAGS_PER_RESOURCE = Rule(
    "tags", "at most {limit} tags per resource, the product's ManagedBy, Project and Environment included",
    "tags per resource (IAM, S3, KMS, SNS, CodeBuild, CodePipeline): 50", 50,
)  # fmt: skip
TAG_KEY = Rule("tags", "keys 1-{limit} characters, not starting with `aws:`, unique ignoring case", "IAM tag keys (case-insensitive), AWS tagging rules", 128)
TAG_VALUE = Rule("tags", "values at most {limit} characters; keys and values only letters, digits, spaces and _.:/=+-@", "IAM tag values", 256)
STEP_NAME = Rule("step \"<name>\"", "1-16 lowercase letters, digits and hyphens, not plan, apply, approve or synth", "the product: part of role and project names (IAM's 64 characters)")
STEP_TIMEOUT = Rule("step.timeout_minutes", "5-480 minutes", "CodeBuild build timeout (the product caps team steps at 8 hours)")

RULES = (
    FILE_BYTES, ENVIRONMENTS, ACCOUNT_ID, REGION, NAME_PREFIX, BUCKET_NAME, EMAIL_ADDRESS, SECRET_NAME, BRANCH, CONNECTION,
    TRIGGER_PATHS, TRIGGER_PATH, BUILD_TIMEOUT, LOG_RETENTION, ENVIRONMENT_NAME, ROLE_NAME, ROLE_NAMES_UNIQUE,
    PROJECT_NAMES_UNIQUE, MANAGED_POLICIES, POLICY_ARN, SESSION_DURATION, EXTERNAL_ID, EXTRA_TRUSTED, PLAN_TRUSTED,
    BOOTSTRAP_ROLE, STATE_ROLE, PROFILE, TAGS_PER_RESOURCE, TAG_KEY, TAG_VALUE, STEP_NAME, STEP_TIMEOUT,
)  # fmt: skip
"""Every format and count rule, in the order docs/configuration-rules.md lists them; the sizes measured on
what the configuration makes (policy documents, pipeline stages, buildspecs) are ``quotas.QUOTAS``."""
