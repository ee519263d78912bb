"""README.md says what the stacks do: its role table and its bootstrap steps are checked against the
synthesized stacks and the repository's own environments/; its field tables are generated from the
declarations the configuration is read with."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from provisioner.configuration.settings import SCHEMAS, Field, Kind, Schema
from provisioner.paths import REPO_ROOT
from tests.conftest import EXAMPLE_ENVIRONMENTS, Synthesized

README = (REPO_ROOT / "README.md").read_text()


def between(name: str, text: str = README) -> str:
    match = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", text, re.S)
    assert match, f"README.md lost its {name} block"
    return match.group(1)


def fenced(name: str, language: str) -> str:
    match = re.fullmatch(rf"```{language}\n(.*?)```\n", between(name), re.S)
    assert match, f"the {name} block must hold one {language} code block"
    return match.group(1)


# --- the role table ------------------------------------------------------------------------------
def role_rows() -> dict[str, tuple[str, str]]:
    """Role name pattern -> (account, trusted by), from the table in README.md."""
    rows = {}
    for line in between("roles").splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].split()[0].strip("`")] = (cells[1], cells[2])
    return rows


def expand(pattern: str, synth: Synthesized, env_name: str | None = None, step: str | None = None) -> str:
    text = pattern.replace("<prefix>", synth.project.devops.name_prefix)
    text = text.replace("<step>", step) if step is not None else text
    return text.replace("<env>", env_name) if env_name is not None else text


def expand_all(pattern: str, synth: Synthesized, env_name: str | None) -> list[str]:
    """``pattern`` for the environment, once per team step of it when it names ``<step>``."""
    if "<step>" not in pattern:
        return [expand(pattern, synth, env_name)]
    env = next(env for env in synth.project.environments if env.name == env_name)
    return [expand(pattern, synth, env_name, step.name) for step in env.steps]


def roles_of(synth: Synthesized) -> dict[str, tuple[str, dict]]:
    """Role name -> (stack, trust statement) of every role the stacks create."""
    found = {}
    for stack, doc in synth.stacks.items():
        for role in doc.get("resource", {}).get("aws_iam_role", {}).values():
            (trust,) = json.loads(role["assume_role_policy"])["Statement"]
            found[role["name"]] = (stack, trust)
    return found


def readme_role(synth: Synthesized, name: str) -> tuple[str, str | None]:
    """The README pattern a role name matches, and the environment it was expanded with. A deployment
    role named in environment.hcl (``deployment_role.name``) is the ``<prefix>-deploy-<env>`` row."""
    for env in synth.project.environments:
        if name == env.deployment_role.name:
            return "<prefix>-deploy-<env>", env.name
    matches = []
    for pattern in role_rows():
        for env in [None, *synth.project.environments]:
            names = expand_all(pattern, synth, env.name) if env else [expand(pattern, synth)]
            if name in names and ("<env>" in pattern) == (env is not None):
                matches.append((pattern, env.name if env else None))
    assert len(matches) == 1, f"{name}: README's role table has {len(matches)} rows for it"
    return matches[0]


@pytest.mark.parametrize("synth_name", ["example_synth", "alt_synth", "token_synth"])
def test_every_role_the_stacks_create_has_its_row_and_trust(request: pytest.FixtureRequest, synth_name: str) -> None:
    synth = request.getfixturevalue(synth_name)
    for name, (stack, trust) in roles_of(synth).items():
        pattern, env_name = readme_role(synth, name)
        account, trusted_by = role_rows()[pattern]
        assert account == ("DevOps" if stack == "devops" else "workload"), name
        named = [each for item in re.findall(r"`([^`]+)`", trusted_by) for each in (expand_all(item, synth, env_name) if env_name else [expand(item, synth)])]
        if "Service" in trust["Principal"]:
            assert named[0] == trust["Principal"]["Service"], name
            sources = [arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] for arn in trust["Condition"]["ArnLike"]["aws:SourceArn"]]
            assert set(sources) <= set(named[1:]), f"{name}: trusted for {sources}, README names {named[1:]}"
        else:
            env = next(env for env in synth.project.environments if env.name == env_name)
            configured = {*env.deployment_role.extra_trusted_role_arns, *env.deployment_role.plan_trusted_role_arns}
            pinned = [arn.rsplit("/", 1)[1] for arn in trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] if arn not in configured]
            documented = [item for item in named if item.startswith(synth.project.devops.name_prefix)]
            if synth.project.devops.source.type != "codestar":  # no pull-request pipeline, no pull-request plan build
                documented = [item for item in documented if not item.endswith("-pr-plan-build")]
            if synth.project.devops.drift_schedule is None:  # drift_schedule = "off": no drift build
                documented = [item for item in documented if not item.endswith("-drift-plan-build")]
            assert sorted(pinned) == sorted(documented), f"{name}: trusts {pinned}, README says {documented}"


def test_every_row_of_the_role_table_is_a_role_some_project_creates(example_synth, alt_synth, token_synth) -> None:
    created = {pattern for synth in (example_synth, alt_synth, token_synth) for name in roles_of(synth) for pattern in [readme_role(synth, name)[0]]}
    assert created == set(role_rows())


# --- bootstrapping a workload account ------------------------------------------------------------
@pytest.mark.parametrize(("block", "environment"), [("bootstrap-organizations", "dev"), ("bootstrap-profile", "staging")])
def test_the_bootstrap_samples_are_the_repositorys_own(block: str, environment: str) -> None:
    text = (EXAMPLE_ENVIRONMENTS / environment / "environment.hcl").read_text()
    assert fenced(block, "hcl") in text


def test_the_synthesized_bootstrap_sample_is_what_bootstrap_dev_synthesizes(example_synth) -> None:
    sample = json.loads(fenced("bootstrap-organizations-json", "json"))
    stack = example_synth.stacks["bootstrap-dev"]
    (provider,) = stack["provider"]["aws"]
    (documented,) = sample["provider"]["aws"]
    assert {key: provider[key] for key in documented} == documented
    backend = stack["terraform"]["backend"]["s3"]
    assert {key: backend[key] for key in sample["terraform"]["backend"]["s3"]} == sample["terraform"]["backend"]["s3"]


def test_every_readme_link_to_a_repository_file_resolves() -> None:
    for target in re.findall(r"\]\(((?:docs|modules|policy)/[^)#]+)\)", README):
        assert (REPO_ROOT / target).is_file(), target


def test_the_permission_matrix_size_the_readme_quotes_is_the_documented_one() -> None:
    documented = (REPO_ROOT / "docs" / "permission-matrix.md").read_text()
    cases = re.search(r"^(\d+) cases: ", documented, re.M)
    assert cases and f"{cases.group(1)} requests for the example environments" in README


def test_the_quota_figures_the_readme_quotes_are_measured() -> None:
    """The sizes of 50 environments quoted under Quotas come from the measure the quota test uses."""
    import tempfile

    from provisioner.configuration import quotas, settings
    from tests.conftest import write_environments
    from tests.test_quotas import DEVOPS, fifty_environments

    with tempfile.TemporaryDirectory() as root:
        project = settings.load(write_environments(Path(root), DEVOPS, fifty_environments()))
        largest: dict[str, int] = {}
        for measure in quotas.measures(project):
            largest[measure.quota.name] = max(largest.get(measure.quota.name, 0), measure.size)
    quoted = re.search(r"the largest inline policy is\s+([\d,]+) characters, the largest trust policy ([\d,]+), the pull-request plan buildspec ([\d,]+)", README)
    assert quoted, "README lost the quota figures"
    assert [int(x.replace(",", "")) for x in quoted.groups()] == [
        largest["IAM inline policies per role"], largest["IAM role trust policy"], largest["CodeBuild inline buildspec"],
    ]  # fmt: skip


# --- your infrastructure --------------------------------------------------------------------------
def test_the_workload_samples_load_as_written(tmp_path: Path) -> None:
    """The README's workload.hcl, inputs and step samples, put where they go, pass provisioner check."""
    from provisioner.configuration.settings import load

    workload = tmp_path / "workloads" / "workload.hcl"
    workload.parent.mkdir()
    workload.write_text(fenced("workload-hcl", "hcl").replace("workloads.sample:define", "examples.workloads.sample:define"))
    environments = tmp_path / "environments"
    shutil.copytree(EXAMPLE_ENVIRONMENTS, environments)
    dev = environments / "dev" / "environment.hcl"
    dev.write_text(dev.read_text() + "\n" + fenced("environment-inputs", "hcl") + fenced("environment-step", "hcl"))
    project = load(environments, workload_file=workload)
    (found,) = [env for env in project.environments if env.name == "dev"]
    assert dict(found.inputs) == {"data_noncurrent_version_days": 365}
    assert [(step.name, step.when, step.timeout_minutes) for step in found.steps] == [
        ("bucket-check", "after-apply", 10), ("smoke-test", "after-apply", 10),
    ]  # fmt: skip
    assert project.workload.inputs[0].default == 90


def test_the_workload_sample_is_the_examples() -> None:
    """The README's workload.hcl is the example's (the one a new repository starts from), comments aside."""
    example = (REPO_ROOT / "examples" / "workloads" / "workload.hcl").read_text()
    sample = fenced("workload-hcl", "hcl").replace('"workloads.sample:define"', '"examples.workloads.sample:define"')
    code = "\n".join(line for line in example.splitlines() if line.strip() and not line.startswith("#"))
    assert "\n".join(line for line in sample.splitlines() if line.strip()) == code


# --- the field tables ----------------------------------------------------------------------------
def field_table(schema: Schema) -> str:
    """README.md's table of the fields of one file or block, from their declarations."""
    cells = [(written(spec), shown_type(spec), shown_default(spec), spec.meaning) for spec in schema.fields]
    rows = ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
    return "\n".join(["| field | type | default | meaning |", "|---|---|---|---|", *rows]) + "\n"


def written(spec: Field) -> str:
    if spec.kind is Kind.BLOCK:
        return f"`{spec.name} {{ }}`"
    if spec.kind is Kind.NAMED_BLOCKS:
        return f'`{spec.name} "<name>" {{ }}`'
    return f"`{spec.name}`"


def shown_type(spec: Field) -> str:
    if spec.shown_type:
        return spec.shown_type
    if spec.choices and len(spec.choices) <= 8:
        return "one of " + ", ".join(f"`{choice}`" for choice in spec.choices)
    if spec.choices and spec.kind is Kind.INTEGER:
        return f"{spec.kind.value}, {spec.choice_name}: {', '.join(map(str, spec.choices))}"
    if spec.choices:
        return f"{spec.kind.value}, {spec.choice_name}"
    form = spec.rule.removeprefix("must be ").removeprefix("is not ")
    if spec.kind is Kind.NAMED_BLOCKS:
        return f"{spec.kind.value} ({form})"
    if spec.kind is Kind.STRINGS and spec.pattern:
        return f"{spec.kind.value}, each {form}"
    if spec.kind is Kind.STRING and spec.pattern:
        return f"{spec.kind.value}, {form}"
    if spec.kind is Kind.INTEGER:
        return f"{spec.kind.value}, {spec.minimum}-{spec.maximum}"
    return spec.kind.value


def shown_default(spec: Field) -> str:
    if spec.shown_default:
        return spec.shown_default
    if spec.required:
        return "required"
    if spec.kind is Kind.BLOCK:
        return "see below"
    if spec.kind is Kind.TAGS:
        return "`{}`"
    if spec.default is None or spec.kind is Kind.NAMED_BLOCKS:
        return "none"
    if isinstance(spec.default, bool):
        return f"`{str(spec.default).lower()}`"
    if isinstance(spec.default, tuple):
        return f"`{json.dumps(list(spec.default))}`"
    return f"`{spec.default}`" if spec.default != "" else '`""`'


def test_every_field_table_is_generated_from_the_declarations() -> None:
    """``UPDATE_SNAPSHOTS=1 make test`` rewrites the tables after a deliberate change to a declaration."""
    path = REPO_ROOT / "README.md"
    text = path.read_text()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        for schema in SCHEMAS:
            text = replace_between(text, f"fields:{schema.name}", field_table(schema))
        path.write_text(text)
    assert set(re.findall(r"<!-- (fields:[\w-]+):start -->", text)) == {f"fields:{schema.name}" for schema in SCHEMAS}
    for schema in SCHEMAS:
        assert between(f"fields:{schema.name}", text) == field_table(schema), (
            f"README.md's fields:{schema.name} table is stale: UPDATE_SNAPSHOTS=1 make test rewrites it"
        )


def replace_between(text: str, name: str, content: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    assert start in text and end in text, f"README.md lost its {name} block"
    return text[: text.index(start) + len(start)] + content + text[text.index(end) :]


# --- the rules check enforces -------------------------------------------------------------------
RULES_DOC = REPO_ROOT / "docs" / "configuration-rules.md"


def rules_table() -> str:
    """docs/configuration-rules.md's tables, from the rule and quota declarations check uses."""
    from provisioner.configuration import limits, quotas

    def row(*cells: str) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    formats = [row(f"`{rule.fields}`", rule.text, rule.source) for rule in limits.RULES]
    sizes = [row(quota.name, f"{quota.limit:,}", quota.hint) for quota in quotas.QUOTAS]
    return "\n".join([
        "| where | rule | limit set by |", "|---|---|---|", *formats, "",
        "Measured on what the configuration makes, when everything above holds:", "",
        "| quota | limit | what to change |", "|---|---|---|", *sizes,
    ]) + "\n"  # fmt: skip


def test_the_rules_document_is_generated_from_the_rules_check_enforces() -> None:
    """``UPDATE_SNAPSHOTS=1 make test`` rewrites it after a deliberate change to a rule."""
    text = RULES_DOC.read_text()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        text = replace_between(text, "rules", rules_table())
        RULES_DOC.write_text(text)
    assert between("rules", text) == rules_table(), "docs/configuration-rules.md is stale: UPDATE_SNAPSHOTS=1 make test rewrites it"
    assert "(docs/configuration-rules.md)" in README, "README.md no longer links the rules"
