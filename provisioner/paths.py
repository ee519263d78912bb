"""Well-known paths of the repository the provisioner runs in."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("PROVISIONER_ROOT", Path(__file__).resolve().parent.parent))
ENVIRONMENTS_VARIABLE = "PROVISIONER_ENVIRONMENTS"
ENVIRONMENTS_DIR = Path(os.environ.get(ENVIRONMENTS_VARIABLE, REPO_ROOT / "environments"))
"""The environments folder; ``PROVISIONER_ENVIRONMENTS`` points the app at another one (the demo does)."""
WORKLOAD_FILE = Path(os.environ.get("PROVISIONER_WORKLOAD", REPO_ROOT / "workloads" / "workload.hcl"))
"""The team's workload definition (which code declares the workload stacks, which inputs environments
set); ``PROVISIONER_WORKLOAD`` names another one."""
STATE_DIR = REPO_ROOT / ".provisioner"
TERRAFORM_RC = STATE_DIR / "terraform.rc"
CDKTF_OUT = REPO_ROOT / "cdktf.out"
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"


def repository_relative(path: Path) -> str:
    """``path`` as seen from the repository (as a build's checkout holds it) when inside it, else as it is."""
    try:
        return str(Path(path).relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def importable_repository() -> None:
    """Make the repository's own packages (``workloads``, ``examples``) importable, as ``python main.py`` does."""
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
