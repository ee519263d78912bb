"""The emulator process: moto in server mode, with the compatibility patches applied first.

Run by ``provisioner local-aws start`` as ``python -m provisioner.local_aws.launcher --port N
--data-dir DIR`` (DIR: the local pipeline executions it serves, see ``pipeline_records``); not meant
to be started by hand (``start`` tracks the process so that nothing is left running).

It is the one place that sets ``os.environ``: moto reads its settings from the environment when it
loads, and this process is the emulator itself, so nothing else sees them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m provisioner.local_aws.launcher")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args(argv)

    # Read by moto when it loads: AWS managed policies (PowerUserAccess...) exist, as in a real account.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    # MOTO_ACCOUNT_ID would pin every request to one account, assumed-role credentials included.
    os.environ.pop("MOTO_ACCOUNT_ID", None)

    from moto import server

    from provisioner.local_aws import compat

    for line in compat.apply(data_dir=args.data_dir):
        print(f"compat: {line}", flush=True)
    server.main(["--host", args.host, "--port", str(args.port)])


if __name__ == "__main__":
    sys.exit(main())
