"""Synthesis benchmark: wall time, peak memory and exit time of whole synth processes, against the floor.

Cases: an empty cdktf app (the floor: what the framework costs before any provider binding loads), the
repository's environments, and 1, 30 and 50 generated environments. Each run is a fresh process, as
``cdktf synth`` and the pipeline's synth step are, and the product's cases end as ``main.py`` does. The
cases run side by side, one run of each in turn (floor, repo, 1, 30, 50, then again), so a machine that
slows down or speeds up while the benchmark runs affects them alike; each ratio to the floor is the
median of the ratios within a round.

Per case it prints the median wall time, the time spent in the process, the peak resident memory of the
whole process tree (Python, the jsii runtime's two Node.js processes: sampled every 20 ms and summed),
and the exit time (from the last output file written to the process's end). Then each case against the
floor, the time each environment adds, and whether the goals are met:

- the repository's environments synthesize in at most 3x the floor's time;
- each environment adds at most 20 ms, from 1 to 50 environments.

Exit status 1 when a goal is missed.

What stands in the way of the second goal (measured 1 -> 31 environments in one process, on a busy 2-core
machine): an environment adds two stacks, and with them 61 requests to the jsii runtime (41 objects
created, 8 of them the module constructs themselves; 17 attributes read; 3 calls). A request's bare round
trip (Python -> the runtime's relay process -> the kernel process, and back) takes 0.23 ms here: 14 ms per
environment before the runtime does any work. Measured per environment: about 34 ms in those requests
(the runtime's work on them included: building the resources, then rendering and writing the two stacks),
and about 13 ms of Python around them (the constructs, the bindings' argument type checks, reading and
checking the configuration). None of it is the provider's loading, which is paid once. Already spared: the
bindings' evaluation of each signature's type hints on every call (``modules/binding_checks.py``, about
7 ms per environment) and repeated reads of the same attribute (module constructs cache theirs). Running
the kernel without its relay process (its API on the runtime's own stdin and stdout) was tried: 1.23x
slower for 50 environments, with twice the system time.

    python -m tests.bench.synth_bench [--runs N] [--json]
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
from dataclasses import dataclass, field
from pathlib import Path

from provisioner.paths import REPO_ROOT

FLOOR = "empty app (floor)"
REPO = "repo environments"
MAX_RATIO = 3.0
MAX_INCREMENT_S = 0.020

# Prints the seconds spent in the process and the wall-clock time the last output file was written.
CHILD = """
import sys, time
started = time.perf_counter()
case, outdir, environments = sys.argv[1], sys.argv[2], sys.argv[3]
from provisioner.runtime import exit_promptly, prepare_environment
prepare_environment()
if case == "empty":
    from modules.framework import App, TerraformStack
    app = App(outdir=outdir)
    TerraformStack(app, "empty")
    app.synth()
    print(time.perf_counter() - started, time.time(), flush=True)  # and it ends as any cdktf app does
else:
    from pathlib import Path
    from provisioner.app.synthesis import synthesize
    from provisioner.configuration.settings import load
    synthesize(load(Path(environments)), Path(outdir))
    print(time.perf_counter() - started, time.time(), flush=True)
    exit_promptly(0)  # as main.py ends
"""


@dataclass
class Runs:
    walls: list[float] = field(default_factory=list)
    inner: list[float] = field(default_factory=list)
    peaks_mib: list[float] = field(default_factory=list)
    exits: list[float] = field(default_factory=list)
    processes: int = 0

    def median(self, name: str) -> float:
        return statistics.median(getattr(self, name))


def _tree(pid: int) -> tuple[int, int]:
    """Resident memory (KiB) and number of a process and all its descendants (the jsii runtime is Node.js)."""
    total, count, pending = 0, 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            count += 1
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total, count


def _run_sampled(command: list[str], runs: Runs) -> None:
    """Run ``command`` once; record its wall seconds, peak tree memory, in-process and exit seconds."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    peak, most = 0, 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, most
        while not done.is_set():
            rss, count = _tree(process.pid)
            peak, most = max(peak, rss), max(most, count)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    ended, wall = time.time(), time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{stderr[-2000:]}")
    inner, written = (float(value) for value in stdout.split()[-2:])
    runs.walls.append(wall)
    runs.inner.append(inner)
    runs.peaks_mib.append(peak / 1024)
    runs.exits.append(ended - written)
    runs.processes = max(runs.processes, most)


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="rounds of one process per case (default 5)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        cases = {
            FLOOR: ("empty", REPO_ROOT / "environments"),
            REPO: ("repo", REPO_ROOT / "environments"),
            "1 generated environment": ("generated", generated_environments(Path(scratch) / "1", 1)),
            "30 generated environments": ("generated", generated_environments(Path(scratch) / "30", 30)),
            "50 generated environments": ("generated", generated_environments(Path(scratch) / "50", 50)),
        }
        results = {label: Runs() for label in cases}
        print(f"synth benchmark: {args.runs} rounds, each one fresh process per case in turn; medians", file=sys.stderr)
        for round_number in range(1, args.runs + 1):
            for label, (case, environments) in cases.items():
                print(f"  round {round_number}/{args.runs}: {label} ...", file=sys.stderr, flush=True)
                with tempfile.TemporaryDirectory() as outdir:
                    _run_sampled([sys.executable, "-c", CHILD, case, str(Path(outdir) / "cdktf.out"), str(environments)], results[label])
    for label, runs in results.items():
        print(
            f"  {label:<26} wall {runs.median('walls'):5.2f} s   in-process {runs.median('inner'):5.2f} s   "
            f"peak RSS ({runs.processes} processes: python + node) {runs.median('peaks_mib'):6.1f} MiB   "
            f"last file -> exit {runs.median('exits') * 1000:4.0f} ms",
            flush=True,
        )
    floor = results[FLOOR].walls
    ratios = {label: statistics.median(w / f for w, f in zip(runs.walls, floor)) for label, runs in results.items() if label != FLOOR}
    print("compared with the floor (an empty cdktf app), round by round:")
    for label, ratio in ratios.items():
        print(f"  synth {label}: {results[label].median('walls'):.1f} s = {ratio:.1f}x floor")
    one, fifty = results["1 generated environment"].walls, results["50 generated environments"].walls
    increment = statistics.median((b - a) / 49 for a, b in zip(one, fifty))
    print(f"  each environment beyond the first adds {increment * 1000:.0f} ms (1 to 50 generated environments)")
    missed = []
    if ratios[REPO] > MAX_RATIO:
        missed.append(f"the repository's environments take {ratios[REPO]:.1f}x the floor (goal: at most {MAX_RATIO:.0f}x)")
    if increment > MAX_INCREMENT_S:
        missed.append(f"each environment adds {increment * 1000:.0f} ms (goal: at most {MAX_INCREMENT_S * 1000:.0f} ms)")
    print("goals: " + ("; ".join(missed) if missed else f"met (repository at most {MAX_RATIO:.0f}x the floor, at most {MAX_INCREMENT_S * 1000:.0f} ms per environment)"))
    if args.json:
        print(json.dumps({
            label: {"wall_s": runs.median("walls"), "in_process_s": runs.median("inner"), "peak_mib": runs.median("peaks_mib"),
                    "exit_s": runs.median("exits"), "ratio_to_floor": ratios.get(label, 1.0)}
            for label, runs in results.items()
        } | {"increment_per_environment_s": increment}))  # fmt: skip
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
