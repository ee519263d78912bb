"""The project's terraform CLI config: mirror when there is one, registry otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from provisioner.errors import UserError
from provisioner.operations import terraform_rc


def make_mirror(root: Path) -> Path:
    (root / "registry.terraform.io" / "hashicorp" / "aws" / "5.100.0" / "linux_amd64").mkdir(parents=True)
    return root


def test_named_mirror_is_used_and_limited_to_the_aws_provider(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "mirror")
    text = terraform_rc.render(terraform_rc.find_mirror(str(mirror)))
    assert f'path    = "{mirror.resolve()}"' in text
    assert 'include = ["registry.terraform.io/hashicorp/aws"]' in text
    assert 'exclude = ["registry.terraform.io/hashicorp/aws"]' in text


def test_a_named_folder_that_is_not_a_mirror_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no registry.terraform.io/hashicorp/aws/<version>/ folder inside"):
        terraform_rc.find_mirror(str(tmp_path))


def test_without_a_mirror_the_registry_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(terraform_rc, "CANDIDATE_MIRRORS", (tmp_path / "nothing-here",))
    assert terraform_rc.find_mirror(None) is None
    text = terraform_rc.render(None)
    assert "direct {}" in text and "filesystem_mirror" not in text


def test_write_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "terraform.rc"
    mirror = make_mirror(tmp_path / "m")
    assert terraform_rc.write(target, mirror) is True
    assert terraform_rc.write(target, mirror) is False
    assert terraform_rc.write(target, None) is True


def test_cli_writes_the_config_where_asked(tmp_path: Path) -> None:
    mirror = make_mirror(tmp_path / "m")
    out = tmp_path / "rc"
    result = subprocess.run(
        [sys.executable, "-m", "provisioner", "terraform-config", "--mirror", str(mirror), "--output", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert str(mirror.resolve()) in out.read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "provisioner", "terraform-config", "--mirror", str(tmp_path / "nope"), "--output", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert bad.stderr.startswith(f"provisioner: --mirror {tmp_path / 'nope'}: no registry.terraform.io/"), bad.stderr


def test_a_bad_mirror_variable_is_reported_as_the_variable(tmp_path: Path) -> None:
    bad = subprocess.run(
        [sys.executable, "-m", "provisioner", "terraform-config", "--output", str(tmp_path / "rc")],
        capture_output=True, text=True, check=False, env={**os.environ, terraform_rc.MIRROR_ENV: str(tmp_path / "nope")},
    )  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.startswith(f"provisioner: {terraform_rc.MIRROR_ENV}={tmp_path / 'nope'}: no registry.terraform.io/"), bad.stderr
