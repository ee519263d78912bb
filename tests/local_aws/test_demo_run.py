"""``provisioner.local_aws.demo_run``: the demo points its AWS calls and tools at the emulator, not this process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioner.configuration.target import Target, target_from_environment
from provisioner.local_aws.demo_run import Demo
from provisioner.paths import REPO_ROOT

DEMO_ENVIRONMENTS = REPO_ROOT / "demo" / "environments"

ENDPOINT = "http://127.0.0.1:45998"


def test_targeting_gives_the_target_as_a_value_and_the_tools_their_own_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_PROFILE", "someone-elses-profile")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-token-of-the-shell")
    before = dict(os.environ)
    demo = Demo(DEMO_ENVIRONMENTS, tmp_path / "workspace")
    with demo.targeting(ENDPOINT):
        assert dict(os.environ) == before, "this process's environment is left as it is"
        assert demo.target == Target.local(ENDPOINT)
        assert target_from_environment(demo.env) == demo.target, "cdktf, main.py and the provisioner commands read the same target"
        assert "AWS_PROFILE" not in demo.env and "AWS_SESSION_TOKEN" not in demo.env
        assert (demo.env["AWS_ACCESS_KEY_ID"], demo.env["AWS_REGION"]) == ("test", demo.project.devops.region)
        assert demo.env["PROVISIONER_ENVIRONMENTS"] == str(DEMO_ENVIRONMENTS.resolve())
    assert demo.target == Target() and dict(os.environ) == before
