"""``provisioner.operations.aws``: timeouts, the local target (against a real moto server), one session, error meanings."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, UnauthorizedSSOTokenError

from provisioner.configuration.target import Target
from provisioner.operations import aws
from tests.aws_fixtures import MOTO_ACCOUNT, REGION, aws_env, moto_server  # noqa: F401 (fixtures)


def test_clients_time_out_and_retry_briefly(aws_env):
    config = aws.client(Target(), "sts", REGION).meta.config
    assert (config.connect_timeout, config.read_timeout) == (aws.CONNECT_TIMEOUT_SECONDS, aws.READ_TIMEOUT_SECONDS)
    assert config.retries == {"total_max_attempts": aws.MAX_ATTEMPTS, "mode": "standard"}
    assert aws.CONNECT_TIMEOUT_SECONDS <= 10 and aws.MAX_ATTEMPTS <= 3


def test_real_aws_clients_use_the_default_endpoint_and_credentials_chain(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUSERSOWNKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    client = aws.client(Target(), "s3", REGION)
    assert client.meta.endpoint_url == "https://s3.amazonaws.com"
    assert client._request_signer._credentials.access_key == "AKIAUSERSOWNKEY00000"


def test_the_local_target_sends_every_call_to_the_emulator_with_its_credentials(moto_server, monkeypatch):
    # The shell's own AWS settings are never used against the emulator, nor even read.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUSERSOWNKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_PROFILE", "a-profile-this-machine-does-not-have")
    clients = aws.client_factory(Target.local(moto_server))
    sts = clients("sts", REGION)
    assert sts.meta.endpoint_url == moto_server
    assert sts._request_signer._credentials.access_key == "test"
    assert sts.get_caller_identity()["Account"] == MOTO_ACCOUNT
    s3 = clients("s3", REGION)
    s3.create_bucket(Bucket="acme-local-check")
    assert "acme-local-check" in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]


def test_given_credentials_replace_the_sessions_own(moto_server):
    clients = aws.client_factory(Target.local(moto_server))
    role = "arn:aws:iam::210987654321:role/acme-deploy-dev"
    credentials = clients("sts", REGION).assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
    assumed = clients("sts", REGION, credentials).get_caller_identity()
    assert assumed["Account"] == "210987654321"
    assert assumed["Arn"] == "arn:aws:sts::210987654321:assumed-role/acme-deploy-dev/tests"


def test_one_factory_resolves_credentials_in_one_session(aws_env, monkeypatch):
    created = []

    class CountingSession(boto3.session.Session):
        def __init__(self, *args, **kwargs):
            created.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(boto3.session, "Session", CountingSession)
    clients = aws.client_factory(Target())
    clients("sts", REGION)
    clients("s3", REGION)
    clients("codepipeline", "eu-west-1")
    assert len(created) == 1


def client_error(code: str, message: str = "message") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetCallerIdentity")


@pytest.mark.parametrize(
    ("error", "message", "fix_mentions"),
    [
        (NoCredentialsError(), "no AWS credentials found", "AWS_PROFILE"),
        (UnauthorizedSSOTokenError(), "the IAM Identity Center (SSO) session has expired or is missing", "aws sso login"),
        (client_error("ExpiredToken"), "the AWS credentials have expired (ExpiredToken)", "aws sso login"),
        (client_error("InvalidClientTokenId", "The security token\nis invalid."),
         "AWS rejected the credentials (InvalidClientTokenId: The security token is invalid.)", "AWS_ACCESS_KEY_ID"),
        (EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com/"),
         'Could not connect to the endpoint URL: "https://sts.us-east-1.amazonaws.com/"', "HTTPS_PROXY"),
        (client_error("Throttling", "Rate exceeded"), "Throttling: Rate exceeded", ""),
        (aws.UnexpectedAnswer("http://127.0.0.1:5000 answered GetCallerIdentity with a web page (HTTP 500): not an AWS answer"),
         "http://127.0.0.1:5000 answered GetCallerIdentity with a web page (HTTP 500): not an AWS answer", "implements the call"),
    ],
)  # fmt: skip
def test_errors_are_explained_on_one_line_with_a_fix(error, message, fix_mentions):
    problem = aws.explain(error)
    assert problem.message == message
    assert fix_mentions in problem.fix
    assert "\n" not in problem.message + problem.fix
