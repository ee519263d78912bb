"""Entry point of the CDK for Terraform app (``cdktf.json`` runs it): environments/ -> cdktf.out/."""

import os
from pathlib import Path

from provisioner.app.error_output import error_stream
from provisioner.app.synthesis import synthesize
from provisioner.configuration.settings import load
from provisioner.configuration.target import target_from_environment
from provisioner.errors import UserError, error_lines
from provisioner.interruption import TERMINATED_EXIT_CODE, Terminated, sigterm_raises
from provisioner.paths import ENVIRONMENTS_DIR, REPO_ROOT
from provisioner.runtime import exit_promptly


def main() -> int:
    try:
        project = load(ENVIRONMENTS_DIR)
        target = target_from_environment(os.environ)
        # Synthesis imports the team's workload code, which can fail as a user error too.
        with sigterm_raises():
            stacks = synthesize(project, Path(os.environ.get("CDKTF_OUTDIR", REPO_ROOT / "cdktf.out")), target)
    except UserError as error:
        with error_stream(os.environ) as stream:
            print(*error_lines(error), sep="\n", file=stream)
        return error.exit_code
    except Terminated:
        return TERMINATED_EXIT_CODE
    # Standard output: the cdktf CLI labels every line an app writes to standard error "[ERROR]".
    print(f"synthesized {len(stacks)} stacks: {', '.join(stacks)}")
    return 0


if __name__ == "__main__":
    exit_promptly(main())
