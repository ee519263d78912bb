"""Where synthesized stacks deploy: real AWS (the default) or the local emulated AWS.

The target is read once, where a run starts (``main.py``, the commands, the demo), and passed down
as a ``Target`` value: nothing below those entry points reads the environment to find it.

The switch is the environment variable ``PROVISIONER_TARGET``: ``aws`` (default) or ``local``.
``local`` points every provider and backend at the emulator that ``provisioner local-aws start``
runs (its endpoint is read from ``.provisioner/local-aws.json``, or ``PROVISIONER_AWS_ENDPOINT``).
Output for real AWS contains no endpoint, test credential or emulator setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from provisioner.errors import UserError
from provisioner.paths import STATE_DIR

TARGET_ENV = "PROVISIONER_TARGET"
ENDPOINT_ENV = "PROVISIONER_AWS_ENDPOINT"
DEVOPS_LOCAL_STATE_ENV = "PROVISIONER_DEVOPS_LOCAL_STATE"
LOCAL_AWS_FILE = STATE_DIR / "local-aws.json"
LOCAL_ACCESS_KEY = "test"
"""Access key id and secret of the local target's plain credentials: the emulator accepts any, and acts
in its default (DevOps) account for credentials that did not come from ``sts:AssumeRole``."""


@dataclass(frozen=True)
class LocalAws:
    """The emulated AWS: where it answers and the credentials to sign with."""

    endpoint: str
    access_key: str = LOCAL_ACCESS_KEY
    secret_key: str = LOCAL_ACCESS_KEY


@dataclass(frozen=True)
class Target:
    """Where the stacks deploy."""

    local_aws: LocalAws | None = None
    """The emulated AWS; None for real AWS."""
    devops_local_state: Path | None = None
    """Keep the devops stack's state in this local file (only while bootstrapping the state bucket)."""

    @classmethod
    def local(cls, endpoint: str, devops_local_state: Path | None = None) -> Target:
        return cls(LocalAws(endpoint), devops_local_state)

    @property
    def is_local(self) -> bool:
        return self.local_aws is not None

    @property
    def endpoint(self) -> str | None:
        """Base URL of the emulated AWS; None for real AWS."""
        return self.local_aws.endpoint if self.local_aws else None

    def environment(self) -> dict[str, str]:
        """The variables that make a child process (``cdktf deploy``, ``python main.py``) read this same target."""
        variables = {TARGET_ENV: "local", ENDPOINT_ENV: self.local_aws.endpoint} if self.local_aws else {TARGET_ENV: "aws"}
        if self.devops_local_state is not None:
            variables[DEVOPS_LOCAL_STATE_ENV] = str(self.devops_local_state)
        return variables


def local_endpoint(env: Mapping[str, str]) -> str:
    """The running emulator's endpoint, or a one-line error saying how to start it."""
    if endpoint := env.get(ENDPOINT_ENV):
        return endpoint
    try:
        return json.loads(LOCAL_AWS_FILE.read_text())["endpoint"]
    except FileNotFoundError:
        raise UserError(f"{TARGET_ENV}=local but no emulator is running: start one with `provisioner local-aws start`") from None
    except (ValueError, KeyError):
        raise UserError(f"{LOCAL_AWS_FILE}: not written by `provisioner local-aws start`; restart the emulator") from None


def target_from_environment(env: Mapping[str, str]) -> Target:
    """The target a process environment names (entry points pass ``os.environ``)."""
    name = env.get(TARGET_ENV, "aws")
    if name not in ("aws", "local"):
        raise UserError(f'{TARGET_ENV}="{name}" must be "aws" or "local"')
    local_state = env.get(DEVOPS_LOCAL_STATE_ENV)
    return Target(
        local_aws=LocalAws(local_endpoint(env)) if name == "local" else None,
        devops_local_state=Path(local_state).resolve() if local_state else None,
    )
