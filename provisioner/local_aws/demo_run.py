"""``make demo``: the whole product, end to end, against a local multi-account AWS (no AWS account needed).

``provisioner demo`` (what ``make demo`` runs):

1. starts the local AWS (moto, ``provisioner.local_aws``): the DevOps account and every workload
   account; uploads the repository as the pipeline's S3 source object;
2. ``provisioner bootstrap-state``: the state bucket, with the devops state moved into it;
3. ``cdktf deploy devops`` and ``cdktf deploy bootstrap-<env>``, the real CLI, as a user types it;
4. the pipeline's own steps, in pipeline order (CodePipeline and CodeBuild do not run in the
   emulator, so their commands run here, taken from ``provisioner.delivery.steps``): Synth once, the plan
   of the devops stack (and, when it changes, its approval and apply), then per
   ``order`` wave and environment: Plan (``terraform init``, ``terraform plan -out tfplan`` through the
   read-only plan role, the plan summary), the approval when the environment requires one (granted
   by the demo, visibly), Apply (``terraform apply tfplan``, the saved plan, through the deployment
   role: the same saved plan, another role, as in the pipeline);
5. checks with boto3 that each resource is in the right account, and that a second
   ``terraform plan -detailed-exitcode`` of every stack finds nothing to change;
6. prints a summary table, and stops the emulator (also on failure and Ctrl-C).

It uses ``demo/environments/`` (``--environments``) and works in ``.provisioner/demo/`` (output,
logs, local state), which each run starts afresh: the user's ``cdktf.out/`` is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Iterator, Mapping

from provisioner.configuration.naming import DEVOPS_STACK
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig, load
from provisioner.configuration.target import DEVOPS_LOCAL_STATE_ENV, TARGET_ENV, Target
from provisioner.delivery import buildspecs, terraform
from provisioner.delivery.steps import BuildStep, environment_steps, release_steps, self_update_steps, steps_of
from provisioner.errors import UserError
from provisioner.local_aws import DEVOPS_ACCOUNT_ID
from provisioner.operations import aws
from provisioner.paths import NODE_BIN, REPO_ROOT
from provisioner.progress import Progress, StepFailed, tool_environment
from provisioner.tables import table

PARALLEL_PLANS = 3
ENVIRONMENTS_ENV = "PROVISIONER_ENVIRONMENTS"
# Files of the repository the demo zips into the pipeline's S3 source object.
SOURCE_FILES = ("Makefile", "cdktf.json", "main.py", "package.json", "package-lock.json", "pyproject.toml")
SOURCE_FOLDERS = ("modules", "provisioner", "demo", "workloads", "examples")
# Ambient AWS settings that must not leak into a run against the emulator.
AWS_SETTINGS_DROPPED = (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL", DEVOPS_LOCAL_STATE_ENV,
)  # fmt: skip


@dataclass
class StackReport:
    """One row of the summary table."""

    stack: str
    account: str
    seconds: float = 0.0
    resources: int = 0


class Demo:
    """One run of the demo in ``workspace`` for the configuration in ``environments``."""

    def __init__(self, environments: Path, workspace: Path) -> None:
        self.environments = Path(environments).resolve()
        self.workspace = Path(workspace).resolve()
        self.outdir = self.workspace / "cdktf.out"
        self.project: ProjectConfig = load(self.environments)
        _check_emulatable(self.project, self.environments)
        self.progress = Progress(self.workspace / "logs")
        self.target = Target()
        self.env: dict[str, str] = {}
        self.reports: dict[str, StackReport] = {}

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> None:
        from provisioner.local_aws import server

        started = time.monotonic()
        self._fresh_workspace()
        with ExitStack() as cleanup:
            cleanup.callback(self.progress.say, "    stopped")
            with self.progress.step("start the local AWS (moto: the DevOps account and every workload account)"):
                emulator = cleanup.enter_context(server.running(record=self.workspace / "local-aws.json"))
                self.progress.say(f"    {emulator.describe()}")
            cleanup.callback(self.progress.say, "==> stop the local AWS")
            cleanup.enter_context(self.targeting(emulator.endpoint))
            self.seed_source()
            self.bootstrap_state()
            self.deploy_with_cdktf()
            self.run_pipeline()
            self.verify()
            self.second_plans()
            self.drift_run()
        self.summary(time.monotonic() - started)

    @contextmanager
    def targeting(self, endpoint: str) -> Iterator[None]:
        """Point this run's AWS calls and every tool it runs at the emulator at ``endpoint``, for the block.

        In-process calls get the target as a value, tools an environment of their own: this process's
        environment is left as it is.
        """
        before = self.target, self.env
        self.target = Target.local(endpoint)
        self.env = self._environment(self.target)
        try:
            yield
        finally:
            self.target, self.env = before

    def _fresh_workspace(self) -> None:
        # Every run starts a new, empty emulator: output, state and logs of a previous run are meaningless.
        for name in ("cdktf.out", "bootstrap", "logs"):
            shutil.rmtree(self.workspace / name, ignore_errors=True)
        self.workspace.mkdir(parents=True, exist_ok=True)

    def _environment(self, target: Target) -> dict[str, str]:
        """The tools' environment: this process's, without the ambient AWS settings, naming ``target``."""
        assert target.local_aws is not None
        kept = {name: value for name, value in os.environ.items() if name not in AWS_SETTINGS_DROPPED}
        return tool_environment(
            kept,
            **target.environment(),
            **{ENVIRONMENTS_ENV: str(self.environments)},
            AWS_ACCESS_KEY_ID=target.local_aws.access_key,
            AWS_SECRET_ACCESS_KEY=target.local_aws.secret_key,
            AWS_REGION=self.project.devops.region,
            AWS_EC2_METADATA_DISABLED="true",
        )

    # -- steps -----------------------------------------------------------------------------------
    def seed_source(self) -> None:
        source = self.project.devops.source
        if source.type != "s3":
            return
        with self.progress.step(f"upload the repository as the pipeline's S3 source (s3://{source.bucket}/{source.repository})"):
            s3 = aws.client(self.target, "s3", self.project.devops.region)
            region = self.project.devops.region
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            s3.create_bucket(Bucket=source.bucket, **location)
            s3.put_bucket_versioning(Bucket=source.bucket, VersioningConfiguration={"Status": "Enabled"})
            s3.put_object(Bucket=source.bucket, Key=source.repository, Body=_zip_repository())

    def bootstrap_state(self) -> None:
        from provisioner.operations.state_bootstrap import bootstrap_state

        self.progress.say("--- provisioner bootstrap-state: the remote state bucket")
        started = time.monotonic()
        bootstrap_state(
            self.project,
            outdir=self.outdir,
            progress=self.progress,
            env=self.env,
            target=self.target,
            local_state=self.workspace / "bootstrap" / "devops.tfstate",
        )
        self._report(DEVOPS_STACK, self.project.devops.account_id).seconds += time.monotonic() - started

    def deploy_with_cdktf(self) -> None:
        stacks = [DEVOPS_STACK, *(env.bootstrap_stack for env in self.project.environments)]
        accounts = [self.project.devops.account_id, *(env.account_id for env in self.project.environments)]
        self.progress.say("--- cdktf deploy: the devops stack, then each workload account's roles (the bootstrap stacks)")
        for index, (stack, account) in enumerate(zip(stacks, accounts)):
            # The first deploy synthesizes; the others deploy that same output.
            argv = ["cdktf", "deploy", stack, "--auto-approve", "--skip-provider-lock", "--output", _relative(self.outdir)]
            if index:
                argv.append("--skip-synth")
            typed = f"{TARGET_ENV}=local {' '.join(argv)}"
            with self.progress.step(typed):
                result = self.progress.run(f"cdktf deploy {stack}", [str(NODE_BIN / "cdktf"), *argv[1:]], cwd=REPO_ROOT, env=self.env)
            self._report(stack, account).seconds += result.seconds

    def run_pipeline(self) -> None:
        self.progress.say("--- the pipeline's steps, in pipeline order (from provisioner.delivery.steps)")
        with self.progress.step("Synth: provisioner check, then synthesize every stack once"):
            python = sys.executable
            self.progress.run("synth check", [python, "-m", "provisioner", "check", "--environments", str(self.environments)], cwd=REPO_ROOT, env=self.env)
            self.progress.run("synth", [python, "main.py"], cwd=REPO_ROOT, env={**self.env, "CDKTF_OUTDIR": str(self.outdir)})
            self.progress.say("    (the pipeline's Synth also runs the policy gate, make scan; the demo leaves it to make scan)")
        if self.update_pipeline():
            self.update_pipeline()  # the restarted release, on the new definition: nothing left to change
        for number, wave in enumerate(self.project.waves(), start=1):
            names = ", ".join(env.name for env in wave)
            self.progress.say(f"--- wave {number} (order {wave[0].order}): {names}")
            for environment in wave:
                self.plan_and_apply(environment)

    def update_pipeline(self) -> bool:
        """UpdatePipeline: plan the devops stack; only when it changes, the approval and its apply, after which
        the pipeline restarts on its new definition. True when it changed."""
        if not self_update_steps(self.project):
            return False
        stack_dir = self.outdir / "stacks" / DEVOPS_STACK
        with self.progress.step("Plan-devops: terraform plan -detailed-exitcode of the devops stack (the pipeline itself), read-only, no lock"):
            self.progress.run("devops plan init", terraform.INIT, cwd=stack_dir, env=self.env)
            planned = self.progress.run("devops plan", terraform.PLAN_DRIFT, cwd=stack_dir, env=self.env, accept=(0, terraform.DRIFT_EXIT_CODE))
            if planned.returncode != terraform.DRIFT_EXIT_CODE:
                self.progress.say("    DEVOPS_CHANGED=false: UpdatePipeline-apply is skipped (no approval, no wait)")
                return False
            self.progress.say("    DEVOPS_CHANGED=true")
            self._say_summary(stack_dir, DEVOPS_STACK)
        with self.progress.step("Approve-devops: the pipeline itself changes, an approval is always required"):
            self.progress.say("    APPROVED AUTOMATICALLY BY THE DEMO. In the pipeline a person reads the summary above and approves.")
        with self.progress.step(f"Apply-devops: terraform apply {terraform.PLAN_FILE} (the saved plan) of the devops stack, then restart"):
            self.progress.run("devops apply init", terraform.INIT_LOCKED, cwd=stack_dir, env=self.env)
            self.progress.run("devops apply", terraform.APPLY_PLAN, cwd=stack_dir, env=self.env)
            self.progress.say("    the release restarts on the new definition: a new execution of this revision, this one stopped")
        return True

    def _say_summary(self, stack_dir: Path, stack: str) -> None:
        """The plan summary of ``stack``'s saved plan, as the pipeline's builds print it."""
        plan_json = stack_dir / terraform.PLAN_JSON
        self.progress.run(f"{stack} show", terraform.SHOW_PLAN, cwd=stack_dir, env=self.env, stdout_path=plan_json)
        summary = self.progress.run(
            f"{stack} summary",
            [sys.executable, "-m", "provisioner", "plan-summary", "--name", stack, terraform.PLAN_JSON],
            cwd=stack_dir,
            env={**self.env, "PYTHONPATH": str(REPO_ROOT)},
        )
        plan_json.unlink()  # it repeats variable values in clear text; the pipeline removes it too
        for line in summary.output.rstrip().splitlines():
            self.progress.say(f"    {line}")

    def plan_and_apply(self, environment: EnvironmentConfig) -> None:
        stack = environment.workload_stack
        stack_dir = self.outdir / "stacks" / stack
        report = self._report(stack, environment.account_id)
        steps = {step.kind: step for step in environment_steps(self.project, environment)}
        # The pipeline's plan and apply steps: their role variable, their terraform commands.
        plan_role, deployment_role = steps["plan"].spec.variables[buildspecs.ROLE_ENV], steps["apply"].spec.variables[buildspecs.ROLE_ENV]
        planning = {**self.env, buildspecs.ROLE_ENV: plan_role}
        with self.progress.step(f"Plan-{environment.name}: terraform init + plan -out {terraform.PLAN_FILE} through the read-only {plan_role}"):
            started = time.monotonic()
            self.progress.run(f"plan {stack} init", terraform.INIT, cwd=stack_dir, env=planning)
            self.progress.run(f"plan {stack}", terraform.PLAN, cwd=stack_dir, env=planning)
            self._say_summary(stack_dir, stack)
            report.seconds += time.monotonic() - started
        if environment.requires_approval:
            with self.progress.step(f"Approve-{environment.name}: approval required"):
                self.progress.say(
                    "    APPROVED AUTOMATICALLY BY THE DEMO. In the pipeline a person reads the summary above and "
                    "approves in CodePipeline; Apply then applies exactly that saved plan."
                )
        for step in steps_of(environment_steps(self.project, environment), "before-apply"):
            self.team_step(step)
        applying = {**self.env, buildspecs.ROLE_ENV: deployment_role}
        with self.progress.step(f"Apply-{environment.name}: terraform apply {terraform.PLAN_FILE} (the saved plan) through {deployment_role}"):
            started = time.monotonic()
            self.progress.run(f"apply {stack} init", terraform.INIT_LOCKED, cwd=stack_dir, env=applying)
            self.progress.run(f"apply {stack}", terraform.APPLY_PLAN, cwd=stack_dir, env=applying)
            report.seconds += time.monotonic() - started
        for step in steps_of(environment_steps(self.project, environment), "after-apply"):
            self.team_step(step)

    def team_step(self, step: BuildStep) -> None:
        """A team's step (a post-deploy check, for instance): its buildspec's commands in order, in the
        repository with the synthesized output, with the build's variables; the first failing command
        fails the step, as in CodeBuild, and the release stops before the next wave."""
        assert self.target.endpoint is not None
        variables = {
            **self.env,
            **step.spec.variables,
            "CDKTF_OUTDIR": str(self.outdir),
            "COMMIT_ID": "demo",
            # The build's own AWS calls (boto3, the AWS CLI) reach the emulator; in CodeBuild they reach AWS.
            "AWS_ENDPOINT_URL": self.target.endpoint,
            # CodeBuild sets both to the DevOps account's region.
            "AWS_DEFAULT_REGION": self.project.devops.region,
            # `python3` in a command is the one with the product's dependencies, as in the build image.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
        }
        with self.progress.step(f"{step.action_name}: the team's step, as {step.project_name(self.project.naming)} runs it"):
            for command in step.spec.build:
                try:
                    output = self.progress.run(step.action_name, ["bash", "-c", command], cwd=REPO_ROOT, env=variables)
                except StepFailed as failed:
                    raise StepFailed(f"{failed}; the release stops here, before the next wave, as the pipeline's does") from None
                for line in output.output.rstrip().splitlines():
                    self.progress.say(f"    {line}")

    def verify(self) -> None:
        with self.progress.step("check with boto3 that every resource is in its account"):
            states = {env.name: self.workload_state(env) for env in self.project.environments}
            for line in verify_placement(self.project, self.target, states):
                self.progress.say(f"    {line}")

    def workload_state(self, environment: EnvironmentConfig) -> dict:
        """The applied state of ``workload-<env>`` (``terraform show -json``), whatever the team's code declares."""
        stack = environment.workload_stack
        shown = self.progress.run(f"show {stack}", ("terraform", "show", "-json", "-no-color"), cwd=self.outdir / "stacks" / stack, env=self.env, quiet=True)
        return json.loads(shown.output)

    def second_plans(self) -> None:
        stacks = [DEVOPS_STACK, *(env.bootstrap_stack for env in self.project.environments)]
        stacks += [env.workload_stack for env in self.project.environments]
        with self.progress.step(f"second plan of every stack: terraform plan -detailed-exitcode ({len(stacks)} stacks)"):
            with ThreadPoolExecutor(max_workers=PARALLEL_PLANS) as pool:
                results = dict(zip(stacks, pool.map(self._second_plan_and_count, stacks)))
            changed = [stack for stack, (returncode, _) in results.items() if returncode != 0]
            for stack, (returncode, resources) in results.items():
                self.reports[stack].resources = resources
                verdict = "no changes" if returncode == 0 else "WANTS CHANGES"
                self.progress.say(f"    {stack}: {verdict} ({resources} resources)")
            if changed:
                raise StepFailed(f"the second plan of {', '.join(changed)} wants changes: see the logs in {self.progress.log_dir}")

    def _second_plan_and_count(self, stack: str) -> tuple[int, int]:
        returncode = self.second_plan(stack)
        listed = self.progress.run(
            f"state list {stack}", ("terraform", "state", "list"), cwd=self.outdir / "stacks" / stack, env=self.env, quiet=True
        )
        return returncode, len(listed.output.split())

    def second_plan(self, stack: str) -> int:
        """``terraform plan -detailed-exitcode`` of ``stack``: 0 when nothing would change, 2 otherwise."""
        return self.progress.run(
            f"second plan {stack}",
            ("terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock-timeout=5m"),
            cwd=self.outdir / "stacks" / stack,
            env=self.env,
            accept=(0, 2),
            quiet=True,
        ).returncode

    def drift_run(self) -> None:
        """What the scheduled drift run does, from a laptop: nothing drifted; then someone changes the first
        environment's data bucket by hand (versioning suspended, with boto3), and the drift run finds it
        and tells the notifications topic."""
        first = self.project.waves()[0][0]
        topic = self.project.naming.notifications_topic_arn
        drift = [sys.executable, "-m", "provisioner", "drift", "--skip-synth", "--outdir", str(self.outdir), "--notify", topic, "--fail-on-drift"]
        with self.progress.step("provisioner drift: read-only plans of every workload stack, no lock (the scheduled drift run's command)"):
            self._say_findings(self.progress.run("drift before", drift, cwd=REPO_ROOT, env=self.env, quiet=True).output)
        buckets = [r["values"]["bucket"] for r in _state_resources(self.workload_state(first).get("values", {}).get("root_module", {})) if r["type"] == "aws_s3_bucket"]
        if not buckets:
            self.progress.say(f"    ({first.workload_stack} declares no bucket to change by hand: the drift demonstration stops here)")
            return
        with self.progress.step(f"change {buckets[0]} by hand, as someone in the console would: versioning suspended (boto3)"):
            assume = {"RoleArn": self.project.deployment_role_arn(first), "RoleSessionName": "demo-console-user"}
            if first.deployment_role.external_id:
                assume["ExternalId"] = first.deployment_role.external_id
            client = aws.client_factory(self.target)
            credentials = client("sts", first.region).assume_role(**assume)["Credentials"]
            client("s3", first.region, credentials).put_bucket_versioning(Bucket=buckets[0], VersioningConfiguration={"Status": "Suspended"})
        with self.progress.step(f"provisioner drift again: it finds {first.name} and publishes one message to {topic}"):
            self._say_findings(self.progress.run("drift after", drift, cwd=REPO_ROOT, env=self.env, accept=(3,), quiet=True).output)
            self.progress.say(f"    (the next release plans versioning back to Enabled; `terraform apply` of {first.workload_stack} does it now)")

    def _say_findings(self, output: str) -> None:
        """The drift run's verdict per environment and what it published, once each."""
        names = tuple(f"{env.name}: " for env in self.project.environments)
        for line in dict.fromkeys(line.strip() for line in output.splitlines()):
            if line.startswith((*names, "published ")):
                self.progress.say(f"    {line}")

    def summary(self, seconds: float) -> None:
        rows: list[list[object]] = [["stack", "account", "resources", "seconds"]]
        for report in self.reports.values():
            rows.append([report.stack, report.account, report.resources, f"{report.seconds:.0f}"])
        self.progress.say()
        for line in table(rows, indent="  "):
            self.progress.say(line)
        minutes, rest = divmod(round(seconds), 60)
        self.progress.say(f"\ndemo complete in {minutes} min {rest:02d} s: every stack deployed, in its account, and idempotent")

    def _report(self, stack: str, account: str) -> StackReport:
        return self.reports.setdefault(stack, StackReport(stack, account))


def _check_emulatable(project: ProjectConfig, environments: Path) -> None:
    devops = environments / "devops.hcl"
    if project.devops.account_id != DEVOPS_ACCOUNT_ID:
        raise UserError(
            f"{devops}: account_id must be {DEVOPS_ACCOUNT_ID} for the demo: the local AWS acts in that account for plain credentials"
        )
    if project.devops.source.type == "codestar":
        raise UserError(f'{devops}: the local AWS has no CodeStar Connections API: use source type "s3" (as demo/environments does)')


def verify_placement(project: ProjectConfig, target: Target, workload_states: Mapping[str, dict] | None = None) -> list[str]:
    """Check, with boto3 through ``target``, that each resource is in its account; one line per check.

    DevOps account: the state bucket, the artifact bucket, the pipeline and every CodeBuild project, and
    no deployment or plan role. Each workload account (through its deployment role): both roles and,
    from ``workload_states`` (each environment's ``terraform show -json``), every resource the team's
    workload declared whose ARN names an account, and every bucket. Raises ``UserError`` naming the
    first thing out of place.
    """
    devops, naming = project.devops, project.naming
    client = aws.client_factory(target)
    lines: list[str] = []

    def expect(condition: bool, message: str) -> None:
        if not condition:
            raise UserError(f"verification failed: {message}")

    region = devops.region
    account = client("sts", region).get_caller_identity()["Account"]
    expect(account == devops.account_id, f"plain credentials act in {account}, not in the DevOps account {devops.account_id}")
    buckets = {bucket["Name"] for bucket in client("s3", region).list_buckets()["Buckets"]}
    for bucket in (naming.state_bucket, naming.artifact_bucket):
        expect(bucket in buckets, f"bucket {bucket} is not in the DevOps account {devops.account_id}")
    client("codepipeline", region).get_pipeline(name=naming.pipeline)
    projects = [step.project_name(naming) for step in release_steps(project)]
    missing = client("codebuild", region).batch_get_projects(names=projects).get("projectsNotFound", [])
    expect(not missing, f"CodeBuild projects missing in the DevOps account: {', '.join(missing)}")
    lines.append(
        f"DevOps account {devops.account_id}: state and artifact buckets, pipeline {naming.pipeline}, {len(projects)} CodeBuild projects"
    )
    iam = client("iam", region)
    for env in project.environments:
        role = env.deployment_role.name
        expect(not _role_exists(iam, role), f"deployment role {role} exists in the DevOps account {devops.account_id}")
        assume = {"RoleArn": project.deployment_role_arn(env), "RoleSessionName": "provisioner-verify"}
        if env.deployment_role.external_id:
            assume["ExternalId"] = env.deployment_role.external_id
        credentials = client("sts", env.region).assume_role(**assume)["Credentials"]
        acting = client("sts", env.region, credentials).get_caller_identity()["Account"]
        expect(acting == env.account_id, f"{role} acts in {acting}, not in {env.account_id}")
        workload_iam = client("iam", env.region, credentials)
        expect(_role_exists(workload_iam, role), f"deployment role {role} is not in {env.account_id}")
        plan_role = naming.plan_role(env.name)
        expect(_role_exists(workload_iam, plan_role), f"plan role {plan_role} is not in {env.account_id}")
        expect(not _role_exists(iam, plan_role), f"plan role {plan_role} exists in the DevOps account {devops.account_id}")
        workload = ""
        if workload_states is not None:
            resources = list(_state_resources(workload_states[env.name].get("values", {}).get("root_module", {})))
            owned = {b["Name"] for b in client("s3", env.region, credentials).list_buckets()["Buckets"]}
            placed = 0
            for resource in resources:
                values, address = resource.get("values") or {}, resource["address"]
                arn = values.get("arn")
                if isinstance(arn, str) and arn.count(":") >= 5 and arn.split(":")[4]:
                    expect(arn.split(":")[4] == env.account_id, f"{env.workload_stack} {address} is in account {arn.split(':')[4]}, not {env.account_id}")
                    placed += 1
                if resource.get("type") == "aws_s3_bucket":
                    expect(values["bucket"] in owned, f"{env.workload_stack} {address}: bucket {values['bucket']} is not in {env.account_id}")
                    expect(values["bucket"] not in buckets, f"{env.workload_stack} {address}: bucket {values['bucket']} is in the DevOps account")
                    placed += 1
            workload = f", and {placed} of the workload's {len(resources)} resources (those with an account or a bucket name)"
        lines.append(f"{env.name} account {env.account_id}: deployment role {role} and plan role {plan_role} (not in DevOps){workload}")
    return lines


def _state_resources(module: Mapping) -> Iterator[dict]:
    """Every managed resource of a ``terraform show -json`` module, child modules included."""
    for resource in module.get("resources", []):
        if resource.get("mode") == "managed":
            yield resource
    for child in module.get("child_modules", []):
        yield from _state_resources(child)


def _role_exists(iam, role: str) -> bool:
    try:
        iam.get_role(RoleName=role)
    except aws.api_errors() as error:
        if aws.error_code(error) == "NoSuchEntity":
            return False
        raise
    return True


def _zip_repository() -> bytes:
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in SOURCE_FILES:
            if (REPO_ROOT / name).is_file():
                archive.write(REPO_ROOT / name, name)
        for folder in SOURCE_FOLDERS:
            for path in sorted((REPO_ROOT / folder).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(REPO_ROOT).as_posix())
    return buffer.getvalue()


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _quiet_broken_pipe(unraisable: sys.UnraisableHookArgs) -> None:
    if not isinstance(unraisable.exc_value, BrokenPipeError):
        sys.__unraisablehook__(unraisable)


def run_demo(environments: Path, workspace: Path) -> None:
    """One run of the demo; on Ctrl-C the jsii runtime (a Node.js child) ends too, quietly."""
    try:
        Demo(environments, workspace).run()
    except KeyboardInterrupt:
        # Its exit hook would print a BrokenPipeError after the interrupt.
        sys.unraisablehook = _quiet_broken_pipe
        raise
