"""A DevOps account and two workload environments in moto, shared by the doctor, status and aws tests.

moto acts in account 123456789012 for plain credentials, so that is the DevOps account here;
sts:AssumeRole into another account's role gives credentials that act in that account.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from provisioner.configuration import settings
from provisioner.configuration.naming import Naming
from provisioner.configuration.settings import ProjectConfig
from tests.conftest import write_environments

REPO_ROOT = Path(__file__).resolve().parent.parent
MOTO_ACCOUNT = "123456789012"
REGION = "us-east-1"
DEVOPS = f"""\
account_id  = "{MOTO_ACCOUNT}"
region      = "{REGION}"
name_prefix = "acme"

source {{
  type       = "codecommit"
  repository = "platform-infra"
}}
"""
OPERATOR_ROLE_ARN = f"arn:aws:iam::{MOTO_ACCOUNT}:role/platform-operator"
ENVIRONMENTS = {
    "dev": 'account_id = "210987654321"\nregion = "us-east-1"\norder = 1\nbootstrap {\n  profile = "dev-admin"\n}\n',
    "prod": f"""\
account_id        = "210987654322"
region            = "us-east-1"
order             = 2
requires_approval = true

deployment_role {{
  external_id             = "acme-prod"
  extra_trusted_role_arns = ["{OPERATOR_ROLE_ARN}"]
}}

bootstrap {{
  profile = "prod-admin"
}}
""",
}
CODEPIPELINE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "codepipeline.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


Boto3 = Callable[[str], Any]
"""Makes the client that sets up a fixture: moto in-process by default, the emulator server when given."""


def in_process(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def moved_to_account(devops_account: str) -> tuple[str, dict[str, str]]:
    """DEVOPS and ENVIRONMENTS with the DevOps account changed, the DevOps-account operator role with it."""
    return DEVOPS.replace(MOTO_ACCOUNT, devops_account), {name: text.replace(MOTO_ACCOUNT, devops_account) for name, text in ENVIRONMENTS.items()}


def make_project(root: Path, devops: str = DEVOPS, environments: dict[str, str] = ENVIRONMENTS) -> tuple[Path, ProjectConfig]:
    folder = write_environments(root, devops, environments)
    return folder, settings.load(folder)


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS configuration, credentials, emulator switch or instance metadata from the machine running the tests."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("PROVISIONER_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "empty-aws-file"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto_aws(aws_env: None):
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def moto_server(aws_env: None, monkeypatch: pytest.MonkeyPatch):
    """moto in server mode on a free port, as `provisioner local-aws start` runs it, with the switch on."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto's accounts live in the process, not the server: start empty, leave nothing behind
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    monkeypatch.setenv("PROVISIONER_TARGET", "local")
    monkeypatch.setenv("PROVISIONER_AWS_ENDPOINT", endpoint)
    yield endpoint
    urllib.request.urlopen(reset, timeout=10).close()
    server.stop()


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    return make_project(tmp_path)[1]


def act_as(monkeypatch: pytest.MonkeyPatch, role_arn: str) -> None:
    """Make every later client use credentials of ``role_arn`` (moto lets any caller assume any role)."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(RoleArn=role_arn, RoleSessionName="tests")["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])


def create_state_bucket(
    project: ProjectConfig, *, versioning: bool = True, encryption: str | None = "aws:kms", client: Boto3 = in_process
) -> None:
    s3 = client("s3")
    bucket = project.naming.state_bucket
    s3.create_bucket(Bucket=bucket)
    if versioning:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if encryption is None:
        return
    default: dict[str, str] = {"SSEAlgorithm": encryption}
    if encryption == "aws:kms":
        default["KMSMasterKeyID"] = client("kms").create_key()["KeyMetadata"]["Arn"]
    s3.put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": default}]}
    )


def put_bootstrap_state(project: ProjectConfig, environment: str, role_arn: str | None, client: Boto3 = in_process) -> None:
    """What terraform leaves after applying ``bootstrap-<environment>`` (None: no output, as after a destroy)."""
    outputs = {} if role_arn is None else {"deployment_role_arn": {"value": role_arn, "type": "string"}}
    state = {"version": 4, "terraform_version": "1.11.4", "serial": 3, "outputs": outputs, "resources": []}
    client("s3").put_object(
        Bucket=project.naming.state_bucket, Key=Naming.state_key(f"bootstrap-{environment}"), Body=json.dumps(state).encode()
    )


def create_pipeline(project: ProjectConfig, pipeline_type: str | None = "V2", client: Boto3 = in_process) -> None:
    naming = project.naming
    role = client("iam").create_role(
        RoleName=naming.pipeline_role, AssumeRolePolicyDocument=json.dumps(CODEPIPELINE_TRUST)
    )["Role"]["Arn"]
    source = {"category": "Source", "owner": "AWS", "provider": "CodeCommit", "version": "1"}
    build = {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}
    pipeline: dict = {
        "name": naming.pipeline,
        "roleArn": role,
        "artifactStore": {"type": "S3", "location": naming.artifact_bucket},
        "stages": [
            {"name": "Source", "actions": [{"name": "Source", "actionTypeId": source, "configuration": {"RepositoryName": "platform-infra", "BranchName": "main"}, "outputArtifacts": [{"name": "source"}]}]},
            {"name": "Synth", "actions": [{"name": "Synth", "actionTypeId": build, "configuration": {"ProjectName": "acme-synth"}, "inputArtifacts": [{"name": "source"}]}]},
        ],
    }  # fmt: skip
    if pipeline_type is not None:
        pipeline["pipelineType"] = pipeline_type
    client("codepipeline").create_pipeline(pipeline=pipeline)


def healthy(project: ProjectConfig, client: Boto3 = in_process) -> None:
    """Everything doctor checks, deployed as the product deploys it."""
    create_state_bucket(project, client=client)
    for env in project.environments:
        put_bootstrap_state(project, env.name, project.deployment_role_arn(env), client=client)
    create_pipeline(project, client=client)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m provisioner ARGS`` with no AWS configuration, credentials or instance metadata."""
    return subprocess.run(
        [sys.executable, "-m", "provisioner", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO_ROOT),
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            **(env or {}),
        },
    )
