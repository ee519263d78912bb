"""``provisioner doctor``: each check against moto (Stubber where moto cannot answer), and the CLI's exit codes."""

from __future__ import annotations

import io
import json
import socket
import time

import boto3
import pytest
from botocore.stub import Stubber

from provisioner import cli
from provisioner.commands.doctor import diagnosis_text
from provisioner.configuration.settings import ProjectConfig
from provisioner.configuration.target import Target
from provisioner.operations import aws, health
from provisioner.operations.aws import CREDENTIALS_FIX
from provisioner.operations.health import FAIL, PASS, SKIP, Diagnosis, trusted_role
from tests.aws_fixtures import (  # noqa: F401 (fixtures)
    DEVOPS,
    MOTO_ACCOUNT,
    OPERATOR_ROLE_ARN,
    REGION,
    act_as,
    aws_env,
    create_pipeline,
    create_state_bucket,
    healthy,
    make_project,
    moved_to_account,
    moto_aws,
    moto_server,
    project,
    put_bootstrap_state,
    run_cli,
)

APPLY_BUILD_DEV = f"arn:aws:iam::{MOTO_ACCOUNT}:role/acme-apply-build-dev"
APPLY_BUILD_PROD = f"arn:aws:iam::{MOTO_ACCOUNT}:role/acme-apply-build-prod"
DEV_ROLE = "arn:aws:iam::210987654321:role/acme-deploy-dev"
PROD_ROLE = "arn:aws:iam::210987654322:role/acme-deploy-prod"
CHECKS = [
    "credentials", "state bucket", "state versioning", "state encryption", "pipeline",
    "stack bootstrap-dev", "deployment role dev", "stack bootstrap-prod", "deployment role prod",
]  # fmt: skip


def run_doctor(project: ProjectConfig, clients: aws.ClientFactory | None = None) -> Diagnosis:
    return health.diagnose(project, clients or aws.client_factory(Target()))


def by_check(diagnosis: Diagnosis) -> dict[str, health.Check]:
    return {check.check: check for check in diagnosis.checks}


def statuses(diagnosis: Diagnosis) -> dict[str, str]:
    return {check.check: check.status for check in diagnosis.checks}


# --- all is well ---------------------------------------------------------------------------------


def test_an_apply_build_role_assumes_its_own_environments_deployment_role_only(moto_aws, project, monkeypatch):
    healthy(project)
    act_as(monkeypatch, APPLY_BUILD_DEV)
    diagnosis = run_doctor(project)
    assert [check.check for check in diagnosis.checks] == CHECKS
    assert statuses(diagnosis) == {**{check: PASS for check in CHECKS}, "deployment role prod": SKIP}
    assert diagnosis.ok
    checks = by_check(diagnosis)
    assert checks["credentials"].result == f"arn:aws:sts::{MOTO_ACCOUNT}:assumed-role/acme-apply-build-dev/tests"
    assert checks["deployment role dev"].result == "assumed as acme-apply-build-dev"
    assert checks["deployment role prod"].fix == (
        "to test it, run doctor as acme-apply-build-prod or a role in deployment_role.extra_trusted_role_arns of prod"
    )
    assert checks["pipeline"].result == "V2, version 1, 2 stages"
    assert checks["state encryption"].result.startswith(f"aws:kms with arn:aws:kms:{REGION}:{MOTO_ACCOUNT}:key/")


def test_every_deployment_role_passes_for_the_apply_build_it_trusts(moto_aws, project, monkeypatch):
    healthy(project)
    act_as(monkeypatch, APPLY_BUILD_PROD)
    checks = by_check(run_doctor(project))
    assert (checks["deployment role prod"].status, checks["deployment role prod"].result) == (PASS, "assumed as acme-apply-build-prod with the external id")
    assert checks["deployment role prod"].target == PROD_ROLE
    assert checks["deployment role dev"].status == SKIP


def test_an_operator_gets_the_bootstrap_checks_and_skips_assumes_that_aws_would_refuse(moto_aws, project):
    healthy(project)
    diagnosis = run_doctor(project)  # moto's default caller: arn:aws:sts::123456789012:user/moto
    assert statuses(diagnosis) == {
        **{check: PASS for check in CHECKS},
        "deployment role dev": SKIP,
        "deployment role prod": SKIP,
    }
    assert diagnosis.ok, "a skipped check must not fail the run"
    skipped = by_check(diagnosis)["deployment role prod"]
    assert skipped.result == "not tried: it does not trust the caller (AWS would refuse)"
    assert skipped.fix == "to test it, run doctor as acme-apply-build-prod or a role in deployment_role.extra_trusted_role_arns of prod"
    assert by_check(diagnosis)["stack bootstrap-dev"].result == "deployed; its state names the deployment role"


def test_a_role_in_extra_trusted_role_arns_assumes_only_the_environments_that_trust_it(moto_aws, project, monkeypatch):
    healthy(project)
    act_as(monkeypatch, OPERATOR_ROLE_ARN)
    diagnosis = run_doctor(project)
    assert statuses(diagnosis)["deployment role prod"] == PASS
    assert by_check(diagnosis)["deployment role prod"].result == "assumed as platform-operator with the external id"
    assert statuses(diagnosis)["deployment role dev"] == SKIP


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("arn:aws:sts::123456789012:assumed-role/acme-apply-build-dev/1a2b", APPLY_BUILD_DEV),
        # an assumed-role ARN drops the role's path: the name and account decide
        ("arn:aws:sts::123456789012:assumed-role/operator/alice", "arn:aws:iam::123456789012:role/team/operator"),
        ("arn:aws:sts::999999999999:assumed-role/acme-apply-build-dev/1a2b", None),
        ("arn:aws:sts::123456789012:assumed-role/acme-apply-build-dev-old/1a2b", None),
        ("arn:aws:iam::123456789012:user/acme-apply-build-dev", None),
        ("arn:aws:iam::123456789012:root", None),
    ],
)
def test_the_caller_is_trusted_only_as_one_of_the_trusted_roles(caller, expected):
    trusted = (APPLY_BUILD_DEV, "arn:aws:iam::123456789012:role/team/operator")
    assert trusted_role(caller, trusted) == expected


# --- credentials -------------------------------------------------------------------------------


def test_credentials_for_another_account_fail_and_skip_the_rest(moto_aws, tmp_path):
    _, other = make_project(tmp_path, *moved_to_account("111111111111"))
    healthy(other)
    diagnosis = run_doctor(other)
    credentials = by_check(diagnosis)["credentials"]
    assert credentials.status == FAIL
    assert credentials.result == f"the caller arn:aws:sts::{MOTO_ACCOUNT}:user/moto is in account {MOTO_ACCOUNT}"
    assert "use credentials for account 111111111111" in credentials.fix
    assert {check.status for check in diagnosis.checks[1:]} == {SKIP}
    assert not diagnosis.ok


def test_no_credentials_is_a_failed_check_with_a_fix(aws_env, project):
    diagnosis = run_doctor(project)  # no moto: botocore finds no credentials anywhere
    credentials = by_check(diagnosis)["credentials"]
    assert (credentials.status, credentials.result, credentials.fix) == (FAIL, "no AWS credentials found", CREDENTIALS_FIX)
    assert [check.status for check in diagnosis.checks] == [FAIL] + [SKIP] * (len(CHECKS) - 1)
    assert diagnosis.checks[-1].result == "not run: the credentials check failed"


def test_expired_credentials_are_a_failed_check_with_a_fix(project):
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", "ExpiredToken", "The security token included in the request is expired", 403)
        diagnosis = run_doctor(project, lambda service, region, credentials=None: sts)
    credentials = by_check(diagnosis)["credentials"]
    assert credentials.status == FAIL
    assert credentials.result == "the AWS credentials have expired (ExpiredToken)"
    assert "aws sso login" in credentials.fix


def test_an_unreachable_endpoint_fails_fast_instead_of_hanging(aws_env, project):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: connections are refused
    started = time.monotonic()
    diagnosis = run_doctor(project, aws.client_factory(Target.local(f"http://127.0.0.1:{port}")))
    assert time.monotonic() - started < 10
    credentials = by_check(diagnosis)["credentials"]
    assert credentials.status == FAIL
    assert credentials.result == f'Could not connect to the endpoint URL: "http://127.0.0.1:{port}/"'
    assert "provisioner local-aws start" in credentials.fix


# --- state bucket ------------------------------------------------------------------------------


def test_a_missing_state_bucket_fails_and_skips_what_lives_in_it(moto_aws, project):
    create_pipeline(project)
    diagnosis = run_doctor(project)
    bucket = by_check(diagnosis)["state bucket"]
    assert (bucket.status, bucket.result) == (FAIL, "does not exist")
    assert bucket.fix.startswith("create it with `provisioner bootstrap-state`")
    for check in ("state versioning", "state encryption", "stack bootstrap-dev", "stack bootstrap-prod"):
        assert statuses(diagnosis)[check] == SKIP, check
    assert statuses(diagnosis)["pipeline"] == PASS
    assert not diagnosis.ok


def test_a_state_bucket_without_versioning_fails(moto_aws, project):
    create_state_bucket(project, versioning=False)
    diagnosis = run_doctor(project)
    versioning = by_check(diagnosis)["state versioning"]
    assert versioning.status == FAIL
    assert versioning.result == "never enabled: an overwritten or deleted state cannot be restored"
    assert f"aws s3api put-bucket-versioning --bucket {project.naming.state_bucket}" in versioning.fix
    assert statuses(diagnosis)["state encryption"] == PASS


@pytest.mark.parametrize(
    ("encryption", "result"),
    [(None, "no default encryption"), ("AES256", "AES256 (S3-managed keys), not SSE-KMS")],
)
def test_a_state_bucket_without_sse_kms_fails(moto_aws, project, encryption, result):
    create_state_bucket(project, encryption=encryption)
    check = by_check(run_doctor(project))["state encryption"]
    assert (check.status, check.result) == (FAIL, result)
    assert check.fix == "deploy the devops stack: it sets SSE-KMS with the state key (alias/acme-tfstate)"


# --- pipeline ----------------------------------------------------------------------------------


def test_a_missing_pipeline_fails_with_deploy_the_devops_stack(moto_aws, project):
    create_state_bucket(project)
    check = by_check(run_doctor(project))["pipeline"]
    assert (check.status, check.target) == (FAIL, "acme-delivery")
    assert check.result == f"does not exist in account {MOTO_ACCOUNT} ({REGION})"
    assert check.fix == "deploy the devops stack (it creates the pipeline)"


@pytest.mark.parametrize("pipeline_type", ["V1", None], ids=["V1", "no-type-means-V1"])
def test_a_v1_pipeline_fails(moto_aws, project, pipeline_type):
    create_pipeline(project, pipeline_type)
    check = by_check(run_doctor(project))["pipeline"]
    assert check.status == FAIL
    assert check.result.startswith("V1, version 1, 2 stages")
    assert "V2" in check.fix


# --- deployment roles --------------------------------------------------------------------------


def test_an_environment_never_bootstrapped_fails_with_who_must_deploy_it(moto_aws, project):
    create_state_bucket(project)
    put_bootstrap_state(project, "prod", PROD_ROLE)
    checks = by_check(run_doctor(project))
    assert (checks["stack bootstrap-dev"].status, checks["stack bootstrap-dev"].result) == (FAIL, "no state: never deployed")
    assert checks["stack bootstrap-dev"].fix.startswith("an admin of account 210987654321 deploys the bootstrap-dev stack")
    assert checks["stack bootstrap-dev"].target == "stacks/bootstrap-dev/terraform.tfstate"
    assert checks["stack bootstrap-prod"].status == PASS


@pytest.mark.parametrize(
    ("named", "result"),
    [
        ("arn:aws:iam::210987654321:role/old-deployer", f"the state names arn:aws:iam::210987654321:role/old-deployer, environment.hcl names {DEV_ROLE}"),
        (None, "the state has no deployment_role_arn output (destroyed, or never applied)"),
    ],
)
def test_a_bootstrap_state_naming_another_role_or_none_fails(moto_aws, project, named, result):
    create_state_bucket(project)
    put_bootstrap_state(project, "dev", named)
    check = by_check(run_doctor(project))["stack bootstrap-dev"]
    assert (check.status, check.result) == (FAIL, result)


def test_a_trusted_caller_refused_by_a_role_fails_and_the_external_id_is_sent(moto_aws, project):
    """moto never refuses an assume: the refusal, and the exact AssumeRole parameters, come from a Stubber."""
    healthy(project)
    sts = boto3.client("sts", region_name=REGION)
    with Stubber(sts) as stub:
        stub.add_response(
            "get_caller_identity",
            {"UserId": "AROAEXAMPLE:build", "Account": MOTO_ACCOUNT, "Arn": f"arn:aws:sts::{MOTO_ACCOUNT}:assumed-role/acme-apply-build-prod/build"},
        )
        stub.add_client_error(
            "assume_role", "AccessDenied", "User is not authorized to perform: sts:AssumeRole", 403,
            expected_params={"RoleArn": PROD_ROLE, "RoleSessionName": "provisioner-doctor", "DurationSeconds": 900, "ExternalId": "acme-prod"},
        )  # fmt: skip
        real = aws.client_factory(Target())
        diagnosis = run_doctor(project, lambda service, region, credentials=None: sts if service == "sts" else real(service, region, credentials))
        stub.assert_no_pending_responses()
    prod = by_check(diagnosis)["deployment role prod"]
    assert prod.status == FAIL
    assert prod.result == "acme-apply-build-prod may not assume it with the external id (User is not authorized to perform: sts:AssumeRole)"
    assert prod.fix == (
        "check that bootstrap-prod is deployed in account 210987654322 (an admin deploys it), "
        "and that it was deployed with external_id 'acme-prod'"
    )
    assert statuses(diagnosis)["deployment role dev"] == SKIP, "never an assume the dev role's trust refuses"
    assert not diagnosis.ok


# --- the command -------------------------------------------------------------------------------


def test_doctor_checks_the_local_emulator_when_the_switch_is_on(moto_server, tmp_path, capsys):
    folder, project = make_project(tmp_path)
    healthy(project, client=lambda service: aws.client(Target.local(moto_server), service, REGION))
    assert cli.main(["doctor", "--environments", str(folder), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {check["check"]: check["status"] for check in report["checks"]} == {
        **{check: PASS for check in CHECKS},
        "deployment role dev": SKIP,
        "deployment role prod": SKIP,
    }
    assert report["caller"] == f"arn:aws:sts::{MOTO_ACCOUNT}:user/moto"


def test_doctor_prints_the_table_and_exits_0_when_nothing_fails(moto_aws, tmp_path, capsys):
    folder, project = make_project(tmp_path)
    healthy(project)
    assert cli.main(["doctor", "--environments", str(folder)]) == 0
    text = capsys.readouterr().out
    out = text.splitlines()
    assert out[0] == f"provisioner doctor: DevOps account {MOTO_ACCOUNT}, region {REGION}"
    assert out[2].split() == ["check", "target", "result"]
    assert [row[0] for row in table_rows(text)] == ["PASS"] * 5 + ["PASS", "SKIP", "PASS", "SKIP"]
    assert out[-1] == "7 passed, 0 failed, 2 skipped: all checks that could run passed"


def test_doctor_json_lists_every_check_and_exits_1_on_a_failure(moto_aws, tmp_path, capsys):
    folder, project = make_project(tmp_path)
    create_state_bucket(project, versioning=False)
    assert cli.main(["doctor", "--environments", str(folder), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert (report["ok"], report["account_id"], report["caller"]) == (False, MOTO_ACCOUNT, f"arn:aws:sts::{MOTO_ACCOUNT}:user/moto")
    failed = [check["check"] for check in report["checks"] if check["status"] == "fail"]
    assert failed == ["state versioning", "pipeline", "stack bootstrap-dev", "stack bootstrap-prod"]
    assert report["failed"] == 4
    assert all(check["fix"] for check in report["checks"] if check["status"] == "fail")


def test_doctor_without_credentials_exits_1_with_the_table_and_no_traceback(tmp_path):
    folder, _ = make_project(tmp_path)
    result = run_cli("doctor", "--environments", str(folder))
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    credentials = table_rows(result.stdout)[0]
    assert credentials[:2] == ["FAIL", "credentials"]
    assert credentials[3] == "no AWS credentials found" and "AWS_PROFILE" in credentials[4]


def test_doctor_with_a_config_error_exits_2_on_one_line(tmp_path):
    folder, _ = make_project(tmp_path)
    (folder / "devops.hcl").write_text(DEVOPS.replace(MOTO_ACCOUNT, "1234"))
    result = run_cli("doctor", "--environments", str(folder))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == 'provisioner: environments/devops.hcl:1: account_id "1234" must be 12 digits\n'


def test_doctor_rejects_an_unknown_region_on_one_line(aws_env, tmp_path, capsys):
    folder, _ = make_project(tmp_path)
    assert cli.main(["doctor", "--environments", str(folder), "--region", "mars-1"]) == 2
    assert capsys.readouterr().err == "provisioner: --region 'mars-1': not an AWS region code\n"


def test_the_text_table_puts_the_fix_on_the_failing_row(moto_aws, project):
    create_state_bucket(project)
    create_pipeline(project, "V1")
    text = diagnosis_text(run_doctor(project), io.StringIO())
    pipeline_row = next(row for row in table_rows(text) if row[:2] == ["FAIL", "pipeline"])
    assert pipeline_row[4] == "deploy the devops stack: it declares a V2 pipeline (terraform updates the type in place)"
    assert "fix failures from the top" in text.splitlines()[-1]


def table_rows(text: str) -> list[list[str]]:
    """The report's rows as [status, check, target, result, fix], each cell whole again (a long cell goes on
    over the next lines, in its column; a fix is on the lines below its row)."""
    lines = text.splitlines()
    header = lines.index(next(line for line in lines if line.split() == ["check", "target", "result"]))
    starts = [0, *(lines[header].index(name) for name in ("check", "target", "result"))]
    rows: list[list[list[str]]] = []
    in_fix = False
    for line in lines[header + 1 :]:
        if not line:
            break
        if line.strip().startswith("fix: ") or (in_fix and line.startswith(" ")):
            in_fix = True
            rows[-1][4].append(line.strip().removeprefix("fix: "))
            continue
        in_fix = False
        cells = [line[start:end].strip() for start, end in zip(starts, [*starts[1:], None])]
        if cells[0]:
            rows.append([[] for _ in range(5)])
        for parts, cell in zip(rows[-1], cells):
            if cell:
                parts.append(cell)
    return [[" ".join(parts) for parts in row] for row in rows]
