"""Synthesis benchmark: wall time and peak memory of a whole synth process, median of 3.

Cases: the repository's environments, 1, 30 and 50 generated environments, and an empty cdktf app (the
floor: what the framework costs before any provider binding loads); each case is also given as a
multiple of the floor, and the time each environment adds. Each run is a fresh process, as
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
import threading
import time
from pathlib import Path

from provisioner.paths import REPO_ROOT

CHILD = """
import sys, time
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
    from provisioner.app.synthesis import synthesize
    from provisioner.configuration.settings import load
    synthesize(load(Path(environments)), Path(outdir))
print(time.perf_counter() - started)
"""


def _tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (the jsii runtime is a Node.js child)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _run_sampled(command: list[str]) -> tuple[str, float, float]:
    """Run ``command``; return its stdout, wall seconds and peak tree RSS in MiB (sampled every 20 ms)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kib(process.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{stderr[-2000:]}")
    return stdout, wall, peak / 1024


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
            f'bootstrap {{\n  profile = "admin-{index}"\n}}\n'
        )
    return environments


def run_case(case: str, environments: Path, runs: int) -> tuple[float, float, float]:
    walls, peaks, inner = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            stdout, wall, peak = _run_sampled([sys.executable, "-c", CHILD, case, str(Path(scratch) / "cdktf.out"), str(environments)])
            walls.append(wall)
            inner.append(float(stdout.split()[-1]))
            peaks.append(peak)
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
            "1 generated environment": ("generated", generated_environments(Path(scratch) / "1", 1)),
            "30 generated environments": ("generated", generated_environments(Path(scratch) / "30", 30)),
            "50 generated environments": ("generated", generated_environments(Path(scratch) / "50", 50)),
        }
        results = {}
        print(f"synth benchmark: median of {args.runs} fresh processes per case", file=sys.stderr)
        for label, (case, environments) in cases.items():
            print(f"  {label}: running {args.runs} processes ...", file=sys.stderr, flush=True)
            results[label] = run_case(case, environments, args.runs)
            wall, inner, peak = results[label]
            print(f"  {label:<28} wall {wall:6.2f} s   in-process {inner:6.2f} s   peak RSS (python + node) {peak:7.1f} MiB", flush=True)
    floor = results["empty app (floor)"][0]
    print("compared with the floor (an empty cdktf app):")
    for label, (wall, _, _) in results.items():
        if label != "empty app (floor)":
            print(f"  synth {label}: {wall:.1f} s = {wall / floor:.1f}x floor")
    increment = (results["50 generated environments"][0] - results["1 generated environment"][0]) / 49
    print(f"  each environment beyond the first adds {increment * 1000:.0f} ms (1 to 50 generated environments)")
    if args.json:
        print(json.dumps({k: {"wall_s": w, "in_process_s": i, "peak_mib": p} for k, (w, i, p) in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
