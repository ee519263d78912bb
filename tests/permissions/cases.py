"""The permission matrix: who may and who may not, per environment and for the pipeline as a whole.

Allowed cases prove each step can do its job (terraform's S3 backend on state and lock objects, KMS on
the state key, each assume-role hop, artifacts); denied cases prove the boundaries: one environment's
roles cannot touch another's, no plan identity can write state or assume a deployment role, workload
accounts cannot read artifacts or state even when their own admins widen their roles, the pipeline
role starts only the product's projects, and service principals act only for the DevOps account.
"""

from __future__ import annotations

from modules.pipeline_blueprint import CodeStarSource, artifact_prefix
from provisioner.app import access
from provisioner.configuration.naming import Naming, standard_tags
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig
from provisioner.delivery.steps import drift_step
from tests.conftest import Synthesized
from tests.modules.helpers import at_path
from tests.permissions.evaluator import ALLOWED, DENIED, Case
from tests.permissions.world import connection_arn, key_arn

OTHER_ACCOUNT = "999999999999"
TLS = {"aws:SecureTransport": "true"}
SSE = {**TLS, "s3:x-amz-server-side-encryption": "aws:kms"}
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ASSUME_ANY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}


class Matrix:
    """Builds the cases of one synthesized project."""

    def __init__(self, synth: Synthesized) -> None:
        self.synth = synth
        self.project: ProjectConfig = synth.project
        self.naming: Naming = self.project.naming
        devops = self.project.devops
        self.devops, self.region = devops.account_id, devops.region
        self.state_bucket = self.naming.state_bucket_arn
        self.artifacts = self.naming.artifact_bucket_arn
        self.pr_artifacts = self.naming.pr_artifact_bucket_arn
        self.pr_artifact = f"{self.pr_artifacts}/{artifact_prefix(self.naming.pr_pipeline)}/summary/a1"
        self.state_key = self._key("devops/state-key/key")
        self.artifact_key = self._key("devops/artifacts/key/key")
        self.pull_requests = access.plans_pull_requests(self.project)
        self.cases: list[Case] = []

    def _key(self, path: str) -> str:
        logical_id, _ = at_path(self.synth.stacks["devops"], "aws_kms_key", path)
        return key_arn(self.region, self.devops, logical_id)

    def role(self, name: str) -> str:
        return self.naming.devops_role_arn(name)

    def project_arn(self, name: str, account: str | None = None) -> str:
        return f"arn:aws:codebuild:{self.region}:{account or self.devops}:project/{name}"

    def state(self, stack: str, lock: bool = False) -> str:
        key = Naming.state_lock_key(stack) if lock else Naming.state_key(stack)
        return f"{self.state_bucket}/{key}"

    def artifact(self, name: str, pipeline: str | None = None) -> str:
        """An artifact object where CodePipeline keeps it: under the first 20 characters of the pipeline's name."""
        return f"{self.artifacts}/{artifact_prefix(pipeline or self.naming.pipeline)}/{name}/a1"

    def add(self, expected: str, name: str, principal: str, action: str, resource: str, **kwargs) -> None:
        self.cases.append(Case(name=name, principal=principal, action=action, resource=resource, expected=expected, **kwargs))

    def external_id(self, env: EnvironmentConfig) -> dict[str, str]:
        return {"sts:ExternalId": env.deployment_role.external_id} if env.deployment_role.external_id else {}

    # -- the cases --------------------------------------------------------------------------------
    def build(self) -> list[Case]:
        envs = list(self.project.environments)
        for index, env in enumerate(envs):
            other = envs[(index + 1) % len(envs)] if len(envs) > 1 else None
            self.codebuild_runs_each_build_as_its_own_role(env)
            self.plan_build(env, other)
            self.apply_build(env, other)
            self.configured_roles(env)
            self.workload_accounts_reach_no_artifacts_or_state(env)
            self.plan_role_reads_configuration_not_data(env)
            for step in env.steps:
                self.team_step(env, step.name, other)
        self.pipeline_role()
        self.synth_build()
        self.services_act_for_the_devops_account_only()
        if self.pull_requests:
            self.pull_request_builds(envs)
        if self.project.devops.drift_schedule:
            self.drift_build(envs)
        if self.project.devops.self_update:
            self.self_update(envs)
        if self.project.devops.build.vpc:
            self.builds_in_a_vpc(envs[0])
        self.interrupted_runs(envs)
        return self.cases

    def codebuild_runs_each_build_as_its_own_role(self, env: EnvironmentConfig) -> None:
        for step, role in (("plan", self.naming.plan_build_role(env.name)), ("apply", self.naming.apply_build_role(env.name))):
            own = self.naming.build_project(step, env.name)
            other = self.naming.build_project("apply" if step == "plan" else "plan", env.name)
            for project, account, expected in ((own, self.devops, ALLOWED), (other, self.devops, DENIED), (own, OTHER_ACCOUNT, DENIED)):
                where = "" if account == self.devops else f" of account {account}"
                self.add(
                    expected, f"CodeBuild project {project}{where} {'may' if expected == ALLOWED else 'may not'} run as {role}",
                    "codebuild.amazonaws.com", "sts:AssumeRole", self.role(role),
                    context={"aws:SourceAccount": account, "aws:SourceArn": self.project_arn(project, account)},
                )  # fmt: skip

    def plan_build(self, env: EnvironmentConfig, other: EnvironmentConfig | None) -> None:
        me = self.role(self.naming.plan_build_role(env.name))
        who = self.naming.plan_build_role(env.name)
        stack = env.workload_stack
        self.add(ALLOWED, f"{who} lists the state bucket (no prefix: a missing state answers 404, not 403)", me, "s3:ListBucket", self.state_bucket, context=TLS)
        self.add(ALLOWED, f"{who} reads {stack}'s state", me, "s3:GetObject", self.state(stack), context=TLS)
        self.add(DENIED, f"{who} may not write {stack}'s state (a plan writes none)", me, "s3:PutObject", self.state(stack), context=TLS)
        for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
            self.add(ALLOWED, f"{who} takes and releases {stack}'s lock ({action})", me, action, self.state(stack, lock=True), context=TLS)
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            self.add(ALLOWED, f"{who} uses the state key ({action})", me, action, self.state_key)
        self.add(DENIED, f"{who} may not read {env.bootstrap_stack}'s state", me, "s3:GetObject", self.state(env.bootstrap_stack), context=TLS)
        self.add(DENIED, f"{who} may not read state over plain HTTP", me, "s3:GetObject", self.state(stack), context={"aws:SecureTransport": "false"})
        self.add(ALLOWED, f"{who} assumes {env.name}'s read-only plan role", me, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))
        self.add(DENIED, f"{who} may not assume {env.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env))
        self.add(ALLOWED, f"{who} reads the synth artifact", me, "s3:GetObject", self.artifact("synth"), context=TLS)
        self.add(ALLOWED, f"{who} writes its plan artifact", me, "s3:PutObject", self.artifact("plan"), context=SSE)
        synth_cache = f"{self.artifacts}/build-cache/{self.naming.build_project('synth')}/cache.zip"
        self.add(DENIED, f"{who} may not write the synth build's cache", me, "s3:PutObject", synth_cache, context=SSE)
        self.add(DENIED, f"{who} may not upload an artifact without SSE-KMS", me, "s3:PutObject", self.artifact("plan"), context=TLS)
        self.add(ALLOWED, f"{who} uses the artifact key", me, "kms:GenerateDataKey", self.artifact_key)
        if self.pull_requests:
            self.add(DENIED, f"{who} may not touch pull-request artifacts", me, "s3:GetObject", self.pr_artifact, context=TLS)
        if other is not None:
            self.add(DENIED, f"{who} may not read {other.workload_stack}'s state", me, "s3:GetObject", self.state(other.workload_stack), context=TLS)
            self.add(DENIED, f"{who} may not assume {other.name}'s plan role", me, "sts:AssumeRole", self.project.plan_role_arn(other), context=self.external_id(other))

    def team_step(self, env: EnvironmentConfig, step: str, other: EnvironmentConfig | None) -> None:
        """A team's own step (``step`` block): reads the release and, through the plan role, the workload account."""
        who = f"{self.project.devops.name_prefix}-step-{step}-build-{env.name}"
        me, own = self.role(who), f"{self.project.devops.name_prefix}-step-{step}-{env.name}"
        source = {"aws:SourceAccount": self.devops, "aws:SourceArn": self.project_arn(own)}
        self.add(ALLOWED, f"CodeBuild project {own} may run as {who}", "codebuild.amazonaws.com", "sts:AssumeRole", me, context=source)
        apply_project = self.project_arn(self.naming.build_project("apply", env.name))
        self.add(DENIED, f"{env.name}'s apply project may not run as {who}", "codebuild.amazonaws.com", "sts:AssumeRole", me, context={**source, "aws:SourceArn": apply_project})
        self.add(ALLOWED, f"{who} assumes {env.name}'s read-only plan role", me, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))
        self.add(DENIED, f"{who} may not assume {env.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env))
        self.add(ALLOWED, f"{who} reads the synth artifact", me, "s3:GetObject", self.artifact("synth"), context=TLS)
        self.add(DENIED, f"{who} may not write an artifact", me, "s3:PutObject", self.artifact("plan"), context=SSE)
        self.add(DENIED, f"{who} may not read {env.workload_stack}'s state", me, "s3:GetObject", self.state(env.workload_stack), context=TLS)
        if other is not None:
            self.add(DENIED, f"{who} may not assume {other.name}'s plan role", me, "sts:AssumeRole", self.project.plan_role_arn(other), context=self.external_id(other))

    def apply_build(self, env: EnvironmentConfig, other: EnvironmentConfig | None) -> None:
        me = self.role(self.naming.apply_build_role(env.name))
        who = self.naming.apply_build_role(env.name)
        stack = env.workload_stack
        self.add(ALLOWED, f"{who} lists the state bucket", me, "s3:ListBucket", self.state_bucket, context=TLS)
        for action in ("s3:GetObject", "s3:PutObject"):
            self.add(ALLOWED, f"{who} reads and writes {stack}'s state ({action})", me, action, self.state(stack), context=TLS)
            self.add(ALLOWED, f"{who} takes {stack}'s lock ({action})", me, action, self.state(stack, lock=True), context=TLS)
        self.add(ALLOWED, f"{who} releases {stack}'s lock", me, "s3:DeleteObject", self.state(stack, lock=True), context=TLS)
        self.add(DENIED, f"{who} may not delete {stack}'s state", me, "s3:DeleteObject", self.state(stack), context=TLS)
        self.add(ALLOWED, f"{who} encrypts state with the state key", me, "kms:GenerateDataKey", self.state_key)
        self.add(ALLOWED, f"{who} assumes {env.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env))
        if env.deployment_role.external_id:
            self.add(DENIED, f"{who} may not assume {env.name}'s deployment role without the external id", me, "sts:AssumeRole", self.project.deployment_role_arn(env))
        self.add(DENIED, f"{who} has no use for {env.name}'s plan role", me, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))
        self.add(ALLOWED, f"{who} reads its saved plan", me, "s3:GetObject", self.artifact("plan"), context=TLS)
        self.add(DENIED, f"{who} may not overwrite a saved plan", me, "s3:PutObject", self.artifact("plan"), context=SSE)
        own_cache = f"{self.artifacts}/build-cache/{self.naming.build_project('apply', env.name)}/cache.zip"
        self.add(ALLOWED, f"{who} keeps its build cache (terraform and the providers)", me, "s3:PutObject", own_cache, context=SSE)
        plan_cache = f"{self.artifacts}/build-cache/{self.naming.build_project('plan', env.name)}/cache.zip"
        self.add(DENIED, f"{who} may not write the plan build's cache", me, "s3:PutObject", plan_cache, context=SSE)
        if other is not None:
            self.add(DENIED, f"{who} may not write {other.workload_stack}'s state", me, "s3:PutObject", self.state(other.workload_stack), context=TLS)
            self.add(DENIED, f"{who} may not assume {other.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(other), context=self.external_id(other))

    def interrupted_runs(self, envs: list[EnvironmentConfig]) -> None:
        """After a killed plan or apply: an operator given ``access.unlock_statements`` (what ``provisioner unlock``
        needs) reads and releases a stack's lock through the state bucket's and key's policies, and can touch no
        state; no build role can delete a version of a state, so every state versioning kept stays."""
        operator = f"arn:aws:iam::{self.devops}:role/platform-operator"
        grant = ({"Version": "2012-10-17", "Statement": access.unlock_statements(self.naming, self.state_key)},)
        who, stack = "an operator with the unlock grant", envs[0].workload_stack
        self.add(ALLOWED, f"{who} lists the state bucket (no lock held answers 404, not 403)", operator, "s3:ListBucket", self.state_bucket, context=TLS, extra_identity=grant)
        for action in ("s3:GetObject", "s3:DeleteObject"):
            self.add(ALLOWED, f"{who} reads and releases {stack}'s lock ({action})", operator, action, self.state(stack, lock=True), context=TLS, extra_identity=grant)
        self.add(ALLOWED, f"{who} decrypts a lock object with the state key", operator, "kms:Decrypt", self.state_key, extra_identity=grant)
        self.add(DENIED, f"{who} may not release a lock over plain HTTP", operator, "s3:DeleteObject", self.state(stack, lock=True), context={"aws:SecureTransport": "false"}, extra_identity=grant)
        self.add(DENIED, f"{who} may not take a lock", operator, "s3:PutObject", self.state(stack, lock=True), context=SSE, extra_identity=grant)
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"):
            self.add(DENIED, f"{who} may not touch {stack}'s state ({action})", operator, action, self.state(stack), context=TLS, extra_identity=grant)
        for env in envs:
            for role in (self.naming.plan_build_role(env.name), self.naming.apply_build_role(env.name)):
                self.add(DENIED, f"{role} may not delete an earlier version of {env.workload_stack}'s state", self.role(role), "s3:DeleteObjectVersion", self.state(env.workload_stack), context=TLS)
                self.add(DENIED, f"{role} may not suspend the state bucket's versioning", self.role(role), "s3:PutBucketVersioning", self.state_bucket, context=TLS)
        if self.project.devops.self_update:
            apply = self.role(self.naming.build_role("devops-apply"))
            for stack_name in ("devops", stack):
                self.add(DENIED, f"the devops apply may not delete an earlier version of {stack_name}'s state", apply, "s3:DeleteObjectVersion", self.state(stack_name), context=TLS, managed="grants")

    def configured_roles(self, env: EnvironmentConfig) -> None:
        """Roles named in environment.hcl, given by their own admins every sts:AssumeRole: the trust decides."""
        role = env.deployment_role
        for arn in role.extra_trusted_role_arns:
            for target in (self.project.deployment_role_arn(env), self.project.plan_role_arn(env)):
                self.add(ALLOWED, f"extra_trusted_role_arns {arn} assumes {target}", arn, "sts:AssumeRole", target, context=self.external_id(env), extra_identity=(ASSUME_ANY,))
        for arn in role.plan_trusted_role_arns:
            self.add(ALLOWED, f"plan_trusted_role_arns {arn} assumes {env.name}'s plan role", arn, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env), extra_identity=(ASSUME_ANY,))
            self.add(DENIED, f"plan_trusted_role_arns {arn} may not assume {env.name}'s deployment role", arn, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env), extra_identity=(ASSUME_ANY,))
        stranger = f"arn:aws:iam::{self.devops}:role/someone-else"
        self.add(DENIED, f"another DevOps-account role may not assume {env.name}'s deployment role", stranger, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env), extra_identity=(ADMIN,))
        self.add(DENIED, f"another DevOps-account role may not assume {env.name}'s plan role", stranger, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env), extra_identity=(ADMIN,))

    def workload_accounts_reach_no_artifacts_or_state(self, env: EnvironmentConfig) -> None:
        """Saved plans and state hold secrets in clear text: an admin of a workload account who gives its roles
        every permission still reaches neither (the DevOps account's bucket and key policies grant it nothing)."""
        for arn, who in ((self.project.deployment_role_arn(env), "deployment"), (self.project.plan_role_arn(env), "plan")):
            name = f"{env.name}'s {who} role, widened to every permission by its account's admin,"
            for action, resource, context in (
                ("s3:GetObject", self.artifact("plan"), TLS),
                ("s3:ListBucket", self.artifacts, TLS),
                ("kms:Decrypt", self.artifact_key, {}),
                ("s3:GetObject", self.state(env.workload_stack), TLS),
                ("kms:Decrypt", self.state_key, {}),
            ):
                self.add(DENIED, f"{name} may not {action} {resource.split(':::')[-1]}", arn, action, resource, context=context, managed="grants", extra_identity=(ADMIN,))

    def plan_role_reads_configuration_not_data(self, env: EnvironmentConfig) -> None:
        me, account, region = self.project.plan_role_arn(env), env.account_id, env.region
        tag = standard_tags(self.project.devops.name_prefix, env.name, dict(env.tags))[access.PROJECT_TAG]
        ours, theirs = {f"aws:ResourceTag/{access.PROJECT_TAG}": tag}, {f"aws:ResourceTag/{access.PROJECT_TAG}": "someone-else"}
        parameter = f"arn:aws:ssm:{region}:{account}:parameter/{self.project.devops.name_prefix}/{env.name}/data-bucket"
        secret = f"arn:aws:secretsmanager:{region}:{account}:secret:database-password-AbCdEf"
        function = f"arn:aws:lambda:{region}:{account}:function:handler"
        bucket = f"arn:aws:s3:::{self.project.devops.name_prefix}-{env.name}-data-{account}-{region}"
        who = f"{env.name}'s plan role"
        self.add(ALLOWED, f"{who} refreshes a parameter this project manages", me, "ssm:GetParameter", parameter, account=account, context=ours, managed="grants")
        self.add(DENIED, f"{who} may not read a parameter of anyone else", me, "ssm:GetParameter", parameter, account=account, context=theirs, managed="grants")
        self.add(DENIED, f"{who} may not read an untagged parameter", me, "ssm:GetParameters", parameter, account=account, managed="grants")
        self.add(DENIED, f"{who} may not read secret values it does not manage", me, "secretsmanager:GetSecretValue", secret, account=account, context=theirs, managed="grants")
        self.add(ALLOWED, f"{who} refreshes a function this project manages", me, "lambda:GetFunction", function, account=account, context=ours, managed="grants")
        self.add(DENIED, f"{who} may not download the code of a function it does not manage", me, "lambda:GetFunction", function, account=account, managed="grants")
        self.add(DENIED, f"{who} may not read objects of anyone else", me, "s3:GetObject", f"{bucket}/report.csv", account=account, context={**TLS, f"s3:ExistingObjectTag/{access.PROJECT_TAG}": "someone-else"}, managed="grants")
        self.add(ALLOWED, f"{who} refreshes an object this project manages", me, "s3:GetObject", f"{bucket}/config.json", account=account, context={**TLS, f"s3:ExistingObjectTag/{access.PROJECT_TAG}": tag}, managed="grants")
        for action, resource in (
            ("logs:GetLogEvents", f"arn:aws:logs:{region}:{account}:log-group:app:log-stream:s"),
            ("logs:FilterLogEvents", f"arn:aws:logs:{region}:{account}:log-group:app"),
            ("logs:StartQuery", f"arn:aws:logs:{region}:{account}:log-group:app"),
            ("ecr:BatchGetImage", f"arn:aws:ecr:{region}:{account}:repository/app"),
            ("ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:{region}:{account}:repository/app"),
            ("dynamodb:Scan", f"arn:aws:dynamodb:{region}:{account}:table/orders"),
            ("sqs:ReceiveMessage", f"arn:aws:sqs:{region}:{account}:queue"),
            ("athena:GetQueryResults", f"arn:aws:athena:{region}:{account}:workgroup/primary"),
        ):
            self.add(DENIED, f"{who} may not {action} (data, not configuration)", me, action, resource, account=account, context=ours, managed="grants")
        for action, resource in (("s3:PutObject", f"{bucket}/config.json"), ("iam:CreateRole", f"arn:aws:iam::{account}:role/new"), ("s3:DeleteBucket", bucket)):
            self.add(DENIED, f"{who} changes nothing ({action})", me, action, resource, account=account, managed="withholds")
        deployer = self.project.deployment_role_arn(env)
        self.add(ALLOWED, f"{env.name}'s deployment role deploys (s3:CreateBucket)", deployer, "s3:CreateBucket", f"arn:aws:s3:::{env.name}-new-bucket", account=account, managed="grants")

    def pipeline_role(self) -> None:
        me, prefix = self.role(self.naming.pipeline_role), self.project.devops.name_prefix
        for env in self.project.environments:
            for step in ("plan", "apply"):
                self.add(ALLOWED, f"the pipeline role starts {prefix}-{step}-{env.name}", me, "codebuild:StartBuild", self.project_arn(self.naming.build_project(step, env.name)))
        self.add(ALLOWED, "the pipeline role starts the synth build", me, "codebuild:StartBuild", self.project_arn(self.naming.build_project("synth")))
        for other in ("deploy-everything", f"{prefix}x-plan-dev"):
            self.add(DENIED, f"the pipeline role may not start the project {other}", me, "codebuild:StartBuild", self.project_arn(other))
        self.add(DENIED, "the pipeline role may not start a project of another account", me, "codebuild:StartBuild", self.project_arn(self.naming.build_project("synth"), OTHER_ACCOUNT), account=OTHER_ACCOUNT)
        self.add(ALLOWED, "the pipeline role writes release artifacts", me, "s3:PutObject", self.artifact("source"), context=SSE)
        self.add(ALLOWED, "the pipeline role publishes approval requests", me, "sns:Publish", self.naming.notifications_topic_arn, context=TLS)
        for env in self.project.environments:
            self.add(DENIED, f"the pipeline role may not assume {env.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env))
        pipelines = [self.naming.pipeline_arn, *([self.naming.pr_pipeline_arn] if self.pull_requests else [])]
        for pipeline in pipelines:
            self.add(ALLOWED, f"CodePipeline runs {pipeline.rsplit(':', 1)[1]} as the pipeline role", "codepipeline.amazonaws.com", "sts:AssumeRole", me,
                     context={"aws:SourceAccount": self.devops, "aws:SourceArn": pipeline})  # fmt: skip
        stranger = f"arn:aws:codepipeline:{self.region}:{self.devops}:another-pipeline"
        self.add(DENIED, "another pipeline of the account may not run as the pipeline role", "codepipeline.amazonaws.com", "sts:AssumeRole", me,
                 context={"aws:SourceAccount": self.devops, "aws:SourceArn": stranger})  # fmt: skip
        foreign = self.naming.pipeline_arn.replace(self.devops, OTHER_ACCOUNT)
        self.add(DENIED, "a pipeline of another account may not run as the pipeline role", "codepipeline.amazonaws.com", "sts:AssumeRole", me,
                 context={"aws:SourceAccount": OTHER_ACCOUNT, "aws:SourceArn": foreign})  # fmt: skip
        created = self.synth.stacks["devops"]["resource"].get("aws_codestarconnections_connection", {})
        source = access.source_of(self.project, connection_arn(self.region, self.devops, next(iter(created))) if created else None)
        if isinstance(source, CodeStarSource):
            for form in access.connection_arn_forms(source.connection_arn):
                service = form.split(":")[2]
                self.add(ALLOWED, f"the pipeline role uses the source connection ({service})", me, f"{service}:UseConnection", form)

    def synth_build(self) -> None:
        me = self.role(self.naming.synth_build_role)
        self.add(ALLOWED, "the synth build writes the synth artifact", me, "s3:PutObject", self.artifact("synth"), context=SSE)
        own_cache = f"{self.artifacts}/build-cache/{self.naming.build_project('synth')}/cache.zip"
        self.add(ALLOWED, "the synth build reads its build cache (pip and jsii packages)", me, "s3:GetObject", own_cache, context=TLS)
        self.add(ALLOWED, "the synth build keeps its build cache", me, "s3:PutObject", own_cache, context=SSE)
        first = self.project.environments[0]
        plan_cache = f"{self.artifacts}/build-cache/{self.naming.build_project('plan', first.name)}/cache.zip"
        self.add(DENIED, "the synth build may not write a plan build's cache (the providers a plan runs)", me, "s3:PutObject", plan_cache, context=SSE)
        self.add(DENIED, "the synth build may not write outside its pipelines' artifacts", me, "s3:PutObject", f"{self.artifacts}/elsewhere/a1", context=SSE)
        self.add(DENIED, "the synth build may not read any state", me, "s3:GetObject", self.state(self.project.environments[0].workload_stack), context=TLS)
        for env in self.project.environments:
            self.add(DENIED, f"the synth build may not assume {env.name}'s plan role", me, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))

    def services_act_for_the_devops_account_only(self) -> None:
        topic = self.naming.notifications_topic_arn
        rule = f"arn:aws:events:{self.region}:{self.devops}:rule/{self.naming.notifications_topic}-action-failed"
        self.add(ALLOWED, "the account's failure rule publishes to the topic", "events.amazonaws.com", "sns:Publish", topic,
                 context={**TLS, "aws:SourceArn": rule, "aws:SourceAccount": self.devops})  # fmt: skip
        self.add(DENIED, "another account's rule may not publish to the topic", "events.amazonaws.com", "sns:Publish", topic,
                 context={**TLS, "aws:SourceArn": rule.replace(self.devops, OTHER_ACCOUNT), "aws:SourceAccount": OTHER_ACCOUNT})  # fmt: skip
        self.add(ALLOWED, "the account's alarms publish to the topic", "cloudwatch.amazonaws.com", "sns:Publish", topic, context={**TLS, "aws:SourceAccount": self.devops})
        self.add(DENIED, "another account's alarms may not publish to the topic", "cloudwatch.amazonaws.com", "sns:Publish", topic, context={**TLS, "aws:SourceAccount": OTHER_ACCOUNT})
        for service in ("events.amazonaws.com", "cloudwatch.amazonaws.com"):
            self.add(ALLOWED, f"{service} encrypts notifications for this account", service, "kms:GenerateDataKey", self.artifact_key, context={"aws:SourceAccount": self.devops})
            self.add(DENIED, f"{service} may not use the artifact key for another account", service, "kms:GenerateDataKey", self.artifact_key, context={"aws:SourceAccount": OTHER_ACCOUNT})
        # CloudWatch Logs' grant is conditioned on kms:EncryptionContext:aws:logs:arn, a key the evaluator ignores
        # (every kms:EncryptionContext:* key, 0.1.173): its shape is tested in tests/modules/test_artifact_store.py.

    def builds_in_a_vpc(self, env: EnvironmentConfig) -> None:
        """A build places its network interface in its own subnets only, for CodeBuild only; pull requests in theirs."""
        vpc = self.project.devops.build.vpc
        assert vpc is not None
        ec2 = f"arn:aws:ec2:{self.region}:{self.devops}"
        interface = f"{ec2}:network-interface/eni-0123456789abcdef0"
        builds = [(self.role(self.naming.plan_build_role(env.name)), f"{self.naming.plan_build_role(env.name)}", vpc.subnet_ids, vpc.pull_request_subnet_ids)]
        if self.pull_requests:
            builds.append((self.role(self.naming.pr_plan_build_role), self.naming.pr_plan_build_role, vpc.pull_request_subnet_ids, vpc.subnet_ids))
        for me, who, own, others in builds:
            subnet = f"{ec2}:subnet/{own[0]}"
            codebuild = {"ec2:AuthorizedService": "codebuild.amazonaws.com"}
            self.add(ALLOWED, f"{who} lets CodeBuild attach its network interface in {own[0]}", me, "ec2:CreateNetworkInterfacePermission", interface,
                     context={**codebuild, "ec2:Subnet": subnet})  # fmt: skip
            self.add(ALLOWED, f"{who} creates its network interface in {own[0]}", me, "ec2:CreateNetworkInterface", subnet)
            self.add(DENIED, f"{who} may not let another service use its network interface", me, "ec2:CreateNetworkInterfacePermission", interface,
                     context={"ec2:AuthorizedService": "ec2.amazonaws.com", "ec2:Subnet": subnet})  # fmt: skip
            stranger = next((s for s in others if s not in own), "subnet-0fffffffffffffff0")
            self.add(DENIED, f"{who} may not place a network interface in {stranger}", me, "ec2:CreateNetworkInterfacePermission", interface,
                     context={**codebuild, "ec2:Subnet": f"{ec2}:subnet/{stranger}"})  # fmt: skip
            self.add(DENIED, f"{who} may not create a network interface in {stranger}", me, "ec2:CreateNetworkInterface", f"{ec2}:subnet/{stranger}")

    def self_update(self, envs: list[EnvironmentConfig]) -> None:
        """The devops stack's own plan reads (ReadOnlyAccess) and writes nothing; its apply changes the delivery
        resources named for this installation, never the self-update's roles, another stack's state or a workload account.
        ``managed="grants"``: denied even if ReadOnlyAccess allowed the action; ``"withholds"``: the inline policy decides."""
        prefix = self.project.devops.name_prefix
        plan, apply = (self.role(self.naming.build_role(key)) for key in ("devops-plan", "devops-apply"))
        devops_state, first = self.state("devops"), envs[0]
        build_role = self.role(self.naming.plan_build_role(first.name))
        key_context = {f"aws:ResourceTag/{access.PROJECT_TAG}": prefix}
        for me, who in ((plan, "the devops plan"), (apply, "the devops apply")):
            self.add(ALLOWED, f"{who} reads the devops stack's state", me, "s3:GetObject", devops_state, context=TLS, managed="withholds")
            self.add(DENIED, f"{who} may not read {first.workload_stack}'s state, whatever ReadOnlyAccess allows", me, "s3:GetObject", self.state(first.workload_stack), context=TLS, managed="grants")
            self.add(DENIED, f"{who} may not read {first.bootstrap_stack}'s state", me, "s3:GetObject", self.state(first.bootstrap_stack), context=TLS, managed="grants")
            self.add(DENIED, f"{who} may not read queue messages (data, not configuration)", me, "sqs:ReceiveMessage", f"arn:aws:sqs:{self.region}:{self.devops}:{prefix}-queue", managed="grants")
            self.add(DENIED, f"{who} may not assume {first.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(first), context=self.external_id(first), managed="withholds")
        self.add(DENIED, "the devops plan may not write the devops stack's state", plan, "s3:PutObject", devops_state, context=SSE, managed="withholds")
        self.add(DENIED, "the devops plan may not change a delivery role", plan, "iam:PutRolePolicy", build_role, managed="withholds")
        self.add(ALLOWED, "the devops apply writes the devops stack's state", apply, "s3:PutObject", devops_state, context=SSE, managed="withholds")
        self.add(ALLOWED, "the devops apply takes the devops stack's lock", apply, "s3:PutObject", self.state("devops", lock=True), context=SSE, managed="withholds")
        self.add(ALLOWED, f"the devops apply changes {self.naming.plan_build_role(first.name)}'s policy", apply, "iam:PutRolePolicy", build_role, managed="withholds")
        self.add(ALLOWED, "the devops apply updates the release pipeline", apply, "codepipeline:UpdatePipeline", self.naming.pipeline_arn, managed="withholds")
        self.add(ALLOWED, "the devops apply restarts the release on the new definition", apply, "codepipeline:StartPipelineExecution", self.naming.pipeline_arn, managed="withholds")
        self.add(ALLOWED, "the devops apply updates a build project", apply, "codebuild:UpdateProject", self.project_arn(self.naming.build_project("plan", first.name)), managed="withholds")
        self.add(ALLOWED, "the devops apply changes the artifact bucket's policy", apply, "s3:PutBucketPolicy", self.artifacts, managed="withholds")
        self.add(ALLOWED, "the devops apply changes the policy of a key of this installation", apply, "kms:PutKeyPolicy", self.artifact_key, context=key_context, managed="withholds")
        self.add(DENIED, "the devops apply may not change a key of anyone else", apply, "kms:PutKeyPolicy", self.artifact_key, context={f"aws:ResourceTag/{access.PROJECT_TAG}": "someone-else"}, managed="withholds")
        for role in ("devops-apply", "devops-plan"):
            own = self.role(self.naming.build_role(role))
            self.add(DENIED, f"the devops apply may not change {self.naming.build_role(role)} (it would widen itself)", apply, "iam:PutRolePolicy", own, managed="withholds")
        self.add(DENIED, "the devops apply may not change a role of anyone else", apply, "iam:PutRolePolicy", self.role("OrganizationAccountAccessRole"), managed="withholds")
        self.add(DENIED, f"the devops apply may not write {first.workload_stack}'s state", apply, "s3:PutObject", self.state(first.workload_stack), context=SSE, managed="grants")
        self.add(DENIED, "the devops apply may not start the drift run or any other pipeline", apply, "codepipeline:StartPipelineExecution", self.naming.drift_pipeline_arn, managed="withholds")

    def drift_build(self, envs: list[EnvironmentConfig]) -> None:
        """The scheduled drift run plans every stack read-only and reports to the topic: it can change nothing."""
        step = drift_step(self.project)
        me = self.role(self.naming.build_role(step.key))
        project = self.naming.build_project(step.key)
        self.add(ALLOWED, f"CodeBuild project {project} runs as the drift build role", "codebuild.amazonaws.com", "sts:AssumeRole", me,
                 context={"aws:SourceAccount": self.devops, "aws:SourceArn": self.project_arn(project)})  # fmt: skip
        self.add(DENIED, "the synth project may not run as the drift build role", "codebuild.amazonaws.com", "sts:AssumeRole", me,
                 context={"aws:SourceAccount": self.devops, "aws:SourceArn": self.project_arn(self.naming.build_project("synth"))})  # fmt: skip
        for env in envs:
            stack = env.workload_stack
            self.add(ALLOWED, f"the drift build assumes {env.name}'s plan role", me, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))
            self.add(DENIED, f"the drift build may not assume {env.name}'s deployment role", me, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env))
            self.add(ALLOWED, f"the drift build reads {stack}'s state", me, "s3:GetObject", self.state(stack), context=TLS)
            self.add(DENIED, f"the drift build may not write {stack}'s state", me, "s3:PutObject", self.state(stack), context=TLS)
            self.add(DENIED, f"the drift build may not take {stack}'s lock (it never locks)", me, "s3:PutObject", self.state(stack, lock=True), context=TLS)
        self.add(ALLOWED, "the drift build reads the released synth output", me, "s3:GetObject", self.artifact("synth", self.naming.drift_pipeline), context=TLS)
        self.add(DENIED, "the drift build may not write artifacts (saved plans wait there)", me, "s3:PutObject", self.artifact("synth", self.naming.drift_pipeline), context=SSE)
        self.add(ALLOWED, "the drift build reports drift to the notifications topic", me, "sns:Publish", self.naming.notifications_topic_arn)
        self.add(DENIED, "the drift build may not encrypt with the state key", me, "kms:GenerateDataKey", self.state_key)
        self.add(DENIED, "the drift build may not read the devops stack's state", me, "s3:GetObject", self.state("devops"), context=TLS)
        start = self.role(f"{self.naming.drift_pipeline}-start")
        rule = f"arn:aws:events:{self.region}:{self.devops}:rule/{self.naming.drift_pipeline}-on-schedule"
        self.add(ALLOWED, "the drift schedule's rule starts the drift pipeline with its role", "events.amazonaws.com", "sts:AssumeRole", start,
                 context={"aws:SourceAccount": self.devops, "aws:SourceArn": rule})  # fmt: skip
        self.add(DENIED, "another rule may not use the drift schedule's role", "events.amazonaws.com", "sts:AssumeRole", start,
                 context={"aws:SourceAccount": self.devops, "aws:SourceArn": rule.replace("-on-schedule", "-other")})  # fmt: skip
        self.add(ALLOWED, "the drift schedule's role starts the drift pipeline", start, "codepipeline:StartPipelineExecution", self.naming.drift_pipeline_arn)
        self.add(DENIED, "the drift schedule's role may not start a release", start, "codepipeline:StartPipelineExecution", self.naming.pipeline_arn)

    def pull_request_builds(self, envs: list[EnvironmentConfig]) -> None:
        plan = self.role(self.naming.pr_plan_build_role)
        synth = self.role(self.naming.pr_synth_build_role)
        for env in envs:
            self.add(ALLOWED, f"the pull-request plan build assumes {env.name}'s plan role", plan, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))
            self.add(DENIED, f"the pull-request plan build may not assume {env.name}'s deployment role", plan, "sts:AssumeRole", self.project.deployment_role_arn(env), context=self.external_id(env))
            self.add(ALLOWED, f"the pull-request plan build reads {env.workload_stack}'s state", plan, "s3:GetObject", self.state(env.workload_stack), context=TLS)
            self.add(DENIED, f"the pull-request plan build may not write {env.workload_stack}'s state", plan, "s3:PutObject", self.state(env.workload_stack), context=TLS)
            self.add(DENIED, f"the pull-request plan build may not take {env.workload_stack}'s lock", plan, "s3:PutObject", self.state(env.workload_stack, lock=True), context=TLS)
            self.add(DENIED, f"the pull-request plan build may not read {env.bootstrap_stack}'s state", plan, "s3:GetObject", self.state(env.bootstrap_stack), context=TLS)
        self.add(DENIED, "the pull-request plan build may not encrypt with the state key", plan, "kms:GenerateDataKey", self.state_key)
        self.add(DENIED, "the pull-request plan build may not read the devops stack's state", plan, "s3:GetObject", self.state("devops"), context=TLS)
        for role, who in ((plan, "plan"), (synth, "synth")):
            self.add(ALLOWED, f"the pull-request {who} build writes pull-request artifacts", role, "s3:PutObject", self.pr_artifact, context=SSE)
            self.add(DENIED, f"the pull-request {who} build may not read release artifacts (saved plans)", role, "s3:GetObject", self.artifact("plan"), context=TLS)
            self.add(DENIED, f"the pull-request {who} build may not write release artifacts", role, "s3:PutObject", self.artifact("plan"), context=SSE)
        devops = self.project.devops
        if access.comments_on_pull_requests(self.project):
            token = f"arn:aws:secretsmanager:{self.region}:{self.devops}:secret:{devops.github_token_secret}-AbCdEf"
            comment = self.role(self.naming.pr_comment_build_role)
            self.add(ALLOWED, "the comment build reads the GitHub token", comment, "secretsmanager:GetSecretValue", token, account=self.devops)
            self.add(ALLOWED, "the comment build reads the pull request's summary", comment, "s3:GetObject", self.pr_artifact, context=TLS)
            self.add(DENIED, "the comment build may not write pull-request artifacts", comment, "s3:PutObject", self.pr_artifact, context=SSE)
            self.add(DENIED, "the comment build may not read any state", comment, "s3:GetObject", self.state(self.project.environments[0].workload_stack), context=TLS)
            for env in self.project.environments:
                self.add(DENIED, f"the comment build may not assume {env.name}'s plan role", comment, "sts:AssumeRole", self.project.plan_role_arn(env), context=self.external_id(env))
            for role, who in ((plan, "plan"), (synth, "synth")):
                self.add(DENIED, f"the pull-request {who} build may not read the GitHub token", role, "secretsmanager:GetSecretValue", token, account=self.devops)
