"""The local pipeline runner on small pipelines deployed to a real emulator process (one for the module):
variables and namespaces, actions side by side, artifacts between actions, a failing action, a
variable nothing emitted, a stage's retry, entry conditions, approvals, stop and start requests, a
git source, and the notifications EventBridge rules would send.

Each pipeline is created with boto3 as terraform would create it; its builds are plain ``sh`` commands.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest

from provisioner.configuration.target import Target
from provisioner.errors import UserError
from provisioner.local_aws import DEVOPS_ACCOUNT_ID, server
from provisioner.local_aws.pipeline_records import PipelineRecords, data_dir
from provisioner.local_aws.pipeline_runner import UNRESOLVED, LocalMachine, PipelineRunner, _glob, this_machine
from provisioner.operations.terraform_rc import find_mirror
from provisioner.paths import REPO_ROOT, TERRAFORM_RC
from provisioner.progress import Progress

REGION = "eu-west-1"
BUCKET = "runner-artifacts"
SOURCE_BUCKET = "runner-source"
SOURCE_KEY = "repo.zip"
TOPIC = "runner-notifications"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[server.Emulator, Path]]:
    record = tmp_path_factory.mktemp("emulator") / "local-aws.json"
    with server.running(record=record) as running:
        yield running, record


@pytest.fixture(scope="module")
def aws(emulator) -> dict[str, Any]:
    """The account's fixtures: artifact and source buckets, a KMS key, the pipeline and build roles, a topic."""
    running, _ = emulator

    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=running.endpoint, aws_access_key_id="test", aws_secret_access_key="test")

    s3 = client("s3")
    for bucket in (BUCKET, SOURCE_BUCKET):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=SOURCE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("hello.txt", "hello from the source\n")
    version = s3.put_object(Bucket=SOURCE_BUCKET, Key=SOURCE_KEY, Body=archive.getvalue())["VersionId"]
    key = client("kms").create_key()["KeyMetadata"]["Arn"]
    iam = client("iam")
    roles = {}
    for name, service in (("pipeline-role", "codepipeline.amazonaws.com"), ("build-role", "codebuild.amazonaws.com")):
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        roles[name] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    topic = client("sns").create_topic(Name=TOPIC)["TopicArn"]
    queue = client("sqs").create_queue(QueueName="runner-inbox")["QueueUrl"]
    queue_arn = client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return {"client": client, "key": key, "roles": roles, "version": version, "topic": topic, "queue": queue}


def project(aws: dict, name: str, build: list[str], exported: list[str] = (), artifacts: dict | None = None, variables: dict | None = None) -> None:
    """A CodeBuild project with an inline buildspec, as the devops stack declares one."""
    spec: dict[str, Any] = {"version": 0.2, "env": {"variables": variables or {"FROM_BUILDSPEC": "buildspec"}}, "phases": {"build": {"commands": build}}}
    if exported:
        spec["env"]["exported-variables"] = list(exported)
    if artifacts:
        spec["artifacts"] = artifacts
    aws["client"]("codebuild").create_project(
        name=name,
        source={"type": "CODEPIPELINE", "buildspec": json.dumps(spec)},
        artifacts={"type": "CODEPIPELINE"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0", "computeType": "BUILD_GENERAL1_SMALL",
                     "environmentVariables": [{"name": "FROM_PROJECT", "value": "project", "type": "PLAINTEXT"}]},
        serviceRole=aws["roles"]["build-role"],
    )  # fmt: skip


def build(name: str, project_name: str, *, inputs=("source",), outputs=(), run_order=1, namespace=None, env: dict | None = None) -> dict:
    action: dict[str, Any] = {
        "name": name, "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"},
        "runOrder": run_order, "configuration": {"ProjectName": project_name},
        "inputArtifacts": [{"name": i} for i in inputs], "outputArtifacts": [{"name": o} for o in outputs],
    }  # fmt: skip
    if env:
        action["configuration"]["EnvironmentVariables"] = json.dumps([{"name": k, "value": v, "type": "PLAINTEXT"} for k, v in env.items()])
    if namespace:
        action["namespace"] = namespace
    return action


def s3_source() -> dict:
    return {
        "name": "Source", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
        "configuration": {"S3Bucket": SOURCE_BUCKET, "S3ObjectKey": SOURCE_KEY, "PollForSourceChanges": "false"},
        "outputArtifacts": [{"name": "source"}], "namespace": "SourceVariables", "runOrder": 1,
    }  # fmt: skip


def pipeline(aws: dict, name: str, stages: list[dict], source: dict | None = None) -> None:
    aws["client"]("codepipeline").create_pipeline(
        pipeline={
            "name": name, "roleArn": aws["roles"]["pipeline-role"], "pipelineType": "V2", "executionMode": "QUEUED",
            "artifactStore": {"type": "S3", "location": BUCKET, "encryptionKey": {"id": aws["key"], "type": "KMS"}},
            "stages": [{"name": "Source", "actions": [source or s3_source()]}, *stages],
            "variables": [{"name": "RELEASE_REASON", "defaultValue": "source change"}],
        }
    )  # fmt: skip


def runner(emulator, tmp_path: Path, *, auto_approve: bool = True, repository: Path | None = None, machine: LocalMachine | None = None,
           build_variables: dict[str, str] | None = None) -> PipelineRunner:
    running, record = emulator
    return PipelineRunner(
        Target.local(running.endpoint),
        account=DEVOPS_ACCOUNT_ID,
        region=REGION,
        records_root=data_dir(record),
        workspace=tmp_path / "runs",
        progress=Progress(tmp_path / "logs", out=io.StringIO()),
        machine=machine or LocalMachine(repository=repository or tmp_path, python_bin=Path(sys.executable).parent),
        build_variables=build_variables or {},
        auto_approve=auto_approve,
    )


def actions(record: dict) -> dict[str, dict]:
    """The last execution of each action, by name."""
    return {action["actionName"]: action for action in record["actions"]}


def test_variables_namespaces_artifacts_and_actions_side_by_side(emulator, aws, tmp_path) -> None:
    project(aws, "rt-make", ["cat hello.txt > made.txt", "echo \"$FROM_BUILDSPEC $FROM_PROJECT $FROM_ACTION\" >> made.txt",
                             "MADE=from-make", "sleep 2"], exported=["MADE"], artifacts={"files": ["made.txt"]})  # fmt: skip
    project(aws, "rt-beside", ["sleep 2", "BESIDE=$CODEBUILD_BUILD_ID"], exported=["BESIDE"])
    project(aws, "rt-use", ["cat made.txt", 'USED="$MADE_WAS $REVISION $REASON $(head -1 made.txt)"',
                            'test "$CODEBUILD_SRC_DIR" = "$(pwd)"'], exported=["USED"])  # fmt: skip
    pipeline(aws, "rt-basic", [
        {"name": "Make", "actions": [
            build("Make", "rt-make", outputs=["made"], namespace="Make", env={"FROM_ACTION": "action", "FROM_PROJECT": "action wins"}),
            build("Beside", "rt-beside", namespace="Beside"),
        ]},
        {"name": "Use", "actions": [build("Use", "rt-use", inputs=["made"], namespace="Use", env={
            "MADE_WAS": "#{Make.MADE}", "REVISION": "#{SourceVariables.VersionId}", "REASON": "#{variables.RELEASE_REASON}"})]},
    ])  # fmt: skip

    record = runner(emulator, tmp_path).run("rt-basic", variables={"RELEASE_REASON": "by-hand"})

    assert record["status"] == "Succeeded", record
    done = actions(record)
    assert done["Use"]["output"]["outputVariables"]["USED"] == f"from-make {aws['version']} by-hand hello from the source"
    assert done["Source"]["output"]["outputVariables"]["VersionId"] == aws["version"]
    # Side by side: each of the two builds started before the other ended.
    make, beside = done["Make"], done["Beside"]
    assert make["startTime"] < beside["lastUpdateTime"] and beside["startTime"] < make["lastUpdateTime"]
    assert beside["output"]["outputVariables"]["BESIDE"].startswith("rt-beside:")
    # The artifact is a zip in the artifact bucket under the pipeline's prefix, and holds what the build wrote.
    location = make["output"]["outputArtifacts"][0]["s3location"]
    assert location["bucket"] == BUCKET and location["key"].startswith("rt-basic/made/")
    body = aws["client"]("s3").get_object(Bucket=BUCKET, Key=location["key"])["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.namelist() == ["made.txt"]
        assert archive.read("made.txt").decode().splitlines()[1] == "buildspec action wins action"
    assert [s["status"] for s in record["stages"]] == ["Succeeded", "Succeeded", "Succeeded"]
    # Recorded where the emulator serves executions from.
    stored = PipelineRecords(data_dir(emulator[1]), DEVOPS_ACCOUNT_ID, REGION, "rt-basic").execution(record["pipelineExecutionId"])
    assert stored["status"] == "Succeeded" and stored["variables"] == [{"name": "RELEASE_REASON", "resolvedValue": "by-hand"}]


def test_builds_on_this_machine_use_the_projects_terraform_config_and_provider_mirror_whatever_the_shell_says(emulator, aws, tmp_path) -> None:
    """``provisioner local-aws run-pipeline`` from a shell that never sourced .provisioner/env.sh (its own
    TF_CLI_CONFIG_FILE, no cdktf on PATH): the builds still get the project's CLI config, cdktf, the
    configuration folder and the mirror, as make demo's do; without them an offline plan fails at init."""
    assert TERRAFORM_RC.is_file(), "make setup writes the project's terraform CLI config"
    node_bin = str(REPO_ROOT / "node_modules" / ".bin")
    path = os.pathsep.join(folder for folder in os.environ["PATH"].split(os.pathsep) if folder != node_bin)
    shell = {"PATH": path, "TF_CLI_CONFIG_FILE": str(tmp_path / "terraformrc-of-this-shell"), "HOME": str(Path.home())}
    machine, variables = this_machine(REPO_ROOT / "demo" / "environments", shell)
    mirror = find_mirror()
    assert variables == {"PROVISIONER_ENVIRONMENTS": "demo/environments", **({"PROVISIONER_PROVIDER_MIRROR": str(mirror)} if mirror else {})}
    project(aws, "rt-machine", ['SEEN="$TF_CLI_CONFIG_FILE|$PROVISIONER_ENVIRONMENTS|$PROVISIONER_PROVIDER_MIRROR|$(command -v cdktf)"'], exported=["SEEN"])
    pipeline(aws, "rt-machine", [{"name": "Build", "actions": [build("Build", "rt-machine", namespace="Build")]}])

    record = runner(emulator, tmp_path, machine=machine, build_variables=variables).run("rt-machine")

    assert record["status"] == "Succeeded", record
    seen = actions(record)["Build"]["output"]["outputVariables"]["SEEN"].split("|")
    assert seen == [str(TERRAFORM_RC), "demo/environments", str(mirror or ""), str(REPO_ROOT / "node_modules" / ".bin" / "cdktf")]


def test_a_variable_the_source_does_not_emit_fails_the_action_with_codepipelines_message(emulator, aws, tmp_path) -> None:
    project(aws, "rt-commit", ["echo never"])
    pipeline(aws, "rt-commit-id", [{"name": "Build", "actions": [build("Build", "rt-commit", env={"COMMIT_ID": "#{SourceVariables.CommitId}"})]}])

    record = runner(emulator, tmp_path).run("rt-commit-id")

    assert record["status"] == "Failed"
    failed = actions(record)["Build"]
    message = failed["output"]["executionResult"]["errorDetails"]["message"]
    assert message.startswith(UNRESOLVED.format(action="Build")) and "#{SourceVariables.CommitId}" in message
    assert "externalExecutionId" not in failed["output"]["executionResult"]  # no build was started


def test_a_failing_action_fails_its_stage_and_nothing_after_it_runs_and_the_topic_is_told(emulator, aws, tmp_path) -> None:
    project(aws, "rt-fail", ["echo about to fail", "false", "echo never"])
    project(aws, "rt-after", ["echo should not run"])
    pipeline(aws, "rt-failing", [
        {"name": "Break", "actions": [build("Break", "rt-fail")]},
        {"name": "After", "actions": [build("After", "rt-after")]},
    ])  # fmt: skip
    rules = aws["client"]("events")
    pattern = {"source": ["aws.codepipeline"], "detail-type": ["CodePipeline Action Execution State Change"],
               "detail": {"pipeline": ["rt-failing"], "state": ["FAILED"]}}  # fmt: skip
    rules.put_rule(Name="rt-failing-action-failed", EventPattern=json.dumps(pattern))
    rules.put_targets(Rule="rt-failing-action-failed", Targets=[{
        "Id": "topic", "Arn": aws["topic"], "InputTransformer": {
            "InputPathsMap": {"stage": "$.detail.stage", "action": "$.detail.action", "pipeline": "$.detail.pipeline"},
            "InputTemplate": '"FAILED: pipeline <pipeline>, stage <stage>, action <action>."'}}])  # fmt: skip
    out = io.StringIO()
    run = runner(emulator, tmp_path)
    run.progress.out = out

    record = run.run("rt-failing")

    assert record["status"] == "Failed"
    assert [(s["stageName"], s["status"]) for s in record["stages"]] == [("Source", "Succeeded"), ("Break", "Failed")]
    assert "After" not in actions(record)
    assert "exit 1" in actions(record)["Break"]["output"]["executionResult"]["errorDetails"]["message"]
    assert "notification to runner-notifications: FAILED: pipeline rt-failing, stage Break, action Break." in out.getvalue()
    sqs = aws["client"]("sqs")
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", [])]
    assert '"FAILED: pipeline rt-failing, stage Break, action Break."' in bodies


def test_a_stage_with_retry_retries_its_failed_action_once(emulator, aws, tmp_path) -> None:
    marker = tmp_path / "tried-once"
    project(aws, "rt-flaky", [f'if [ -f "{marker}" ]; then echo second try; else touch "{marker}"; exit 1; fi'])
    stage = {"name": "Flaky", "actions": [build("Flaky", "rt-flaky")], "onFailure": {"result": "RETRY", "retryConfiguration": {"retryMode": "FAILED_ACTIONS"}}}
    pipeline(aws, "rt-retry", [stage])

    record = runner(emulator, tmp_path).run("rt-retry")

    assert record["status"] == "Succeeded"
    tries = [a for a in record["actions"] if a["actionName"] == "Flaky"]
    assert [a["status"] for a in tries] == ["Failed", "Succeeded"] and tries[1].get("updatedBy") == "retry"


def test_an_entry_condition_skips_its_stage_and_the_rest_runs(emulator, aws, tmp_path) -> None:
    project(aws, "rt-decide", ["CHANGED=false"], exported=["CHANGED"])
    project(aws, "rt-skipped", ["echo skipped stage ran"])
    project(aws, "rt-last", ["echo last"])
    condition = {"result": "SKIP", "rules": [{"name": "changed", "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": "VariableCheck", "version": "1"},
                 "configuration": {"Variable": "#{Decide.CHANGED}", "Value": "true", "Operator": "EQ"}}]}  # fmt: skip
    pipeline(aws, "rt-entry", [
        {"name": "Decide", "actions": [build("Decide", "rt-decide", namespace="Decide")]},
        {"name": "Maybe", "actions": [build("Maybe", "rt-skipped")], "beforeEntry": {"conditions": [condition]}},
        {"name": "Last", "actions": [build("Last", "rt-last")]},
    ])  # fmt: skip

    record = runner(emulator, tmp_path).run("rt-entry")

    assert record["status"] == "Succeeded"
    assert [(s["stageName"], s["status"]) for s in record["stages"]][1:] == [("Decide", "Succeeded"), ("Maybe", "Skipped"), ("Last", "Succeeded")]
    assert "Maybe" not in actions(record)


def approval(name: str = "Approve") -> dict:
    return {"name": name, "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"},
            "runOrder": 1, "configuration": {"CustomData": "revision #{SourceVariables.VersionId}"}}  # fmt: skip


@pytest.mark.parametrize("answer", ["Approved", "Rejected"])
def test_an_approval_waits_for_its_answer(emulator, aws, tmp_path, answer) -> None:
    name = f"rt-approval-{answer.lower()}"
    project(aws, name, ["echo applied"])
    pipeline(aws, name, [{"name": "Gate", "actions": [approval(), build("Apply", name, inputs=("source",), run_order=2)]}])
    run = runner(emulator, tmp_path, auto_approve=False)
    result: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: result.update(run.run(name)), daemon=True)
    thread.start()
    records = PipelineRecords(data_dir(emulator[1]), DEVOPS_ACCOUNT_ID, REGION, name)
    waiting = None
    for _ in range(300):
        executions = records.executions()
        waiting = next((a for e in executions for a in e["actions"] if a["actionName"] == "Approve" and a.get("token")), None)
        if waiting:
            break
        time.sleep(0.1)
    assert waiting is not None and waiting["status"] == "InProgress"
    assert not thread.join(timeout=1.5) and thread.is_alive()  # it waits
    records.put_approval(waiting["pipelineExecutionId"], "Gate", "Approve", answer, "read the plan")
    thread.join(timeout=60)

    assert result["status"] == ("Succeeded" if answer == "Approved" else "Failed")
    assert ("Apply" in actions(result)) == (answer == "Approved")
    assert actions(result)["Approve"]["output"]["executionResult"]["externalExecutionSummary"] == "read the plan"


def test_a_stop_request_ends_the_execution_and_a_start_request_runs_next(emulator, aws, tmp_path) -> None:
    running, record = emulator
    name = "rt-restart"
    folder = data_dir(record)
    # The build asks the emulator's records to start a new execution and stop this one, as the devops apply does with the AWS CLI.
    request = (
        f"{sys.executable} -c \"import sys; from provisioner.local_aws.pipeline_records import PipelineRecords as R; "
        f"r = R(sys.argv[1], '{DEVOPS_ACCOUNT_ID}', '{REGION}', '{name}'); "
        "r.request_start([{'name': 'RELEASE_REASON', 'value': 'restarted'}], [], {'triggerType': 'StartPipelineExecution', 'triggerDetail': 'test'}) "
        "if sys.argv[3] == 'first' else None; r.request_stop(sys.argv[2], False, 'the pipeline changed') if sys.argv[3] == 'first' else None\""
    )
    project(aws, "rt-restarter", [f'{request} "{folder}" "$EXECUTION" "$REASON_WORD"'])
    project(aws, "rt-later", ["echo later"])
    pipeline(aws, name, [
        {"name": "Restart", "actions": [build("Restart", "rt-restarter", env={"EXECUTION": "#{codepipeline.PipelineExecutionId}", "REASON_WORD": "#{variables.RELEASE_REASON}"})]},
        {"name": "Later", "actions": [build("Later", "rt-later")]},
    ])  # fmt: skip
    run = runner(emulator, tmp_path)

    executions = run.run_until_idle(name, variables={"RELEASE_REASON": "first"})

    first, second = executions
    assert first["status"] == "Stopped" and first["stopTrigger"]["reason"] == "the pipeline changed"
    assert "Later" not in actions(first)
    assert second["status"] == "Succeeded" and actions(second)["Later"]["status"] == "Succeeded"
    assert second["variables"] == [{"name": "RELEASE_REASON", "resolvedValue": "restarted"}]
    assert not PipelineRecords(folder, DEVOPS_ACCOUNT_ID, REGION, name).pending_starts()


def test_a_git_source_is_the_working_tree_at_head_with_its_commit_id(emulator, aws, tmp_path) -> None:
    repository = tmp_path / "repository"
    repository.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=repository, check=True)
    (repository / "app.txt").write_text("committed\n")
    subprocess.run([*git, "add", "app.txt"], cwd=repository, check=True)
    subprocess.run([*git, "commit", "-qm", "the release"], cwd=repository, check=True)
    (repository / "app.txt").write_text("not committed\n")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repository, check=True, capture_output=True, text=True).stdout.strip()
    source = {
        "name": "Source", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "CodeStarSourceConnection", "version": "1"},
        "configuration": {"ConnectionArn": f"arn:aws:codestar-connections:{REGION}:{DEVOPS_ACCOUNT_ID}:connection/x", "FullRepositoryId": "o/r",
                          "BranchName": "main", "OutputArtifactFormat": "CODE_ZIP"},
        "outputArtifacts": [{"name": "source"}], "namespace": "SourceVariables", "runOrder": 1,
    }  # fmt: skip
    project(aws, "rt-git", ['SEEN="$(cat app.txt) $COMMIT"'], exported=["SEEN"])
    pipeline(aws, "rt-git-source", [{"name": "Build", "actions": [build("Build", "rt-git", namespace="B", env={"COMMIT": "#{SourceVariables.CommitId}"})]}], source=source)

    record = runner(emulator, tmp_path, repository=repository).run("rt-git-source")

    assert record["status"] == "Succeeded"
    assert actions(record)["Build"]["output"]["outputVariables"]["SEEN"] == f"committed {head}"
    assert record["sourceRevisions"] == [{"actionName": "Source", "revisionId": head, "revisionSummary": "the release"}]


def test_unknown_pipelines_and_variables_are_one_line_errors(emulator, aws, tmp_path) -> None:
    run = runner(emulator, tmp_path)
    project(aws, "rt-plain", ["true"])
    pipeline(aws, "rt-plain", [{"name": "Build", "actions": [build("Build", "rt-plain")]}])
    with pytest.raises(UserError, match=r"^pipeline rt-none: .* \(deployed here: (.*, )?rt-plain(, .*)?\)$"):
        run.run("rt-none")
    with pytest.raises(UserError, match="declares no variable NOPE"):
        run.run("rt-plain", variables={"NOPE": "x"})


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [("**/*", "a/b/c.txt", True), ("**/*", "top.txt", True), (".venv/**/*", ".venv/lib/x.py", True), (".venv/**/*", "src/.venv", False),
     ("**/.terraform/**/*", "cdktf.out/stacks/a/.terraform/p/x", True), ("*.txt", "a/b.txt", False), ("cdk.tf.json", "cdk.tf.json", True)],
)  # fmt: skip
def test_buildspec_path_patterns(pattern, path, matches) -> None:
    assert bool(_glob(pattern).match(path)) is matches


def test_a_stop_request_lets_the_running_action_finish_and_starts_nothing_more_in_its_stage(emulator, aws, tmp_path) -> None:
    running, record = emulator
    name = "rt-stop-in-stage"
    stop = (
        f"{sys.executable} -c \"import sys; from provisioner.local_aws.pipeline_records import PipelineRecords as R; "
        f"R(sys.argv[1], '{DEVOPS_ACCOUNT_ID}', '{REGION}', '{name}').request_stop(sys.argv[2], False, 'stopped by hand')\""
    )
    project(aws, "rt-stopper", [f'{stop} "{data_dir(record)}" "$EXECUTION"', "echo finished after the request"])
    project(aws, "rt-second", ["echo second"])
    pipeline(aws, name, [{"name": "Both", "actions": [
        build("First", "rt-stopper", env={"EXECUTION": "#{codepipeline.PipelineExecutionId}"}),
        build("Second", "rt-second", run_order=2),
    ]}])  # fmt: skip

    result = runner(emulator, tmp_path).run(name)

    assert result["status"] == "Stopped" and result["stopTrigger"] == {"reason": "stopped by hand"}
    assert actions(result)["First"]["status"] == "Succeeded", "the running action finishes"
    assert "Second" not in actions(result)
    assert result["stages"][-1]["stageName"] == "Both" and result["stages"][-1]["status"] == "Stopped"


def test_the_installed_toolchain_is_linked_only_where_make_would_install_nothing(tmp_path) -> None:
    from provisioner.local_aws.pipeline_runner import _link_toolchain

    repository, source = tmp_path / "repository", tmp_path / "source"
    for folder in (repository, source):
        (folder / "policy").mkdir(parents=True)
        (folder / "Makefile").write_text("setup:\n")
        (folder / "pyproject.toml").write_text("[project]\nname = 'x'\n")
        (folder / "policy" / "checkov-requirements.txt").write_text("checkov==1\n")
    (source / "policy" / "checkov-requirements.txt").write_text("checkov==2\n")  # the source asks for another checkov
    for stamp in (".venv/.installed-dev", ".venv/.installed-build", ".venv-checkov/.installed"):
        (repository / stamp).parent.mkdir(exist_ok=True)
        (repository / stamp).touch()
    old = (repository / ".venv" / ".installed-dev").stat().st_mtime - 10
    os.utime(repository / "pyproject.toml", (old, old))
    os.utime(repository / "policy" / "checkov-requirements.txt", (old, old))

    assert _link_toolchain(source, repository) == [".venv"]
    assert (source / ".venv").resolve() == (repository / ".venv").resolve()
    assert (source / "pyproject.toml").stat().st_mtime < (repository / ".venv" / ".installed-build").stat().st_mtime
    assert not (source / ".venv-checkov").exists(), "its requirements differ: the build installs its own"
    assert (repository / "pyproject.toml").stat().st_mtime == old, "the repository is never changed"

    (source / ".venv").unlink()
    (repository / ".venv" / ".installed-build").unlink()  # a dev install made before the build profile existed
    assert _link_toolchain(source, repository) == []
