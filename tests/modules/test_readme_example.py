"""The example in modules/README.md synthesizes: a team's own stack importing the constructs."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "modules" / "README.md"


def example_code() -> str:
    text = README.read_text()
    block = re.search(r"<!-- example:start -->\s*```python\n(.*?)```\s*<!-- example:end -->", text, re.S)
    assert block, "modules/README.md lost its example block"
    return block.group(1)


def test_readme_example_synthesizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import modules.framework

    # The jsii node process reads CDKTF_OUTDIR and its working folder once, when the first test of the
    # session starts it; only an explicit outdir keeps this example out of the repository's cdktf.out/.
    monkeypatch.setattr(modules.framework, "App", functools.partial(modules.framework.App, outdir=str(tmp_path / "cdktf.out")))
    exec(compile(example_code(), str(README), "exec"), {"__name__": "readme_example"})

    stack = json.loads((tmp_path / "cdktf.out" / "stacks" / "reporting" / "cdk.tf.json").read_text())
    resources = stack["resource"]
    assert resources["aws_kms_key"] and resources["aws_s3_bucket"] and resources["aws_iam_role"]
    (bucket_policy,) = resources["aws_s3_bucket_policy"].values()
    statements = json.loads(bucket_policy["policy"])["Statement"]
    reads = [s for s in statements if s["Sid"] == "AllowReadObjects"]
    assert reads[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == ["arn:aws:iam::333333333333:role/analytics"]
    (role,) = resources["aws_iam_role"].values()
    trust = json.loads(role["assume_role_policy"])["Statement"][0]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::111111111111:root"}
