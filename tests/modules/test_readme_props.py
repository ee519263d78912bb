"""The props tables of modules/README.md are generated from the ``XxxProps`` dataclasses: each field's
name, type, default and the first sentence of its docstring, read from the source with ``ast`` (the
modules are not imported). ``UPDATE_SNAPSHOTS=1 make test`` rewrites the tables after a deliberate change."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

MODULES = Path(__file__).resolve().parents[2] / "modules"
README = MODULES / "README.md"


@dataclass(frozen=True)
class PropsField:
    name: str
    type: str
    default: str | None
    """The default as README.md shows it; None: required."""
    doc: str


def props_classes() -> dict[str, tuple[Path, list[PropsField]]]:
    """Every ``*Props`` class of modules/*.py: its file and its fields, in order."""
    found = {}
    for path in sorted(MODULES.glob("*.py")):
        source = path.read_text()
        for node in ast.parse(source).body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Props"):
                found[node.name] = (path, list(props_fields(node, source)))
    return found


def props_fields(cls: ast.ClassDef, source: str) -> Iterator[PropsField]:
    """The annotated attributes of a dataclass, each with the string literal that follows it."""
    body = cls.body
    for index, node in enumerate(body):
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        following = body[index + 1] if index + 1 < len(body) else None
        documented = isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)
        docstring = following.value.value if documented else ""
        default = shown_default(node.value, source, docstring) if node.value is not None else None
        yield PropsField(node.target.id, ast.get_source_segment(source, node.annotation), default, docstring)


def shown_default(value: ast.expr, source: str, docstring: str) -> str:
    """The default as a reader writes it (``field(default_factory=dict)`` is ``{}``); a ``None`` default
    is shown as what its docstring says it means ("Default: the first of ``pipeline_names``.")."""
    if isinstance(value, ast.Constant) and value.value is None:
        meaning = re.search(r"Default: (.+?)\.(?=\s|$)", re.sub(r"\s+", " ", docstring))
        return markdown(meaning.group(1)) if meaning else "`None`"
    if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "field":
        (factory,) = (keyword.value for keyword in value.keywords if keyword.arg == "default_factory")
        if isinstance(factory, ast.Lambda):
            return code(ast.get_source_segment(source, factory.body))
        return code({"dict": "{}", "list": "[]", "tuple": "()"}[factory.id])
    return code(ast.get_source_segment(source, value))


def code(text: str) -> str:
    return f"`{text}`"


def markdown(docstring_text: str) -> str:
    """reStructuredText's double-backquoted literals as Markdown's single-backquoted ones."""
    return docstring_text.replace("``", "`")


def first_sentence(docstring: str) -> str:
    text = re.sub(r"\s+", " ", docstring).strip()
    match = re.match(r"(.+?[.!?])(?=\s|$)", text)
    return markdown(match.group(1) if match else text)


def props_table(name: str, fields: list[PropsField]) -> str:
    cells = [(code(field.name), code(field.type), field.default or "required", first_sentence(field.doc)) for field in fields]
    rows = ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells]
    return "\n".join([f"| input (`{name}`) | type | default | meaning |", "|---|---|---|---|", *rows]) + "\n"


def block(text: str, name: str) -> str | None:
    match = re.search(rf"<!-- props:{name}:start -->\n(.*?)<!-- props:{name}:end -->", text, re.S)
    return match.group(1) if match else None


def test_there_are_props_classes_to_document() -> None:
    assert {"KmsKeyProps", "EncryptedBucketProps", "DeployRoleProps", "DeliveryPipelineProps"} <= set(props_classes())


@pytest.mark.parametrize("name", sorted(props_classes()))
def test_every_props_field_has_a_docstring(name: str) -> None:
    path, fields = props_classes()[name]
    undocumented = [field.name for field in fields if not field.doc.strip()]
    assert not undocumented, f"{path.name}: {name} fields without a docstring: {undocumented}"


def test_every_props_table_is_generated_from_its_dataclass() -> None:
    classes = props_classes()
    text = README.read_text()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        for name, (_, fields) in classes.items():
            start, end = f"<!-- props:{name}:start -->\n", f"<!-- props:{name}:end -->"
            assert start in text and end in text, f"modules/README.md has no props:{name} block: add its markers under the construct"
            text = text[: text.index(start) + len(start)] + props_table(name, fields) + text[text.index(end) :]
        README.write_text(text)
    assert set(re.findall(r"<!-- props:(\w+):start -->", text)) == set(classes), "modules/README.md: one props block per *Props class"
    for name, (_, fields) in classes.items():
        assert block(text, name) == props_table(name, fields), (
            f"modules/README.md's {name} table is stale: UPDATE_SNAPSHOTS=1 make test rewrites it"
        )
