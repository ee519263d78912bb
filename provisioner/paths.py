"""Well-known paths of the repository the provisioner runs in."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("PROVISIONER_ROOT", Path(__file__).resolve().parent.parent))
ENVIRONMENTS_DIR = REPO_ROOT / "environments"
STATE_DIR = REPO_ROOT / ".provisioner"
TERRAFORM_RC = STATE_DIR / "terraform.rc"
CDKTF_OUT = REPO_ROOT / "cdktf.out"
NODE_BIN = REPO_ROOT / "node_modules" / ".bin"
