"""``provisioner check`` as users run it: a subprocess, its exit code, stdout and stderr."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REPO_ENVIRONMENTS = REPO / "examples" / "environments"

DEVOPS = """\
account_id  = "111111111111"
region      = "eu-west-7"
name_prefix = "acme"

source {
  type       = "codestar"
  repository = "acme/infra"
}
"""


def check(environments: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "check", "--environments", str(environments), *options],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def bad_environments(root: Path) -> Path:
    """Problems in three files and one folder; two of the values hold line breaks."""
    environments = root / "environments"
    (environments / "dev").mkdir(parents=True)
    (environments / "staging").mkdir()
    (environments / "qa").mkdir()
    (environments / "devops.hcl").write_text(DEVOPS)
    (environments / "dev" / "environment.hcl").write_text(
        'account_id = "1234\\n5678"\nregion = "eu-west-1"\nrequires_approval = "true"\nbootstrap {\n  profile = "a"\n}\n'
    )
    (environments / "staging" / "environment.hcl").write_text(
        'account_id = "333333333333"\nregion = "eu-west-1"\ndeployment_role {\n  nmae = "x"\n}\ntags = {\n  team = <<EOT\na\nEOT\n}\n'
        'bootstrap {\n  profile = "a"\n}\n'
    )
    return environments


BAD_PROBLEMS = [
    'environments/devops.hcl:2: region "eu-west-7" is not an AWS region code (did you mean "eu-west-3"?)',
    'environments/dev/environment.hcl:1: account_id "1234\\n5678" must be 12 digits',
    'environments/dev/environment.hcl:3: requires_approval must be true or false (unquoted), got string "true"',
    "environments/qa: has no environment.hcl: every environment folder needs one",
    'environments/staging/environment.hcl:4: unknown field deployment_role.nmae (did you mean "name"?)',
    'environments/staging/environment.hcl:7: tags.team "<<EOT\\na\\nEOT": tag keys and values may hold only letters, digits, spaces and _.:/=+-@',
]


def test_check_accepts_the_repository_environments() -> None:
    result = check(REPO_ENVIRONMENTS)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].endswith(": DevOps account 111111111111 (eu-west-1), prefix acme-platform")
    assert lines[1:] == [
        "  wave 1 (order 1): dev -> account 222222222222 eu-west-1, step bucket-check (after-apply)",
        "  wave 2 (order 2): staging -> account 333333333333 eu-west-1, step bucket-check (after-apply)",
        "  wave 3 (order 3): prod -> account 444444444444 eu-west-1, approval required, step bucket-check (after-apply)",
        "  workload: examples.workloads.sample:define (examples/workloads/workload.hcl), inputs: data_noncurrent_version_days",
        "  pipeline: plans, approves and applies its own changes; drift run rate(1 day)",
    ]


def test_check_lists_parallel_environments_in_one_wave(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    environments.mkdir()
    (environments / "devops.hcl").write_text(DEVOPS.replace("eu-west-7", "eu-west-1"))
    for name, account, order in (("dev", "222222222222", 1), ("qa", "333333333333", 1), ("prod", "444444444444", 2)):
        (environments / name).mkdir()
        (environments / name / "environment.hcl").write_text(
            f'account_id = "{account}"\nregion = "us-east-1"\norder = {order}\nbootstrap {{\n  profile = "{name}-admin"\n}}\n'
        )
    result = check(environments)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:4] == [
        "  wave 1 (order 1): dev -> account 222222222222 us-east-1",
        "  wave 1 (order 1): qa -> account 333333333333 us-east-1",
        "  wave 2 (order 2): prod -> account 444444444444 us-east-1",
    ]


def test_check_reports_every_problem_on_stderr_and_exits_2(tmp_path: Path) -> None:
    result = check(bad_environments(tmp_path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("provisioner: ") for line in lines), lines
    assert sorted(line.removeprefix("provisioner: ") for line in lines) == sorted(BAD_PROBLEMS)


def test_check_format_json_gives_file_line_field_and_message_of_every_problem(tmp_path: Path) -> None:
    result = check(bad_environments(tmp_path), "--format", "json")
    assert result.returncode == 2
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["warnings"] == []
    assert {"file": "environments/dev/environment.hcl", "line": 1, "field": "account_id", "message": 'account_id "1234\\n5678" must be 12 digits'} in report["errors"]
    assert {"file": "environments/qa", "line": None, "field": None, "message": "has no environment.hcl: every environment folder needs one"} in report["errors"]
    assert sorted(
        f"{error['file']}{'' if error['line'] is None else ':' + str(error['line'])}: {error['message']}" for error in report["errors"]
    ) == sorted(BAD_PROBLEMS)


def test_check_format_json_of_a_valid_configuration() -> None:
    result = check(REPO_ENVIRONMENTS, "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["ok"], report["errors"], report["warnings"]) == (True, [], [])
    assert [env["name"] for env in report["environments"]] == ["dev", "staging", "prod"]


def test_check_warns_about_ignored_files_and_still_passes(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    shutil.copytree(REPO_ENVIRONMENTS, environments)
    (environments / "prod" / "environment.hcl.bak").write_text("account_id = 1\n")
    result = check(environments)
    assert result.returncode == 0
    assert result.stderr == (
        "provisioner: warning: environments/prod/environment.hcl.bak: ignored: an environment folder is read for environment.hcl only\n"
    )
    report = json.loads(check(environments, "--format", "json").stdout)
    assert report["ok"] is True
    assert report["warnings"] == [
        {"file": "environments/prod/environment.hcl.bak", "line": None, "field": None,
         "message": "ignored: an environment folder is read for environment.hcl only"}
    ]  # fmt: skip


def test_check_reports_a_syntax_error_with_line_and_column(tmp_path: Path) -> None:
    environments = tmp_path / "environments"
    (environments / "dev").mkdir(parents=True)
    (environments / "devops.hcl").write_text(DEVOPS.replace("eu-west-7", "eu-west-1"))
    (environments / "dev" / "environment.hcl").write_text('account_id = "222222222222"\nregion = = "eu-west-1"\n')
    result = check(environments)
    assert result.returncode == 2
    assert result.stderr == "provisioner: environments/dev/environment.hcl:2: HCL syntax error at column 10: unexpected '='\n"


def test_check_reports_a_missing_folder(tmp_path: Path) -> None:
    result = check(tmp_path / "environments")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("provisioner: environments: is not a folder")
    assert len(result.stderr.splitlines()) == 1


def test_an_empty_environments_variable_is_one_problem_about_the_variable(tmp_path: Path) -> None:
    for name in ("a", "b", "Not_An_Environment"):
        (tmp_path / name).mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "provisioner", "check"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO), "PROVISIONER_ENVIRONMENTS": ""},
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == (
        "provisioner: PROVISIONER_ENVIRONMENTS is set but empty: unset it to read environments/ of the repository, "
        "or set it to the folder to read\n"
    )


def test_loading_the_config_does_not_import_the_provider_bindings() -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from provisioner.configuration.settings import load\n"
        f"project = load(Path({str(REPO_ENVIRONMENTS)!r}))\n"
        "assert len(project.environments) == 3\n"
        "print('cdktf' in sys.modules, 'cdktf_cdktf_provider_aws' in sys.modules, 'constructs' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]


def test_the_check_command_does_not_import_the_provider_bindings(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from provisioner.cli import main\n"
        f"codes = [main(['check', '--environments', {str(REPO_ENVIRONMENTS)!r}]), "
        f"main(['check', '--environments', {str(bad_environments(tmp_path))!r}])]\n"
        "print(codes, 'cdktf' in sys.modules, 'cdktf_cdktf_provider_aws' in sys.modules, file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "[0, 2] False False"
