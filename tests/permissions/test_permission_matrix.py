"""Who can do what, proven offline: the synthesized policies evaluated by an IAM policy evaluator.

The emulator enforces no IAM, so this is where a promise about permissions is kept. Each project's
matrix (``tests/permissions/cases.py``) is evaluated in one run of the evaluator; every case must come
out as expected. ``docs/permission-matrix.md`` is the repository's matrix, written by this test
(``UPDATE_SNAPSHOTS=1 make test`` rewrites it after a deliberate change).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.permissions.cases import Matrix
from tests.permissions.evaluator import ALLOWED, DENIED, Case, Verdict, evaluate
from tests.permissions.world import World, read_world

MATRIX_DOC = Path(__file__).resolve().parents[2] / "docs" / "permission-matrix.md"
PROJECTS = ("example_synth", "alt_synth", "token_synth")


@dataclass
class Evaluated:
    world: World
    cases: list[Case]
    verdicts: dict[str, Verdict]


@pytest.fixture(scope="session")
def evaluated(request: pytest.FixtureRequest) -> dict[str, Evaluated]:
    found = {}
    for name in PROJECTS:
        synth = request.getfixturevalue(name)
        world, cases = read_world(synth), Matrix(synth).build()
        assert len({case.name for case in cases}) == len(cases), "case names must be unique"
        found[name] = Evaluated(world, cases, evaluate(world, cases))
    return found


@pytest.mark.parametrize("synth_name", PROJECTS)
def test_every_case_of_the_matrix_comes_out_as_expected(evaluated, synth_name: str) -> None:
    run = evaluated[synth_name]
    wrong = [f"{c.name}: expected {c.expected}, got {run.verdicts[c.name].detail}" for c in run.cases if run.verdicts[c.name].decision != c.expected]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("synth_name", PROJECTS)
def test_every_role_the_stacks_create_is_tested_both_ways(evaluated, synth_name: str) -> None:
    run = evaluated[synth_name]
    seen = Counter((case.principal, case.expected) for case in run.cases)
    # Roles are also tested as the resource of an assume (their trust): count those as cases of the role.
    seen.update((case.resource, case.expected) for case in run.cases if case.action == "sts:AssumeRole")
    for arn in run.world.roles:
        if arn.endswith("-on-push-start") or arn.endswith("-delivery-start"):
            continue  # the CodeCommit trigger's role, owned and tested by modules.delivery_pipeline
        assert seen[(arn, ALLOWED)] and seen[(arn, DENIED)], f"{synth_name}: {arn} needs allowed and denied cases"


def test_no_case_leans_on_a_context_key_the_evaluator_ignores(evaluated) -> None:
    """A condition key the evaluator does not apply to an action would make a case prove nothing."""
    ignored = [
        f"{name}: {case.name}: {run.verdicts[case.name].detail}"
        for name, run in evaluated.items()
        for case in run.cases
        if "ignored" in run.verdicts[case.name].detail and not _harmless(run.verdicts[case.name].detail)
    ]
    assert not ignored, "\n".join(ignored)


def _harmless(detail: str) -> bool:
    """Keys every request carries that do not apply to every action (they decide no case)."""
    keys = detail.split("ignored context keys ", 1)[1].strip("[]").replace("'", "").split(", ")
    return set(keys) <= {"aws:SecureTransport"}


def test_the_documented_matrix_is_the_one_the_tests_evaluate(evaluated) -> None:
    text = render(evaluated["example_synth"])
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        MATRIX_DOC.write_text(text)
    assert MATRIX_DOC.read_text() == text, "docs/permission-matrix.md is stale: UPDATE_SNAPSHOTS=1 make test rewrites it"


def render(run: Evaluated) -> str:
    allowed = sum(case.expected == ALLOWED for case in run.cases)
    relying = [case for case in run.cases if case.depends_on_managed_policies(run.verdicts[case.name].decision)]
    lines = [
        "# Permission matrix",
        "",
        "Who may do what with the example `examples/environments/`, decided by an IAM policy evaluator",
        "(`@cloud-copilot/iam-simulate`) over the synthesized policies; written by",
        "`tests/permissions/test_permission_matrix.py`, which fails when a case comes out otherwise.",
        "Cross-account requests are evaluated with the caller's identity policies and the target's trust,",
        "bucket or key policy. Each assume-role hop is its own case.",
        "",
        f"{len(run.cases)} cases: {allowed} allowed, {len(run.cases) - allowed} denied.",
        "",
        "AWS-managed policies are not available offline. Cases marked *managed* assume what",
        "`ReadOnlyAccess` (plan roles) or `PowerUserAccess` (deployment roles) allow; their result depends on",
        "it and only real AWS confirms it:",
        "",
        *(f"- {case.name}" for case in relying),
        "",
        "| result | case | principal | action | resource |",
        "|:--|:--|:--|:--|:--|",
    ]
    for case in run.cases:
        mark = " *(managed)*" if case in relying else ""
        lines.append(f"| {case.expected} | {case.name}{mark} | `{_short(case.principal)}` | `{case.action}` | `{_short(case.resource)}` |")
    return "\n".join(lines) + "\n"


def _short(arn: str) -> str:
    return arn.replace("arn:aws:", "")
