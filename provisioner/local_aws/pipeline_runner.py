"""Run a deployed pipeline on the local AWS as CodePipeline and CodeBuild would run it.

The emulated AWS stores pipelines and CodeBuild projects but executes neither. ``PipelineRunner``
reads the pipeline as deployed (``GetPipeline``) and its projects (``BatchGetProjects``) and executes
that definition, not a copy of the product's steps:

- **Source**: an S3 source's object (its latest version, or the one a restart names), or for a git
  source (CodeStar connection, CodeCommit) an archive of the repository's working tree at ``HEAD``
  with its commit id. The source's output variables are the ones the real action emits: S3 gives
  ``VersionId`` and ``ETag`` only, git sources ``CommitId``, ``BranchName``, ``CommitMessage``...
- **Stages** in order; a stage's **entry condition** (``VariableCheck``) is evaluated and can skip it;
  **actions by run order**, equal orders in parallel; a failed action fails its stage, which is
  retried once when its ``onFailure`` says ``RETRY`` (the failed actions, then the rest).
- **Artifacts** are zips in the artifact bucket under ``<pipeline>/<artifact>/<key>``, KMS-encrypted
  with the store's key; a build's inputs are unzipped into its source directory (the primary at
  ``CODEBUILD_SRC_DIR``, others at ``CODEBUILD_SRC_DIR_<name>``) and its output artifact is zipped
  from the buildspec's ``artifacts`` (``files``, ``base-directory``, ``exclude-paths``).
- **Variables**: ``#{namespace.NAME}`` resolves from namespaces the actions really emitted, the
  pipeline's variables (their defaults, or what the start gave) and ``#{codepipeline.PipelineExecutionId}``;
  one that does not resolve fails the action with CodePipeline's message. A build's environment is, in
  CodeBuild's precedence: the action's ``EnvironmentVariables`` over the project's over the buildspec's;
  its ``exported-variables`` become the action's output variables.
- **Builds** run the buildspec's phases (install, pre_build, build, post_build) in one ``sh`` whose
  directory and variables carry from command to command, in a scratch directory, with ``CODEBUILD_*``
  variables and the credentials of the project's own service role (assumed in the emulator).
- **Approvals** publish their notification, then wait for ``PutApprovalResult``
  (``provisioner local-aws approve``), or are approved with a visible note under ``auto_approve``; a
  rejection fails the action.
- **Executions** are recorded (``provisioner.local_aws.pipeline_records``) where the emulator answers
  ``GetPipelineState``, ``ListPipelineExecutions``... from; stop and start requests made through the
  emulator (a build's ``aws codepipeline stop-pipeline-execution``) are honoured: a stopped execution
  finishes its running actions and starts nothing more, and a requested start runs next (QUEUED).
- **Notifications**: each state change is an EventBridge event, matched against the emulator's rules;
  what a rule's target would receive (its input transformer applied) is printed and published to the
  target topic.

What this machine stands in for, and says so once per run: the build image is this machine (its
``terraform``, which must be the version the buildspecs pin so that no install step downloads it, and
the repository's installed ``.venv``, ``.venv-checkov`` and ``node_modules``, linked into a build's
source when its requirement files are identical, so ``make setup`` finds them current), the image's
home ``/root`` is the user's home, and every build gets the variables that point it at the emulator.
Not modelled: build timeouts, VPC settings, CodeBuild's cache upload, reports, queued-mode limits,
approval expiry, and triggers (a run is started by hand or by a start request).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from modules.pipeline_blueprint import artifact_prefix
from provisioner.configuration.target import Target
from provisioner.delivery.buildspecs import MIRROR_ENV
from provisioner.errors import UserError
from provisioner.local_aws.pipeline_records import PipelineRecords, new_execution
from provisioner.operations import aws
from provisioner.paths import ENVIRONMENTS_VARIABLE, REPO_ROOT, repository_relative
from provisioner.progress import Progress, StepFailed, tool_environment

UNRESOLVED = "An action in this pipeline failed because one or more variables could not be resolved: Action name={action}"
"""CodePipeline's message for an action whose configuration names a variable nothing emitted."""
VARIABLE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_-]+)\}")
PHASES = ("install", "pre_build", "build", "post_build")
IMAGE_HOME = "/root"
IMAGE_VARIABLES = ("PATH", "LANG", "LC_ALL", "TMPDIR", "TF_CLI_CONFIG_FILE", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "CHECKPOINT_DISABLE")
"""What the build image takes from this machine's environment (nothing else: no ambient AWS setting)."""
TOOLCHAIN = {
    ".venv": ((".installed-build", ".installed-dev"), ("pyproject.toml",)),
    ".venv-checkov": ((".installed",), ("policy/checkov-requirements.txt",)),
    "node_modules": ((".installed",), ("package.json", "package-lock.json")),
}
"""Installed folders of the repository a build's source may use: the stamps ``make`` checks in each (every
one must be current, so that make installs nothing into it, whichever setup a build asks for) and the
files each was installed from."""
APPROVAL_POLL_SECONDS = 1.0
KEPT_BUILD_FOLDERS = 3
"""Executions whose build folders (sources, scripts) stay in the workspace for a look afterwards; older ones go."""
STOPPED = ["(stopped)"]
"""What a stage's actions return when a stop request ended them before every action ran."""
EVENT_SOURCE = "aws.codepipeline"


class ActionFailed(Exception):
    """An action failed; ``code`` and ``message`` are what CodePipeline reports as its error details."""

    def __init__(self, message: str, code: str = "JobFailed") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class LocalMachine:
    """What stands in for CodeBuild's build image: this machine."""

    repository: Path
    """The working tree: a git source's revision and the installed toolchain come from here."""
    home: Path = field(default_factory=Path.home)
    """The image's home (/root) here."""
    environment: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    """This machine's environment, of which the build image takes ``IMAGE_VARIABLES``."""
    python_bin: Path | None = None
    """Put first on PATH: a ``python3`` with the product's dependencies, as the build image's."""


def this_machine(environments: Path, environment: Mapping[str, str] | None = None) -> tuple[LocalMachine, dict[str, str]]:
    """This repository's machine as the build image, and what every build on it gets besides the pipeline's own
    variables: the configuration folder ``environments`` (repository-relative when inside it, as a build's
    checkout holds it) and this machine's provider mirror, when it has one (an image without internet would
    hold one too). The builds' tools see the environment every provisioner script gives them
    (``tool_environment`` of ``environment``, this process's by default: the project's terraform CLI config,
    cdktf on PATH), and this interpreter's python first on PATH."""
    from provisioner.operations.terraform_rc import find_mirror

    variables = {ENVIRONMENTS_VARIABLE: repository_relative(Path(environments).resolve())}  # outside it: read where it is
    if mirror := find_mirror():
        variables[MIRROR_ENV] = str(mirror)
    machine = LocalMachine(repository=REPO_ROOT, environment=tool_environment(environment), python_bin=Path(sys.executable).parent)
    return machine, variables


@dataclass
class ActionRun:
    """One action of one execution: its record (ActionExecutionDetail) and what it produced."""

    stage: str
    declaration: dict[str, Any]
    record: dict[str, Any]
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.declaration["name"]


class Execution:
    """One pipeline execution as it runs; every change is recorded (thread-safe)."""

    def __init__(
        self, records: PipelineRecords, pipeline: dict[str, Any], execution_id: str, trigger: dict[str, str], *,
        variables: Mapping[str, str], projects: dict[str, dict], events: Events, revision: str | None,
    ) -> None:  # fmt: skip
        self.records = records
        self.pipeline = pipeline
        """The pipeline's declaration, as ``GetPipeline`` returned it when the execution started."""
        self.projects = projects
        """Its CodeBuild projects by name, as ``BatchGetProjects`` returned them."""
        self.events = events
        self.revision = revision
        """The source revision asked for (``None``: the latest)."""
        self.lock = threading.Lock()
        self.namespaces: dict[str, dict[str, str]] = {
            "variables": dict(variables), "codepipeline": {"PipelineExecutionId": execution_id, "PipelineName": pipeline["name"]},
        }  # fmt: skip
        """What ``#{namespace.VARIABLE}`` resolves to: the pipeline's variables, CodePipeline's own, each action's."""
        self.artifacts: dict[str, dict[str, str]] = {}
        """Artifact name -> its S3 location (bucket, key)."""
        resolved = [{"name": name, "resolvedValue": value} for name, value in variables.items()]
        self.record: dict[str, Any] = new_execution(pipeline, execution_id, trigger, time.time(), resolved)

    @property
    def id(self) -> str:
        return self.record["pipelineExecutionId"]

    def save(self) -> None:
        with self.lock:
            self.record["lastUpdateTime"] = time.time()
            self.records.write_execution(self.record)

    def stage(self, name: str, status: str) -> None:
        with self.lock:
            now = time.time()
            for stage in self.record["stages"]:
                if stage["stageName"] == name:
                    stage.update(status=status, lastUpdateTime=now)
                    break
            else:
                self.record["stages"].append({"stageName": name, "status": status, "startTime": now, "lastUpdateTime": now})
        self.save()

    def finish(self, status: str, summary: str = "") -> None:
        with self.lock:
            self.record["status"] = status
            if summary:
                self.record["statusSummary"] = summary
        self.save()

    def action(self, stage: str, declaration: dict[str, Any], attempt: int) -> ActionRun:
        now = time.time()
        record = {
            "pipelineExecutionId": self.id, "actionExecutionId": str(uuid.uuid4()), "pipelineVersion": self.record["pipelineVersion"],
            "stageName": stage, "actionName": declaration["name"], "startTime": now, "lastUpdateTime": now, "status": "InProgress",
            "input": {"actionTypeId": declaration["actionTypeId"], "configuration": declaration.get("configuration", {}),
                      "inputArtifacts": [], "namespace": declaration.get("namespace")},
            "output": {"outputArtifacts": [], "executionResult": {}, "outputVariables": {}},
        }  # fmt: skip
        if attempt > 1:
            record["updatedBy"] = "retry"
        with self.lock:
            self.record["actions"].append(record)
        self.save()
        return ActionRun(stage, declaration, record)

    def update(self, run: ActionRun, **fields: Any) -> None:
        with self.lock:
            run.record.update(fields, lastUpdateTime=time.time())
        self.save()

    def resolve(self, text: str, action: str) -> str:
        """``text`` with every ``#{namespace.NAME}`` replaced; ``ActionFailed`` when one does not resolve."""
        missing: list[str] = []

        def value(match: re.Match[str]) -> str:
            found = self.namespaces.get(match.group(1), {}).get(match.group(2))
            if found is None:
                missing.append(match.group(0))
                return match.group(0)
            return found

        resolved = VARIABLE.sub(value, text)
        if missing:
            raise ActionFailed(f"{UNRESOLVED.format(action=action)} ({', '.join(missing)})", code="ActionConfigurationError")
        return resolved


class PipelineRunner:
    """Executes pipelines deployed to the local AWS at ``target``; see the module docstring."""

    def __init__(
        self,
        target: Target,
        *,
        account: str,
        region: str,
        records_root: Path,
        workspace: Path,
        progress: Progress,
        machine: LocalMachine,
        build_variables: Mapping[str, str] = (),
        auto_approve: bool = False,
    ) -> None:
        if target.endpoint is None:
            raise UserError("the local pipeline runner runs only against the local AWS (PROVISIONER_TARGET=local)")
        self.target = target
        self.account, self.region = account, region
        self.records_root = Path(records_root)
        self.workspace = Path(workspace)
        self.progress = progress
        self.machine = machine
        self.auto_approve = auto_approve
        self.client = aws.client_factory(target)
        self.build_variables = {
            **dict(build_variables),
            # The builds' own AWS calls (the AWS CLI, boto3) reach the emulator; in CodeBuild they reach AWS.
            "AWS_ENDPOINT_URL": target.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            **target.environment(),
        }
        self._said_machine = False

    # -- executions -------------------------------------------------------------------------------
    def run(
        self,
        pipeline_name: str,
        *,
        variables: Mapping[str, str] | None = None,
        source_revision: str | None = None,
        execution_id: str | None = None,
        trigger: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """One execution of ``pipeline_name``; returns its record (``status``: Succeeded, Failed or Stopped)."""
        codepipeline = self.client("codepipeline", self.region)
        try:
            pipeline = codepipeline.get_pipeline(name=pipeline_name)["pipeline"]
        except aws.api_errors() as error:
            hint = ""
            if aws.error_code(error) == "PipelineNotFoundException":
                names = sorted(p["name"] for page in codepipeline.get_paginator("list_pipelines").paginate() for p in page["pipelines"])
                hint = f" (deployed here: {', '.join(names)})" if names else " (none is deployed here: cdktf deploy devops first)"
            raise UserError(f"pipeline {pipeline_name}: {aws.error_message(error)}{hint}") from None
        declared = {v["name"]: v.get("defaultValue", "") for v in pipeline.get("variables", [])}
        unknown = sorted(set(variables or {}) - set(declared))
        if unknown:
            raise UserError(f"pipeline {pipeline_name} declares no variable {', '.join(unknown)} (it has: {', '.join(declared) or 'none'})")
        records = PipelineRecords(self.records_root, self.account, self.region, pipeline_name)
        execution = Execution(  # the pipeline's variables: their defaults, then what the start gave
            records,
            pipeline,
            execution_id or str(uuid.uuid4()),
            dict(trigger or {"triggerType": "StartPipelineExecution", "triggerDetail": "provisioner local-aws run-pipeline"}),
            variables={**declared, **(variables or {})},
            projects=self._projects(pipeline),
            events=Events(self, pipeline),
            revision=source_revision,
        )
        self._say_machine()
        self.progress.say(f"--- {pipeline_name}: execution {execution.id} (pipeline version {execution.record['pipelineVersion']})")
        execution.save()
        self._prune_builds()
        records.take_start(execution.id)  # a start request is taken up once its execution is recorded
        execution.events.pipeline(execution, "STARTED")
        try:
            status, summary = self._stages(execution)
        except BaseException:
            execution.finish("Failed", "the local runner was interrupted")
            raise
        execution.finish(status, summary)
        execution.events.pipeline(execution, status.upper())
        verdict = f"{pipeline_name}: execution {execution.id} {status.upper()}" + (f" ({summary})" if summary else "")
        self.progress.say(f"--- {verdict}")
        return execution.record

    def _stages(self, execution: Execution) -> tuple[str, str]:
        """Every stage in order until one fails or the execution is stopped; the execution's status and summary."""
        records = execution.records
        status, summary = "Succeeded", ""
        for stage in execution.pipeline["stages"]:
            if stop := records.stop_request(execution.id):
                status, summary = "Stopped", stop.get("reason", "")
                execution.record["stopTrigger"] = {"reason": summary}
                self.progress.say(f"    execution stopped before {stage['name']}: {summary}")
                break
            outcome = self._stage(execution, stage)
            if outcome == "Failed":
                status, summary = "Failed", f"stage {stage['name']} failed"
                break
            if outcome == "Stopped":
                break
        if status == "Succeeded" and (stop := records.stop_request(execution.id)):
            status, summary = "Stopped", stop.get("reason", "")
            execution.record["stopTrigger"] = {"reason": summary}
        return status, summary

    def _prune_builds(self) -> None:
        """Remove the build folders of all but the last ``KEPT_BUILD_FOLDERS`` executions (each holds copies of the source)."""
        folders = sorted((p for p in (self.workspace / "builds").glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for folder in folders[:-KEPT_BUILD_FOLDERS]:
            shutil.rmtree(folder, ignore_errors=True)

    def run_until_idle(self, pipeline_name: str, **start: Any) -> list[dict[str, Any]]:
        """Run once, then every execution started through the emulator meanwhile (a restart), in order."""
        executions = [self.run(pipeline_name, **start)]
        records = PipelineRecords(self.records_root, self.account, self.region, pipeline_name)
        while pending := records.pending_starts():
            request = pending[0]
            revisions = request.get("sourceRevisions") or []
            self.progress.say(f"--- {pipeline_name}: a start requested through the emulator ({request['trigger'].get('triggerDetail', '')})")
            executions.append(
                self.run(
                    pipeline_name,
                    variables={v["name"]: v["value"] for v in request.get("variables", [])},
                    source_revision=revisions[0]["revisionValue"] if revisions else None,
                    execution_id=request["pipelineExecutionId"],
                    trigger=request["trigger"],
                )
            )
        return executions

    # -- stages -----------------------------------------------------------------------------------
    def _stage(self, execution: Execution, stage: dict) -> str:
        name = stage["name"]
        events = execution.events
        if skip := self._entry_skips(execution, stage):
            execution.stage(name, "Skipped")
            self.progress.say(f"==> {name}: SKIPPED by its entry condition ({skip})")
            return "Skipped"
        execution.stage(name, "InProgress")
        events.stage(execution, name, "STARTED")
        retry = (stage.get("onFailure") or {}).get("result") == "RETRY"
        failed = self._actions(execution, stage, stage["actions"], attempt=1)
        if failed and failed != STOPPED and retry:
            self.progress.say(f"    {name} failed; its onFailure retries the failed actions once: {', '.join(failed)}")
            order = min(a.get("runOrder", 1) for a in stage["actions"] if a["name"] in failed)
            again = [a for a in stage["actions"] if a["name"] in failed or a.get("runOrder", 1) > order]
            failed = self._actions(execution, stage, again, attempt=2)
        status = "Failed" if failed else "Succeeded"
        if failed == STOPPED:
            status = "Stopped"
        execution.stage(name, status)
        events.stage(execution, name, status.upper())
        return status

    def _entry_skips(self, execution: Execution, stage: dict) -> str:
        """Why the stage's entry condition skips it ("" when it enters)."""
        for condition in (stage.get("beforeEntry") or {}).get("conditions", []):
            for rule in condition.get("rules", []):
                if rule["ruleTypeId"]["provider"] != "VariableCheck":
                    continue
                settings = rule.get("configuration", {})
                try:
                    value = execution.resolve(settings["Variable"], stage["name"])
                except ActionFailed:
                    value = ""
                if not _variable_check(value, settings.get("Operator", "EQ"), settings.get("Value", "")):
                    if condition.get("result") == "SKIP":
                        return f"{settings['Variable']} is {value!r}, not {settings.get('Operator', 'EQ')} {settings.get('Value', '')!r}"
        return ""

    def _actions(self, execution: Execution, stage: dict, actions: Sequence[dict], attempt: int) -> list[str]:
        """Run ``actions`` by run order (equal orders side by side); the names of those that failed."""
        orders = sorted({a.get("runOrder", 1) for a in actions})
        for order in orders:
            group = [a for a in actions if a.get("runOrder", 1) == order]
            if execution.records.stop_request(execution.id):
                return STOPPED
            if len(group) == 1:
                results = [self._action(execution, stage["name"], group[0], attempt, quiet=False)]
            else:
                self.progress.say(f"    side by side (run order {order}): {', '.join(a['name'] for a in group)}")
                results = self.progress.side_by_side(lambda a: self._action(execution, stage["name"], a, attempt, quiet=True), group, jobs=len(group))
            failed = [a["name"] for a, ok in zip(group, results) if not ok]
            if failed:
                return failed
        return []

    def _action(self, execution: Execution, stage: str, declaration: dict, attempt: int, quiet: bool) -> bool:
        run = execution.action(stage, declaration, attempt)
        events = execution.events
        category = declaration["actionTypeId"]["category"]
        events.action(execution, stage, declaration, "STARTED")
        started = time.monotonic()
        self.progress.say(f"==> {stage} / {run.name} ({declaration['actionTypeId']['provider']})")
        try:
            if category == "Source":
                self._source(execution, run)
            elif category == "Build":
                self._build(execution, run, execution.projects[declaration["configuration"]["ProjectName"]], quiet)
            elif category == "Approval":
                self._approval(execution, run)
            else:
                raise ActionFailed(f"the local runner does not run {category} actions ({declaration['actionTypeId']['provider']})")
        except Exception as error:  # noqa: BLE001 - whatever goes wrong fails the action, as in CodePipeline, and is recorded
            failure = error if isinstance(error, ActionFailed) else ActionFailed(f"the local runner could not run this action: {error!r}")
            execution.update(run, status="Failed", output={**run.record["output"], "executionResult": {
                **run.record["output"].get("executionResult", {}), "errorDetails": {"code": failure.code, "message": str(failure)}}})  # fmt: skip
            self.progress.say(f"    {run.name} FAILED after {time.monotonic() - started:.1f} s: {failure}")
            events.action(execution, stage, declaration, "FAILED")
            return False
        namespace = declaration.get("namespace")
        if namespace:
            with execution.lock:
                execution.namespaces[namespace] = dict(run.variables)
        execution.update(run, status="Succeeded")
        self.progress.say(f"    {run.name} succeeded ({time.monotonic() - started:.1f} s)")
        events.action(execution, stage, declaration, "SUCCEEDED")
        return True

    # -- source -----------------------------------------------------------------------------------
    def _source(self, execution: Execution, run: ActionRun) -> None:
        revision = execution.revision
        settings = run.declaration.get("configuration", {})
        provider = run.declaration["actionTypeId"]["provider"]
        if provider == "S3":
            s3 = self.client("s3", self.region)
            bucket, key = settings["S3Bucket"], settings["S3ObjectKey"]
            try:
                found = s3.get_object(Bucket=bucket, Key=key, **({"VersionId": revision} if revision else {}))
            except aws.api_errors() as error:
                raise ActionFailed(f"the source object s3://{bucket}/{key} cannot be read: {aws.error_message(error)}") from None
            body = found["Body"].read()
            version = found.get("VersionId") or "null"
            run.variables = {"VersionId": version, "ETag": found["ETag"].strip('"')}
            summary, revision_id = f"s3://{bucket}/{key}", version
        elif provider in ("CodeStarSourceConnection", "CodeCommit"):
            body, run.variables = self._git_source(settings, revision)
            summary, revision_id = run.variables["CommitMessage"], run.variables["CommitId"]
        else:
            raise ActionFailed(f"the local runner has no {provider} source")
        for output in run.declaration.get("outputArtifacts", []):
            self._store(execution, run, output["name"], body)
        with execution.lock:
            execution.record["sourceRevisions"] = [{"actionName": run.name, "revisionId": revision_id, "revisionSummary": summary}]
        self.progress.say(f"    revision {revision_id} ({summary}); variables: {_listed(run.variables)}")
        execution.update(run, output={**run.record["output"], "outputVariables": dict(run.variables),
                                      "executionResult": {"externalExecutionId": revision_id, "externalExecutionSummary": summary}})  # fmt: skip

    def _git_source(self, settings: Mapping[str, str], revision: str | None) -> tuple[bytes, dict[str, str]]:
        """The working tree's ``HEAD`` (or ``revision``) as CODE_ZIP, and the variables a git source emits."""
        repository = self.machine.repository

        def git(*argv: str) -> bytes:
            try:
                return subprocess.run(["git", *argv], cwd=repository, check=True, capture_output=True).stdout
            except (OSError, subprocess.CalledProcessError) as error:
                raise ActionFailed(f"git {' '.join(argv)} in {repository} failed: {getattr(error, 'stderr', b'').decode().strip() or error}") from None

        commit = git("rev-parse", revision or "HEAD").decode().strip()
        variables = {
            "CommitId": commit,
            "CommitMessage": git("log", "-1", "--format=%s", commit).decode().strip(),
            "AuthorDate": git("log", "-1", "--format=%aI", commit).decode().strip(),
            "BranchName": settings.get("BranchName", ""),
        }
        if "FullRepositoryId" in settings:
            variables.update(FullRepositoryName=settings["FullRepositoryId"], ConnectionArn=settings.get("ConnectionArn", ""), ProviderType="GitHub")
        else:
            variables["RepositoryName"] = settings.get("RepositoryName", "")
        return git("archive", "--format=zip", commit), variables

    # -- artifacts --------------------------------------------------------------------------------
    def _store(self, execution: Execution, run: ActionRun, name: str, body: bytes, credentials: dict | None = None) -> None:
        pipeline = execution.pipeline
        store = pipeline["artifactStore"]
        bucket = store["location"]
        key = f"{artifact_prefix(pipeline['name'])}/{name[:20]}/{uuid.uuid4().hex[:7]}"
        encryption = store.get("encryptionKey")
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": encryption["id"]} if encryption else {}
        try:
            self.client("s3", self.region, credentials).put_object(Bucket=bucket, Key=key, Body=body, **extra)
        except aws.api_errors() as error:
            raise ActionFailed(f"artifact {name} cannot be stored in s3://{bucket}: {aws.error_message(error)}") from None
        with execution.lock:
            execution.artifacts[name] = {"bucket": bucket, "key": key}
            run.record["output"]["outputArtifacts"].append({"name": name, "s3location": {"bucket": bucket, "key": key}})

    def _fetch(self, execution: Execution, run: ActionRun, name: str, into: Path, credentials: dict | None) -> None:
        location = execution.artifacts.get(name)
        if location is None:
            raise ActionFailed(f"input artifact {name} was not produced by an earlier action of this execution")
        try:
            body = self.client("s3", self.region, credentials).get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read()
        except aws.api_errors() as error:
            raise ActionFailed(f"input artifact {name} (s3://{location['bucket']}/{location['key']}): {aws.error_message(error)}") from None
        into.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(BytesIO(body)) as archive:
            _extract(archive, into)
        with execution.lock:
            run.record["input"]["inputArtifacts"].append({"name": name, "s3location": dict(location)})

    # -- builds -----------------------------------------------------------------------------------
    def _projects(self, pipeline: dict) -> dict[str, dict]:
        names = sorted({
            a["configuration"]["ProjectName"] for s in pipeline["stages"] for a in s["actions"] if a["actionTypeId"]["category"] == "Build"
        })  # fmt: skip
        if not names:
            return {}
        found = self.client("codebuild", self.region).batch_get_projects(names=names)
        if missing := found.get("projectsNotFound"):
            raise UserError(f"pipeline {pipeline['name']} names CodeBuild projects that do not exist: {', '.join(missing)}")
        return {project["name"]: project for project in found["projects"]}

    def _build(self, execution: Execution, run: ActionRun, project: dict, quiet: bool) -> None:
        import yaml

        pipeline = execution.pipeline
        settings = run.declaration.get("configuration", {})
        action_variables = json.loads(execution.resolve(settings.get("EnvironmentVariables", "[]"), run.name))
        build_id = f"{project['name']}:{uuid.uuid4()}"
        credentials = self._assume(project["serviceRole"], build_id)
        root = self.workspace / "builds" / execution.id[:8] / f"{run.stage}-{run.name}-{run.record['actionExecutionId'][:8]}"
        source = root / "src"
        inputs = [artifact["name"] for artifact in run.declaration.get("inputArtifacts", [])]
        primary = settings.get("PrimarySource", inputs[0] if inputs else None)
        for name in inputs:
            self._fetch(execution, run, name, source if name == primary else root / f"src-{name}", credentials)
        linked = _link_toolchain(source, self.machine.repository)
        text = project["source"].get("buildspec", "")
        if not text.strip():
            raise ActionFailed(f"project {project['name']} has no inline buildspec (the local runner reads only inline ones)")
        spec = yaml.safe_load(text.replace(f"{IMAGE_HOME}/", f"{self.machine.home}/"))
        env_section = spec.get("env") or {}
        url = (f"https://{self.region}.console.aws.amazon.com/codesuite/codebuild/{self.account}/projects/{project['name']}"
               f"/build/{build_id.replace(':', '%3A')}/?region={self.region}")  # fmt: skip
        variables: dict[str, str] = {
            **{name: str(value) for name, value in (env_section.get("variables") or {}).items()},
            **{v["name"]: v["value"] for v in project.get("environment", {}).get("environmentVariables", []) if v.get("type", "PLAINTEXT") == "PLAINTEXT"},
            **{v["name"]: v["value"] for v in action_variables},
        }
        if env_section.get("secrets-manager") or env_section.get("parameter-store"):
            raise ActionFailed("the local runner does not read secrets (secrets-manager, parameter-store) into builds")
        environment = {
            **{name: value for name, value in self.machine.environment.items() if name in IMAGE_VARIABLES},
            "HOME": str(self.machine.home),
            **variables,
            **self.build_variables,
            "CODEBUILD_SRC_DIR": str(source),
            **{f"CODEBUILD_SRC_DIR_{name}": str(root / f"src-{name}") for name in inputs if name != primary},
            "CODEBUILD_BUILD_ID": build_id,
            "CODEBUILD_BUILD_ARN": project["arn"].replace(":project/", ":build/").rsplit("/", 1)[0] + f"/{build_id}",
            "CODEBUILD_BUILD_NUMBER": "1",
            "CODEBUILD_BUILD_URL": url,
            "CODEBUILD_BUILD_SUCCEEDING": "1",
            "CODEBUILD_INITIATOR": f"codepipeline/{pipeline['name']}",
            "CODEBUILD_RESOLVED_SOURCE_VERSION": (execution.record["sourceRevisions"] or [{}])[0].get("revisionId", ""),
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }
        if self.machine.python_bin is not None:
            environment["PATH"] = f"{self.machine.python_bin}{os.pathsep}{environment.get('PATH', '')}"
        exported = list(env_section.get("exported-variables") or [])
        script, exports_file = root / "build.sh", root / "exported.json"
        script.write_text(_script(spec, exported, exports_file))
        execution.update(run, output={**run.record["output"], "executionResult": {"externalExecutionId": build_id, "externalExecutionUrl": url}})
        note = f" (linked from this machine: {', '.join(linked)})" if linked else ""
        self.progress.say(f"    {project['name']} as {project['serviceRole'].split('/')[-1]}, in {source}{note}")
        try:
            result = self.progress.run(f"{execution.id[:8]} {run.stage} {run.name}", ["sh", str(script)], cwd=source, env=environment, quiet=quiet)
        except StepFailed as failed:
            raise ActionFailed(f"build {build_id} failed: {failed}", code="JobFailed") from None
        if quiet:  # side by side, the build's lines were not shown as they came
            for line in _build_news(result.output):
                self.progress.say(f"    | {run.name}: {line}")
        run.variables = _exported(exports_file) if exported else {}
        if spec.get("artifacts") and run.declaration.get("outputArtifacts"):
            body = _zip_artifact(source, spec["artifacts"])
            self._store(execution, run, run.declaration["outputArtifacts"][0]["name"], body, credentials)
        execution.update(run, output={**run.record["output"], "outputVariables": dict(run.variables)})

    def _assume(self, role_arn: str, session: str) -> dict[str, str]:
        try:
            return self.client("sts", self.region).assume_role(RoleArn=role_arn, RoleSessionName=re.sub(r"[^\w+=,.@-]", "-", session)[:64])["Credentials"]
        except aws.api_errors() as error:
            raise ActionFailed(f"the service role {role_arn} cannot be assumed: {aws.error_message(error)}") from None

    # -- approvals --------------------------------------------------------------------------------
    def _approval(self, execution: Execution, run: ActionRun) -> None:
        pipeline = execution.pipeline
        settings = {key: execution.resolve(value, run.name) for key, value in run.declaration.get("configuration", {}).items()}
        token = str(uuid.uuid4())
        execution.update(run, token=token)
        message = {
            "region": self.region,
            "consoleLink": f"https://console.aws.amazon.com/codesuite/codepipeline/pipelines/{pipeline['name']}/view?region={self.region}",
            "approval": {"pipelineName": pipeline["name"], "stageName": run.stage, "actionName": run.name, "token": token,
                         "customData": settings.get("CustomData", ""), "externalEntityLink": settings.get("ExternalEntityLink", "")},
        }  # fmt: skip
        if topic := settings.get("NotificationArn"):
            self._publish(topic, f"APPROVAL NEEDED: AWS CodePipeline {pipeline['name']} for action {run.name}", json.dumps(message))
        self.progress.say(f"    approval needed: {settings.get('CustomData', '')}")
        if link := settings.get("ExternalEntityLink"):
            self.progress.say(f"    review: {link}")
        records = execution.records
        if self.auto_approve:
            records.put_approval(execution.id, run.stage, run.name, "Approved", "approved by --auto-approve of the local runner")
            self.progress.say("    APPROVED AUTOMATICALLY (--auto-approve). On AWS a person reads the summary and approves.")
        else:
            self.progress.say(f"    waiting: provisioner local-aws approve {pipeline['name']} {run.stage}  (or --reject)")
        while (answer := records.approval(execution.id, run.stage, run.name)) is None:
            if records.stop_request(execution.id):
                raise ActionFailed("the execution was stopped while the approval waited", code="JobFailed")
            time.sleep(APPROVAL_POLL_SECONDS)
        execution.update(run, token=None, output={**run.record["output"], "executionResult": {"externalExecutionSummary": answer.get("summary", "")}})
        if answer["status"] != "Approved":
            raise ActionFailed(f"rejected: {answer.get('summary', '')}", code="JobFailed")

    def _publish(self, topic_arn: str, subject: str, message: str) -> None:
        try:
            self.client("sns", self.region).publish(TopicArn=topic_arn, Message=message, **({"Subject": subject[:100]} if subject else {}))
        except aws.api_errors() as error:
            self.progress.say(f"    (the notification to {topic_arn} could not be published: {aws.error_message(error)})")

    def _say_machine(self) -> None:
        if self._said_machine:
            return
        _check_terraform(self.machine)
        self._said_machine = True
        overrides = " ".join(f"{k}={v}" for k, v in self.build_variables.items() if k.startswith(("PROVISIONER_", "AWS_ENDPOINT")))
        self.progress.say(
            f"    the build image is this machine: its terraform, the repository's installed toolchain, home {IMAGE_HOME} = "
            f"{self.machine.home}; every build also gets {overrides}"
        )


def _check_terraform(machine: LocalMachine) -> None:
    """The builds' install step keeps a terraform of the pinned version and downloads another one into the
    image's /usr/local/bin: here that would be this machine's, so the runner needs the pinned version on PATH."""
    from provisioner.delivery.buildspecs import TERRAFORM_VERSION

    path = machine.environment.get("PATH", os.defpath)
    try:
        shown = subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True, env={"PATH": path}, check=True).stdout
        version = json.loads(shown)["terraform_version"]
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        raise UserError(f"the local pipeline runner needs terraform {TERRAFORM_VERSION} on PATH (the builds' version); none found") from None
    if version != TERRAFORM_VERSION:
        raise UserError(
            f"the local pipeline runner needs terraform {TERRAFORM_VERSION} on PATH, the version the builds pin; found {version} "
            "(the builds would download theirs into /usr/local/bin, which here is this machine's)"
        )


class Events:
    """CodePipeline's state-change events, matched against the emulator's EventBridge rules: what each
    matching rule's target receives is printed and published (SNS targets)."""

    def __init__(self, runner: PipelineRunner, pipeline: dict) -> None:
        self.runner = runner
        partition = pipeline["roleArn"].split(":")[1]  # the pipeline's own partition (aws, aws-cn, aws-us-gov)
        self.arn = f"arn:{partition}:codepipeline:{runner.region}:{runner.account}:{pipeline['name']}"
        self.version = pipeline.get("version", 1)
        self.rules = list(self._rules())

    def _rules(self) -> Iterator[tuple[Any, list[dict]]]:
        from moto.events.models import EventPattern

        events = self.runner.client("events", self.runner.region)
        for page in events.get_paginator("list_rules").paginate():
            for rule in page["Rules"]:
                if rule.get("EventPattern") and rule.get("State", "ENABLED") == "ENABLED":
                    targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
                    yield EventPattern.load(rule["EventPattern"]), targets

    def pipeline(self, execution: Execution, state: str) -> None:
        self._emit("CodePipeline Pipeline Execution State Change", execution, {"state": state})

    def stage(self, execution: Execution, stage: str, state: str) -> None:
        self._emit("CodePipeline Stage Execution State Change", execution, {"stage": stage, "state": state})

    def action(self, execution: Execution, stage: str, declaration: dict, state: str) -> None:
        type_id = declaration["actionTypeId"]
        self._emit("CodePipeline Action Execution State Change", execution,
                   {"stage": stage, "action": declaration["name"], "state": state, "type": dict(type_id)})  # fmt: skip

    def _emit(self, detail_type: str, execution: Execution, detail: dict) -> None:
        event = {
            "version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type, "source": EVENT_SOURCE,
            "account": self.runner.account, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": self.runner.region, "resources": [self.arn],
            "detail": {"pipeline": execution.record["pipelineName"], "execution-id": execution.id, "version": self.version, **detail},
        }  # fmt: skip
        for pattern, targets in self.rules:
            if not pattern.matches_event(event):
                continue
            for target in targets:
                message = _transform(event, target)
                shown = message
                try:
                    decoded = json.loads(message)
                    shown = decoded if isinstance(decoded, str) else message
                except ValueError:
                    pass
                self.runner.progress.say(f"    notification to {target['Arn'].split(':')[-1]}: {shown}")
                if target["Arn"].split(":")[2] == "sns":
                    self.runner._publish(target["Arn"], "", message)


def _transform(event: dict, target: dict) -> str:
    """What an EventBridge target receives: the event, or its input transformer's template filled in."""
    transformer = target.get("InputTransformer")
    if target.get("Input"):
        return target["Input"]
    if not transformer:
        return json.dumps(event)
    values = {name: _json_path(event, path) for name, path in (transformer.get("InputPathsMap") or {}).items()}

    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    return re.sub(r"<([A-Za-z0-9_.-]+)>", fill, transformer["InputTemplate"])


def _json_path(document: Any, path: str) -> Any:
    current = document
    for part in path.removeprefix("$.").split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _variable_check(value: str, operator: str, expected: str) -> bool:
    checks: dict[str, Callable[[str, str], bool]] = {
        "EQ": lambda a, b: a == b, "NE": lambda a, b: a != b, "CONTAINS": lambda a, b: b in a,
        "MATCHES": lambda a, b: re.fullmatch(b, a) is not None,
    }  # fmt: skip
    return checks.get(operator, checks["EQ"])(value, expected)


def _script(spec: dict, exported: Sequence[str], exports_file: Path) -> str:
    """The buildspec's phases as one ``sh`` script, in which directory and variables carry over from command
    to command. The first failing command ends its phase and fails the build; ``post_build`` still runs
    after a failed ``build``, as in CodeBuild. The exported variables are written at the end, NUL-separated."""
    phases = spec.get("phases") or {}
    lines: list[str] = []
    for phase in PHASES:
        settings = phases.get(phase) or {}
        lines.append(f"__phase_{phase}() {{")
        lines.append(f"  echo '[Container] Entering phase {phase.upper()}'")
        if phase == "install" and settings.get("runtime-versions"):
            runtimes = ", ".join(f"{k} {v}" for k, v in settings["runtime-versions"].items())
            lines.append(f"  echo {shlex.quote(f'[Container] runtime-versions {runtimes}: reported, not installed (this machine has its own)')}")
        for command in settings.get("commands") or []:
            failed = shlex.quote(f"[Container] Command did not exit successfully {command} exit status ")
            lines.append(f"  echo {shlex.quote(f'[Container] Running command {command}')}")
            lines.append(f"  {command}")
            lines.append(f"  __rc=$?; if [ $__rc -ne 0 ]; then echo {failed}$__rc; return $__rc; fi")
        lines.append("  return 0")
        lines.append("}")
    lines += [
        "__status=0",
        "__phase_install || __status=$?",
        "[ $__status -ne 0 ] || __phase_pre_build || __status=$?",
        "if [ $__status -eq 0 ]; then __phase_build || __status=$?; __phase_post_build || { [ $__status -ne 0 ] || __status=$?; }; fi",
    ]
    if exported:
        names = " ".join(shlex.quote(name) for name in exported)
        lines.append(f': > {shlex.quote(str(exports_file))}')
        lines.append(f'for __name in {names}; do eval "__value=\\${{$__name-}}"; printf "%s\\0%s\\0" "$__name" "$__value" >> {shlex.quote(str(exports_file))}; done')
    lines.append("exit $__status")
    return "\n".join(lines) + "\n"


def _exported(path: Path) -> dict[str, str]:
    """The variables ``_script`` wrote: name and value, NUL-separated."""
    parts = path.read_bytes().decode(errors="replace").split("\0")
    return dict(zip(parts[0:-1:2], parts[1::2]))


def _link_toolchain(source: Path, repository: Path) -> list[str]:
    """Link the repository's installed folders into ``source`` where the files they were installed from are
    identical and older than every stamp ``make`` checks (so it finds them current and installs nothing);
    never install into them or change them."""
    linked = []
    for name, (stamps, inputs) in TOOLCHAIN.items():
        if (source / name).exists() or not (source / "Makefile").is_file():
            continue
        paths = [repository / name / stamp for stamp in stamps]
        if not all(path.is_file() for path in paths):
            continue
        installed = min(path.stat().st_mtime for path in paths)
        mine = [(source / i, repository / i) for i in inputs]
        if not all(s.is_file() and r.is_file() and s.read_bytes() == r.read_bytes() and r.stat().st_mtime <= installed for s, r in mine):
            continue
        (source / name).symlink_to(repository / name, target_is_directory=True)
        for copy, _ in mine:
            os.utime(copy, (installed - 1, installed - 1))
        linked.append(name)
    return linked


def _extract(archive: zipfile.ZipFile, into: Path) -> None:
    root = into.resolve()
    for member in archive.infolist():
        destination = (into / member.filename).resolve()
        if root != destination and root not in destination.parents:
            raise ActionFailed(f"artifact entry {member.filename} lies outside the build's directory")
        archive.extract(member, into)
        mode = member.external_attr >> 16
        if mode and not member.is_dir():
            os.chmod(destination, mode & 0o777 or 0o644)


def _glob(pattern: str) -> re.Pattern[str]:
    """A buildspec path pattern (``**`` any folders, ``*`` within one name) as a regular expression."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def _zip_artifact(source: Path, settings: Mapping[str, Any]) -> bytes:
    """The output artifact the buildspec's ``artifacts`` describes, as CodeBuild zips it."""
    base = source / settings.get("base-directory", ".")
    if not base.is_dir():
        raise ActionFailed(f"artifacts base-directory {settings.get('base-directory')} does not exist")
    files = [_glob(p) for p in settings.get("files", ["**/*"])]
    excluded = [_glob(p) for p in settings.get("exclude-paths", [])]
    buffer = BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, folders, names in os.walk(base):
            folders.sort()
            for name in sorted(names):
                path = Path(folder) / name
                relative = path.relative_to(base).as_posix()
                if path.is_symlink() and path.is_dir():
                    continue
                if any(p.match(relative) for p in files) and not any(p.match(relative) for p in excluded) and path.is_file():
                    archive.write(path, relative)
                    count += 1
    if not count:
        raise ActionFailed("no matching artifact paths found (the buildspec's artifacts files matched nothing)")
    return buffer.getvalue()


def _build_news(output: str) -> list[str]:
    """The lines of a build's output worth showing as it ends: the plan summary's headline, terraform's verdicts."""
    keep = re.compile(r"^(Plan: |No changes\.|Apply complete!|the devops stack changes: |\[Container\] Command did not exit|DRIFT|refusing)")
    return [line.strip() for line in output.splitlines() if keep.match(line.strip())][:12]


def _listed(variables: Mapping[str, str]) -> str:
    # Long values are cut, visibly: a connection ARN cut short would look like a wrong one.
    return ", ".join(f"{k}={v if len(v) <= 40 else v[:39] + '…'}" for k, v in variables.items())
