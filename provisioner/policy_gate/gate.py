"""The policy gate: checkov and the project's own rules over every synthesized stack.

``make scan`` builds checkov's own virtualenv (``.venv-checkov``, pinned by
``policy/checkov-requirements.txt``) and runs ``provisioner scan``, which calls ``scan``:

1. one offline checkov run over ``cdktf.out/stacks`` (every stack folder, JSON output);
2. the rules of ``provisioner.policy_gate.rules`` over each stack's ``cdk.tf.json``;
3. the waivers of ``policy/skips.yaml`` (a skipped result stays in the report, with its reason);
4. one line per finding, and one JUnit report (``reports/policy-gate.xml``) of every result.

The gate fails on any failed check, and also when checkov could not parse a stack or ran no checks
on it: checkov itself exits 0 in both cases. One checkov run covers every stack because checkov
accumulates results across several ``-d`` folders in one process; the stacks folder as one root
gives each stack's results under its own path.
"""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

from provisioner.errors import UserError
from provisioner.paths import CDKTF_OUT, REPO_ROOT
from provisioner.policy_gate import rules

CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_SETUP = "make .venv-checkov/.installed"
SKIPS_FILE = REPO_ROOT / "policy" / "skips.yaml"
REPORTS_DIR = REPO_ROOT / "reports"
STACKS_DIR = CDKTF_OUT / "stacks"
STACK_FILE = "cdk.tf.json"
CHECKOV_REPORT = "checkov.json"
JUNIT_REPORT = "policy-gate.xml"

# Offline and unattended: no PyPI version check (--skip-download keeps it from the Prisma Cloud API).
CHECKOV_ENV = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true"}

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"
CHECKOV_SOURCE, OWN_SOURCE = "checkov", "own rules"


@dataclass(frozen=True)
class CheckResult:
    """One check on one resource of one stack."""

    stack: str
    address: str
    """Terraform address, ``<type>.<name>`` (``provider.aws`` for provider checks)."""
    check_id: str
    title: str
    status: str
    """``passed``, ``failed`` or ``skipped``."""
    detail: str = ""
    """Why it failed, or why it was skipped."""
    source: str = CHECKOV_SOURCE


@dataclass(frozen=True)
class ScanProblem:
    """The scan itself went wrong (a parsing error, no checks, checkov crashed): the gate fails."""

    stack: str | None
    message: str


@dataclass(frozen=True)
class Skip:
    """A waiver from the skips file."""

    check_id: str
    reason: str
    resources: tuple[str, ...] = ()
    """``<stack>/<address>`` patterns; empty means every resource."""

    def covers(self, result: CheckResult) -> bool:
        if result.check_id != self.check_id:
            return False
        return not self.resources or any(fnmatch.fnmatchcase(f"{result.stack}/{result.address}", p) for p in self.resources)


@dataclass
class GateReport:
    stacks: list[str]
    results: list[CheckResult] = field(default_factory=list)
    problems: list[ScanProblem] = field(default_factory=list)
    unused_skips: list[str] = field(default_factory=list)
    checkov_seconds: float = 0.0

    def with_status(self, status: str) -> list[CheckResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.with_status(FAILED)


# -- inputs ----------------------------------------------------------------------------------------
def find_stacks(stacks_dir: Path) -> dict[str, Path]:
    """Each synthesized stack's ``cdk.tf.json``, by stack name."""
    stacks = {path.parent.name: path for path in sorted(stacks_dir.glob(f"*/{STACK_FILE}"))} if stacks_dir.is_dir() else {}
    if not stacks:
        raise UserError(f"{stacks_dir}: no synthesized stacks (*/{STACK_FILE}); run `make synth` first")
    return stacks


def load_skips(path: Path) -> list[Skip]:
    """The waivers of ``path``; every entry needs a reason."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise UserError(f"{path}: skips file not found") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise UserError(f"{path}{where}: not valid YAML ({getattr(error, 'problem', None) or error})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: must map check ids to {{reason, resources}}")
    skips = []
    for check_id, entry in data.items():
        if not isinstance(entry, dict):
            raise UserError(f"{path}: {check_id}: must be a mapping with a reason")
        unknown = sorted(set(entry) - {"title", "reason", "resources"})
        if unknown:
            raise UserError(f"{path}: {check_id}: unknown field {unknown[0]} (allowed: title, reason, resources)")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise UserError(f"{path}: {check_id}: a skip needs a reason that says why the check does not apply")
        resources = entry.get("resources") or []
        if not isinstance(resources, list) or not all(isinstance(r, str) and "/" in r for r in resources):
            raise UserError(f'{path}: {check_id}: resources must be a list of "<stack>/<address>" patterns')
        skips.append(Skip(str(check_id), " ".join(reason.split()), tuple(resources)))
    return skips


# -- checkov ---------------------------------------------------------------------------------------
def checkov_command(checkov: Path, stacks_dir: Path) -> list[str]:
    return [str(checkov), "-d", str(stacks_dir), "--framework", "terraform_json", "--skip-download", "-o", "json", "--compact"]


def run_checkov(checkov: Path, stacks_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run checkov once over every stack folder, offline.

    It runs in an empty scratch folder that is also its HOME, so no ``.checkov.yaml`` lying around
    can add skips behind the back of ``policy/skips.yaml``.
    """
    if not checkov.is_file():
        raise UserError(f"{checkov} not found: run `{CHECKOV_SETUP}` (make scan does)")
    with tempfile.TemporaryDirectory(prefix="checkov-") as scratch:
        env = {**os.environ, **CHECKOV_ENV, "HOME": scratch}
        return subprocess.run(
            checkov_command(checkov, stacks_dir.resolve()), cwd=scratch, env=env, capture_output=True, text=True, check=False
        )


def read_checkov_output(output: str, stacks: dict[str, dict]) -> tuple[list[CheckResult], list[ScanProblem]]:
    """checkov's JSON report (``-o json``) as results and problems.

    Handles the three shapes checkov prints: one report object, a list of reports (several
    frameworks), and a bare summary when it found nothing to scan.
    """
    try:
        parsed = json.loads(output)
    except json.JSONDecodeError as error:
        return [], [ScanProblem(None, f"checkov printed no JSON report ({error.msg} at line {error.lineno})")]
    reports = parsed if isinstance(parsed, list) else [parsed]
    results: list[CheckResult] = []
    problems: list[ScanProblem] = []
    for report in reports:
        if not isinstance(report, dict) or "results" not in report:
            continue  # a bare summary: nothing was scanned
        checks = report["results"]
        for path in checks.get("parsing_errors") or []:
            stack = Path(path).parent.name
            problems.append(ScanProblem(stack if stack in stacks else None, f"checkov could not parse {path}"))
        for key, status in (("passed_checks", PASSED), ("failed_checks", FAILED)):
            for check in checks.get(key) or []:
                results.append(_checkov_result(check, status, stacks))
        for check in checks.get("skipped_checks") or []:
            # Suppressed inside a stack: waivers belong in the skips file, where they are reviewed.
            result = _checkov_result(check, SKIPPED, stacks)
            problems.append(
                ScanProblem(
                    result.stack,
                    f"{result.address} {result.check_id} is suppressed inside the stack "
                    f"({check.get('suppress_comment') or 'no reason'}); waive checks in policy/skips.yaml instead",
                )
            )
    return results, problems


def _checkov_result(check: dict, status: str, stacks: dict[str, dict]) -> CheckResult:
    stack = Path(check.get("file_abs_path") or check.get("file_path") or "").parent.name
    address = _address(check.get("resource", ""), stacks.get(stack) or {})
    detail = ""
    if status == FAILED:
        keys = ", ".join((check.get("check_result") or {}).get("evaluated_keys") or [])
        lines = check.get("file_line_range") or []
        where = f"{stack}/{STACK_FILE}" + (f" lines {lines[0]}-{lines[1]}" if len(lines) == 2 else "")
        detail = where + (f", evaluated {keys}" if keys else "")
    return CheckResult(stack, address, check.get("check_id", "?"), check.get("check_name", ""), status, detail)


def _address(resource: str, stack: dict) -> str:
    """checkov names resources of terraform_json files ``resource.<name>``; find the type by name."""
    if not resource.startswith("resource."):
        return resource
    name = resource.split(".", 1)[1]
    types = [t for t, named in (stack.get("resource") or {}).items() if name in named]
    return f"{types[0]}.{name}" if len(types) == 1 else resource


def coverage_problems(stacks: dict[str, dict], results: Iterable[CheckResult]) -> list[ScanProblem]:
    """checkov ran no checks at all, or none on a stack that has resources."""
    checked: dict[str, int] = {}
    for result in results:
        if result.source == CHECKOV_SOURCE:
            checked[result.stack] = checked.get(result.stack, 0) + 1
    if not checked:
        return [ScanProblem(None, f"checkov ran no checks on {_count(len(stacks), 'stack')}")]
    return [
        ScanProblem(name, f"checkov ran no checks on {name}, which declares {_count(count, 'resource')}")
        for name, stack in sorted(stacks.items())
        if (count := sum(len(named) for named in (stack.get("resource") or {}).values())) and not checked.get(name)
    ]


# -- own rules, skips ------------------------------------------------------------------------------
def own_rule_results(stacks: dict[str, dict]) -> list[CheckResult]:
    return [
        CheckResult(name, r.address, r.rule.id, r.rule.title, PASSED if r.passed else FAILED, r.detail, OWN_SOURCE)
        for name, stack in sorted(stacks.items())
        for r in rules.check_stack(stack)
    ]


def apply_skips(results: list[CheckResult], skips: list[Skip]) -> tuple[list[CheckResult], list[str]]:
    """Results with waived failures marked skipped (passes stay passes); the skip ids that waived nothing."""
    used: set[str] = set()
    marked = []
    for result in results:
        skip = next((s for s in skips if s.covers(result)), None)
        if skip is not None and result.status == FAILED:
            used.add(skip.check_id)
            result = replace(result, status=SKIPPED, detail=skip.reason)
        marked.append(result)
    return marked, [s.check_id for s in skips if s.check_id not in used]


# -- the gate --------------------------------------------------------------------------------------
def scan(
    stacks_dir: Path = STACKS_DIR, checkov: Path = CHECKOV, skips_file: Path = SKIPS_FILE, reports_dir: Path = REPORTS_DIR
) -> GateReport:
    """Run the whole gate and write ``checkov.json`` and ``policy-gate.xml`` into ``reports_dir``."""
    paths = find_stacks(stacks_dir)
    skips = load_skips(skips_file)
    stacks: dict[str, dict] = {}
    report = GateReport(stacks=sorted(paths))
    for name, path in paths.items():
        try:
            stacks[name] = json.loads(path.read_text())
        except json.JSONDecodeError as error:
            report.problems.append(ScanProblem(name, f"{path}: not valid JSON ({error.msg} at line {error.lineno}); own rules not run"))
    started = time.monotonic()
    completed = run_checkov(checkov, stacks_dir)
    report.checkov_seconds = time.monotonic() - started
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / CHECKOV_REPORT).write_text(completed.stdout)
    checkov_results, checkov_problems = read_checkov_output(completed.stdout, stacks)
    if completed.returncode not in (0, 1) or (completed.returncode == 1 and not any(r.status == FAILED for r in checkov_results)):
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:]) or "no error output"
        checkov_problems.append(ScanProblem(None, f"checkov exited {completed.returncode}: {tail}"))
    results = checkov_results + own_rule_results(stacks)
    report.results, report.unused_skips = apply_skips(results, skips)
    report.problems += checkov_problems + coverage_problems({name: stacks.get(name, {}) for name in paths}, checkov_results)
    write_junit(report, reports_dir / JUNIT_REPORT)
    return report


def finding_lines(report: GateReport) -> list[str]:
    """One line per problem and per failed check: stack, resource address, check id, title (and why)."""
    lines = [f"ERROR   {problem.stack or '-'}  {problem.message}" for problem in report.problems]
    for r in sorted(report.with_status(FAILED), key=lambda r: (r.stack, r.address, r.check_id)):
        why = f": {r.detail}" if r.source == OWN_SOURCE else ""
        lines.append(f"FAILED  {r.stack}  {r.address}  {r.check_id}  {r.title}{why}")
    return lines


def summary_lines(report: GateReport, junit_path: Path, skips_file: Path = SKIPS_FILE) -> list[str]:
    skipped: dict[str, int] = {}
    for r in report.with_status(SKIPPED):
        skipped[r.check_id] = skipped.get(r.check_id, 0) + 1
    lines = [f"skipped {check_id} on {_count(count, 'resource')} ({skips_file.name})" for check_id, count in sorted(skipped.items())]
    lines += [f"note: {skips_file.name}: {check_id} waived nothing in this run" for check_id in report.unused_skips]
    by_source = {source: sum(1 for r in report.results if r.source == source) for source in (CHECKOV_SOURCE, OWN_SOURCE)}
    lines.append(
        f"policy gate: {_count(len(report.stacks), 'stack')}, {len(report.results)} checks "
        f"({by_source[CHECKOV_SOURCE]} checkov in {report.checkov_seconds:.1f} s, {by_source[OWN_SOURCE]} own rules): "
        f"{len(report.with_status(FAILED))} failed, {len(report.with_status(SKIPPED))} skipped, "
        f"{len(report.with_status(PASSED))} passed, {len(report.problems)} errors; JUnit report {junit_path}"
    )
    lines.append("policy gate passed" if report.ok else "policy gate FAILED")
    return lines


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# -- JUnit -----------------------------------------------------------------------------------------
def write_junit(report: GateReport, path: Path) -> None:
    """Every result as a test case, grouped by stack; scan problems as errors."""
    root = ET.Element("testsuites", name="policy gate")
    suites: dict[str, ET.Element] = {}

    def suite(name: str) -> ET.Element:
        if name not in suites:
            suites[name] = ET.SubElement(root, "testsuite", name=name)
        return suites[name]

    for name in report.stacks:
        suite(name)
    for problem in report.problems:
        case = ET.SubElement(suite(problem.stack or "checkov"), "testcase", classname=problem.stack or "checkov", name="scan")
        ET.SubElement(case, "error", message=problem.message)
    for r in sorted(report.results, key=lambda r: (r.stack, r.address, r.check_id)):
        case = ET.SubElement(suite(r.stack), "testcase", classname=r.stack, name=f"{r.check_id} {r.address}")
        if r.status == FAILED:
            ET.SubElement(case, "failure", message=r.title, type=r.check_id).text = r.detail or r.title
        elif r.status == SKIPPED:
            ET.SubElement(case, "skipped", message=r.detail)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for element in suites.values():
        counts = {
            "tests": len(element),
            "failures": len(element.findall("testcase/failure")),
            "errors": len(element.findall("testcase/error")),
            "skipped": len(element.findall("testcase/skipped")),
        }
        for key, value in counts.items():
            element.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
