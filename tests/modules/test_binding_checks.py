"""``modules.binding_checks``: the bindings still check every argument's type, and work out each signature's
type hints once per process, however and whenever the bindings were imported."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from provisioner.paths import REPO_ROOT

# Counts the evaluations of type hints per stub (typing.get_type_hints itself), constructs a few objects
# and passes a wrong type twice. {first} is imported before the product's modules, {then} after them.
PROGRAM = """
import collections, typing
{first}
import modules
{then}
evaluated = collections.Counter()
evaluate = typing.get_type_hints
def counting(obj, *args, **kwargs):
    evaluated[obj.__qualname__] += 1
    return evaluate(obj, *args, **kwargs)
typing.get_type_hints = counting
from cdktf import App, TerraformOutput, TerraformStack
stack = TerraformStack(App(outdir="{outdir}"), "stack")
{construct}
for attempt in (1, 2):
    try:
        {wrong}
    except TypeError as error:
        print(f"attempt {{attempt}}:", error)
print(sorted(evaluated.values()))
"""
OUTPUTS = "for n in range(5): TerraformOutput(stack, f'o{n}', value=str(n))"
BUCKETS = "from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket\n" "for n in range(5): S3Bucket(stack, f'b{n}', bucket=f'b{n}')"


def run(tmp_path, first: str, then: str, construct: str, wrong: str) -> list[str]:
    program = PROGRAM.format(first=first, then=then, outdir=tmp_path, construct=construct, wrong=wrong)
    result = subprocess.run([sys.executable, "-c", program], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stdout.splitlines() if line.startswith(("attempt", "["))]


@pytest.mark.parametrize(
    ("first", "then", "construct", "wrong", "message"),
    [
        ("", "", OUTPUTS, "TerraformOutput(stack, 'bad', value='x', sensitive='yes')", "type of argument sensitive must be one of (bool, NoneType); got str instead"),
        ("import cdktf", "", OUTPUTS, "TerraformOutput(stack, 'bad', value='x', sensitive='yes')", "type of argument sensitive must be one of (bool, NoneType); got str instead"),
        ("", "", BUCKETS, "S3Bucket(stack, 'bad', bucket=5)", "type of argument bucket must be one of (str, NoneType); got int instead"),
        ("", "import cdktf_cdktf_provider_aws.s3_bucket", BUCKETS, "S3Bucket(stack, 'bad', bucket=5)", "type of argument bucket must be one of (str, NoneType); got int instead"),
    ],
    ids=["framework", "framework-imported-first", "provider-resource", "provider-imported-by-module-name"],
)
def test_type_hints_are_worked_out_once_per_signature_and_wrong_types_still_fail(tmp_path, first, then, construct, wrong, message) -> None:
    *failures, evaluated = run(tmp_path, first, then, construct, wrong)
    assert failures == [f"attempt 1: {message}", f"attempt 2: {message}"]
    counts = ast.literal_eval(evaluated)
    assert counts and set(counts) == {1}, f"a signature's hints were evaluated more than once: {counts}"


def test_other_calls_of_get_type_hints_are_answered_as_before() -> None:
    from modules.binding_checks import type_hints

    def annotated(a: "int", b: str = "") -> "list[int]":
        return [a]

    def _typecheckingstub__example(value: "dict[str, int]") -> None:
        pass

    import typing

    assert type_hints(annotated) == typing.get_type_hints(annotated) == {"a": int, "b": str, "return": list[int]}
    assert type_hints(_typecheckingstub__example) is type_hints(_typecheckingstub__example)
    assert type_hints(_typecheckingstub__example, include_extras=True) is not type_hints(_typecheckingstub__example)


# Two finders that each ask the others (a second one of these, or any other that delegates the same way),
# then a reload of the module, which must not put a third in.
TWO_FINDERS = """
import importlib, sys
import modules
import modules.binding_checks as checks
sys.meta_path.insert(0, checks._BindingFinder(checks.BINDING_PACKAGES))
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
importlib.reload(checks).install()
import cdktf_cdktf_provider_aws.kms_key
print(sum(getattr(finder, "gives_cached_typing", False) for finder in sys.meta_path), S3Bucket.__init__.__globals__["typing"].get_type_hints.__module__)
"""


def test_finders_that_ask_each_other_do_not_loop_and_install_adds_one_finder_at_most() -> None:
    result = subprocess.run([sys.executable, "-c", TWO_FINDERS], cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["2", "modules.binding_checks"]
