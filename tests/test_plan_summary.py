"""``provisioner plan-summary`` on real plans written by terraform with ``terraform_data``.

One module-scoped fixture runs terraform a handful of times (init, apply, seven plans) and keeps
the ``terraform show -json`` files, each with terraform's own rendering of the plan beside it
(``terraform_text``); the tests read those. Entries terraform_data cannot produce
(drift, AWS resource types, odd addresses) are made from a real entry with one field changed.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from provisioner.commands import plan_summary as plan_summary_command
from provisioner.delivery import buildspecs
from provisioner.errors import UserError
from provisioner.paths import REPO_ROOT, TERRAFORM_RC
from provisioner.plan_review import summary
from tests.bench.plan_summary_bench import replicate_plan
from tests.conftest import bare_python3
from tests.test_readme import fenced

SECRET_V1 = "var-secret-Qx7-v1"
SECRET_V2 = "var-secret-Qx7-v2"
INLINE_SECRET = "inline-secret-Zk4"
SECRETS = (SECRET_V1, SECRET_V2, INLINE_SECRET)

FIRST_CONFIG = """
variable "secret" {
  type      = string
  sensitive = true
}
resource "terraform_data" "updated" { input = "a" }
resource "terraform_data" "replaced" { triggers_replace = "1" }
resource "terraform_data" "replaced_cbd" {
  triggers_replace = "1"
  lifecycle { create_before_destroy = true }
}
resource "terraform_data" "old_name" { input = "x" }
resource "terraform_data" "deleted" { input = "x" }
resource "terraform_data" "unchanged" { input = "x" }
resource "terraform_data" "kept" { input = "x" }
resource "terraform_data" "with_secret" { input = var.secret }
output "changed" { value = "a" }
output "removed" { value = "a" }
output "token" {
  value     = var.secret
  sensitive = true
}
"""

SECOND_CONFIG = f"""
variable "secret" {{
  type      = string
  sensitive = true
}}
resource "terraform_data" "updated" {{ input = "b" }}
resource "terraform_data" "replaced" {{ triggers_replace = "2" }}
resource "terraform_data" "replaced_cbd" {{
  triggers_replace = "2"
  lifecycle {{ create_before_destroy = true }}
}}
moved {{
  from = terraform_data.old_name
  to   = terraform_data.new_name
}}
resource "terraform_data" "new_name" {{ input = "x" }}
resource "terraform_data" "unchanged" {{ input = "x" }}
removed {{
  from = terraform_data.kept
  lifecycle {{ destroy = false }}
}}
resource "terraform_data" "with_secret" {{ input = var.secret }}
resource "terraform_data" "created" {{ input = "x" }}
resource "terraform_data" "inline_secret" {{ input = sensitive("{INLINE_SECRET}") }}
import {{
  to = terraform_data.imported
  id = "imported-id"
}}
resource "terraform_data" "imported" {{}}
# The path is known only after apply, so terraform defers the read: a ["read"] action.
data "terraform_remote_state" "later" {{
  backend = "local"
  config  = {{ path = terraform_data.created.output }}
}}
output "changed" {{ value = "b" }}
output "added" {{ value = "b" }}
output "token" {{
  value     = var.secret
  sensitive = true
}}
"""

ERRORED_CONFIG = """
resource "terraform_data" "created" { input = "x" }
resource "terraform_data" "checked" {
  input = "x"
  lifecycle {
    precondition {
      condition     = terraform_data.created.input == "something else"
      error_message = "The precondition fails on purpose."
    }
  }
}
"""

# The first configuration, applied, with one output changed: a plan that changes outputs only.
OUTPUTS_ONLY_CONFIG = FIRST_CONFIG.replace('output "changed" { value = "a" }', 'output "changed" { value = "c" }')

# The first configuration with one resource renamed by a moved block, planned with -refresh-only:
# terraform reports the move in resource_drift, as a no-op with a previous_address.
MOVED_CONFIG = FIRST_CONFIG.replace('"old_name" { input = "x" }', '"new_name" { input = "x" }') + """
moved {
  from = terraform_data.old_name
  to   = terraform_data.new_name
}
"""

# The first configuration, applied, plus a resource whose precondition fails: an errored plan in
# which nothing is planned (every other resource is a no-op).
FAILED_CHECK = """
resource "terraform_data" "checked" {
  input = "x"
  lifecycle {
    precondition {
      condition     = terraform_data.unchanged.input == "something else"
      error_message = "The precondition fails on purpose."
    }
  }
}
"""
ERRORED_EMPTY_CONFIG = FIRST_CONFIG + FAILED_CHECK

EXPECTED_COUNTS = {
    "create": 2,  # created, inline_secret
    "update": 2,  # updated, with_secret
    "replace": 2,  # replaced ["delete","create"], replaced_cbd ["create","delete"]
    "delete": 1,  # deleted
    "import": 1,  # imported
    "move": 1,  # old_name -> new_name
    "forget": 1,  # kept
    "read": 1,  # data.terraform_remote_state.later
    "no-op": 3,  # unchanged, new_name, imported
}


def terraform(folder: Path, *args: str, expect_error: bool = False) -> None:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(TERRAFORM_RC), "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
    result = subprocess.run(["terraform", *args, "-no-color"], cwd=folder, env=env, capture_output=True, text=True)
    if (result.returncode != 0) != expect_error:
        raise AssertionError(f"terraform {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")


def save_plan_json(folder: Path, target: Path, *plan_args: str, expect_error: bool = False) -> Path:
    """``target`` gets ``terraform show -json`` of the plan, and its ``.txt`` sibling terraform's own rendering."""
    terraform(folder, "plan", "-input=false", "-out=current.tfplan", *plan_args, expect_error=expect_error)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(TERRAFORM_RC), "CHECKPOINT_DISABLE": "1"}
    for command, written in ((["-json"], target), (["-no-color"], target.with_suffix(".txt"))):
        show = ["terraform", "show", *command, "current.tfplan"]
        written.write_text(subprocess.run(show, cwd=folder, env=env, capture_output=True, text=True, check=True).stdout)
    return target


def terraform_text(plan_json: Path) -> str:
    """What ``terraform show`` prints for the plan ``save_plan_json`` wrote to ``plan_json``."""
    return plan_json.with_suffix(".txt").read_text()


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Path]:
    """Real ``terraform show -json`` files: no-changes, destroy, outputs-only, refresh-moved, errored-empty,
    changes, errored, and a binary plan."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on the PATH")
    work = tmp_path_factory.mktemp("terraform")
    out = tmp_path_factory.mktemp("plans")
    (work / "main.tf").write_text(FIRST_CONFIG)
    terraform(work, "init", "-input=false")
    terraform(work, "apply", "-input=false", "-auto-approve", f"-var=secret={SECRET_V1}")
    found = {
        "no-changes": save_plan_json(work, out / "workload-same.plan.json", f"-var=secret={SECRET_V1}"),
        "destroy": save_plan_json(work, out / "workload-destroy.plan.json", "-destroy", f"-var=secret={SECRET_V1}"),
    }
    (work / "main.tf").write_text(OUTPUTS_ONLY_CONFIG)
    found["outputs-only"] = save_plan_json(work, out / "workload-outputs.plan.json", f"-var=secret={SECRET_V1}")
    (work / "main.tf").write_text(MOVED_CONFIG)
    found["refresh-moved"] = save_plan_json(work, out / "workload-moved.plan.json", "-refresh-only", f"-var=secret={SECRET_V1}")
    (work / "main.tf").write_text(ERRORED_EMPTY_CONFIG)
    found["errored-empty"] = save_plan_json(work, out / "workload-failed.plan.json", f"-var=secret={SECRET_V1}", expect_error=True)
    (work / "main.tf").write_text(SECOND_CONFIG)
    found["changes"] = save_plan_json(work, out / "workload-dev.plan.json", f"-var=secret={SECRET_V2}")
    found["binary"] = shutil.copy(work / "current.tfplan", out / "binary.tfplan")
    (work / "main.tf").write_text(ERRORED_CONFIG)
    found["errored"] = save_plan_json(work, out / "workload-broken.plan.json", expect_error=True)
    return {name: Path(path) for name, path in found.items()}


@pytest.fixture(scope="module")
def changes(plans) -> summary.StackPlan:
    return summary.load_plan(plans["changes"], "workload-dev")


def summarize(*argv: str, capsys) -> tuple[int, str]:
    """Run the command in process (only this command's parser) and return (exit code, stdout)."""
    parser = argparse.ArgumentParser()
    plan_summary_command.register(parser.add_subparsers())
    args = parser.parse_args(["plan-summary", *map(str, argv)])
    code = args.func(args)
    return code, capsys.readouterr().out


def run_cli(*argv: str, stdin: str = "", cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "provisioner", "plan-summary", *map(str, argv)]
    return subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60)


def change_named(stack: summary.StackPlan, address: str) -> summary.ResourceChange:
    return next(change for change in stack.changes if change.address == address)


def table_rows(markdown: str, title_start: str) -> list[str]:
    """The rows of the first table after the line starting with ``title_start``."""
    lines = markdown.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(title_start))
    rows = []
    for line in lines[start + 1 :]:
        if rows and not line.startswith("|"):
            break
        if line.startswith("|"):
            rows.append(line)
    return rows[2:]


# ------------------------------------------------------------------------------ counting


def test_counts_read_the_whole_actions_list(changes):
    assert changes.counts() == EXPECTED_COUNTS


def test_replacements_in_both_orders_are_replaces_with_their_paths(changes):
    delete_first = change_named(changes, "terraform_data.replaced")
    create_first = change_named(changes, "terraform_data.replaced_cbd")
    assert delete_first.actions == ("delete", "create")
    assert create_first.actions == ("create", "delete")
    for change in (delete_first, create_first):
        assert change.kind is summary.Kind.REPLACE
        assert change.replace_paths == ("triggers_replace",)
        assert change.reason == "cannot update in place"
    assert [change.address for change in changes.destructive] == [
        "terraform_data.deleted",
        "terraform_data.replaced",
        "terraform_data.replaced_cbd",
    ]


def test_destructive_table_shows_order_reason_and_replace_paths(changes):
    rows = table_rows(summary.render_markdown([changes]), "#### Destroyed or replaced (3)")
    assert rows == [
        "| `terraform_data.deleted` | delete | removed from configuration |  |",
        "| `terraform_data.replaced` | replace (delete, then create) | cannot update in place | `triggers_replace` |",
        "| `terraform_data.replaced_cbd` | replace (create, then delete) | cannot update in place | `triggers_replace` |",
    ]


def test_move_and_import_are_noted_in_the_details(changes):
    details = table_rows(summary.render_markdown([changes]), "<summary>")
    assert "| `terraform_data.new_name` | move |  | moved from `terraform_data.old_name` |" in details
    assert "| `terraform_data.imported` | import |  |  |" in details
    assert not any("terraform_data.unchanged" in row for row in details)


def test_updates_list_the_attributes_they_change(changes):
    # with_secret's input is a sensitive variable that changed: its path is listed, never its value.
    assert change_named(changes, "terraform_data.updated").changed_paths == ("input", "output")
    assert change_named(changes, "terraform_data.with_secret").changed_paths == ("input", "output")
    details = table_rows(summary.render_markdown([changes]), "<summary>")
    assert "| `terraform_data.updated` | update | `input`, `output` |  |" in details
    assert "| `terraform_data.replaced` | replace (delete, then create) | `triggers_replace` | cannot update in place |" in details


def update_of(before: dict, after: dict, **markers: dict) -> summary.ResourceChange:
    """An update entry of an AWS-like resource (terraform_data's one attribute has no nesting)."""
    change = {"actions": ["update"], "before": before, "after": after, **markers}
    document = {"format_version": "1.2", "resource_changes": [{"address": "aws_s3_bucket.x", "type": "aws_s3_bucket", "change": change}]}
    return summary.parse_plan(document, name="x", source="x.json").changes[0]


@pytest.mark.parametrize(
    ("before", "after", "markers", "paths"),
    [
        ({"a": "1", "b": "1"}, {"a": "1", "b": "1"}, {}, ()),
        ({"rule": [{"id": "r", "days": 30}]}, {"rule": [{"id": "r", "days": 60}]}, {}, ("rule[0].days",)),
        ({"rule": [{"id": "r"}]}, {"rule": [{"id": "r"}, {"id": "s"}]}, {}, ("rule",)),
        ({"tags": {"team": "a"}}, {"tags": {"team": "a", "Cost Center": "b"}}, {}, ('tags["Cost Center"]',)),
        ({"arn": "arn:1", "name": "n"}, {"arn": None, "name": "n"}, {"after_unknown": {"arn": True}}, ("arn",)),
        ({"password": "p"}, {"password": "p"}, {"after_sensitive": {"password": True}}, ("password",)),
        (
            {"secrets": {"db-password-Qx7": "p"}},
            {"secrets": {"db-password-Qx7": "p", "api-key-Qx7": "k"}},
            {"before_sensitive": {"secrets": True}, "after_sensitive": {"secrets": True}},
            ("secrets",),
        ),
    ],
    ids=["unchanged", "nested", "list-grows", "map-key", "unknown", "becomes-sensitive", "sensitive-map-keys-hidden"],
)
def test_changed_attribute_paths(before, after, markers, paths):
    assert update_of(before, after, **markers).changed_paths == paths


def test_a_long_list_of_changed_attributes_is_shortened():
    change = update_of({f"a{n:02}": 1 for n in range(12)}, {f"a{n:02}": 2 for n in range(12)})
    stack = summary.StackPlan("x", "x.json", "1.11.4", False, True, (change,))
    (row,) = table_rows(summary.render_markdown([stack]), "<summary>")
    assert row == "| `aws_s3_bucket.x` | update | " + ", ".join(f"`a{n:02}`" for n in range(8)) + " and 4 more |  |"


def test_details_list_the_most_destructive_first(changes):
    details = table_rows(summary.render_markdown([changes]), "<summary>")
    actions = [row.split(" | ")[1] for row in details]
    assert actions[0] == "delete"
    assert actions.index("create") > actions.index("update") > actions.index("replace (delete, then create)")


def test_forget_is_its_own_section_and_not_destructive(changes):
    kept = change_named(changes, "terraform_data.kept")
    assert kept.actions == ("forget",)
    assert kept not in changes.destructive
    markdown = summary.render_markdown([changes])
    assert table_rows(markdown, "#### Removed from state, left running (1)") == [
        "| `terraform_data.kept` | forget (left running, removed from state) |"
    ]
    assert "1 to forget" in summary.verdict(changes)


def test_deferred_read_is_counted_but_not_a_change(changes):
    read = change_named(changes, "data.terraform_remote_state.later")
    assert read.actions == ("read",)
    assert read.reason == "configuration known only at apply"
    markdown = summary.render_markdown([changes])
    assert "data.terraform_remote_state.later" not in markdown
    assert ", 1 to read during apply, " in summary.verdict(changes)


def test_reads_during_apply_have_their_column(plans, capsys):
    _, out = summarize(plans["changes"], plans["destroy"], capsys=capsys)
    header = next(line for line in out.splitlines() if line.startswith("| Stack |"))
    assert " Read " in header.split("|")[-3], "Read comes before No-op"
    dev = next(line for line in out.splitlines() if line.startswith("| workload-dev |"))
    assert dev.split(" | ")[-2] == "1"


def test_verdict_line(changes):
    assert summary.verdict(changes) == (
        "workload-dev: Plan: 1 to import, 4 to add, 2 to change, 3 to destroy. 1 to move, 1 to forget (left running), "
        "1 to read during apply, 4 output changes."
    )


TERRAFORM_SENTENCES = {
    "changes": "Plan: 1 to import, 4 to add, 2 to change, 3 to destroy.",
    "destroy": "Plan: 0 to add, 0 to change, 8 to destroy.",
    "no-changes": "No changes.",
    "errored-empty": "Planning failed. Terraform encountered an error while generating this plan.",
}


@pytest.mark.parametrize(("plan", "sentence"), TERRAFORM_SENTENCES.items(), ids=list(TERRAFORM_SENTENCES))
def test_each_stack_says_what_terraform_says_of_its_plan(plans, plan, sentence):
    """Reviewers know terraform's own words: its Plan line (the import part only with imports), "No changes."
    or "Planning failed.", checked against what terraform itself prints for the same plan."""
    stack = summary.load_plan(plans[plan], "stack")
    assert summary.verdict(stack).startswith(f"stack: {sentence}")
    assert any(line.startswith(sentence) for line in terraform_text(plans[plan]).splitlines())


def test_an_errored_plan_with_actions_gives_terraforms_plan_line_after_the_failure(plans):
    stack = summary.load_plan(plans["errored"], "workload-broken")
    (plan_line,) = [line for line in terraform_text(plans["errored"]).splitlines() if line.startswith("Plan: ")]
    assert summary.verdict(stack).startswith(f"workload-broken: Planning failed: the plan is incomplete and cannot be applied. {plan_line}")


def test_an_errored_plan_with_nothing_planned_says_planning_failed_not_no_changes(plans, capsys):
    stack = summary.load_plan(plans["errored-empty"], "workload-failed")
    assert stack.errored and not stack.has_changes
    _, out = summarize(plans["errored-empty"], capsys=capsys)
    assert "- **workload-failed**: **Planning failed.** Terraform encountered an error while generating this plan." in out
    assert "no changes" not in out.lower()
    assert "> [!CAUTION]" in out


def test_a_plan_changing_only_outputs_says_no_real_infrastructure_changes(plans):
    stack = summary.load_plan(plans["outputs-only"], "workload-outputs")
    assert summary.verdict(stack) == "workload-outputs: 1 output change, without changing any real infrastructure."
    text = " ".join(terraform_text(plans["outputs-only"]).split())
    assert "without changing any real infrastructure" in text and "Plan:" not in text


def test_output_changes_are_listed_without_values(changes):
    assert [(output.name, output.kind.value, output.sensitive) for output in changes.changed_outputs] == [
        ("added", "create", False),
        ("changed", "update", False),
        ("removed", "delete", False),
        ("token", "update", True),
    ]
    rows = table_rows(summary.render_markdown([changes]), "#### Output changes (4)")
    assert rows == [
        "| `added` | create |",
        "| `changed` | update |",
        "| `removed` | delete |",
        "| `token` | update (sensitive) |",
    ]


# ------------------------------------------------------------------------------ secrets


def test_the_plan_json_does_hold_the_secrets(plans):
    # Guards the next test: if terraform stopped writing them, it would pass for the wrong reason.
    text = plans["changes"].read_text()
    assert all(secret in text for secret in SECRETS)


@pytest.mark.parametrize("output_format", ["markdown", "json"])
def test_secrets_never_reach_the_summary(plans, output_format, capsys):
    files = [plans[name] for name in ("changes", "no-changes", "destroy", "outputs-only", "refresh-moved", "errored-empty", "errored")]
    code, out = summarize("--format", output_format, *files, capsys=capsys)
    assert code == 0
    assert "workload-dev" in out
    for secret in SECRETS:
        assert secret not in out


# ------------------------------------------------------------------------------ whole plans


def test_no_changes_plan(plans, capsys):
    stack = summary.load_plan(plans["no-changes"], "workload-same")
    assert stack.counts() == {**dict.fromkeys(summary.COUNT_KEYS, 0), "no-op": 8}
    assert summary.verdict(stack) == "workload-same: No changes."
    code, out = summarize("--fail-on-destroy", plans["no-changes"], capsys=capsys)
    assert code == 0
    assert "- **workload-same**: No changes." in out
    assert "### workload-same" not in out


def test_destroy_plan_counts_every_resource_as_delete(plans):
    stack = summary.load_plan(plans["destroy"], "workload-destroy")
    assert stack.counts()["delete"] == 8
    assert sum(stack.counts().values()) == 8
    assert len(stack.destructive) == 8


def test_errored_plan_is_marked_loudly(plans, capsys):
    stack = summary.load_plan(plans["errored"], "workload-broken")
    assert stack.errored and not stack.applyable
    code, out = summarize(plans["errored"], capsys=capsys)
    assert code == 0
    assert "- **workload-broken**: **Planning failed:** the plan is incomplete and cannot be applied. Plan: " in out
    assert "> [!CAUTION]" in out
    _, json_out = summarize("--format", "json", plans["errored"], capsys=capsys)
    assert json.loads(json_out)["stacks"][0]["errored"] is True


def test_markdown_layout(plans, capsys):
    _, out = summarize(plans["changes"], plans["no-changes"], capsys=capsys)
    lines = out.splitlines()
    assert lines[0] == summary.MARKER
    assert lines[1] == "## Terraform plan summary"
    assert "| workload-dev | 2 | 2 | 2 | 1 | 1 | 1 | 1 | 1 | 3 |" in lines
    assert "| workload-same |  |  |  |  |  |  |  |  | 8 |" in lines
    assert out.count("<details>") == out.count("</details>") == 1


def test_a_single_stack_is_not_repeated_as_a_table(plans, capsys):
    _, out = summarize(plans["changes"], capsys=capsys)
    assert "| Stack |" not in out
    assert "- **workload-dev**: Plan: " in out


def test_no_zero_is_spelled_out_but_terraforms_own(plans, capsys):
    _, out = summarize(plans["destroy"], plans["no-changes"], plans["outputs-only"], capsys=capsys)
    table = [line for line in out.splitlines() if line.startswith(("| Stack |", "| workload-"))]
    assert table == [
        "| Stack | Delete | No-op |",
        "| workload-destroy | 8 |  |",
        "| workload-same |  | 8 |",
        "| workload-outputs |  | 8 |",
    ], "columns that are 0 for every stack are left out, cells that are 0 left empty"
    assert re.findall(r"\b0 to \w+", out) == ["0 to add", "0 to change"], "only in terraform's Plan line"
    assert not re.search(r"\b0 \w", out.replace("0 to add, 0 to change", ""))


def test_destruction_is_flagged_at_the_top(plans, capsys):
    _, out = summarize(plans["changes"], plans["no-changes"], plans["destroy"], capsys=capsys)
    assert out.split("\n\n")[1] == (
        "> [!CAUTION]\n> **Resources will be destroyed:** workload-dev deletes 1 and replaces 2; workload-destroy deletes 8."
    )


def test_no_destruction_no_warning(plans, capsys):
    _, out = summarize(plans["no-changes"], plans["outputs-only"], plans["refresh-moved"], capsys=capsys)
    assert "[!CAUTION]" not in out and "destroyed" not in out


def test_a_data_source_leaving_the_state_destroys_nothing(changes):
    # terraform writes a delete for a data source leaving the state and shows nothing for it: no object is destroyed.
    gone = dataclasses.replace(change_named(changes, "data.terraform_remote_state.later"), actions=("delete",))
    assert gone.mode == "data" and not gone.destructive
    stack = summary.StackPlan("workload-dev", "x.json", "1.11.4", False, True, (gone,))
    assert "[!CAUTION]" not in summary.render_markdown([stack])


def test_json_output(plans, capsys):
    names = ("--name", "dev", "--name", "same")
    _, out = summarize("--format", "json", *names, plans["changes"], plans["no-changes"], capsys=capsys)
    stacks = json.loads(out)["stacks"]
    assert [stack["name"] for stack in stacks] == ["dev", "same"]
    dev = stacks[0]
    assert dev["counts"] == EXPECTED_COUNTS
    assert dev["verdict"].startswith("dev: Plan: 1 to import, 4 to add, 2 to change, 3 to destroy.")
    assert dev["destructive"] == ["terraform_data.deleted", "terraform_data.replaced", "terraform_data.replaced_cbd"]
    assert dev["security"] == []
    assert dev["forgotten"] == ["terraform_data.kept"]
    assert {"name": "token", "action": "update", "sensitive": True} in dev["outputs"]
    assert {"name": "changed", "action": "update", "sensitive": False} in dev["outputs"]
    assert stacks[1]["destructive"] == []


@pytest.mark.parametrize(
    ("plan", "flags", "expected"),
    [
        ("destroy", ["--fail-on-destroy"], 3),
        ("changes", ["--fail-on-destroy"], 3),
        ("destroy", [], 0),
        ("no-changes", ["--fail-on-destroy"], 0),
    ],
)
def test_fail_on_destroy_exit_codes(plans, plan, flags, expected):
    result = run_cli(*flags, plans[plan])
    assert result.returncode == expected, result.stderr
    assert result.stdout.startswith(summary.MARKER)
    assert result.stderr == ""


def test_forget_alone_does_not_fail_on_destroy(plans, tmp_path):
    document = json.loads(plans["changes"].read_text())
    document["resource_changes"] = [e for e in document["resource_changes"] if e["change"]["actions"] == ["forget"]]
    plan = tmp_path / "workload-forget.plan.json"
    plan.write_text(json.dumps(document))
    result = run_cli("--fail-on-destroy", plan)
    assert result.returncode == 0, result.stderr
    assert "- **workload-forget**: Plan: 0 to add, 0 to change, 0 to destroy. 1 to forget (left running), " in result.stdout


# ------------------------------------------------------------------------------ made from a real entry


def retyped(stack: summary.StackPlan, address: str, resource_type: str, mode: str = "managed"):
    return dataclasses.replace(change_named(stack, address), resource_type=resource_type, mode=mode)


@pytest.mark.parametrize(
    ("resource_type", "address", "sensitive"),
    [
        ("aws_iam_role", "terraform_data.updated", True),
        ("aws_iam_role_policy_attachment", "terraform_data.created", True),
        ("aws_kms_key", "terraform_data.replaced", True),
        ("aws_s3_bucket_policy", "terraform_data.updated", True),
        ("aws_s3_bucket_public_access_block", "terraform_data.deleted", True),
        ("aws_codepipeline", "terraform_data.updated", True),
        ("aws_codebuild_project", "terraform_data.created", True),
        ("aws_security_group_rule", "terraform_data.created", True),
        ("aws_vpc_security_group_ingress_rule", "terraform_data.kept", True),
        ("aws_iam_role", "terraform_data.unchanged", False),  # no-op
        ("aws_iam_role", "terraform_data.new_name", False),  # moved, but no-op
        ("aws_s3_bucket", "terraform_data.updated", False),
        ("aws_cloudwatch_log_group", "terraform_data.created", False),
    ],
)
def test_security_sensitive_changes(changes, resource_type, address, sensitive):
    assert retyped(changes, address, resource_type).security_sensitive is sensitive


def test_a_deferred_data_read_is_never_security_sensitive(changes):
    assert not retyped(changes, "data.terraform_remote_state.later", "aws_iam_policy_document", mode="data").security_sensitive


def test_security_section_in_markdown_and_json(plans, tmp_path, capsys):
    document = json.loads(plans["changes"].read_text())
    for entry in document["resource_changes"]:
        if entry["address"] == "terraform_data.updated":
            entry["type"], entry["address"] = "aws_iam_role", "aws_iam_role.deploy"
    plan = tmp_path / "workload-sec.plan.json"
    plan.write_text(json.dumps(document))
    _, out = summarize(plan, capsys=capsys)
    assert table_rows(out, "#### Security-sensitive (1)") == ["| `aws_iam_role.deploy` | `aws_iam_role` | update |"]
    _, json_out = summarize("--format", "json", plan, capsys=capsys)
    assert json.loads(json_out)["stacks"][0]["security"] == ["aws_iam_role.deploy"]


def test_drift_is_reported(plans, tmp_path, capsys):
    # terraform_data cannot drift (its refresh returns the stored state), so the resource_drift
    # entries are real resource_changes entries with the actions terraform writes for drift.
    document = json.loads(plans["changes"].read_text())
    entries = {entry["address"]: copy.deepcopy(entry) for entry in document["resource_changes"]}
    deleted, updated = entries["terraform_data.unchanged"], entries["terraform_data.updated"]
    deleted["change"]["actions"], updated["change"]["actions"] = ["delete"], ["update"]
    document["resource_drift"] = [deleted, updated]
    # terraform lists the drift that matters to the plan in relevant_attributes (and shows only that).
    document["relevant_attributes"] = [{"resource": address, "attribute": []} for address in (deleted["address"], updated["address"])]
    plan = tmp_path / "workload-drift.plan.json"
    plan.write_text(json.dumps(document))
    stack = summary.load_plan(plan, "workload-drift")
    assert summary.verdict(stack).endswith(" 2 resources changed outside Terraform.")
    _, out = summarize(plan, capsys=capsys)
    assert table_rows(out, "#### Changed outside Terraform (drift) (2)") == [
        "| `terraform_data.unchanged` | deleted outside Terraform |",
        "| `terraform_data.updated` | changed outside Terraform |",
    ]
    _, json_out = summarize("--format", "json", plan, capsys=capsys)
    assert json.loads(json_out)["stacks"][0]["drift"][0] == {"address": "terraform_data.unchanged", "action": "delete"}


def test_drift_that_matters_to_no_planned_change_is_not_reported_as_terraform_does(plans, tmp_path):
    """A refresh also finds attributes that merely changed form (an S3 bucket's computed ``versioning`` once
    its versioning resource exists): terraform shows only drift in ``relevant_attributes``; so does the summary."""
    document = json.loads(plans["changes"].read_text())
    entry = copy.deepcopy(next(e for e in document["resource_changes"] if e["address"] == "terraform_data.updated"))
    entry["change"]["actions"] = ["update"]
    document["resource_drift"], document["relevant_attributes"] = [entry], []
    plan = tmp_path / "workload-quiet.plan.json"
    plan.write_text(json.dumps(document))
    stack = summary.load_plan(plan, "workload-quiet")
    assert stack.drift == () and "outside Terraform" not in summary.verdict(stack)
    # A refresh-only plan plans no resource: all its drift is news, whatever relevant_attributes says.
    document["resource_changes"] = []
    plan.write_text(json.dumps(document))
    assert [change.address for change in summary.load_plan(plan, "workload-quiet").drift] == ["terraform_data.updated"]


def test_a_refresh_only_move_is_shown_as_a_move(plans, capsys):
    stack = summary.load_plan(plans["refresh-moved"], "workload-moved")
    (moved,) = stack.drift
    assert moved.actions == ("no-op",) and moved.previous_address == "terraform_data.old_name"
    assert summary.verdict(stack) == "workload-moved: No changes. 1 move to record in the state."
    _, out = summarize(plans["refresh-moved"], capsys=capsys)
    assert table_rows(out, "#### Changed outside Terraform (drift) (1)") == [
        "| `terraform_data.new_name` | moved from `terraform_data.old_name` |"
    ]
    assert "no-op" not in out
    _, json_out = summarize("--format", "json", plans["refresh-moved"], capsys=capsys)
    assert json.loads(json_out)["stacks"][0]["drift"] == [
        {"address": "terraform_data.new_name", "action": "no-op", "moved_from": "terraform_data.old_name"}
    ]


def test_a_deposed_object_states_why_it_is_destroyed(plans, tmp_path, capsys):
    # A deposed object is the old half of a create_before_destroy replace whose destroy failed; terraform_data
    # cannot fail to be destroyed, so a real entry gets what terraform writes for one: a deposed key, a delete,
    # no reason and no replace paths.
    document = json.loads(plans["changes"].read_text())
    (entry,) = [e for e in document["resource_changes"] if e["address"] == "terraform_data.replaced_cbd"]
    entry["deposed"], entry["change"]["actions"] = "00000001", ["delete"]
    del entry["action_reason"], entry["change"]["replace_paths"]
    plan = tmp_path / "workload-deposed.plan.json"
    plan.write_text(json.dumps(document))
    _, out = summarize(plan, capsys=capsys)
    assert table_rows(out, "#### Destroyed or replaced") == [
        "| `terraform_data.deleted` | delete | removed from configuration |  |",
        "| `terraform_data.replaced` | replace (delete, then create) | cannot update in place | `triggers_replace` |",
        "| `terraform_data.replaced_cbd` (deposed object `00000001`) | delete | "
        "left over from a partially-failed replacement of this instance |  |",
    ]


def test_create_then_forget_counts_as_forget(changes):
    # ["create","forget"] needs a replace of an object that must not be destroyed; terraform_data
    # cannot be set up for it, so a real replace entry gets those actions.
    change = dataclasses.replace(change_named(changes, "terraform_data.replaced"), actions=("create", "forget"))
    assert change.kind is summary.Kind.FORGET
    assert not change.destructive


def test_addresses_with_pipes_and_backticks_keep_the_table_intact(changes):
    odd = dataclasses.replace(change_named(changes, "terraform_data.deleted"), address='terraform_data.x["a|b`c"]')
    stack = summary.StackPlan("odd|name", "odd.json", "1.11.4", False, True, (odd,))
    markdown = summary.render_markdown([stack])
    row = table_rows(markdown, "#### Destroyed or replaced (1)")[0]
    assert row == '| ``terraform_data.x["a\\|b`c"]`` | delete | removed from configuration |  |'
    assert len(re.split(r"(?<!\\)\|", row)) == 6  # 4 cells between 5 unescaped pipes
    assert "- **odd\\|name**: Plan: 0 to add, 0 to change, 1 to destroy." in markdown


# ------------------------------------------------------------------------------ size limit


@pytest.fixture(scope="module")
def huge_plan(plans, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("huge") / "workload-huge.plan.json"
    path.write_text(json.dumps(replicate_plan(json.loads(plans["changes"].read_text()), 6_000)))
    return path


def test_a_huge_plan_is_cut_to_the_limit_and_keeps_its_summary(huge_plan, capsys):
    code, out = summarize(huge_plan, capsys=capsys)
    assert code == 0
    assert len(out) <= summary.DEFAULT_MAX_CHARS
    assert out.startswith(summary.MARKER + "\n## Terraform plan summary")
    stack = summary.load_plan(huge_plan, "workload-huge")
    counts = stack.counts()
    assert sum(counts[key] for key in ("create", "update", "replace", "delete", "forget", "read", "no-op")) == 6_000
    added = counts["create"] + counts["replace"]
    assert f"- **workload-huge**: Plan: {counts['import']:,} to import, {added:,} to add, {counts['update']:,} to change" in out
    cut = re.search(r"> Cut to fit 65,000 characters: ([\d,]+) of ([\d,]+) table rows are not shown", out)
    assert cut and 0 < int(cut[1].replace(",", "")) < int(cut[2].replace(",", ""))
    assert re.search(r"\n_Per-resource changes in workload-huge \([\d,]+\) cut to fit the size limit._\n", out)
    assert "<details>" not in out, "no details block is left without rows"


def test_details_are_cut_before_the_destructive_list(huge_plan, capsys):
    _, out = summarize(huge_plan, capsys=capsys)
    destructive = table_rows(out, "#### Destroyed or replaced")
    assert destructive, "the destructive list lost every row"
    assert re.search(r"\n\n_[\d,]+ more rows cut to fit the size limit._", out)
    # Once the destructive list is cut, less important tables keep no rows, even short ones.
    assert "#### Output changes (4)\n\n_4 rows cut to fit the size limit._" in out


@pytest.mark.parametrize("max_chars", [2_000, 10_000, 30_000])
def test_smaller_limits_are_respected(huge_plan, max_chars, capsys):
    _, out = summarize("--max-chars", max_chars, huge_plan, capsys=capsys)
    assert len(out) <= max_chars
    assert "- **workload-huge**: Plan: " in out
    assert f"Cut to fit {max_chars:,} characters" in out


def test_every_cut_keeps_within_the_limit_and_leaves_no_empty_block(plans):
    stacks = [summary.load_plan(plans[name], name) for name in ("changes", "errored")]
    full = len(summary.render_markdown(stacks))
    cuts = 0
    for limit in range(full - 1, 0, -17):
        try:
            out = summary.render_markdown(stacks, limit)
        except UserError:
            break
        cuts += 1
        assert len(out) <= limit
        for block in re.findall(r"<details>.*?</details>", out, re.S):
            assert re.search(r"^\| `", block, re.M), f"--max-chars {limit}: a details block without rows"
        assert not re.search(r"\b1 rows\b|\b1 more rows\b", out), f"--max-chars {limit}"
    assert cuts > 50


def test_a_limit_below_the_summary_is_a_user_error(plans):
    result = run_cli("--max-chars", "200", plans["changes"])
    assert result.returncode == 2
    assert result.stderr.startswith("provisioner: --max-chars 200 is too small for these plans: the summary alone needs")
    assert result.stdout == ""


def test_a_plan_that_fits_is_not_cut(changes):
    markdown = summary.render_markdown([changes])
    assert "Cut to fit" not in markdown and "rows cut" not in markdown


# ------------------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("cdktf.out/stacks/workload-dev/plan.json", "workload-dev"),
        ("workload-dev.plan.json", "workload-dev"),
        ("plans/workload-prod.tfplan.json", "workload-prod"),
        ("plans/workload-prod.json", "workload-prod"),
        ("stacks/devops/tfplan.json", "devops"),
    ],
)
def test_stack_name_from_path(path, name):
    assert summary.stack_name(Path(path)) == name


def test_two_files_with_one_stack_name_need_names():
    paths = [Path("a/workload/plan.json"), Path("b/workload/plan.json")]
    with pytest.raises(UserError, match=r"^a/workload/plan.json and b/workload/plan.json: both are stack \"workload\""):
        summary.stack_names(paths)
    assert summary.stack_names(paths, ["one", "two"]) == ["one", "two"]


def test_names_must_match_the_files():
    with pytest.raises(UserError, match="--name given 1 times for 2 plan files"):
        summary.stack_names([Path("a.json"), Path("b.json")], ["a"])


# ------------------------------------------------------------------------------ standard input


def test_a_dash_reads_the_plan_from_standard_input(plans, tmp_path):
    from_file = run_cli("--format", "json", plans["changes"])
    stack_dir = tmp_path / "stacks" / "workload-dev"
    stack_dir.mkdir(parents=True)
    piped = run_cli("--format", "json", "-", stdin=plans["changes"].read_text(), cwd=stack_dir)
    assert piped.returncode == 0, piped.stderr
    (stack,) = json.loads(piped.stdout)["stacks"]
    assert stack["file"] == "-"
    assert stack["name"] == "workload-dev", "named after the current folder, as a generic plan.json is after its own"
    assert {**stack, "file": ""} == {**json.loads(from_file.stdout)["stacks"][0], "file": ""}


def test_standard_input_with_a_name_and_other_files(plans):
    result = run_cli("--format", "headline", "--name", "piped", "--name", "same", "-", plans["no-changes"], stdin=plans["changes"].read_text())
    assert result.returncode == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["piped", "same"]


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["-"], "", "standard input: empty; expected the output of `terraform show -json <planfile>` (did terraform show fail?)"),
        (["-"], "{", "standard input: not JSON (Expecting property name enclosed in double quotes at line 1 column 2); expected the output of `terraform show -json <planfile>`"),
        (["-"], "PK\x03\x04 binary", "standard input: a binary plan file, not JSON; pipe `terraform show -json <planfile>` instead"),
        (["--name", "a", "--name", "b", "-", "-"], "{}", "- is given twice: standard input can be read once"),
    ],
)
def test_bad_standard_input_is_one_line_exit_2(argv, stdin, message):
    result = run_cli(*argv, stdin=stdin)
    assert result.returncode == 2
    assert result.stderr == f"provisioner: {message}\n"
    assert result.stdout == ""


# ------------------------------------------------------------------------------ bad files


def plan_with(**changes) -> str:
    return json.dumps({"format_version": "1.2", "planned_values": {}, **changes})


BAD_FILES = [
    ("missing", None, "no such file"),
    ("empty", "", "empty file; expected the output of `terraform show -json <planfile>`"),
    ("text", "Terraform will perform the following actions:", "not JSON (Expecting value at line 1 column 1)"),
    ("list", "[]", "a JSON array, not a terraform plan"),
    ("no-version", json.dumps({"resource_changes": []}), 'not a terraform plan: no "format_version" string'),
    (
        "state",
        json.dumps({"format_version": "1.0", "values": {}}),
        'terraform state, not a plan (it has "values", no "planned_values")',
    ),
    (
        "other-json",
        json.dumps({"format_version": "1.0", "name": "x"}),
        'not a terraform plan: no "planned_values" or "resource_changes"',
    ),
    ("format-2", plan_with(format_version="2.0"), 'plan format_version "2.0" is not supported'),
    ("changes-object", plan_with(resource_changes={}), 'plan: "resource_changes" must be a JSON array, found a JSON object'),
    (
        "no-actions",
        plan_with(resource_changes=[{"address": "a.b", "type": "a", "change": {}}]),
        "resource_changes[0] (a.b) change.actions: expected a list of strings, found null",
    ),
    (
        "unknown-actions",
        plan_with(resource_changes=[{"address": "a.b", "type": "a", "change": {"actions": ["delete", "explode"]}}]),
        'resource_changes[0] (a.b) change.actions: unknown actions ["delete", "explode"]',
    ),
    (
        "no-address",
        plan_with(resource_changes=[{"type": "a", "change": {"actions": ["create"]}}]),
        'resource_changes[0]: "address" must be a JSON string, found nothing',
    ),
    (
        "bad-output",
        plan_with(output_changes={"x": {"actions": "update"}}),
        'output_changes.x.actions: expected a list of strings, found "update"',
    ),
]


@pytest.mark.parametrize(("kind", "content", "message"), BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_files_exit_2_with_one_line_naming_the_file(tmp_path, kind, content, message):
    path = tmp_path / f"{kind}.json"
    if content is not None:
        path.write_text(content)
    result = run_cli(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"provisioner: {path}: ")
    assert message in result.stderr


def test_a_binary_plan_file_gets_the_command_to_convert_it(plans):
    result = run_cli(plans["binary"])
    assert result.returncode == 2
    assert result.stderr == (
        f"provisioner: {plans['binary']}: a binary plan file, not JSON; convert it with "
        f"`terraform show -json {plans['binary']} > plan.json`\n"
    )


def test_one_bad_file_among_good_ones_names_the_bad_one(plans, tmp_path):
    bad = tmp_path / "workload-bad.plan.json"
    bad.write_text("{")
    result = run_cli(plans["changes"], bad)
    assert result.returncode == 2
    assert result.stderr.startswith(f"provisioner: {bad}: not JSON")
    assert result.stdout == ""


# ------------------------------------------------------------------------------ the README


def test_the_readme_sample_is_what_the_command_prints(plans, capsys):
    """README.md's sample: parts of the command's output for two real plans, in order, a line ``...``
    standing for what is left out. Rewrite it from this output after a deliberate change."""
    sample = fenced("plan-summary-sample", "markdown")
    _, out = summarize("--name", "workload-dev", "--name", "workload-prod", plans["changes"], plans["no-changes"], capsys=capsys)
    assert out.startswith(sample.split("...\n")[0])
    position = 0
    for part in sample.split("...\n"):
        found = out.find(part, position)
        assert found >= 0, f"README.md's plan-summary sample is not the command's output from:\n{part}"
        position = found + len(part)


# ------------------------------------------------------------------------------ the CodeBuild contract


def test_the_bare_python3_has_no_site_packages(tmp_path):
    """The shim below stands for CodeBuild's python3 only if a package installed here is missing there."""
    assert subprocess.run([sys.executable, "-c", "import hcl2"], capture_output=True).returncode == 0
    result = subprocess.run([str(bare_python3(tmp_path / "bin")), "-c", "import hcl2"], capture_output=True, text=True)
    assert "No module named 'hcl2'" in result.stderr


def test_the_plan_builds_summary_commands_need_only_the_standard_library(plans, tmp_path):
    """The release plan build runs ``python3 -m provisioner plan-summary`` from the source, with no package
    installed. Its own commands, run by bash on a real plan through a python3 without site-packages: a
    third-party import (yaml, boto3, cdktf...) anywhere on the way to the command fails here as in CodeBuild."""
    bin_dir = tmp_path / "bin"
    bare_python3(bin_dir)
    stack = "workload-dev"
    spec = yaml.safe_load(buildspecs.plan(stack, "arn:aws:iam::222222222222:role/acme-plan-dev"))
    stack_dir = tmp_path / "cdktf.out" / "stacks" / stack
    stack_dir.mkdir(parents=True)
    shutil.copy(plans["changes"], stack_dir / buildspecs.PLAN_JSON)
    summary_commands = [command for command in spec["phases"]["build"]["commands"] if "provisioner plan-summary" in command]
    assert len(summary_commands) == 2, "the Markdown summary and the approval's headline"
    script = "\n".join(["set -e", *summary_commands, 'printf "%s\\n" "$PLAN_HEADLINE"'])
    env = {**spec["env"]["variables"], "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "CODEBUILD_SRC_DIR": str(REPO_ROOT)}
    result = subprocess.run(["bash", "-c", script], cwd=stack_dir, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    expected = summary.load_plan(plans["changes"], stack)
    assert (stack_dir / buildspecs.PLAN_SUMMARY).read_text() == summary.render_markdown([expected])
    assert result.stdout == summary.verdict(expected) + "\n"
