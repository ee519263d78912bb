"""boto3 clients for the provisioner's own AWS calls (``doctor``, ``status``), and what their errors mean.

- Short timeouts and one retry: a command that asks AWS answers within seconds or says why; it never hangs
  on an unreachable endpoint.
- A local ``Target`` sends every call to the emulator with the credentials the target carries, so the
  commands work against ``provisioner local-aws`` as against AWS; ambient AWS profiles are not read then.
- Every answer is checked before botocore reads it: a web page or a body of the wrong kind (from a proxy, a
  captive portal, a wrong endpoint) becomes ``UnexpectedAnswer``, one of ``api_errors()``, which ``explain``
  puts in one line. botocore would otherwise raise parser errors, report "Unknown" errors, or hand back
  the page as an error message or even as a successful response.
- One boto3 session per ``client_factory(target)``: credentials are resolved once per command run, so a
  profile that assumes a role or asks for an MFA code does it once, not once per client.

boto3 is imported on first use: ``provisioner --help`` and config errors stay fast.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from provisioner.configuration.target import TARGET_ENV, Target

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
MAX_ATTEMPTS = 2
"""Attempts per call, the first included (botocore's "standard" retry mode)."""

Credentials = Mapping[str, str]
"""As STS returns them: ``AccessKeyId``, ``SecretAccessKey`` and, when temporary, ``SessionToken``."""

CREDENTIALS_FIX = (
    "set AWS_PROFILE to a profile for the DevOps account (run `aws sso login --profile <profile>` first if it "
    "uses IAM Identity Center), or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)
UNEXPECTED_ANSWER_FIX = (
    "something answers in AWS's place (a proxy, a captive portal, a wrong endpoint): check the network and HTTPS_PROXY; "
    f"with {TARGET_ENV}=local, check that the emulator runs (`provisioner local-aws status`) and implements the call"
)
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
REJECTED_CODES = frozenset({"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthFailure"})
ACCESS_DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "403", "Forbidden"})


class ClientFactory(Protocol):
    def __call__(self, service: str, region: str, credentials: Credentials | None = None) -> Any: ...


def client_factory(target: Target) -> ClientFactory:
    """A ``client(service, region, credentials=None)`` for ``target`` whose clients share one boto3 session.

    ``credentials`` (for example from ``sts.assume_role``) replace the session's own for that client.
    """
    emulator = target.local_aws
    session = None

    def client(service: str, region: str, credentials: Credentials | None = None) -> Any:
        nonlocal session
        import boto3
        import botocore.session
        from botocore.config import Config

        if session is None:
            # The emulator takes the target's credentials only: AWS_PROFILE of the shell is not even read then.
            ignored = {"profile": (None, None, None, None)} if emulator is not None else None
            session = boto3.session.Session(botocore_session=botocore.session.Session(session_vars=ignored))
        options: dict[str, Any] = {
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "read_timeout": READ_TIMEOUT_SECONDS,
            "retries": {"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        }
        if emulator is not None:
            options["s3"] = {"addressing_style": "path"}  # the emulator has no per-bucket host names
        own = {"AccessKeyId": emulator.access_key, "SecretAccessKey": emulator.secret_key} if emulator is not None else None
        keys = credentials or own
        explicit = (
            {
                "aws_access_key_id": keys["AccessKeyId"],
                "aws_secret_access_key": keys["SecretAccessKey"],
                "aws_session_token": keys.get("SessionToken"),
            }
            if keys
            else {}
        )
        made = session.client(service, region_name=region, endpoint_url=target.endpoint, config=Config(**options), **explicit)
        made.meta.events.register("before-parse", functools.partial(_refuse_unexpected_answer, endpoint=made.meta.endpoint_url))
        return made

    return client


class UnexpectedAnswer(Exception):
    """Something other than AWS answered: ``str(error)`` says who answered which call, and with what."""


JSON_PROTOCOLS = frozenset({"json", "rest-json"})
XML_PROTOCOLS = frozenset({"query", "rest-xml", "ec2"})
HTML_STARTS = (b"<!doctype html", b"<html")


def _refuse_unexpected_answer(operation_model: Any, response_dict: Mapping[str, Any], endpoint: str, **_: Any) -> None:
    """botocore's ``before-parse`` hook: raise ``UnexpectedAnswer`` unless the body is of the kind AWS sends.

    Streamed bodies (S3 objects) are the caller's data, never checked.
    """
    if operation_model.has_streaming_output:
        return
    body = response_dict.get("body") or b""
    start = body.lstrip()[:20].lower()
    if not start:
        return
    protocol = operation_model.service_model.resolved_protocol  # the one this client speaks, of those the service offers
    if start.startswith(HTML_STARTS):
        kind = "a web page"
    elif protocol in JSON_PROTOCOLS and not _is_json(body):
        kind = "text that is not JSON"
    elif protocol in XML_PROTOCOLS and not start.startswith(b"<"):
        kind = "text that is not XML"
    else:
        return
    status = response_dict.get("status_code", "?")
    raise UnexpectedAnswer(f"{endpoint} answered {operation_model.name} with {kind} (HTTP {status}): not an AWS answer")


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def client(target: Target, service: str, region: str, credentials: Credentials | None = None) -> Any:
    """One client; for several in one run, call one ``client_factory(target)`` instead."""
    return client_factory(target)(service, region, credentials)


# --- what an error means ------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An AWS error in words: what happened (``message``) and, when known, what to do (``fix``)."""

    message: str
    fix: str = ""

    def in_one_line(self) -> str:
        """What happened, then what to do where it is known: the tail of a one-line error."""
        return f"{self.message}; {self.fix}" if self.fix else self.message


def api_errors() -> tuple[type[Exception], ...]:
    """What a boto3 call raises for AWS's and the network's reasons (``except aws.api_errors() as error``)."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError

    return (BotoCoreError, ClientError, ResponseParserError, UnexpectedAnswer)


def error_code(error: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``"AccessDenied"``, ``"404"``...), else ``""``."""
    response = getattr(error, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code", ""))


def error_message(error: BaseException) -> str:
    response = getattr(error, "response", None)
    message = response.get("Error", {}).get("Message", "") if isinstance(response, dict) else ""
    return _one_line(message or str(error))


def explain(error: BaseException) -> Problem:
    """Credentials, network and unknown errors; callers handle the codes their call expects first."""
    from botocore import exceptions as boto
    from botocore.parsers import ResponseParserError

    code = error_code(error)
    if isinstance(error, boto.NoCredentialsError):
        return Problem("no AWS credentials found", CREDENTIALS_FIX)
    if isinstance(error, boto.PartialCredentialsError):
        return Problem(f"incomplete AWS credentials: {_one_line(str(error))}", CREDENTIALS_FIX)
    if isinstance(error, (boto.SSOError, boto.TokenRetrievalError)):
        return Problem("the IAM Identity Center (SSO) session has expired or is missing", "run `aws sso login --profile <profile>`")
    if isinstance(error, boto.ProfileNotFound):
        return Problem(_one_line(str(error)), "set AWS_PROFILE to a profile in ~/.aws/config (`aws configure list-profiles`)")
    if isinstance(error, (boto.CredentialRetrievalError, boto.InvalidConfigError)):
        return Problem(_one_line(str(error)), CREDENTIALS_FIX)
    if isinstance(error, (boto.ConnectionError, boto.HTTPClientError)):
        return Problem(
            _one_line(str(error)),
            f"check the network, HTTPS_PROXY and the region; with {TARGET_ENV}=local, check that the emulator runs "
            "(`provisioner local-aws start`)",
        )
    if code in EXPIRED_CODES:
        return Problem(f"the AWS credentials have expired ({code})", "refresh them (`aws sso login --profile <profile>`, or new keys)")
    if code in REJECTED_CODES:
        return Problem(f"AWS rejected the credentials ({code}: {error_message(error)})", CREDENTIALS_FIX)
    if isinstance(error, UnexpectedAnswer):
        return Problem(str(error), UNEXPECTED_ANSWER_FIX)
    if isinstance(error, ResponseParserError):  # XML, but not AWS's
        return Problem(f"an answer that is not an AWS answer ({_one_line(str(error).splitlines()[0])})", UNEXPECTED_ANSWER_FIX)
    if code:
        return Problem(f"{code}: {error_message(error)}")
    return Problem(_one_line(str(error)) or type(error).__name__)


def _one_line(text: str) -> str:
    return " ".join(text.split())
