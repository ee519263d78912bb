"""pr-comment against a fake GitHub API on loopback: one comment per pull request, updated in place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.plan_review.comment import MARKER
from tests.fake_github import TOKEN

# The ``github`` fixture (a fake GitHub API on loopback) comes from tests/fake_github.py, a plugin of tests/conftest.py.


def run_cli(api: str, *args: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GITHUB_TOKEN=token)
    return subprocess.run(
        [sys.executable, "-m", "provisioner", "pr-comment", "--api", api, *args], env=env, capture_output=True, text=True, check=False
    )


def test_comment_is_created_once_then_updated(github, tmp_path: Path) -> None:
    fake, api = github
    summary = tmp_path / "summary.md"
    summary.write_text(f"{MARKER}\n## Terraform plan summary\nfirst\n")
    first = run_cli(api, "--repository", "acme/infra", "--commit", "abc123", "--file", str(summary))
    assert first.returncode == 0, first.stderr
    assert "pull request #7: summary comment created" in first.stdout
    summary.write_text(f"{MARKER}\n## Terraform plan summary\nsecond\n")
    second = run_cli(api, "--repository", "acme/infra", "--commit", "abc123", "--file", str(summary))
    assert "pull request #7: summary comment updated" in second.stdout
    ours = [c for c in fake.comments[7] if MARKER in c["body"]]
    assert len(ours) == 1 and "second" in ours[0]["body"]
    assert 3 not in fake.comments, "closed pull requests get no comment"
    assert fake.comments[7][0]["body"] == "unrelated human comment"
    assert set(fake.auth_headers) == {f"Bearer {TOKEN}"}
    assert TOKEN not in first.stdout + first.stderr + second.stdout + second.stderr


def test_marker_is_added_when_missing(github, tmp_path: Path) -> None:
    fake, api = github
    summary = tmp_path / "s.md"
    summary.write_text("plain summary\n")
    assert run_cli(api, "--repository", "acme/infra", "--pull-request", "9", "--file", str(summary)).returncode == 0
    assert fake.comments[9][0]["body"].startswith(MARKER)


def test_errors_are_one_line_exit_2(github, tmp_path: Path) -> None:
    _, api = github
    summary = tmp_path / "s.md"
    summary.write_text("x")
    no_token = run_cli(api, "--repository", "acme/infra", "--pull-request", "9", "--file", str(summary), token="")
    assert no_token.returncode == 2 and "no GitHub token" in no_token.stderr
    missing = run_cli(api, "--repository", "acme/infra", "--pull-request", "9", "--file", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    http_error = run_cli(api, "--repository", "acme/infra", "--commit", "zzz", "--file", str(summary))
    assert http_error.returncode == 0 and "no open pull request" in http_error.stdout
    unreachable = run_cli("http://127.0.0.1:9", "--repository", "acme/infra", "--pull-request", "9", "--file", str(summary))
    assert unreachable.returncode == 2
    for result in (no_token, missing, unreachable):
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize("number", ["0", "-1"])
def test_a_pull_request_number_below_1_is_refused_before_any_api_call(github, tmp_path: Path, number: str) -> None:
    fake, api = github
    summary = tmp_path / "s.md"
    summary.write_text("x")
    result = run_cli(api, "--repository", "acme/infra", "--pull-request", number, "--file", str(summary))
    assert result.returncode == 2
    assert result.stderr == f"provisioner: --pull-request {number}: a pull request number is 1 or more\n"
    assert fake.auth_headers == [], "no request reaches GitHub"
