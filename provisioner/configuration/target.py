"""Where synthesized stacks deploy: real AWS (the default) or the local emulated AWS.

The switch is the environment variable ``PROVISIONER_TARGET``: ``aws`` (default) or ``local``.
``local`` points every provider and backend at the emulator that ``provisioner local-aws start``
runs (its endpoint is read from ``.provisioner/local-aws.json``, or ``PROVISIONER_AWS_ENDPOINT``).
Output for real AWS contains no endpoint, test credential or emulator setting.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from provisioner.errors import UserError
from provisioner.paths import STATE_DIR

TARGET_ENV = "PROVISIONER_TARGET"
ENDPOINT_ENV = "PROVISIONER_AWS_ENDPOINT"
DEVOPS_LOCAL_STATE_ENV = "PROVISIONER_DEVOPS_LOCAL_STATE"
LOCAL_AWS_FILE = STATE_DIR / "local-aws.json"


@dataclass(frozen=True)
class Target:
    """Where the stacks deploy."""

    endpoint: str | None = None
    """Base URL of the emulated AWS; None for real AWS."""
    devops_local_state: Path | None = None
    """Keep the devops stack's state in this local file (only while bootstrapping the state bucket)."""

    @property
    def is_local(self) -> bool:
        return self.endpoint is not None


def local_endpoint(env: os._Environ[str] | dict[str, str] = os.environ) -> str:
    """The running emulator's endpoint, or a one-line error saying how to start it."""
    if endpoint := env.get(ENDPOINT_ENV):
        return endpoint
    try:
        return json.loads(LOCAL_AWS_FILE.read_text())["endpoint"]
    except FileNotFoundError:
        raise UserError(f"{TARGET_ENV}=local but no emulator is running: start one with `provisioner local-aws start`") from None
    except (ValueError, KeyError):
        raise UserError(f"{LOCAL_AWS_FILE}: not written by `provisioner local-aws start`; restart the emulator") from None


def target_from_environment(env: os._Environ[str] | dict[str, str] = os.environ) -> Target:
    name = env.get(TARGET_ENV, "aws")
    if name not in ("aws", "local"):
        raise UserError(f'{TARGET_ENV}="{name}" must be "aws" or "local"')
    local_state = env.get(DEVOPS_LOCAL_STATE_ENV)
    return Target(
        endpoint=local_endpoint(env) if name == "local" else None,
        devops_local_state=Path(local_state).resolve() if local_state else None,
    )
