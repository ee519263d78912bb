"""``provisioner.tables``: aligned columns that fit 100 columns, long cells wrapped rather than cut."""

from __future__ import annotations

import io

from provisioner.commands.doctor import diagnosis_text
from provisioner.operations.health import FAIL, PASS, Check, Diagnosis
from provisioner.tables import MAX_WIDTH, table

LONG_FIX = (
    "an admin of account 210987654321 deploys the bootstrap-dev stack (it creates the deployment role); "
    "then run `provisioner doctor` again to see whether the role can be assumed"
)


def test_short_tables_are_padded_to_their_widest_cell_without_trailing_spaces() -> None:
    assert table([("stage", "actions", "cost"), ("Source", 1, "$0.12"), ("Deploy-prod", 12, "$1.20")], right_align_numbers=True) == [
        "stage        actions   cost",
        "Source             1  $0.12",
        "Deploy-prod       12  $1.20",
    ]


def test_a_table_wider_than_100_columns_wraps_its_widest_column() -> None:
    rows = [("", "check", "target", "result", "fix"), ("FAIL", "stack bootstrap-dev", "stacks/bootstrap-dev/terraform.tfstate", "no state: never deployed", LONG_FIX)]
    lines = table(rows)
    assert MAX_WIDTH == 100
    assert max(len(line) for line in lines) <= 100, lines
    assert len(lines) > 2, "the long cell goes on over more lines"
    fix_column = lines[0].index("fix")
    assert " ".join(line[fix_column:].strip() for line in lines[1:]) == LONG_FIX
    assert lines[1].startswith("FAIL  stack ")
    assert all(line[:4].strip() == "" for line in lines[2:]), "continuation lines leave the other columns empty"


def test_numbers_and_amounts_are_never_wrapped() -> None:
    rows = [("stage " + "x" * 60, "charged actions", "free actions", "V2 minutes/month", "V2 cost"), ("Deploy-" + "y" * 80, 12345, 0, 1234567, "$1,234.57")]
    lines = table(rows, "  ", right_align_numbers=True)
    assert max(len(line) for line in lines) <= 100, lines
    (numbers,) = [line for line in lines if "12345" in line]
    assert numbers.split()[-4:] == ["12345", "0", "1234567", "$1,234.57"]


def test_the_doctor_report_fits_100_columns() -> None:
    checks = (
        Check("credentials", "account 123456789012", PASS, "arn:aws:sts::123456789012:assumed-role/platform-operator/alice"),
        Check("stack bootstrap-dev", "stacks/bootstrap-dev/terraform.tfstate", FAIL, "no state: never deployed", LONG_FIX),
    )
    text = diagnosis_text(Diagnosis("123456789012", "us-east-1", None, checks), io.StringIO())
    assert max(len(line) for line in text.splitlines()) <= 100, text
    assert "PASS  credentials" in text and "FAIL  stack" in text
    assert "      fix: an admin of account 210987654321 deploys" in text, "the fix on the lines below its row"


def test_a_long_arn_breaks_after_its_colons_and_slashes() -> None:
    arn = "arn:aws:sts::123456789012:assumed-role/platform-operator/alice"
    lines = table([("status", "caller", "note"), ("PASS", arn, "y" * 60)])
    caller = lines[0].index("caller")
    pieces = [piece for piece in (line[caller:].split("  ")[0].strip() for line in lines[1:]) if piece]
    assert "".join(pieces) == arn and len(pieces) > 1
    assert all(piece.endswith((":", "/")) for piece in pieces[:-1])
