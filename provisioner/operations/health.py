"""Can this installation deliver? Checks run from the DevOps account with the caller's credentials.

Each check gives one row: pass, fail (with the fix) or skip (it could not run; the row says why and
how to run it). A check never guesses: when it cannot tell, it skips.

credentials           sts:GetCallerIdentity works and the caller is in devops.hcl's account. When it
                      fails, every other check is skipped: they would fail for the same reason.
state bucket          s3:HeadBucket on the state bucket; it must be in devops.hcl's region.
state versioning      versioning Enabled (terraform's advice for state: an overwritten state can be restored).
state encryption      default encryption SSE-KMS with a key, as the devops stack sets it. S3-managed keys
                      (AES256) fail: every bucket has them since 2023, so they say nothing about this one.
pipeline              codepipeline:GetPipeline: the pipeline exists and is V2 (no pipelineType means V1).
stack bootstrap-<env> ``stacks/bootstrap-<env>/terraform.tfstate`` is in the state bucket and its
                      ``deployment_role_arn`` output is the role environment.hcl names: the stack that
                      creates the deployment role was deployed, and not with another role name.
deployment role <env> sts:AssumeRole into the deployment role, with the external id when one is configured.

Why the deployment role is checked twice. IAM is per account: from the DevOps account nothing can
see whether a role exists in a workload account without assuming a role there. The deployment role
trusts only the environment's apply-build role and ``deployment_role.extra_trusted_role_arns``, so an
operator's own credentials are refused whether the role is fine or not. Doctor therefore tries the
assume only when the caller is one of those roles (its pass or fail then means something), and
skips it otherwise, saying how to test it. It does not try an assume that must fail: each refused
AssumeRole is an AccessDenied event in the workload account's CloudTrail, where security teams alert
on them. What any operator can check is the ``bootstrap-<env>`` row: read from the DevOps account's
state bucket, it answers the usual question (was the environment bootstrapped?) without touching the
workload account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from provisioner.app import access
from provisioner.configuration.naming import Naming
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig
from provisioner.operations import aws
from provisioner.operations.aws import ACCESS_DENIED_CODES, ClientFactory, error_code, error_message, explain

PASS, FAIL, SKIP = "pass", "fail", "skip"
SESSION_NAME = "provisioner-doctor"
ASSUME_SECONDS = 900
"""The shortest session STS grants: doctor only proves that the assume works."""
DEPLOYMENT_ROLE_OUTPUT = "deployment_role_arn"
V2 = "V2"
ASSUMED_ROLE_ARN = re.compile(r"^arn:[\w-]+:sts::(\d{12}):assumed-role/([^/]+)/")
DEPLOY_DEVOPS = "deploy the devops stack"


@dataclass(frozen=True)
class Check:
    """One row of the report."""

    check: str
    target: str
    status: str
    result: str
    fix: str = ""


@dataclass(frozen=True)
class Diagnosis:
    account_id: str
    region: str
    caller: str | None
    """The caller's ARN, when the credentials work."""
    checks: tuple[Check, ...]

    def count(self, status: str) -> int:
        return sum(1 for check in self.checks if check.status == status)

    @property
    def ok(self) -> bool:
        """No check failed (skipped ones do not fail the run)."""
        return self.count(FAIL) == 0


def diagnose(project: ProjectConfig, clients: ClientFactory, region: str | None = None) -> Diagnosis:
    """Run every check against ``project`` in ``region`` (default: devops.hcl's)."""
    return _Doctor(project, clients, region or project.devops.region).run()


class _Doctor:
    def __init__(self, project: ProjectConfig, clients: ClientFactory, region: str) -> None:
        self.project = project
        self.naming = project.naming
        self.account_id = project.devops.account_id
        self.clients = clients
        self.region = region
        self.checks: list[Check] = []
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.clients(service, self.region)
        return self._clients[service]

    def add(self, check: str, target: str, status: str, result: str, fix: str = "") -> None:
        self.checks.append(Check(check, target, status, result, fix))

    def fail(self, check: str, target: str, error: Exception, fix: str = "") -> None:
        problem = explain(error)
        self.add(check, target, FAIL, problem.message, problem.fix or fix)

    def run(self) -> Diagnosis:
        caller = self.credentials()
        if caller is None:
            for check, target in self.remaining_targets():
                self.add(check, target, SKIP, "not run: the credentials check failed")
        else:
            bucket_ok = self.state_bucket()
            self.pipeline()
            for env in self.project.environments:
                self.bootstrap_state(env, bucket_ok)
                self.deployment_role(env, caller)
        return Diagnosis(self.account_id, self.region, caller, tuple(self.checks))

    def remaining_targets(self) -> list[tuple[str, str]]:
        bucket = self.naming.state_bucket
        targets = [("state bucket", bucket), ("state versioning", bucket), ("state encryption", bucket), ("pipeline", self.naming.pipeline)]
        for env in self.project.environments:
            targets.append((f"stack {env.bootstrap_stack}", Naming.state_key(env.bootstrap_stack)))
            targets.append((f"deployment role {env.name}", self.project.deployment_role_arn(env)))
        return targets

    # --- credentials ------------------------------------------------------------------------
    def credentials(self) -> str | None:
        check, target = "credentials", f"account {self.account_id}"
        try:
            identity = self.client("sts").get_caller_identity()
        except aws.api_errors() as error:
            self.fail(check, target, error)
            return None
        if identity["Account"] != self.account_id:
            self.add(
                check, target, FAIL,
                f"the caller {identity['Arn']} is in account {identity['Account']}",
                f"use credentials for account {self.account_id}, the DevOps account in devops.hcl (AWS_PROFILE=<its profile>)",
            )  # fmt: skip
            return None
        self.add(check, target, PASS, identity["Arn"])
        return identity["Arn"]

    # --- state bucket -----------------------------------------------------------------------
    def state_bucket(self) -> bool:
        bucket = self.naming.state_bucket
        try:
            s3 = self.client("s3")
            head = s3.head_bucket(Bucket=bucket)
        except aws.api_errors() as error:
            code = error_code(error)
            if code in ("404", "NoSuchBucket"):
                self.add(
                    "state bucket", bucket, FAIL, "does not exist",
                    "create it with `provisioner bootstrap-state` (the state bucket and its KMS key), then deploy the devops stack",
                )  # fmt: skip
            elif code in ACCESS_DENIED_CODES:
                self.add(
                    "state bucket", bucket, FAIL, "access denied (403): another account owns it, or the caller lacks s3:ListBucket on it",
                    "grant the caller s3:ListBucket on it; if another account owns the name, change name_prefix in devops.hcl",
                )  # fmt: skip
            else:
                self.fail("state bucket", bucket, error)
            for check in ("state versioning", "state encryption"):
                self.add(check, bucket, SKIP, "not checked: the state bucket check failed")
            return False
        bucket_region = head.get("BucketRegion")
        if bucket_region and bucket_region != self.project.devops.region:
            self.add(
                "state bucket", bucket, FAIL, f"is in {bucket_region}, devops.hcl says {self.project.devops.region}",
                "the S3 backend looks for it in devops.hcl's region: fix region in devops.hcl, or move the state",
            )  # fmt: skip
        else:
            self.add("state bucket", bucket, PASS, f"exists in {bucket_region}" if bucket_region else "exists")
        self.state_versioning(s3, bucket)
        self.state_encryption(s3, bucket)
        return True

    def state_versioning(self, s3: Any, bucket: str) -> None:
        try:
            status = s3.get_bucket_versioning(Bucket=bucket).get("Status")
        except aws.api_errors() as error:
            self.fail("state versioning", bucket, error)
            return
        if status == "Enabled":
            self.add("state versioning", bucket, PASS, "Enabled")
            return
        self.add(
            "state versioning", bucket, FAIL,
            f"{status}: an overwritten or deleted state cannot be restored" if status else "never enabled: an overwritten or deleted state cannot be restored",
            f"deploy the devops stack (it enables versioning), or `aws s3api put-bucket-versioning --bucket {bucket} "
            "--versioning-configuration Status=Enabled`",
        )  # fmt: skip

    def state_encryption(self, s3: Any, bucket: str) -> None:
        fix = f"deploy the devops stack: it sets SSE-KMS with the state key ({self.naming.state_key_alias})"
        try:
            rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except aws.api_errors() as error:
            if error_code(error) == "ServerSideEncryptionConfigurationNotFoundError":
                self.add("state encryption", bucket, FAIL, "no default encryption", fix)
            else:
                self.fail("state encryption", bucket, error)
            return
        default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        algorithm, key = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID")
        if algorithm in ("aws:kms", "aws:kms:dsse") and key:
            self.add("state encryption", bucket, PASS, f"{algorithm} with {key}")
        elif algorithm in ("aws:kms", "aws:kms:dsse"):
            self.add("state encryption", bucket, FAIL, f"{algorithm} with the AWS managed key aws/s3, not the state key", fix)
        else:
            self.add("state encryption", bucket, FAIL, f"{algorithm or 'no algorithm'} (S3-managed keys), not SSE-KMS", fix)

    # --- pipeline ---------------------------------------------------------------------------
    def pipeline(self) -> None:
        name = self.naming.pipeline
        try:
            pipeline = self.client("codepipeline").get_pipeline(name=name)["pipeline"]
        except aws.api_errors() as error:
            if error_code(error) == "PipelineNotFoundException":
                self.add("pipeline", name, FAIL, f"does not exist in account {self.account_id} ({self.region})", f"{DEPLOY_DEVOPS} (it creates the pipeline)")
            else:
                self.fail("pipeline", name, error)
            return
        pipeline_type = pipeline.get("pipelineType") or "V1"  # AWS's default when none was given
        described = f"{pipeline_type}, version {pipeline.get('version', '?')}, {len(pipeline.get('stages', []))} stages"
        if pipeline_type == V2:
            self.add("pipeline", name, PASS, described)
        else:
            self.add(
                "pipeline", name, FAIL, f"{described}: V1 has no git triggers or pipeline variables",
                f"{DEPLOY_DEVOPS}: it declares a V2 pipeline (terraform updates the type in place)",
            )  # fmt: skip

    # --- deployment roles -------------------------------------------------------------------
    def bootstrap_state(self, env: EnvironmentConfig, bucket_ok: bool) -> None:
        check, target = f"stack {env.bootstrap_stack}", Naming.state_key(env.bootstrap_stack)
        if not bucket_ok:
            self.add(check, target, SKIP, "not checked: the state bucket check failed")
            return
        deploy = f"an admin of account {env.account_id} deploys the {env.bootstrap_stack} stack (it creates the deployment role)"
        try:
            body = self.client("s3").get_object(Bucket=self.naming.state_bucket, Key=Naming.state_key(env.bootstrap_stack))["Body"].read()
        except aws.api_errors() as error:
            code = error_code(error)
            if code in ("NoSuchKey", "404"):
                self.add(check, target, FAIL, "no state: never deployed", deploy)
            elif code in ACCESS_DENIED_CODES or code.startswith("KMS."):
                self.add(
                    check, target, SKIP, f"cannot read the state ({code}: {error_message(error)})",
                    "to check it, the caller needs s3:GetObject on stacks/bootstrap-* and kms:Decrypt on the state key",
                )  # fmt: skip
            else:
                self.fail(check, target, error)
            return
        expected = self.project.deployment_role_arn(env)
        try:
            named = json.loads(body)["outputs"][DEPLOYMENT_ROLE_OUTPUT]["value"]
        except (ValueError, TypeError, KeyError):
            self.add(check, target, FAIL, f"the state has no {DEPLOYMENT_ROLE_OUTPUT} output (destroyed, or never applied)", deploy)
            return
        if named != expected:
            self.add(
                check, target, FAIL, f"the state names {named}, environment.hcl names {expected}",
                f"redeploy {env.bootstrap_stack}: deployment_role changed in environment.hcl since it was deployed",
            )  # fmt: skip
            return
        self.add(check, target, PASS, "deployed; its state names the deployment role")

    def deployment_role(self, env: EnvironmentConfig, caller: str) -> None:
        check, role_arn = f"deployment role {env.name}", self.project.deployment_role_arn(env)
        trusted = access.deployment_role(self.project, env).trusted_role_arns
        as_role = trusted_role(caller, trusted)
        if as_role is None:
            self.add(
                check, role_arn, SKIP, "not tried: it does not trust the caller (AWS would refuse)",
                f"to test it, run doctor as {self.naming.apply_build_role(env.name)} or a role in "
                f"deployment_role.extra_trusted_role_arns of {env.name}",
            )  # fmt: skip
            return
        external_id = env.deployment_role.external_id
        params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": SESSION_NAME, "DurationSeconds": ASSUME_SECONDS}
        if external_id:
            params["ExternalId"] = external_id
        with_id = " with the external id" if external_id else ""
        try:
            self.client("sts").assume_role(**params)
        except aws.api_errors() as error:
            if error_code(error) in ACCESS_DENIED_CODES:
                id_hint = f", and that it was deployed with external_id {external_id!r}" if external_id else ""
                self.add(
                    check, role_arn, FAIL, f"{_role_name(as_role)} may not assume it{with_id} ({error_message(error)})",
                    f"check that {env.bootstrap_stack} is deployed in account {env.account_id} (an admin deploys it){id_hint}",
                )  # fmt: skip
            else:
                self.fail(check, role_arn, error)
            return
        self.add(check, role_arn, PASS, f"assumed as {_role_name(as_role)}{with_id}")


def trusted_role(caller_arn: str, trusted_role_arns: tuple[str, ...]) -> str | None:
    """The role ARN among ``trusted_role_arns`` that ``caller_arn`` (an STS assumed-role ARN) is, if any.

    An assumed-role ARN drops the role's path, so roles are compared by account and name.
    """
    match = ASSUMED_ROLE_ARN.match(caller_arn)
    if match is None:
        return None
    for arn in trusted_role_arns:
        if (arn.split(":")[4], _role_name(arn)) == (match[1], match[2]):
            return arn
    return None


def _role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]
