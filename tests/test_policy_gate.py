"""The policy gate: ``provisioner.policy_gate.gate`` and ``provisioner scan``.

The unit tests read checkov reports captured from real runs of the pinned checkov over the small
stacks in ``tests/policy_fixtures/stacks/<case>/``. After changing ``policy/checkov-requirements.txt``,
recapture them with:

    cd tests/policy_fixtures/stacks/<case> && CKV_SKIP_PACKAGE_UPDATE_CHECK=true ../../../../.venv-checkov/bin/checkov \\
        -d . --framework terraform_json --skip-download -o json --compact > ../../checkov/<case>.json

A stand-in checkov (a script that prints a captured report and exits as checkov did) runs the whole
gate in milliseconds. The end-to-end tests run the real checkov from ``.venv-checkov``, built by the
make target ``make scan`` uses: one run over the repository's synthesized stacks, one over
deliberately broken copies of them.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from provisioner import cli
from provisioner.errors import UserError
from provisioner.paths import REPO_ROOT
from provisioner.policy_gate import gate
from provisioner.policy_gate.gate import FAILED, PASSED, SKIPPED, CheckResult, Skip

FIXTURES = Path(__file__).parent / "policy_fixtures"
ROTATION_TITLE = "Ensure rotation for customer created CMKs is enabled"


def captured(case: str) -> str:
    return (FIXTURES / "checkov" / f"{case}.json").read_text()


def fixture_stacks(case: str) -> Path:
    return FIXTURES / "stacks" / case


def parsed_stacks(case: str) -> dict[str, dict]:
    stacks = {}
    for name, path in gate.find_stacks(fixture_stacks(case)).items():
        try:
            stacks[name] = json.loads(path.read_text())
        except json.JSONDecodeError:
            pass
    return stacks


def stand_in_checkov(tmp_path: Path, stdout: str, exit_code: int, stderr: str = "") -> Path:
    (tmp_path / "stdout.json").write_text(stdout)
    (tmp_path / "stderr.txt").write_text(stderr)
    script = tmp_path / "checkov"
    script.write_text(f'#!/bin/sh\ncat "{tmp_path}/stdout.json"\ncat "{tmp_path}/stderr.txt" >&2\nexit {exit_code}\n')
    script.chmod(0o755)
    return script


def run_gate(tmp_path: Path, case: str, exit_code: int, stdout: str | None = None, **skips: dict) -> gate.GateReport:
    checkov = stand_in_checkov(tmp_path, captured(case) if stdout is None else stdout, exit_code)
    skips_file = tmp_path / "skips.yaml"
    skips_file.write_text(json.dumps(skips))
    return gate.scan(fixture_stacks(case), checkov, skips_file, tmp_path / "reports")


# -- checkov's JSON ----------------------------------------------------------------------------------
def test_failed_check_fails_the_gate(tmp_path: Path) -> None:
    report = run_gate(tmp_path, "failed", 1)
    assert not report.ok
    assert [(r.stack, r.address, r.check_id, r.title) for r in report.with_status(FAILED)] == [
        ("app", "aws_kms_key.key", "CKV_AWS_7", ROTATION_TITLE),
        ("app", "aws_kms_key.key", "PROV_5", "KMS key rotates automatically"),
    ]
    assert report.problems == []
    assert gate.finding_lines(report) == [
        f"FAILED  app  aws_kms_key.key  CKV_AWS_7  {ROTATION_TITLE}",
        "FAILED  app  aws_kms_key.key  PROV_5  KMS key rotates automatically: enable_key_rotation is not true",
    ]


def test_parsing_error_fails_the_gate_although_checkov_exits_0(tmp_path: Path) -> None:
    report = run_gate(tmp_path, "parsing-error", 0)
    assert not report.ok
    assert report.results == []
    messages = [p.message for p in report.problems]
    assert any(m.startswith("checkov could not parse ") and m.endswith("parsing-error/app/cdk.tf.json") for m in messages), messages
    assert any("not valid JSON" in m and "own rules not run" in m for m in messages), messages
    assert "checkov ran no checks on 1 stack" in messages


def test_zero_checks_fail_the_gate_although_checkov_exits_0(tmp_path: Path) -> None:
    assert json.loads(captured("no-checks")).keys() >= {"passed", "failed", "parsing_errors"}  # a bare summary
    report = run_gate(tmp_path, "no-checks", 0)
    assert not report.ok
    assert [(p.stack, p.message) for p in report.problems] == [(None, "checkov ran no checks on 1 stack")]
    assert gate.finding_lines(report) == ["ERROR   -  checkov ran no checks on 1 stack"]


def test_clean_report_passes(tmp_path: Path) -> None:
    report = run_gate(tmp_path, "clean", 0)
    assert report.ok
    assert gate.finding_lines(report) == []
    assert {(r.check_id, r.status) for r in report.results if r.source == gate.CHECKOV_SOURCE} == {
        ("CKV_AWS_7", PASSED), ("CKV_AWS_33", PASSED), ("CKV_AWS_227", PASSED), ("CKV2_AWS_64", PASSED), ("CKV_AWS_41", PASSED),
    }  # fmt: skip
    assert {r.check_id for r in report.results if r.source == gate.OWN_SOURCE} == {"PROV_2", "PROV_5"}
    assert gate.summary_lines(report, tmp_path / "x.xml")[-1] == "policy gate passed"


def test_list_of_reports_is_read_like_one_report() -> None:
    stacks = parsed_stacks("failed")
    one, _ = gate.read_checkov_output(captured("failed"), stacks)
    several, _ = gate.read_checkov_output(json.dumps([json.loads(captured("failed"))]), stacks)
    assert one == several and len(one) == 5


def test_a_stack_with_resources_but_no_checkov_checks_fails() -> None:
    stacks = {**parsed_stacks("clean"), "other": {"resource": {"terraform_data": {"marker": {"input": "x"}}}}}
    results, problems = gate.read_checkov_output(captured("clean"), stacks)
    assert problems == []
    assert gate.coverage_problems(stacks, results) == [
        gate.ScanProblem("other", "checkov ran no checks on other, which declares 1 resource")
    ]


def test_checkov_crash_fails_the_gate(tmp_path: Path) -> None:
    checkov = stand_in_checkov(tmp_path, "", 2, stderr="Traceback (most recent call last):\nKeyError: 'x'\n")
    report = gate.scan(fixture_stacks("clean"), checkov, gate.SKIPS_FILE, tmp_path / "reports")
    assert not report.ok
    messages = [p.message for p in report.problems]
    assert messages[0].startswith("checkov printed no JSON report")
    assert "checkov exited 2: Traceback (most recent call last): | KeyError: 'x'" in messages


def test_suppression_inside_a_stack_is_refused() -> None:
    output = json.loads(captured("failed"))
    check = output["results"]["failed_checks"].pop()
    output["results"]["skipped_checks"].append({**check, "check_result": {"result": "SKIPPED"}, "suppress_comment": "trust me"})
    results, problems = gate.read_checkov_output(json.dumps(output), parsed_stacks("failed"))
    assert all(r.status == PASSED for r in results)
    assert [p.message for p in problems] == [
        "aws_kms_key.key CKV_AWS_7 is suppressed inside the stack (trust me); waive checks in policy/skips.yaml instead"
    ]


# -- skips -----------------------------------------------------------------------------------------
def test_skip_waives_only_the_resources_it_names(tmp_path: Path) -> None:
    report = run_gate(
        tmp_path, "failed", 1, CKV_AWS_7={"reason": "fixture key is a test double", "resources": ["app/aws_kms_key.key"]},
        PROV_5={"reason": "scoped elsewhere", "resources": ["other/*"]},
    )  # fmt: skip
    assert [(r.check_id, r.status, r.detail) for r in report.results if r.check_id in ("CKV_AWS_7", "PROV_5")] == [
        ("CKV_AWS_7", SKIPPED, "fixture key is a test double"),
        ("PROV_5", FAILED, "enable_key_rotation is not true"),
    ]
    assert report.unused_skips == ["PROV_5"]
    lines = gate.summary_lines(report, tmp_path / "r.xml", tmp_path / "skips.yaml")
    assert "skipped CKV_AWS_7 on 1 resource (skips.yaml)" in lines
    assert "note: skips.yaml: PROV_5 waived nothing in this run" in lines


def test_skip_never_turns_a_pass_into_a_skip() -> None:
    passed = CheckResult("app", "aws_kms_key.key", "CKV_AWS_7", "t", PASSED)
    assert gate.apply_skips([passed], [Skip("CKV_AWS_7", "why")]) == ([passed], ["CKV_AWS_7"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("CKV_AWS_18:\n  title: access logs\n", "CKV_AWS_18: a skip needs a reason that says why the check does not apply"),
        ("CKV_AWS_18:\n  reason: '   '\n", "CKV_AWS_18: a skip needs a reason"),
        ("CKV_AWS_18:\n  reason: x\n  resource: [a/b]\n", "CKV_AWS_18: unknown field resource (allowed: title, reason, resources)"),
        ("CKV_AWS_18:\n  reason: x\n  resources: aws_s3_bucket.b\n", 'CKV_AWS_18: resources must be a list of "<stack>/<address>" patterns'),
        ("CKV_AWS_18: skip it\n", "CKV_AWS_18: must be a mapping with a reason"),
        ("CKV_AWS_18:\n  reason: [unclosed\n", "skips.yaml:3:1: not valid YAML"),
    ],
    ids=["no-reason", "blank-reason", "unknown-field", "resources-not-a-list", "not-a-mapping", "bad-yaml"],
)
def test_bad_skips_file_is_a_one_line_user_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "skips.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as raised:
        gate.load_skips(path)
    assert str(raised.value).startswith(f"{path}") and message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_every_repository_skip_has_a_reason_and_is_listed_in_the_policy_readme() -> None:
    skips = gate.load_skips(gate.SKIPS_FILE)
    assert skips, "policy/skips.yaml is empty"
    readme = (REPO_ROOT / "policy" / "README.md").read_text()
    for skip in skips:
        assert len(skip.reason) > 80, f"{skip.check_id}: write why the check does not apply"
        assert f"`{skip.check_id}`" in readme, f"{skip.check_id} is missing from policy/README.md"


# -- report and command line ---------------------------------------------------------------------------
def test_junit_report_has_every_result(tmp_path: Path) -> None:
    report = run_gate(tmp_path, "failed", 1, CKV_AWS_41={"reason": "not failing, so never used"})
    root = ET.parse(tmp_path / "reports" / gate.JUNIT_REPORT).getroot()
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("testsuites", "7", "2", "0", "0")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "app" and suite.get("failures") == "2"
    failures = {case.get("name"): case.find("failure") for case in suite if case.find("failure") is not None}
    assert sorted(failures) == ["CKV_AWS_7 aws_kms_key.key", "PROV_5 aws_kms_key.key"]
    assert failures["CKV_AWS_7 aws_kms_key.key"].get("message") == ROTATION_TITLE
    assert failures["PROV_5 aws_kms_key.key"].text == "enable_key_rotation is not true"
    assert json.loads((tmp_path / "reports" / gate.CHECKOV_REPORT).read_text()) == json.loads(captured("failed"))
    assert len(report.results) == 7


def test_junit_report_shows_scan_problems_as_errors(tmp_path: Path) -> None:
    run_gate(tmp_path, "no-checks", 0)
    root = ET.parse(tmp_path / "reports" / gate.JUNIT_REPORT).getroot()
    assert root.get("errors") == "1"
    assert root.find("testsuite[@name='checkov']/testcase/error").get("message") == "checkov ran no checks on 1 stack"


def test_scan_command_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def scan(case: str, exit_code: int) -> int:
        checkov = stand_in_checkov(tmp_path, captured(case), exit_code)
        return cli.main(["scan", "--stacks", str(fixture_stacks(case)), "--checkov", str(checkov), "--reports", str(tmp_path / "r")])

    assert scan("clean", 0) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "policy gate passed"
    assert scan("failed", 1) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"FAILED  app  aws_kms_key.key  CKV_AWS_7  {ROTATION_TITLE}"
    assert re.match(r"policy gate: 1 stack, 7 checks \(5 checkov in [\d.]+ s, 2 own rules\): 2 failed, 0 skipped, 5 passed, 0 errors", out[-2])
    assert out[-1] == "policy gate FAILED"
    assert scan("parsing-error", 0) == 1
    assert scan("no-checks", 0) == 1


def test_scan_command_user_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "no-such-checkov"
    assert cli.main(["scan", "--stacks", str(fixture_stacks("clean")), "--checkov", str(missing), "--reports", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"provisioner: {missing} not found: run `make .venv-checkov/.installed` (make scan does)\n"
    assert cli.main(["scan", "--stacks", str(tmp_path / "nothing"), "--reports", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"provisioner: {tmp_path / 'nothing'}: no synthesized stacks (*/cdk.tf.json); run `make synth` first\n"


# -- end to end, with the real checkov ---------------------------------------------------------------------
def test_repository_stacks_pass_with_checks_actually_run(example_synth, checkov: Path, tmp_path: Path) -> None:
    report = gate.scan(example_synth.outdir / "stacks", checkov, gate.SKIPS_FILE, tmp_path)
    assert gate.finding_lines(report) == []
    assert report.ok
    assert report.stacks == sorted(example_synth.stacks)
    for stack in report.stacks:
        ran = [r for r in report.results if r.stack == stack and r.source == gate.CHECKOV_SOURCE]
        assert len(ran) >= 5, f"checkov ran {len(ran)} checks on {stack}"
    assert {r.check_id for r in report.results if r.source == gate.OWN_SOURCE} == {f"PROV_{n}" for n in range(1, 7)}
    assert report.unused_skips == [], "a skip that waives nothing on the product's own stacks should go"


def test_builds_in_a_vpc_with_a_drift_schedule_pass_the_gate(token_synth, checkov: Path, tmp_path: Path) -> None:
    """The VPC settings, their EC2 permissions and the drift pipeline raise no finding."""
    assert token_synth.project.devops.build.vpc and token_synth.project.devops.drift_schedule
    report = gate.scan(token_synth.outdir / "stacks", checkov, gate.SKIPS_FILE, tmp_path)
    assert gate.finding_lines(report) == []
    assert report.ok


def logical_id(stack: dict, resource_type: str, prefix: str) -> str:
    (found,) = [name for name in stack["resource"][resource_type] if name.startswith(prefix)]
    return found


def without_statement(policy: str, sid: str) -> str:
    document = json.loads(policy)
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]
    return json.dumps(document)


def broken_stacks(example_synth, root: Path) -> dict[str, str]:
    """Copies of real stacks with one protection removed each; returns what each own rule must flag."""
    stacks = {name: copy.deepcopy(example_synth.stacks[name]) for name in ("devops", "bootstrap-dev", "workload-dev", "workload-staging")}
    workload = stacks["workload-dev"]["resource"]
    key = logical_id(stacks["workload-dev"], "aws_kms_key", "data-key")
    workload["aws_kms_key"][key]["enable_key_rotation"] = False
    del workload["aws_s3_bucket_server_side_encryption_configuration"]
    bucket_policy = logical_id(stacks["workload-dev"], "aws_s3_bucket_policy", "data-bucket")
    workload["aws_s3_bucket_policy"][bucket_policy]["policy"] = without_statement(
        workload["aws_s3_bucket_policy"][bucket_policy]["policy"], "DenyInsecureTransport"
    )
    bootstrap = stacks["bootstrap-dev"]["resource"]
    role = logical_id(stacks["bootstrap-dev"], "aws_iam_role", "deployment-role")
    trust = json.loads(bootstrap["aws_iam_role"][role]["assume_role_policy"])
    del trust["Statement"][0]["Condition"]
    bootstrap["aws_iam_role"][role]["assume_role_policy"] = json.dumps(trust)
    devops = stacks["devops"]["resource"]
    project = logical_id(stacks["devops"], "aws_codebuild_project", "build-synth")
    del devops["aws_codebuild_project"][project]["encryption_key"]
    state_policy = logical_id(stacks["devops"], "aws_s3_bucket_policy", "state-bucket")
    del devops["aws_s3_bucket_policy"][state_policy]
    role_policy = logical_id(stacks["devops"], "aws_iam_role_policy", "synth-build-role")
    document = json.loads(devops["aws_iam_role_policy"][role_policy]["policy"])
    document["Statement"].append({"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"})
    devops["aws_iam_role_policy"][role_policy]["policy"] = json.dumps(document)
    for name, stack in stacks.items():
        (root / name).mkdir(parents=True)
        (root / name / "cdk.tf.json").write_text(json.dumps(stack, indent=2))
    return {
        "PROV_1": f"bootstrap-dev/aws_iam_role.{role}",
        "PROV_2": f"devops/aws_iam_role_policy.{role_policy}",
        "PROV_3": f"workload-dev/aws_s3_bucket_policy.{bucket_policy}",
        "PROV_4": f"devops/aws_s3_bucket.{logical_id(stacks['devops'], 'aws_s3_bucket', 'state-bucket')}",
        "PROV_5": f"workload-dev/aws_kms_key.{key}",
        "PROV_6": f"devops/aws_codebuild_project.{project}",
        "CKV_AWS_7": f"workload-dev/aws_kms_key.{key}",
        "CKV_AWS_145": f"workload-dev/aws_s3_bucket.{logical_id(stacks['workload-dev'], 'aws_s3_bucket', 'data-bucket')}",
        "CKV_AWS_147": f"devops/aws_codebuild_project.{project}",
        "CKV_AWS_63": f"devops/aws_iam_role_policy.{role_policy}",
    }


def test_broken_stacks_are_caught_by_checkov_and_every_own_rule(example_synth, checkov: Path, tmp_path: Path) -> None:
    expected = broken_stacks(example_synth, tmp_path / "stacks")
    report = gate.scan(tmp_path / "stacks", checkov, gate.SKIPS_FILE, tmp_path / "reports")
    assert not report.ok
    assert report.problems == []
    failed = {(r.check_id, f"{r.stack}/{r.address}") for r in report.with_status(FAILED)}
    for check_id, address in expected.items():
        assert (check_id, address) in failed, f"{check_id} did not flag {address}; failures: {sorted(failed)}"
    assert not [f for f in failed if f[1].startswith("workload-staging/")], "the untouched twin of workload-dev must stay clean"
    lines = gate.finding_lines(report)
    assert f"FAILED  workload-dev  {expected['CKV_AWS_7'].split('/')[1]}  CKV_AWS_7  {ROTATION_TITLE}" in lines
