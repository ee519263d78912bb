"""``make demo``: the whole product, end to end, against a local multi-account AWS (no AWS account needed).

``provisioner demo`` (what ``make demo`` runs):

1. starts the local AWS (moto, ``provisioner.local_aws``): the DevOps account and every workload
   account; with an S3 source, uploads the repository as its object (a git source releases the
   repository's HEAD);
2. ``provisioner bootstrap-state``: the state bucket, with the devops state moved into it;
3. ``cdktf deploy devops``, then every ``cdktf deploy bootstrap-<env>`` side by side: the real CLI, as a
   user types it;
4. the deployed release pipeline, twice, executed from its definition in the emulator by the local
   runner (``provisioner.local_aws.pipeline_runner``): Source, Synth, the devops stack's plan (and, when
   it changes, its approval and apply and the restart), then per ``order`` wave Plan, Approve (approved
   by the demo, visibly), Apply and the teams' steps, each build running its own buildspec. The second
   release of the same revision must plan no changes. Then the pull-request pipeline once (git sources),
   which must leave every workload state as it was, and ``provisioner status``;
5. checks with boto3 that each resource is in the right account, and that a second
   ``terraform plan -detailed-exitcode`` of every stack finds nothing to change;
6. a drift run from the laptop (``provisioner drift``), before and after a change by hand;
7. prints a summary table, and stops the emulator (also on failure and Ctrl-C).

It uses ``demo/environments/`` (``--environments``) and works in ``.provisioner/demo/`` (output,
logs, local state), which each run starts afresh: the user's ``cdktf.out/`` is never touched.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Mapping

from provisioner.app.access import plans_pull_requests
from provisioner.configuration.naming import DEVOPS_STACK
from provisioner.configuration.settings import EnvironmentConfig, ProjectConfig, load
from provisioner.configuration.target import DEVOPS_LOCAL_STATE_ENV, TARGET_ENV, Target
from provisioner.delivery import terraform
from provisioner.delivery.steps import release_steps
from provisioner.errors import UserError
from provisioner.local_aws import DEVOPS_ACCOUNT_ID
from provisioner.local_aws.pipeline_records import data_dir
from provisioner.operations import aws
from provisioner.paths import ENVIRONMENTS_VARIABLE, NODE_BIN, REPO_ROOT, repository_relative
from provisioner.progress import Progress, StepFailed, tool_environment
from provisioner.tables import table

if TYPE_CHECKING:
    from provisioner.local_aws.pipeline_runner import PipelineRunner

PARALLEL_PLANS = 3
"""Stacks the demo deploys or plans at once: the devops stack and both bootstrap stacks deploy together."""
# Files of the repository the demo zips into the pipeline's S3 source object.
SOURCE_FILES = ("Makefile", "cdktf.json", "main.py", "package.json", "package-lock.json", "pyproject.toml")
SOURCE_FOLDERS = ("modules", "provisioner", "demo", "workloads", "examples", "policy", "environments")
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
        self.record: Path | None = None
        self.releases: list[tuple[float, list[dict]]] = []

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> None:
        from provisioner.local_aws import server

        started = time.monotonic()
        self._fresh_workspace()
        with ExitStack() as cleanup:
            cleanup.callback(self.progress.say, "    stopped")
            with self.progress.step("start the local AWS (moto: the DevOps account and every workload account)"):
                self.record = self.workspace / "local-aws.json"
                emulator = cleanup.enter_context(server.running(record=self.record))
                self.progress.say(f"    {emulator.describe()}")
            cleanup.callback(self.progress.say, "==> stop the local AWS")
            cleanup.enter_context(self.targeting(emulator.endpoint))
            self.seed_source()
            self.bootstrap_state()
            self.deploy_with_cdktf()
            self.run_pipeline()
            self.pull_request()
            self.status()
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
        for name in ("cdktf.out", "bootstrap", "logs", "pipeline"):
            shutil.rmtree(self.workspace / name, ignore_errors=True)
        self.workspace.mkdir(parents=True, exist_ok=True)

    def _environment(self, target: Target) -> dict[str, str]:
        """The tools' environment: this process's, without the ambient AWS settings, naming ``target``."""
        assert target.local_aws is not None
        kept = {name: value for name, value in os.environ.items() if name not in AWS_SETTINGS_DROPPED}
        return tool_environment(
            kept,
            **target.environment(),
            **{ENVIRONMENTS_VARIABLE: str(self.environments)},
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
        """``cdktf deploy`` of the devops stack and of every bootstrap stack, side by side, from the output
        ``bootstrap-state`` synthesized last (the S3 backend's): each stack is in an account of its own and
        needs only the state bucket (a workload account's roles trust the DevOps account by
        ``aws:PrincipalArn``, which needs no role to exist yet)."""
        self.progress.say("--- cdktf deploy: the devops stack and each workload account's roles (the bootstrap stacks), side by side")
        options = ["--auto-approve", "--skip-provider-lock", "--skip-synth", "--output", repository_relative(self.outdir)]
        stacks = [(DEVOPS_STACK, self.project.devops.account_id), *((env.bootstrap_stack, env.account_id) for env in self.project.environments)]
        for stack, _ in stacks:
            self.progress.say(f"==> {TARGET_ENV}=local cdktf deploy {stack} {' '.join(options)}")
        self.progress.side_by_side(lambda pair: self._deploy(*pair, options), stacks, jobs=PARALLEL_PLANS)

    def _deploy(self, stack: str, account: str, options: list[str]) -> None:
        result = self.progress.run(f"cdktf deploy {stack}", [str(NODE_BIN / "cdktf"), "deploy", stack, *options], cwd=REPO_ROOT, env=self.env, label=stack)
        self.progress.say(f"    {stack} deployed ({result.seconds:.1f} s)")
        self._report(stack, account).seconds += result.seconds

    def run_pipeline(self, releases: int = 2) -> None:
        """The deployed release pipeline, executed from its definition in the emulator (``releases`` times): the
        first release deploys every environment; a second, of the same revision, plans no changes."""
        runner = self.runner
        name = self.project.naming.pipeline
        reasons = ("source change", "the demo's second release: nothing left to change")[:releases]
        for release, reason in enumerate(reasons, start=1):
            self.progress.say(f"--- release {release}: the deployed pipeline {name}, as CodePipeline runs it")
            started = time.monotonic()
            executions = runner.run_until_idle(name, variables={"RELEASE_REASON": reason})
            last = executions[-1]
            if last["status"] != "Succeeded":
                failed = [a for a in last["actions"] if a["status"] == "Failed"]
                detail = failed[-1]["output"]["executionResult"].get("errorDetails", {}).get("message", "") if failed else ""
                raise StepFailed(f"release {release}: execution {last['pipelineExecutionId']} {last['status']}: {detail}")
            self.releases.append((time.monotonic() - started, executions))
        changed = [
            f"{a['actionName']}: {a['output']['outputVariables'].get('PLAN_HEADLINE', '')}"
            for a in self.releases[-1][1][-1]["actions"]
            if a["actionName"].startswith("Plan-") and "No changes" not in a["output"]["outputVariables"].get("PLAN_HEADLINE", "No changes")
        ]
        for env in self.project.environments:
            builds = (f"Plan-{env.name}", f"Apply-{env.name}")
            report = self._report(env.workload_stack, env.account_id)
            for _, executions in self.releases:
                for execution in executions:
                    report.seconds += sum(a["lastUpdateTime"] - a["startTime"] for a in execution["actions"] if a["actionName"] in builds)
        if releases < 2:
            return
        if changed:
            raise StepFailed(f"the second release planned changes: {'; '.join(changed)}")
        self.progress.say("    the second release planned no changes in any environment, and so applied nothing")

    @functools.cached_property
    def runner(self) -> PipelineRunner:
        """The local pipeline runner on this run's emulator (one for the releases and the pull request), builds
        seeing the demo's configuration and this machine's provider mirror (an image without internet would
        hold one too)."""
        from provisioner.local_aws.pipeline_runner import PipelineRunner, this_machine

        assert self.record is not None
        machine, build_variables = this_machine(self.environments, self.env)
        return PipelineRunner(
            self.target,
            account=self.project.devops.account_id,
            region=self.project.devops.region,
            records_root=data_dir(self.record),
            workspace=self.workspace / "pipeline",
            progress=self.progress,
            machine=machine,
            build_variables=build_variables,
            auto_approve=True,
        )

    def pull_request(self) -> None:
        """The pull-request pipeline once, on the repository's HEAD: synth and policy gate, a read-only plan of
        every workload stack and one summary. It never applies: no workload state changes."""
        if not plans_pull_requests(self.project):
            return
        name = self.project.naming.pr_pipeline
        states = self._workload_state_versions()
        self.progress.say(f"--- a pull request: the deployed pipeline {name} (plans every environment, applies nothing)")
        (execution,) = self.runner.run_until_idle(name)
        if execution["status"] != "Succeeded":
            raise StepFailed(f"the pull-request pipeline's execution {execution['pipelineExecutionId']} {execution['status']}")
        if self._workload_state_versions() != states:
            raise StepFailed("the pull-request pipeline changed a workload state: it must never apply")
        self.progress.say("    every workload state is as it was: the pull request was planned, nothing applied")

    def _workload_state_versions(self) -> dict[str, str]:
        s3 = aws.client(self.target, "s3", self.project.devops.region)
        naming = self.project.naming
        return {
            env.workload_stack: s3.head_object(Bucket=naming.state_bucket, Key=naming.state_key(env.workload_stack)).get("VersionId", "")
            for env in self.project.environments
        }

    def status(self) -> None:
        """``provisioner status`` against the emulator: the releases as the pipeline's own API reports them."""
        command = [sys.executable, "-m", "provisioner", "status", "--environments", str(self.environments), "--executions", "3"]
        with self.progress.step("provisioner status: the pipeline's stages and last executions, as CodePipeline reports them"):
            shown = self.progress.run("status", command, cwd=REPO_ROOT, env=self.env, quiet=True)
            for line in shown.output.rstrip().splitlines():
                self.progress.say(f"    {line}")

    def verify(self) -> None:
        with self.progress.step("check with boto3 that every resource is in its account"):
            states = {env.name: self.workload_state(env) for env in self.project.environments}
            for line in verify_placement(self.project, self.target, states):
                self.progress.say(f"    {line}")

    def workload_state(self, environment: EnvironmentConfig) -> dict:
        """The applied state of ``workload-<env>`` (``terraform show -json``), whatever the team's code declares."""
        stack = environment.workload_stack
        shown = self.progress.run(f"show {stack}", ("terraform", "show", "-json", "-no-color"), cwd=self.initialized(stack), env=self.env, quiet=True)
        return json.loads(shown.output)

    def initialized(self, stack: str) -> Path:
        """``stack``'s folder of the demo's own synth output, its backend initialized (the pipeline's builds ran
        in their own folders): for the demo's checks, which read the state the pipeline left."""
        folder = self.outdir / "stacks" / stack
        if not (folder / ".terraform" / "terraform.tfstate").is_file():
            self.progress.run(f"init {stack}", terraform.INIT, cwd=folder, env=self.env, quiet=True)
        return folder

    def second_plans(self) -> None:
        stacks = [DEVOPS_STACK, *(env.bootstrap_stack for env in self.project.environments)]
        stacks += [env.workload_stack for env in self.project.environments]
        with self.progress.step(f"second plan of every stack: terraform plan -detailed-exitcode ({len(stacks)} stacks)"):
            results = dict(zip(stacks, self.progress.side_by_side(self._second_plan_and_count, stacks, jobs=PARALLEL_PLANS)))
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
            cwd=self.initialized(stack),
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
    source = project.devops.source
    if source.type == "codestar" and source.connection_arn is None:
        raise UserError(
            f"{devops}: source.connection_arn: the local AWS has no CodeStar Connections API, so the devops stack cannot create "
            'the connection there: name one (any ARN in this account, as demo/environments does) or use source type "s3"'
        )


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
    """The repository as the pipeline's source object: the files git tracks, as they are in the working tree
    (without git, the folders the builds need)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in _source_files():
            archive.write(REPO_ROOT / name, name)
    return buffer.getvalue()


def _source_files() -> list[str]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        found = [name for name in SOURCE_FILES if (REPO_ROOT / name).is_file()]
        for folder in SOURCE_FOLDERS:
            found += [p.relative_to(REPO_ROOT).as_posix() for p in sorted((REPO_ROOT / folder).rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
        return found
    return [name for name in listed.split("\0") if name and (REPO_ROOT / name).is_file()]


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
