"""End to end against the local multi-account AWS: devops plus one environment, as ``make demo`` runs them.

One emulator for the module. The fixture bootstraps the remote state (``provisioner bootstrap-state``'s
code), applies ``devops`` with terraform, deploys ``bootstrap-dev`` with the real ``cdktf deploy``, then
runs the deployed release pipeline once through the local runner: Source (the S3 object), Synth, the
devops stack's plan, then ``workload-dev``'s Plan, Apply (through the deployment role, with its
external id) and post-deploy check, each build its own buildspec. The tests then check idempotency,
where each resource landed (boto3, assumed-role credentials), the plan artifact, the pipeline updating
itself, drift, a pipeline definition CodePipeline could not run, and, last, an apply killed mid-way
and the recovery from it (about 3 minutes of its own). Most of the time is the AWS provider's own
waits (a lifecycle configuration takes 55 s to create)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from examples.workloads.sample import data_bucket_name
from provisioner.app.workloads import environment_of
from provisioner.configuration.naming import Naming
from provisioner.delivery import buildspecs, terraform
from provisioner.delivery.steps import environment_steps
from provisioner.local_aws import server
from provisioner.local_aws.demo_run import Demo, verify_placement
from provisioner.local_aws.pipeline_records import PipelineRecords, data_dir
from provisioner.operations import state_lock
from provisioner.operations.state_bootstrap import MIGRATED_SUFFIX, bootstrap_state
from provisioner.paths import NODE_BIN, REPO_ROOT
from provisioner.progress import StepFailed
from tests.conftest import write_environments

pytestmark = pytest.mark.integration

DEVOPS_ACCOUNT = "123456789012"
DEV_ACCOUNT = "222222222222"
REGION = "eu-west-1"
EXTERNAL_ID = "itest-dev-external-id"
DEVOPS = f"""
account_id  = "{DEVOPS_ACCOUNT}"
region      = "{REGION}"
name_prefix = "itest"
source {{
  type       = "s3"
  bucket     = "itest-source-{DEVOPS_ACCOUNT}"
  repository = "repository.zip"
}}
"""
DEV = f"""
account_id = "{DEV_ACCOUNT}"
region     = "{REGION}"
order      = 1
deployment_role {{
  external_id = "{EXTERNAL_ID}"
}}
bootstrap {{
  role_arn       = "arn:aws:iam::{DEV_ACCOUNT}:role/OrganizationAccountAccessRole"
  state_role_arn = "arn:aws:iam::{DEVOPS_ACCOUNT}:role/OrganizationAccountAccessRole"
}}
step "bucket-check" {{
  when     = "after-apply"
  commands = ["python3 examples/workloads/checks/data_bucket.py"]
}}
"""
STACKS = ("devops", "bootstrap-dev", "workload-dev")


class Deployed:
    def __init__(self, demo: Demo, endpoint: str) -> None:
        self.demo = demo
        self.project = demo.project
        self.endpoint = endpoint
        self.env = demo.project.environments[0]

    def client(self, service: str, credentials: dict[str, str] | None = None) -> Any:
        keys = credentials or {"AccessKeyId": "test", "SecretAccessKey": "test"}
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys.get("SessionToken"),
        )

    def workload_credentials(self) -> dict[str, str]:
        return self.client("sts").assume_role(
            RoleArn=self.project.deployment_role_arn(self.env), RoleSessionName="integration-test", ExternalId=EXTERNAL_ID
        )["Credentials"]


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("e2e")
    demo = Demo(write_environments(root, DEVOPS, {"dev": DEV}), root / "workspace")
    demo.record = root / "local-aws.json"
    with server.running(record=demo.record) as emulator, demo.targeting(emulator.endpoint):
        demo.seed_source()
        demo.bootstrap_state()
        devops_dir = demo.outdir / "stacks" / "devops"
        demo.progress.run("apply devops", ("terraform", "apply", "-auto-approve", "-input=false", "-no-color"), cwd=devops_dir, env=demo.env)
        deploy = ["deploy", "bootstrap-dev", "--auto-approve", "--skip-provider-lock", "--skip-synth", "--output", str(demo.outdir)]
        demo.progress.run("cdktf deploy bootstrap-dev", [str(NODE_BIN / "cdktf"), *deploy], cwd=REPO_ROOT, env=demo.env)
        demo.run_pipeline(releases=1)
        yield Deployed(demo, emulator.endpoint)


def test_every_stack_keeps_its_state_in_the_bucket(deployed: Deployed) -> None:
    s3 = deployed.client("s3")
    for stack in STACKS:
        s3.head_object(Bucket=deployed.project.naming.state_bucket, Key=Naming.state_key(stack))
    migrated = deployed.demo.workspace / "bootstrap" / f"devops.tfstate{MIGRATED_SUFFIX}"
    assert json.loads(migrated.read_text())["resources"], "the bootstrap's local state is kept, renamed, after the migration"


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_plan_has_no_changes(deployed: Deployed, stack: str) -> None:
    assert deployed.demo.second_plan(stack) == 0, f"terraform plan -detailed-exitcode of {stack} found changes"


def test_the_deployment_role_is_in_the_workload_account_and_not_in_devops(deployed: Deployed) -> None:
    role = deployed.env.deployment_role.name
    credentials = deployed.workload_credentials()
    assert deployed.client("sts", credentials).get_caller_identity()["Account"] == DEV_ACCOUNT
    found = deployed.client("iam", credentials).get_role(RoleName=role)["Role"]
    assert found["Arn"] == f"arn:aws:iam::{DEV_ACCOUNT}:role/{role}"
    trust = found["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"sts:ExternalId": EXTERNAL_ID}
    with pytest.raises(ClientError, match="NoSuchEntity"):
        deployed.client("iam").get_role(RoleName=role)


def test_the_workload_bucket_and_parameter_are_in_the_workload_account(deployed: Deployed) -> None:
    (dev,) = [env for env in deployed.project.environments if env.name == "dev"]
    bucket = data_bucket_name(environment_of(deployed.project, dev))
    credentials = deployed.workload_credentials()
    assert bucket in {b["Name"] for b in deployed.client("s3", credentials).list_buckets()["Buckets"]}
    assert bucket not in {b["Name"] for b in deployed.client("s3").list_buckets()["Buckets"]}
    parameter = deployed.client("ssm", credentials).get_parameter(Name="/itest/dev/data-bucket")["Parameter"]
    assert parameter["Value"] == bucket
    with pytest.raises(ClientError, match="ParameterNotFound"):
        deployed.client("ssm").get_parameter(Name="/itest/dev/data-bucket")


def test_state_bucket_pipeline_and_build_projects_are_in_the_devops_account(deployed: Deployed) -> None:
    naming = deployed.project.naming
    assert naming.state_bucket in {b["Name"] for b in deployed.client("s3").list_buckets()["Buckets"]}
    pipeline = deployed.client("codepipeline").get_pipeline(name=naming.pipeline)
    assert pipeline["metadata"]["pipelineArn"].split(":")[4] == DEVOPS_ACCOUNT
    names = [naming.build_project("synth"), naming.build_project("plan", "dev"), naming.build_project("apply", "dev")]
    projects = deployed.client("codebuild").batch_get_projects(names=names)
    assert sorted(p["name"] for p in projects["projects"]) == sorted(names)
    assert all(p["arn"].split(":")[4] == DEVOPS_ACCOUNT for p in projects["projects"])
    assert len(verify_placement(deployed.project, deployed.demo.target)) == 2, "the demo's own check agrees: DevOps plus one environment"


def test_bootstrap_state_again_finds_the_bucket_and_stops(deployed: Deployed) -> None:
    demo = deployed.demo
    assert not bootstrap_state(demo.project, outdir=demo.outdir, progress=demo.progress, env=demo.env, target=demo.target)


def test_the_plan_artifact_holds_the_saved_plan_its_summary_and_revision_but_no_plan_json(deployed: Deployed) -> None:
    """What Plan-dev handed to Apply-dev, read back from the artifact bucket where the pipeline keeps it."""
    (_, executions), = deployed.demo.releases
    (plan,) = [a for a in executions[-1]["actions"] if a["actionName"] == "Plan-dev"]
    location = plan["output"]["outputArtifacts"][0]["s3location"]
    assert location["bucket"] == deployed.project.naming.artifact_bucket
    body = deployed.client("s3").get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = set(archive.namelist())
        assert {"tfplan", "plan-summary.md", "plan-commit-id", "cdk.tf.json", ".terraform.lock.hcl"} <= names
        assert "plan.json" not in names, "plan.json holds variable values in clear text and is removed"
        assert archive.read("plan-commit-id").decode() == executions[-1]["sourceRevisions"][0]["revisionId"]
    (apply,) = [a for a in executions[-1]["actions"] if a["actionName"] == "Apply-dev"]
    assert apply["status"] == "Succeeded" and apply["input"]["inputArtifacts"] == [plan["output"]["outputArtifacts"][0]]


def test_make_plan_plans_through_the_read_only_plan_role(deployed: Deployed, tmp_path: Path) -> None:
    """`provisioner plan` (make plan) against the deployed environment: read-only role, no lock, no changes."""

    env = dict(os.environ, PROVISIONER_TARGET="local", PROVISIONER_AWS_ENDPOINT=deployed.endpoint)
    summary = tmp_path / "summary.md"
    command = [
        sys.executable, "-m", "provisioner", "plan", "--environments", str(deployed.demo.environments),
        "--outdir", str(tmp_path / "cdktf.out"), "--output", str(summary),
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"through the read-only role {deployed.project.plan_role_arn(deployed.env)}" in result.stderr
    assert "**workload-dev**: No changes." in summary.read_text()
    assert not (tmp_path / "cdktf.out" / "stacks" / "workload-dev" / ".terraform.tflock").exists()


# --- post-deploy checks and drift -----------------------------------------------------------------
def test_the_post_deploy_check_ran_after_the_apply_and_passed(deployed: Deployed) -> None:
    logs = sorted(deployed.demo.progress.log_dir.glob("*bucket-check-dev*.log"))
    assert logs, "the fixture's release ran the check"
    bucket = data_bucket_name(environment_of(deployed.project, deployed.env))
    assert f"ok: {bucket} exists, is KMS-encrypted and versioned" in logs[-1].read_text()


def test_a_new_environment_updates_the_pipeline_and_a_failing_check_stops_the_next_wave(deployed: Deployed, tmp_path: Path) -> None:
    """A release that adds an environment (``later``) changes the devops stack: it is planned, approved and
    applied first, and the release restarts on the new definition. Then dev's checks run after its apply; a
    seeded failure there and ``later`` never plans."""
    seeded = DEV + 'step "seeded-failure" {\n  when     = "after-apply"\n  commands = ["echo seeded failure >&2; exit 1"]\n}\n'
    later = DEV.replace(DEV_ACCOUNT, "333333333333").replace("order      = 1", "order      = 2")
    demo = Demo(write_environments(tmp_path, DEVOPS, {"dev": seeded, "later": later}), tmp_path / "workspace")
    demo.record = deployed.demo.record
    with demo.targeting(deployed.endpoint), pytest.raises(StepFailed, match="release 1: execution .* Failed: "):
        demo.run_pipeline(releases=1)
    records = PipelineRecords(data_dir(demo.record), DEVOPS_ACCOUNT, REGION, deployed.project.naming.pipeline)
    restarted, updated = records.executions()[:2]
    first = {a["actionName"]: a for a in updated["actions"]}
    assert first["Plan-devops"]["output"]["outputVariables"]["DEVOPS_CHANGED"] == "true"
    assert first["Approve-devops"]["status"] == first["Apply-devops"]["status"] == "Succeeded"
    assert updated["status"] == "Stopped", "the devops apply stopped the release it ran in"
    assert restarted["trigger"]["triggerType"] == "StartPipelineExecution"
    assert restarted["sourceRevisions"][0]["revisionId"] == updated["sourceRevisions"][0]["revisionId"], "the same revision again"
    second = {a["actionName"]: a for a in restarted["actions"]}
    assert second["Plan-devops"]["output"]["outputVariables"]["DEVOPS_CHANGED"] == "false"
    assert ("UpdatePipeline-apply", "Skipped") in [(s["stageName"], s["status"]) for s in restarted["stages"]]
    assert second["bucket-check-dev"]["status"] == "Succeeded" and second["seeded-failure-dev"]["status"] == "Failed"
    assert restarted["status"] == "Failed" and not any(name.endswith("-later") for name in second)
    projects = deployed.client("codebuild").batch_get_projects(names=["itest-plan-later", "itest-step-seeded-failure-dev"])
    assert sorted(p["name"] for p in projects["projects"]) == ["itest-plan-later", "itest-step-seeded-failure-dev"], "the devops apply made them"


def drift(deployed: Deployed, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROVISIONER_TARGET="local", PROVISIONER_AWS_ENDPOINT=deployed.endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    command = [sys.executable, "-m", "provisioner", "drift", "--skip-synth", "--outdir", str(deployed.demo.outdir), *extra]
    return subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO_ROOT, check=False)


def test_drift_finds_an_out_of_band_change_and_notifies_once(deployed: Deployed) -> None:
    """Nothing drifted after the release; versioning suspended by hand is found, reported and published."""
    topic = deployed.project.naming.notifications_topic_arn
    sqs = deployed.client("sqs")
    queue = sqs.create_queue(QueueName="drift-messages")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    deployed.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    before = drift(deployed, "--notify", topic, "--fail-on-drift")
    assert before.returncode == 0, before.stdout + before.stderr[-3000:]
    assert before.stdout.strip() == "dev: no drift: workload-dev: No changes."
    assert "published 0 message(s)" in before.stderr

    s3 = deployed.client("s3", deployed.workload_credentials())
    bucket = data_bucket_name(environment_of(deployed.project, deployed.env))
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    try:
        after = drift(deployed, "--notify", topic, "--fail-on-drift", "--link", "https://example.com/build/1")
        assert after.returncode == 3, after.stdout + after.stderr[-3000:]
        assert after.stdout.startswith("dev: DRIFTED: workload-dev: Plan: 0 to add, 1 to change, 0 to destroy.")
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
        assert [m["Body"] for m in messages] == [
            "DRIFT: environment dev (workload-dev) differs from its released configuration. "
            + after.stdout.split(": ", 2)[2].strip() + " Plan: https://example.com/build/1"
        ]
        assert not list((deployed.demo.outdir / "stacks" / "workload-dev").glob(".terraform.tflock")), "drift never locks"
    finally:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


def test_the_s3_source_commit_id_mistake_fails_the_first_build_with_codepipelines_message(deployed: Deployed, tmp_path: Path) -> None:
    """The deployed release pipeline with ``#{SourceVariables.CommitId}`` put back where the S3 source's
    ``VersionId`` belongs (the mistake that once made every release fail on AWS): its first build fails
    with CodePipeline's message, before any build starts."""
    from provisioner.local_aws.pipeline_runner import UNRESOLVED, LocalMachine, PipelineRunner
    from provisioner.progress import Progress

    codepipeline = deployed.client("codepipeline")
    name = deployed.project.naming.pipeline
    original = codepipeline.get_pipeline(name=name)["pipeline"]
    broken = json.loads(json.dumps(original).replace("#{SourceVariables.VersionId}", "#{SourceVariables.CommitId}"))
    assert broken != original
    codepipeline.update_pipeline(pipeline=broken)
    try:
        runner = PipelineRunner(
            deployed.demo.target, account=DEVOPS_ACCOUNT, region=REGION, records_root=data_dir(deployed.demo.record),
            workspace=tmp_path / "runs", progress=Progress(tmp_path / "logs"), machine=LocalMachine(repository=REPO_ROOT),
        )  # fmt: skip
        record = runner.run(name)
    finally:
        restored = {key: value for key, value in original.items() if key != "version"}
        codepipeline.update_pipeline(pipeline=restored)
    assert record["status"] == "Failed"
    failed = [a for a in record["actions"] if a["status"] == "Failed"]
    assert {a["actionName"] for a in failed} == {"Synth"}, "the first build fails (retried once: the stage retries failed actions)"
    assert failed[0]["output"]["executionResult"]["errorDetails"]["message"].startswith(UNRESOLVED.format(action="Synth"))
    assert "externalExecutionId" not in failed[0]["output"]["executionResult"], "no build started"
# --- an interrupted apply -------------------------------------------------------------------------
INTERRUPTED_WORKLOAD = REPO_ROOT / "tests" / "workloads" / "interrupted.hcl"
CREATED = re.compile(r"^(?P<address>\S+): Creation complete after \S+ \[id=(?P<id>[^\]]+)\]$")
ALREADY_EXISTS = re.compile(r"Error: creating S3 Bucket \((?P<id>[^)]+)\): .*BucketAlreadyOwnedByYou")


def cli_run(deployed: Deployed, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PROVISIONER_TARGET="local", PROVISIONER_AWS_ENDPOINT=deployed.endpoint, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    return subprocess.run([sys.executable, "-m", "provisioner", *args], env=env, capture_output=True, text=True, cwd=REPO_ROOT, check=False)


def state_versions(deployed: Deployed, key: str) -> list[dict]:
    listed = deployed.client("s3").list_object_versions(Bucket=deployed.project.naming.state_bucket, Prefix=key)
    return [version for version in listed.get("Versions", []) if version["Key"] == key]


def test_an_apply_killed_mid_way_leaves_its_lock_and_a_new_release_converges(deployed: Deployed, tmp_path: Path) -> None:
    """The release after the fixture's adds an archive bucket; its apply is killed (SIGKILL, as a stopped build)
    while the bucket's lifecycle configuration is being created. What a team sees and does next, as README's
    "An apply was interrupted" says, and what the state bucket kept.

    Runs last in this module: it leaves workload-dev with the archive bucket."""
    demo, naming, env = deployed.demo, deployed.project.naming, deployed.env
    stack = env.workload_stack
    bucket, state_key, lock_key = naming.state_bucket, Naming.state_key(stack), Naming.state_lock_key(stack)
    s3 = deployed.client("s3")
    steps = {step.kind: step for step in environment_steps(deployed.project, env)}
    planning = {**demo.env, buildspecs.ROLE_ENV: steps["plan"].spec.variables[buildspecs.ROLE_ENV]}
    applying = {**demo.env, buildspecs.ROLE_ENV: steps["apply"].spec.variables[buildspecs.ROLE_ENV]}
    before = state_versions(deployed, state_key)
    current_before = next(version for version in before if version["IsLatest"])

    # The release: synth with the new workload, the Plan build's plan, then the Apply build's apply, killed.
    outdir = tmp_path / "cdktf.out"
    synth = {**demo.env, "CDKTF_OUTDIR": str(outdir), "PROVISIONER_WORKLOAD": str(INTERRUPTED_WORKLOAD)}
    demo.progress.run("synth with the archive bucket", [sys.executable, "main.py"], cwd=REPO_ROOT, env=synth)
    stack_dir = outdir / "stacks" / stack
    demo.progress.run("plan init", terraform.INIT, cwd=stack_dir, env=planning)
    demo.progress.run("plan", terraform.PLAN, cwd=stack_dir, env=planning)
    demo.progress.run("apply init", terraform.INIT_LOCKED, cwd=stack_dir, env=applying)
    apply = subprocess.Popen(terraform.APPLY_PLAN, cwd=stack_dir, env=applying, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert apply.stdout is not None
    created: dict[str, str] = {}
    killed_while = ""
    for line in apply.stdout:
        if found := CREATED.match(line.strip()):
            created[found["address"]] = found["id"]
        if line.startswith("aws_s3_bucket_lifecycle_configuration.archive-bucket") and "Still creating..." in line:
            killed_while = line.strip()
            os.kill(apply.pid, signal.SIGKILL)
            break
    apply.wait()
    assert killed_while, "the apply ended before its archive lifecycle configuration was being created"
    assert apply.returncode == -signal.SIGKILL
    archive_bucket = [address for address in created if address.startswith("aws_s3_bucket.archive-bucket")]
    assert len(archive_bucket) == 1, f"the archive bucket was created before the kill: {sorted(created)}"
    archive = created[archive_bucket[0]]

    # The lock is held: the .tflock object beside the state names the operation, who and when.
    held = json.loads(s3.get_object(Bucket=bucket, Key=lock_key)["Body"].read())
    assert held["Operation"] == "OperationTypeApply" and held["Who"] and held["Created"] and held["Path"] == f"{bucket}/{state_key}"
    lock = state_lock.Lock(id=held["ID"], path=held["Path"], operation=held["Operation"], who=held["Who"], created=held["Created"])

    # The next release's Plan build fails, and its last line names the lock and the recovery (the build's
    # own command line, waiting 1 s for the lock instead of 5 minutes).
    plan_build = buildspecs.naming_a_held_lock(terraform.PLAN).replace("-lock-timeout=5m", "-lock-timeout=1s", 1)
    assert plan_build != buildspecs.naming_a_held_lock(terraform.PLAN)
    blocked = subprocess.run(["sh", "-c", plan_build], cwd=stack_dir, env=planning, capture_output=True, text=True, check=False)
    assert blocked.returncode != 0 and state_lock.TERRAFORM_LOCK_ERROR in blocked.stderr
    assert blocked.stderr.rstrip().splitlines()[-1] == f"provisioner: {state_lock.recovery(lock)}"

    # The recovery: provisioner unlock with the lock's id.
    unlocked = cli_run(deployed, "unlock", stack, "--environments", str(demo.environments), "--lock-id", lock.id)
    assert unlocked.returncode == 0, unlocked.stderr
    assert unlocked.stdout.splitlines()[-1] == f"released lock {lock.id} on {stack}: the next plan or apply of {stack} takes the lock again"
    assert not [v for v in s3.list_objects_v2(Bucket=bucket, Prefix=lock_key).get("Contents", [])]

    # terraform saves the state during an apply at most every 20 s: this kill came before the first save, so the
    # state is the one before the apply, intact, and the objects the apply created are not in it yet.
    recorded = demo.progress.run("state list", ("terraform", "state", "list"), cwd=stack_dir, env=demo.env, quiet=True).output.split()
    assert next(v for v in state_versions(deployed, state_key) if v["IsLatest"])["VersionId"] == current_before["VersionId"]
    assert not set(created) & set(recorded)

    # A new plan and apply (the next release): terraform creates again what the state lacks; the bucket
    # cannot be created twice, so the apply names it, and it is imported; its settings and the lifecycle
    # configuration are written again over what the killed apply wrote.
    demo.progress.run("replan", terraform.PLAN, cwd=stack_dir, env=planning)
    failed = demo.progress.run("reapply", terraform.APPLY_PLAN, cwd=stack_dir, env=applying, accept=(1,))
    assert (found := ALREADY_EXISTS.search(" ".join(failed.output.split()))) and found["id"] == archive, failed.output[-3000:]
    demo.progress.run("import", ("terraform", "import", "-input=false", "-no-color", archive_bucket[0], archive), cwd=stack_dir, env=applying)
    demo.progress.run("plan after import", terraform.PLAN, cwd=stack_dir, env=planning)
    demo.progress.run("apply after import", terraform.APPLY_PLAN, cwd=stack_dir, env=applying)
    assert demo.progress.run("second plan", ("terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color"), cwd=stack_dir, env=planning, accept=(0, 2)).returncode == 0

    # Every object the killed apply created is in the state with the id it was created with, once.
    shown = json.loads(demo.progress.run("show", ("terraform", "show", "-json", "-no-color"), cwd=stack_dir, env=demo.env, quiet=True).output)
    ids = {resource["address"]: resource["values"]["id"] for resource in shown["values"]["root_module"]["resources"] if resource["mode"] == "managed"}
    assert {address: ids.get(address) for address in created} == created
    workload_buckets = [b["Name"] for b in deployed.client("s3", deployed.workload_credentials()).list_buckets()["Buckets"]]
    assert sorted(workload_buckets) == sorted({data_bucket_name(environment_of(deployed.project, env)), archive})

    # Versioning kept every state the stack had: the one before the interrupted apply is still there, readable.
    after = state_versions(deployed, state_key)
    assert {v["VersionId"] for v in before} < {v["VersionId"] for v in after}
    kept = json.loads(s3.get_object(Bucket=bucket, Key=state_key, VersionId=current_before["VersionId"])["Body"].read())
    assert not any(resource["name"].startswith("archive-bucket") for resource in kept["resources"])
    assert json.loads(s3.get_object(Bucket=bucket, Key=state_key)["Body"].read())["serial"] > kept["serial"]
