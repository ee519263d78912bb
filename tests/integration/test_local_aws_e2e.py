"""End to end against the local multi-account AWS: devops plus one environment, as ``make demo`` runs them.

One emulator for the module, deployed by ``tests.integration.emulated.release`` (the remote state,
devops, bootstrap-dev, then one release through the deployed pipeline). The tests then check
idempotency, where each resource landed (boto3, assumed-role credentials), the plan artifact, the
pipeline updating itself, drift and a pipeline definition CodePipeline could not run. Most of the time
is the AWS provider's own waits (a lifecycle configuration takes 55 s to create). An apply killed
mid-way is in ``test_interrupted_apply.py``, on an emulator of its own."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterator

import pytest
from botocore.exceptions import ClientError

from examples.workloads.sample import data_bucket_name
from provisioner.app.workloads import environment_of
from provisioner.configuration.naming import Naming
from provisioner.local_aws.demo_run import Demo, verify_placement
from provisioner.local_aws.pipeline_records import PipelineRecords, data_dir
from provisioner.operations.state_bootstrap import MIGRATED_SUFFIX, bootstrap_state
from provisioner.paths import REPO_ROOT
from provisioner.progress import StepFailed
from tests.conftest import write_environments
from tests.integration.emulated import DEV, DEV_ACCOUNT, DEVOPS, DEVOPS_ACCOUNT, EXTERNAL_ID, REGION, STACKS, Deployed, release

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    yield from release(tmp_path_factory)


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
