"""Synthesis benchmark: wall time and peak memory of a whole synth process, median of 3.

Cases: the repository's environments, 30 generated environments, and an empty cdktf app (the floor:
what the framework costs before any provider binding loads). Each run is a fresh process, as
`cdktf synth` and the pipeline's synth step are.

    python -m tests.bench.synth_bench [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from provisioner.paths import REPO_ROOT

CHILD = """
import resource, sys, time, os
started = time.perf_counter()
case, outdir, environments = sys.argv[1], sys.argv[2], sys.argv[3]
from provisioner.runtime import prepare_environment
prepare_environment()
if case == "empty":
    from modules.framework import App, TerraformStack
    app = App(outdir=outdir)
    TerraformStack(app, "empty")
    app.synth()
else:
    from pathlib import Path
    from provisioner.app import synthesize
    from provisioner.config import load
    synthesize(load(Path(environments)), Path(outdir))
elapsed = time.perf_counter() - started
print(elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def generated_environments(folder: Path, count: int) -> Path:
    environments = folder / "environments"
    environments.mkdir(parents=True)
    (environments / "devops.hcl").write_text((REPO_ROOT / "environments" / "devops.hcl").read_text())
    for index in range(count):
        env = environments / f"env{index:02d}"
        env.mkdir()
        approval = "true" if index % 5 == 4 else "false"
        (env / "environment.hcl").write_text(
            f'account_id = "{200000000000 + index}"\nregion = "eu-west-1"\norder = {index // 3 + 1}\nrequires_approval = {approval}\n'
        )
    return environments


def run_case(case: str, environments: Path, runs: int) -> tuple[float, float, float]:
    walls, peaks, inner = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-c", CHILD, case, str(Path(scratch) / "cdktf.out"), str(environments)],
                capture_output=True, text=True, check=True, cwd=REPO_ROOT,
            )  # fmt: skip
            walls.append(time.perf_counter() - started)
            in_process, peak_kib = result.stdout.split()
            inner.append(float(in_process))
            peaks.append(int(peak_kib) / 1024)
    return statistics.median(walls), statistics.median(inner), statistics.median(peaks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cases = {
            "empty app (floor)": ("empty", REPO_ROOT / "environments"),
            "repo environments": ("repo", REPO_ROOT / "environments"),
            "30 generated environments": ("generated", generated_environments(Path(scratch), 30)),
        }
        results = {}
        print(f"synth benchmark: median of {args.runs} fresh processes", file=sys.stderr)
        for label, (case, environments) in cases.items():
            results[label] = run_case(case, environments, args.runs)
            wall, inner, peak = results[label]
            print(f"  {label:<28} wall {wall:6.2f} s   in-process {inner:6.2f} s   peak RSS {peak:7.1f} MiB", flush=True)
    if args.json:
        print(json.dumps({k: {"wall_s": w, "in_process_s": i, "peak_mib": p} for k, (w, i, p) in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
