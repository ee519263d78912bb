"""Every terraform command the pipeline's steps run, once.

The plan and apply buildspecs, the pull-request plan, ``provisioner plan``, ``provisioner bootstrap-state`` and the
demo's checks take their terraform commands from here, so none of them can drift from the others.
"""

from __future__ import annotations

import shlex

PLAN_FILE = "tfplan"
PLAN_JSON = "plan.json"

INIT = ("terraform", "init", "-input=false", "-no-color")
INIT_LOCKED = (*INIT, "-lockfile=readonly")
"""Apply installs exactly the providers the plan was made with (the lock file travels with the plan)."""
PLAN = ("terraform", "plan", "-input=false", "-no-color", "-lock-timeout=5m", f"-out={PLAN_FILE}")
PLAN_WITHOUT_LOCK = ("terraform", "plan", "-input=false", "-no-color", "-lock=false", f"-out={PLAN_FILE}")
"""A pull request's plan: it writes nothing, so it takes no state lock (its role could not write one)."""
PLAN_DRIFT = (*PLAN_WITHOUT_LOCK, "-detailed-exitcode")
"""A drift run's plan: no lock, and exit code 2 when anything would change (0: none, 1: failed)."""
DRIFT_EXIT_CODE = 2
SHOW_PLAN = ("terraform", "show", "-json", PLAN_FILE)
"""Its standard output is ``PLAN_JSON``, the input of ``provisioner plan-summary``."""
APPLY_PLAN = ("terraform", "apply", "-input=false", "-no-color", "-lock-timeout=5m", PLAN_FILE)
"""A saved plan applies exactly what was reviewed; terraform fails if state moved since."""


def shell(command: tuple[str, ...]) -> str:
    """The command as one shell line."""
    return shlex.join(command)
