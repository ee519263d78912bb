"""Summaries of terraform plans, for a pull-request comment or a pipeline gate.

Reads what ``terraform show -json <planfile>`` prints (plan format 1.x), one file per stack, reduces
each to a :class:`StackPlan`, and renders the lot as GitHub Markdown (:func:`render_markdown`) or
JSON (:func:`render_json`).

Verdict
    Each stack's verdict starts with what terraform 1.11 itself prints for the plan: its
    ``Plan: 1 to import, 4 to add, 2 to change, 7 to destroy.`` line (:func:`plan_line`, counted as
    terraform counts), ``No changes.``, or ``Planning failed.`` for an errored plan with nothing
    planned. What that line leaves out (moves, forgets, reads during apply, output changes, drift)
    follows, counts of 0 left out.

Counting rules
    - The whole ``actions`` list is read: ``["delete", "create"]`` and ``["create", "delete"]`` are
      both one *replace* (counting ``actions[0]`` would call the second a create).
    - *import* (``change.importing`` is set) and *move* (``previous_address`` differs from
      ``address``) are counted on top of the action: a resource that is imported and updated counts
      once in ``import`` and once in ``update``, so the counts do not add up to the resources.
    - *read* (a data source whose read waits for apply) changes nothing: it has its own count (in the
      verdict and the table) and is not listed.
    - *forget* (a ``removed`` block with ``destroy = false``) takes the resource out of the state and
      leaves the real object running. It has its own count and section and is not destructive, so
      ``--fail-on-destroy`` ignores it. ``["create", "forget"]`` (replaced, old object left
      running) counts as a forget too.
    - *Destructive* means delete or replace of a managed resource, deposed objects included.
    - *Security-sensitive* means a managed resource whose type is in :data:`SECURITY_TYPES` or
      starts with one of :data:`SECURITY_TYPE_PREFIXES`, with any action but no-op and read.
    - An actions list terraform 1.x does not write is an error, never a guess.

Secrets
    No attribute value ever reaches the summary: only addresses, types, actions, reasons, output
    names and attribute *paths*. Sensitive variables, sensitive attributes and sensitive outputs
    therefore cannot leak, however (or whether) terraform marked them. ``variables`` is never read.

Recognising a plan
    A plan has ``format_version`` 1.x and ``planned_values`` or ``resource_changes``. A plan of a
    configuration without resources has no ``resource_changes`` at all, so that key cannot be required.
    ``terraform show -json`` of a *state* has ``values`` instead and is rejected with that explanation.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from provisioner.errors import UserError

MARKER = "<!-- pipeline-provisioner:plan-summary -->"
"""First line of every Markdown summary, so a bot can find and update its own PR comment."""

DEFAULT_MAX_CHARS = 65_000
"""GitHub caps a comment at 65,536 characters; this leaves room for a bot's own footer."""

SECURITY_TYPE_PREFIXES = (
    "aws_iam_",  # roles, policies, attachments, users, access keys, OIDC providers
    "aws_kms_",  # keys, aliases, grants, key policies
    "aws_codepipeline",  # pipelines, webhooks, custom action types
    "aws_codebuild_",  # projects, source credentials, webhooks, resource policies
    "aws_codestarconnections_",  # connections grant access to source repositories
    "aws_security_group",  # groups and aws_security_group_rule
    "aws_vpc_security_group_",  # ingress and egress rules (aws provider 5.x)
)
SECURITY_TYPES = frozenset(
    {
        "aws_default_security_group",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_account_public_access_block",
        "aws_s3_bucket_acl",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_sns_topic_policy",
        "aws_sqs_queue_policy",
        "aws_secretsmanager_secret_policy",
        "aws_lambda_permission",
    }
)


class Kind(StrEnum):
    """What a change does to one object; the value is its key in :meth:`StackPlan.counts`."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    FORGET = "forget"
    READ = "read"
    NO_OP = "no-op"


ACTIONS: dict[tuple[str, ...], tuple[Kind, str]] = {
    ("no-op",): (Kind.NO_OP, "no-op"),
    ("create",): (Kind.CREATE, "create"),
    ("read",): (Kind.READ, "read"),
    ("update",): (Kind.UPDATE, "update"),
    ("delete", "create"): (Kind.REPLACE, "replace (delete, then create)"),
    ("create", "delete"): (Kind.REPLACE, "replace (create, then delete)"),
    ("delete",): (Kind.DELETE, "delete"),
    ("forget",): (Kind.FORGET, "forget (left running, removed from state)"),
    ("create", "forget"): (Kind.FORGET, "replace (create, then forget the old object)"),
}
"""Every actions list terraform 1.x writes, with its kind and how the summary says it."""

COUNT_KEYS = ("create", "update", "replace", "delete", "import", "move", "forget", "read", "no-op")

REASONS = {
    "replace_because_tainted": "tainted",
    "replace_because_cannot_update": "cannot update in place",
    "replace_by_request": "-replace requested",
    "replace_by_triggers": "replace_triggered_by",
    "delete_because_no_resource_config": "removed from configuration",
    "delete_because_no_module": "module removed",
    "delete_because_wrong_repetition": "count/for_each added or removed",
    "delete_because_count_index": "count index out of range",
    "delete_because_each_key": "for_each key removed",
    "delete_because_no_move_target": "moved to an address not in configuration",
    "read_because_config_unknown": "configuration known only at apply",
    "read_because_dependency_pending": "depends on pending changes",
    "read_because_check_nested": "check block",
}
"""``action_reason`` codes in words; an unknown code is shown as it is."""

DEPOSED_REASON = "left over from a partially-failed replacement of this instance"
"""Why a deposed object is there, in terraform's words (it writes no ``action_reason`` for one)."""

GENERIC_PLAN_FILE_NAMES = frozenset({"plan", "tfplan", "terraform", "show"})

STDIN = Path("-")
"""The plan file name that stands for standard input (``terraform show -json tfplan | ... -``)."""

# Most important first: when the comment is too long, later kinds lose rows first.
_DETAIL_ORDER = (Kind.DELETE, Kind.REPLACE, Kind.FORGET, Kind.UPDATE, Kind.CREATE, Kind.NO_OP)
_PATHS_SHOWN = 8
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class _Malformed(ValueError):
    """A part of a plan document that is not what terraform writes; the message says which."""


@dataclass(frozen=True)
class ResourceChange:
    """One entry of ``resource_changes`` or ``resource_drift``, without any attribute value.

    ``actions`` is a key of :data:`ACTIONS`; ``previous_address`` is set by a ``moved`` block;
    ``importing`` is True when an ``import`` block brings the object in; ``deposed`` is the key of
    an old object left over from a create-before-destroy replace; ``replace_paths`` are the
    attributes forcing a replace, as ``ingress[0].cidr_blocks``; ``changed_paths``, for an update,
    the attributes it changes (see :func:`changed_paths`).
    """

    address: str
    resource_type: str
    actions: tuple[str, ...]
    mode: str = "managed"
    previous_address: str | None = None
    importing: bool = False
    deposed: str | None = None
    action_reason: str | None = None
    replace_paths: tuple[str, ...] = ()
    changed_paths: tuple[str, ...] = ()

    @property
    def kind(self) -> Kind:
        return ACTIONS[self.actions][0]

    @property
    def label(self) -> str:
        """How the summary says the action; a no-op that moves or imports the object is that move or import."""
        if self.kind is Kind.NO_OP and (self.moved or self.importing):
            return " and ".join(name for name, done in (("move", self.moved), ("import", self.importing)) if done)
        return ACTIONS[self.actions][1]

    @property
    def moved(self) -> bool:
        return self.previous_address is not None and self.previous_address != self.address

    @property
    def destructive(self) -> bool:
        """A delete or replace of a managed object: a data source leaving the state destroys nothing."""
        return self.mode == "managed" and self.kind in (Kind.DELETE, Kind.REPLACE)

    @property
    def security_sensitive(self) -> bool:
        return self.mode == "managed" and self.kind not in (Kind.NO_OP, Kind.READ) and is_security_type(self.resource_type)

    @property
    def reason(self) -> str:
        reasons = [REASONS.get(self.action_reason, self.action_reason)] if self.action_reason else []
        return "; ".join(reasons + [DEPOSED_REASON] if self.deposed else reasons)


@dataclass(frozen=True)
class OutputChange:
    """One entry of ``output_changes``: the output's name and actions, never its value."""

    name: str
    actions: tuple[str, ...]
    sensitive: bool = False

    @property
    def kind(self) -> Kind:
        return ACTIONS[self.actions][0]


@dataclass(frozen=True)
class StackPlan:
    """The summary of one stack's plan.

    ``source`` is the file it was read from; ``errored`` and ``applyable`` are terraform's own flags
    (an errored plan is incomplete); ``outputs`` holds every output, no-ops included.
    """

    name: str
    source: str
    terraform_version: str
    errored: bool
    applyable: bool
    changes: tuple[ResourceChange, ...]
    outputs: tuple[OutputChange, ...] = ()
    drift: tuple[ResourceChange, ...] = ()

    def counts(self) -> dict[str, int]:
        """Resources per :data:`COUNT_KEYS` key (see the module docstring for the rules)."""
        counts = dict.fromkeys(COUNT_KEYS, 0)
        for change in self.changes:
            counts[change.kind.value] += 1
            counts["import"] += change.importing
            counts["move"] += change.moved
        return counts

    @property
    def destructive(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changes if change.destructive)

    @property
    def security(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changes if change.security_sensitive)

    @property
    def forgotten(self) -> tuple[ResourceChange, ...]:
        return tuple(change for change in self.changes if change.kind is Kind.FORGET)

    @property
    def changed_outputs(self) -> tuple[OutputChange, ...]:
        return tuple(output for output in self.outputs if output.kind is not Kind.NO_OP)

    @property
    def listed_changes(self) -> tuple[ResourceChange, ...]:
        """The details list: every change but plain no-ops and reads, most destructive first."""
        listed = [c for c in self.changes if c.kind is not Kind.READ and (c.kind is not Kind.NO_OP or c.moved or c.importing)]
        return tuple(sorted(listed, key=lambda change: _DETAIL_ORDER.index(change.kind)))

    @property
    def has_changes(self) -> bool:
        counts = self.counts()
        resource_keys = ("create", "update", "replace", "delete", "import", "move", "forget")
        return any(counts[key] for key in resource_keys) or bool(self.changed_outputs)


def is_security_type(resource_type: str) -> bool:
    """True for resource types whose changes a security reviewer should see (module constants)."""
    return resource_type in SECURITY_TYPES or resource_type.startswith(SECURITY_TYPE_PREFIXES)


# ---------------------------------------------------------------------------------------- reading


def stack_name(path: Path) -> str:
    """The stack a plan file belongs to: its file name, or its folder's for a generic file name.

    ``workload-dev.plan.json`` -> ``workload-dev``; ``cdktf.out/stacks/workload-dev/plan.json``
    -> ``workload-dev``; standard input (``-``), like a generic file name, takes the current folder's.
    """
    if path == STDIN:
        return Path.cwd().name
    name = path.name.removesuffix(".json")
    for suffix in (".plan", ".tfplan"):
        name = name.removesuffix(suffix)
    if name and name.lower() not in GENERIC_PLAN_FILE_NAMES:
        return name
    return path.parent.name or path.resolve().parent.name


def stack_names(paths: Sequence[Path], names: Sequence[str] | None = None) -> list[str]:
    """One distinct stack name per plan file: ``names`` (once per file, in order) or derived ones."""
    if names:
        if len(names) != len(paths):
            raise UserError(f"--name given {len(names)} times for {len(paths)} plan files: give it once per file, in order")
        chosen = list(names)
    else:
        chosen = [stack_name(path) for path in paths]
    first_file: dict[str, Path] = {}
    for path, name in zip(paths, chosen):
        if name in first_file:
            raise UserError(
                f"{first_file[name]} and {path}: both are stack \"{name}\"; name the stacks with --name, once per file in order"
            )
        first_file[name] = path
    return chosen


def load_plan(path: Path, name: str) -> StackPlan:
    """Read and summarize one ``terraform show -json`` file (:data:`STDIN`: standard input); a
    :class:`UserError` names what is wrong."""
    return parse_plan(read_json(path), name=name, source=str(path))


def read_json(path: Path) -> object:
    """The JSON document in ``path`` or, for :data:`STDIN`, standard input; a one-line
    :class:`UserError` when there is none."""
    shown = describe_source(str(path))
    expected = "expected the output of `terraform show -json <planfile>`"
    if path == STDIN:
        data = sys.stdin.buffer.read()
        empty, convert = "empty", "pipe `terraform show -json <planfile>` instead"
    else:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise UserError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise UserError(f"{path}: is a directory; {expected}") from None
        except OSError as error:
            raise UserError(f"{path}: cannot read ({error.strerror})") from None
        empty, convert = "empty file", f"convert it with `terraform show -json {path} > plan.json`"
    if not data.strip():
        raise UserError(f"{shown}: {empty}; {expected} (did terraform show fail?)")
    if data.startswith(b"PK\x03\x04"):
        raise UserError(f"{shown}: a binary plan file, not JSON; {convert}")
    try:
        return json.loads(data)
    except UnicodeDecodeError:
        raise UserError(f"{shown}: not UTF-8 text; {expected}") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{shown}: not JSON ({error.msg} at line {error.lineno} column {error.colno}); {expected}") from None


def describe_source(source: str) -> str:
    """How errors name a plan's source: its path, or "standard input" for ``-``."""
    return "standard input" if source == str(STDIN) else source


def parse_plan(document: object, *, name: str, source: str) -> StackPlan:
    """Summarize a decoded ``terraform show -json`` plan; ``source`` names it in errors."""
    try:
        plan = _plan_object(document)
        errored = _optional(plan, "errored", bool, "plan", False)
        changes = _parse_resource_list(plan, "resource_changes")
        return StackPlan(
            name=name,
            source=source,
            terraform_version=_optional(plan, "terraform_version", str, "plan", ""),
            errored=errored,
            applyable=_optional(plan, "applyable", bool, "plan", not errored),
            changes=changes,
            outputs=_parse_outputs(_optional(plan, "output_changes", dict, "plan", {})),
            drift=_relevant_drift(plan, changes),
        )
    except _Malformed as error:
        raise UserError(f"{describe_source(source)}: {error}") from None


def _relevant_drift(plan: dict, changes: tuple[ResourceChange, ...]) -> tuple[ResourceChange, ...]:
    """The drift terraform itself reports. A normal plan lists every resource in ``resource_changes`` and
    shows only the drift that matters to what it plans (``relevant_attributes``): a refresh also finds
    attributes that merely changed form, such as a bucket's computed ``versioning`` once its
    versioning resource exists. A refresh-only plan plans no resource, and every drift is its news."""
    drift = _parse_resource_list(plan, "resource_drift")
    if not changes:
        return drift
    relevant = {
        entry.get("resource") for entry in _optional(plan, "relevant_attributes", list, "plan", []) if isinstance(entry, dict)
    }
    return tuple(change for change in drift if change.address in relevant)


def _plan_object(document: object) -> dict:
    show = "`terraform show -json <planfile>`"
    if not isinstance(document, dict):
        raise _Malformed(f"a JSON {_json_type(document)}, not a terraform plan; expected the object {show} prints")
    version = document.get("format_version")
    if not isinstance(version, str):
        raise _Malformed(f'not a terraform plan: no "format_version" string; expected the output of {show}')
    if version.split(".")[0] != "1":
        raise _Malformed(f'plan format_version "{version}" is not supported: this summary reads format 1.x')
    if "planned_values" not in document and "resource_changes" not in document:
        if "values" in document:
            raise _Malformed(
                f'terraform state, not a plan (it has "values", no "planned_values"); run {show} on the saved plan'
            )
        raise _Malformed(f'not a terraform plan: no "planned_values" or "resource_changes"; expected the output of {show}')
    return document


def _parse_resource_list(document: dict, key: str) -> tuple[ResourceChange, ...]:
    entries = _optional(document, key, list, "plan", [])
    return tuple(_parse_resource_change(entry, f"{key}[{index}]") for index, entry in enumerate(entries))


def _parse_resource_change(entry: object, where: str) -> ResourceChange:
    if not isinstance(entry, dict):
        raise _Malformed(f"{where}: a JSON {_json_type(entry)}, expected an object")
    address = _required(entry, "address", str, where)
    where = f"{where} ({address})"
    change = _required(entry, "change", dict, where)
    deposed = _optional(entry, "deposed", str, where, None)
    actions = _parse_actions(change.get("actions"), f"{where} change.actions")
    return ResourceChange(
        address=address,
        resource_type=_required(entry, "type", str, where),
        actions=actions,
        mode=_optional(entry, "mode", str, where, "managed"),
        previous_address=_optional(entry, "previous_address", str, where, None),
        importing=change.get("importing") is not None,
        deposed=deposed,
        action_reason=_optional(entry, "action_reason", str, where, None),
        replace_paths=tuple(_format_path(path, f"{where} change.replace_paths") for path in change.get("replace_paths") or []),
        changed_paths=changed_paths(change) if ACTIONS[actions][0] is Kind.UPDATE else (),
    )


def changed_paths(change: dict) -> tuple[str, ...]:
    """The attributes an update changes, as terraform's plan shows them, by path and never by value.

    A path is listed when its value differs, when it is known only after apply, or when it becomes
    or stops being sensitive. The walk goes into objects, and into lists whose length stays the same;
    it stops at a sensitive value, so the keys of a sensitive map are not shown either.
    """
    found: list[list[str | int]] = []
    markers = (change.get("after_unknown"), change.get("before_sensitive"), change.get("after_sensitive"))
    _walk_changes([], change.get("before"), change.get("after"), markers, found)
    return tuple(_format_path(path, "change") for path in found if path)


def _walk_changes(path: list[str | int], before: object, after: object, markers: tuple, found: list) -> None:
    """``markers`` are the after_unknown, before_sensitive and after_sensitive trees at ``path``."""
    unknown, before_sensitive, after_sensitive = markers
    if before == after and before_sensitive == after_sensitive and not _marks_unknown(unknown):
        return  # most of a resource is unchanged: one comparison instead of a walk through it
    if any(marker is True for marker in markers):
        if unknown is True or before != after or before_sensitive != after_sensitive:
            found.append(path)
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(before.keys() | after.keys()):
            _walk_changes([*path, key], before.get(key), after.get(key), tuple(_marker(m, key) for m in markers), found)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            _walk_changes([*path, index], old, new, tuple(_marker(m, index) for m in markers), found)
    elif before != after:
        found.append(path)


def _marks_unknown(unknown: object) -> bool:
    if isinstance(unknown, dict):
        return any(_marks_unknown(value) for value in unknown.values())
    if isinstance(unknown, list):
        return any(_marks_unknown(value) for value in unknown)
    return unknown is True


def _marker(marker: object, step: str | int) -> object:
    """The part of an after_unknown or *_sensitive tree under ``step`` (None where it marks nothing)."""
    if isinstance(marker, dict) and isinstance(step, str):
        return marker.get(step)
    if isinstance(marker, list) and isinstance(step, int) and step < len(marker):
        return marker[step]
    return None


def _parse_outputs(output_changes: dict) -> tuple[OutputChange, ...]:
    outputs = []
    for name, change in output_changes.items():
        where = f"output_changes.{name}"
        if not isinstance(change, dict):
            raise _Malformed(f"{where}: a JSON {_json_type(change)}, expected an object")
        sensitive = change.get("before_sensitive") is True or change.get("after_sensitive") is True
        outputs.append(OutputChange(name, _parse_actions(change.get("actions"), f"{where}.actions"), sensitive))
    return tuple(outputs)


def _parse_actions(actions: object, where: str) -> tuple[str, ...]:
    if not isinstance(actions, list) or not all(isinstance(action, str) for action in actions):
        raise _Malformed(f"{where}: expected a list of strings, found {json.dumps(actions)}")
    if tuple(actions) not in ACTIONS:
        raise _Malformed(f"{where}: unknown actions {json.dumps(actions)} (terraform 1.x writes {_known_actions()})")
    return tuple(actions)


def _format_path(steps: object, where: str) -> str:
    """``["ingress", 0, "cidr_blocks"]`` -> ``ingress[0].cidr_blocks``: attribute names, never values."""
    if not isinstance(steps, list) or not all(isinstance(step, (str, int)) for step in steps):
        raise _Malformed(f"{where}: expected lists of attribute names and indexes, found {json.dumps(steps)}")
    text = ""
    for step in steps:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _IDENTIFIER.fullmatch(step):
            text += f".{step}" if text else step
        else:
            text += f"[{json.dumps(step)}]"
    return text


def _required(entry: dict, key: str, kind: type, where: str) -> Any:
    if not isinstance(entry.get(key), kind):
        found = "nothing" if key not in entry else f"a JSON {_json_type(entry[key])}"
        raise _Malformed(f'{where}: "{key}" must be a JSON {_json_type(kind())}, found {found}')
    return entry[key]


def _optional(entry: dict, key: str, kind: type, where: str, default: Any) -> Any:
    if entry.get(key) is None:
        return default
    return _required(entry, key, kind, where)


def _json_type(value: object) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _known_actions() -> str:
    return ", ".join(json.dumps(list(actions)) for actions in ACTIONS)


# ------------------------------------------------------------------------------------------- JSON


def render_json(stacks: Iterable[StackPlan]) -> str:
    """The machine-readable summary: ``{"stacks": [...]}`` (see :func:`stack_to_json`)."""
    return json.dumps({"stacks": [stack_to_json(stack) for stack in stacks]}, indent=2) + "\n"


def stack_to_json(stack: StackPlan) -> dict:
    """One stack: name, file, errored/applyable, verdict line, counts, and addresses worth a look."""
    return {
        "name": stack.name,
        "file": stack.source,
        "terraform_version": stack.terraform_version,
        "errored": stack.errored,
        "applyable": stack.applyable,
        "verdict": verdict(stack),
        "counts": stack.counts(),
        "destructive": [change.address for change in stack.destructive],
        "security": [change.address for change in stack.security],
        "forgotten": [change.address for change in stack.forgotten],
        "outputs": [
            {"name": output.name, "action": output.kind.value, "sensitive": output.sensitive} for output in stack.changed_outputs
        ],
        "drift": [_drift_to_json(change) for change in stack.drift],
    }


def _drift_to_json(change: ResourceChange) -> dict:
    found = {"address": change.address, "action": change.kind.value}
    return {**found, "moved_from": change.previous_address} if change.moved else found


# --------------------------------------------------------------------------------------- Markdown


@dataclass(frozen=True)
class _Table:
    """A Markdown table whose rows may be cut; ``priority`` 0 keeps its rows the longest.

    ``folded`` puts the table in a ``<details>`` block with that summary line. With every row cut,
    such a block would be empty, so ``folded_cut`` is written instead of it.
    """

    title: str
    header: str
    rows: tuple[str, ...]
    priority: int
    folded: str = ""
    folded_cut: str = ""

    def render(self, shown: int) -> str:
        total = len(self.rows)
        title = f"{self.title}\n\n" if self.title else ""
        if shown == 0:
            return self.folded_cut if self.folded else f"{title}_{_plural(total, 'row')} cut to fit the size limit._"
        text = title + self.header + "".join(f"\n{row}" for row in self.rows[:shown])
        if shown < total:
            text += f"\n\n_{_plural(total - shown, 'more row')} cut to fit the size limit._"
        return f"<details>\n<summary>{self.folded}</summary>\n\n{text}\n\n</details>" if self.folded else text


def render_markdown(stacks: Sequence[StackPlan], max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """A GitHub comment of at most ``max_chars`` characters, trailing newline included.

    When the whole text is longer, table rows are cut, the per-resource details first; headings,
    verdicts, the counts table and a note stating the cut always stay. A :class:`UserError` says
    when even those do not fit.
    """
    head = _summary_blocks(stacks)
    body = [block for stack in stacks for block in _stack_blocks(stack)]
    return _fit(head, body, max_chars) + "\n"


def verdict(stack: StackPlan) -> str:
    """One plain-text line, e.g. ``workload-prod: Plan: 1 to add, 0 to change, 1 to destroy. 1 to move.``"""
    alarm, rest = _verdict_parts(stack)
    return f"{stack.name}: {alarm}{rest}"


def plan_line(stack: StackPlan) -> str | None:
    """terraform's own ``Plan: ...`` line for this plan, or None where terraform 1.11 prints none.

    As terraform counts: a replace is one to add and one to destroy; move-only and import-only
    entries, reads and forgets make terraform print the line but count in none of its numbers; a
    data source's delete is not shown at all; the import part is there only when something is imported.
    """
    shown = [
        change
        for change in stack.changes
        if (change.kind is not Kind.NO_OP or change.moved or change.importing)
        and not (change.kind is Kind.DELETE and change.mode != "managed")
    ]
    if not shown:
        return None
    kinds = [change.kind for change in shown]
    replaced = kinds.count(Kind.REPLACE)
    numbers = f"{kinds.count(Kind.CREATE) + replaced:,} to add, {kinds.count(Kind.UPDATE):,} to change, "
    numbers += f"{kinds.count(Kind.DELETE) + replaced:,} to destroy."
    imported = sum(change.importing for change in shown)
    return f"Plan: {imported:,} to import, {numbers}" if imported else f"Plan: {numbers}"


_PLANNING_FAILED = ("Planning failed.", " Terraform encountered an error while generating this plan.")
"""What terraform prints, in two parts (the first is shown in bold), for an errored plan with nothing planned."""


def _verdict_parts(stack: StackPlan) -> tuple[str, str]:
    """(alarm, the rest): the alarm, for an errored plan only, is what the Markdown shows in bold.

    The first sentence is terraform's (its Plan line, "No changes." or "Planning failed."); a second
    one adds what that line leaves out, each count only when it is not 0.
    """
    line = plan_line(stack)
    counts = stack.counts()
    outputs = len(stack.changed_outputs)
    extras = [f"{counts['move']:,} to move"] if counts["move"] else []
    if counts["forget"]:
        extras.append(f"{counts['forget']:,} to forget (left running)")
    if counts["read"]:
        extras.append(f"{counts['read']:,} to read during apply")
    if line and outputs:
        extras.append(_plural(outputs, "output change"))
    changed_outside = sum(change.kind is not Kind.NO_OP for change in stack.drift)
    if changed_outside:
        extras.append(f"{_plural(changed_outside, 'resource')} changed outside Terraform")
    # A refresh-only plan lists a moved block's move as drift: applying it records the move, nothing changes.
    moves_found = sum(change.kind is Kind.NO_OP and change.moved for change in stack.drift)
    if moves_found:
        extras.append(f"{_plural(moves_found, 'move')} to record in the state")
    more = f" {', '.join(extras)}." if extras else ""
    if line:
        sentence = line
    elif outputs:
        sentence = f"{_plural(outputs, 'output change')}, without changing any real infrastructure."
    elif stack.errored:
        alarm, sentence = _PLANNING_FAILED
        return alarm, sentence + more
    else:
        sentence = "No changes."
    if stack.errored:
        return "Planning failed:", f" the plan is incomplete and cannot be applied. {sentence}{more}"
    return "", sentence + more


def _summary_blocks(stacks: Sequence[StackPlan]) -> list[str]:
    verdicts = [f"- **{_escape_text(stack.name)}**: {_verdict_markdown(stack)}" for stack in stacks]
    table = _counts_table(stacks) if len(stacks) > 1 else None
    return [
        f"{MARKER}\n## Terraform plan summary",
        *_destruction_warning(stacks),
        "\n".join(verdicts),
        *([table] if table else []),
        "_Attribute values are never shown here (some may be secrets): `terraform show <planfile>` has them._",
    ]


def _destruction_warning(stacks: Sequence[StackPlan]) -> list[str]:
    """A warning above everything else when any stack deletes or replaces something; else nothing."""
    found = []
    for stack in stacks:
        kinds = [change.kind for change in stack.destructive]
        actions = (("deletes", Kind.DELETE), ("replaces", Kind.REPLACE))
        done = [f"{verb} {kinds.count(kind):,}" for verb, kind in actions if kind in kinds]
        if done:
            found.append(f"{_escape_text(stack.name)} {' and '.join(done)}")
    return [f"> [!CAUTION]\n> **Resources will be destroyed:** {'; '.join(found)}."] if found else []


def _counts_table(stacks: Sequence[StackPlan]) -> str | None:
    """The stacks side by side; a column that is 0 for every stack is left out, a cell that is 0 left empty."""
    counts = [stack.counts() for stack in stacks]
    keys = [key for key in COUNT_KEYS if any(each[key] for each in counts)]
    if not keys:
        return None
    lines = ["| Stack | " + " | ".join(key.capitalize() for key in keys) + " |", "|:--" + "|--:" * len(keys) + "|"]
    for stack, each in zip(stacks, counts):
        lines.append(f"| {_escape_text(stack.name)} | " + " | ".join(f"{each[key]:,}" if each[key] else "" for key in keys) + " |")
    return "\n".join(lines)


def _verdict_markdown(stack: StackPlan) -> str:
    alarm, rest = _verdict_parts(stack)
    return (f"**{_escape_text(alarm)}**" if alarm else "") + _escape_text(rest)


def _stack_blocks(stack: StackPlan) -> list[str | _Table]:
    if not stack.has_changes and not stack.drift and not stack.errored:
        return []
    blocks: list[str | _Table] = [f"### {_escape_text(stack.name)}"]
    if stack.errored:
        partial = ": the changes below may be only part of it" if stack.has_changes else ""
        blocks.append(
            "> [!CAUTION]\n> **Terraform reported errors while planning this stack.** The plan is incomplete "
            f"and cannot be applied{partial}. The plan job's log has the errors."
        )
    sections = (
        (stack.destructive, "Destroyed or replaced", ("Resource", "Action", "Reason", "Forced by"), _destructive_row),
        (stack.security, "Security-sensitive", ("Resource", "Type", "Action"), _security_row),
        (stack.forgotten, "Removed from state, left running", ("Resource", "Action"), _forgotten_row),
        (stack.drift, "Changed outside Terraform (drift)", ("Resource", "Found"), _drift_row),
        (stack.changed_outputs, "Output changes", ("Output", "Action"), _output_row),
    )
    for priority, (items, title, columns, row) in enumerate(sections):
        if items:
            rows = tuple(row(item) for item in items)
            blocks.append(_Table(f"#### {title} ({len(items):,})", _header(columns), rows, priority))
    listed = stack.listed_changes
    if listed:
        unlisted = len(stack.changes) - len(listed)
        rows = tuple(_detail_row(change) for change in listed)
        folded = f"Per-resource changes in {_escape_html(stack.name)} ({len(listed):,}" + (
            f"; {unlisted:,} unchanged or read-only not listed)" if unlisted else ")"
        )
        cut = f"_Per-resource changes in {_escape_text(stack.name)} ({len(listed):,}) cut to fit the size limit._"
        header = _header(("Resource", "Action", "Attributes", "Notes"))
        blocks.append(_Table("", header, rows, len(sections), folded=folded, folded_cut=cut))
    return blocks


def _destructive_row(change: ResourceChange) -> str:
    return _row(_address_cell(change), change.label, change.reason, _paths_cell(change.replace_paths))


def _security_row(change: ResourceChange) -> str:
    return _row(_address_cell(change), _code(change.resource_type), change.label)


def _forgotten_row(change: ResourceChange) -> str:
    return _row(_address_cell(change), change.label)


def _drift_row(change: ResourceChange) -> str:
    found = {Kind.DELETE: "deleted outside Terraform", Kind.UPDATE: "changed outside Terraform"}
    notes = [] if change.kind is Kind.NO_OP else [found.get(change.kind, change.label)]
    if change.moved:
        notes.append(f"moved from {_code(change.previous_address or '')}")
    return _row(_address_cell(change), "; ".join(notes) or change.label)


def _output_row(output: OutputChange) -> str:
    return _row(_code(output.name), output.kind.value + (" (sensitive)" if output.sensitive else ""))


def _detail_row(change: ResourceChange) -> str:
    notes = []
    if change.moved:
        notes.append(f"moved from {_code(change.previous_address or '')}")
    if change.importing and change.kind is not Kind.NO_OP:
        notes.append("imported")
    if change.security_sensitive:
        notes.append("security-sensitive")
    if change.reason:
        notes.append(change.reason)
    paths = change.replace_paths if change.kind is Kind.REPLACE else change.changed_paths
    return _row(_address_cell(change), change.label, _paths_cell(paths), "; ".join(notes))


def _paths_cell(paths: Sequence[str]) -> str:
    """Attribute paths, the first :data:`_PATHS_SHOWN` of them: a row stays readable, the count says the rest."""
    cell = ", ".join(_code(path) for path in paths[:_PATHS_SHOWN])
    return cell + (f" and {len(paths) - _PATHS_SHOWN:,} more" if len(paths) > _PATHS_SHOWN else "")


def _address_cell(change: ResourceChange) -> str:
    return _code(change.address) + (f" (deposed object {_code(change.deposed)})" if change.deposed else "")


def _fit(head: list[str], body: list[str | _Table], max_chars: int) -> str:
    """Join the blocks into at most ``max_chars - 1`` characters (room for the final newline).

    Table rows are cut, from the tables with the highest priority number up; the summary never is.
    """
    budget = max_chars - 1
    tables = sorted((block for block in body if isinstance(block, _Table)), key=lambda table: table.priority)
    full = _join([*head, *body], {id(table): len(table.rows) for table in tables})
    if len(full) <= budget:
        return full
    total_rows = sum(len(table.rows) for table in tables)
    shown = {id(table): 0 for table in tables}
    # The note is written last; with every row omitted it is at its longest, so reserve that.
    used = len(_join([*head, _cut_note(total_rows, total_rows, max_chars), *body], shown))
    if used > budget:
        raise UserError(
            f"--max-chars {max_chars} is too small for these plans: the summary alone needs {used + 1:,} characters"
        )
    for table in tables:
        rest = used - len(table.render(0))
        shown[id(table)] = _rows_that_fit(table, budget - rest)
        used = rest + len(table.render(shown[id(table)]))
        if shown[id(table)] < len(table.rows):
            break  # a less important table never keeps rows that a more important one lost
    omitted = total_rows - sum(shown.values())
    return _join([*head, _cut_note(omitted, total_rows, max_chars), *body], shown)


def _rows_that_fit(table: _Table, room: int) -> int:
    """The most rows of ``table`` whose rendering is at most ``room`` characters (0 always fits)."""
    if len(table.render(len(table.rows))) <= room:
        return len(table.rows)
    fits, too_many = 0, len(table.rows)
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        if len(table.render(middle)) <= room:
            fits = middle
        else:
            too_many = middle
    return fits


def _cut_note(omitted: int, total: int, max_chars: int) -> str:
    return (
        f"> [!NOTE]\n> Cut to fit {max_chars:,} characters: {omitted:,} of {total:,} table rows are not shown, "
        "the per-resource details first. `terraform show <planfile>` has the full plan."
    )


def _join(blocks: Sequence[str | _Table], shown: dict[int, int]) -> str:
    return "\n\n".join(block.render(shown[id(block)]) if isinstance(block, _Table) else block for block in blocks)


def _header(columns: Sequence[str]) -> str:
    return "| " + " | ".join(columns) + " |\n" + "|:--" * len(columns) + "|"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cells) + " |"


def _code(text: str) -> str:
    """``text`` as an inline code span that survives a table cell (pipes, backticks, newlines)."""
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape_text(text: str) -> str:
    """Plain text for Markdown and table cells: characters that could start markup are escaped."""
    return re.sub(r"([\\`*_\[\]<>|#~])", r"\\\1", text.replace("\r", " ").replace("\n", " "))


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
