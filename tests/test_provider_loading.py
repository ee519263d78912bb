"""``modules.provider_loading``: the AWS provider bindings load one resource module at a time, and the
synthesized stacks are byte-identical to those of the eagerly loaded package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modules.provider_loading import PROVIDER_PACKAGES, _LazyPackageFinder, jsii_name
from provisioner.paths import REPO_ROOT
from tests.conftest import EXAMPLE_ENVIRONMENTS, EXAMPLE_WORKLOAD, write_environments
from tests.test_quotas import DEVOPS, environment

PACKAGE = PROVIDER_PACKAGES[0]

# Synthesizes one configuration in a fresh process; eagerly (the package's own root __init__, imported
# before anything of the product) or through modules.provider_loading (the product's way).
SYNTH = """
import json, sys
from pathlib import Path
eager, environments, workload, outdir = sys.argv[1] == "eager", Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
if eager:
    import cdktf_cdktf_provider_aws
from provisioner.app.synthesis import synthesize
from provisioner.configuration.settings import load
synthesize(load(environments, workload_file=workload), outdir)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws."))))
"""


def synthesize(how: str, environments: Path, workload: Path, outdir: Path) -> list[str]:
    """Synthesize in a new process; returns the provider modules that process imported."""
    result = subprocess.run(
        [sys.executable, "-c", SYNTH, how, str(environments), str(workload), str(outdir)],
        cwd=REPO_ROOT, env=dict(os.environ), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def files(outdir: Path) -> dict[str, bytes]:
    return {str(path.relative_to(outdir)): path.read_bytes() for path in sorted(outdir.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def thirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """30 generated environments over 6 waves, each with an approval, and a team step in every fifth."""
    root = tmp_path_factory.mktemp("thirty")
    step = 'step "smoke" {\n  when = "after-apply"\n  commands = ["true"]\n}\n'
    envs = {f"env-{i:02d}": environment(i, order=i % 6 + 1) + (step if i % 5 == 0 else "") for i in range(30)}
    return write_environments(root, DEVOPS, envs)


@pytest.mark.parametrize("configuration", ["examples", "thirty"])
def test_lazily_loaded_bindings_synthesize_byte_identical_stacks(configuration: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    environments = EXAMPLE_ENVIRONMENTS if configuration == "examples" else request.getfixturevalue("thirty")
    lazy_modules = synthesize("lazy", environments, EXAMPLE_WORKLOAD, tmp_path / "lazy")
    eager_modules = synthesize("eager", environments, EXAMPLE_WORKLOAD, tmp_path / "eager")
    lazy, eager = files(tmp_path / "lazy"), files(tmp_path / "eager")
    assert sorted(lazy) == sorted(eager)
    assert any(name.endswith("cdk.tf.json") for name in lazy)
    different = [name for name in lazy if lazy[name] != eager[name]]
    assert different == [], f"{len(different)} files differ, first {different[:3]}"
    # The lazy process imported what the stacks use; the eager one every resource module.
    assert len(eager_modules) > 2000
    assert 10 < len(lazy_modules) < 100, lazy_modules


def test_the_runtime_finds_every_submodule_by_its_jsii_name() -> None:
    """The map the jsii runtime reads (jsii name -> module) is right for all 2,135 submodules: each one's
    generated code names its types ``@cdktf/provider-aws.<jsii name>.<Type>``."""
    package_dir = Path(__import__("importlib").util.find_spec(PACKAGE).origin).parent
    found = subprocess.run(
        ["grep", "-r", "-o", "-m1", "--include=__init__.py", r'jsii_type="@cdktf/provider-aws\.[A-Za-z0-9]*\.', str(package_dir)],
        capture_output=True, text=True, check=False,
    ).stdout.splitlines()  # fmt: skip
    named = {Path(line.split(":", 1)[0]).parent.name: line.rsplit(".", 2)[-2] for line in found}
    submodules = [path.parent.name for path in package_dir.glob("*/__init__.py") if path.parent.name != "_jsii"]
    assert len(submodules) == 2135
    wrong = {sub: (named.get(sub), jsii_name(sub)) for sub in submodules if named.get(sub) != jsii_name(sub)}
    assert wrong == {}


IMPORTS = """
import sys
import modules  # installs the lazy loading
import cdktf_cdktf_provider_aws.s3_bucket as s3_bucket
from cdktf_cdktf_provider_aws import sqs_queue
import cdktf_cdktf_provider_aws as aws
assert s3_bucket.S3Bucket.__name__ == "S3Bucket" and sqs_queue.SqsQueue.__name__ == "SqsQueue"
assert aws.kms_key.KmsKey.__name__ == "KmsKey", "an attribute of the package imports the submodule"
assert "xray_group" in dir(aws) and "xray_group" in aws.__all__
try:
    aws.no_such_resource
except AttributeError as error:
    assert "no_such_resource" in str(error)
else:
    raise AssertionError("an unknown attribute must raise AttributeError")
loaded = [name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws.") and name.count(".") == 1]
print(sorted(loaded))
"""


def test_every_way_of_importing_a_resource_module_works_and_loads_only_it() -> None:
    result = subprocess.run([sys.executable, "-c", IMPORTS], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(sorted(f"{PACKAGE}.{name}" for name in ("_jsii", "kms_key", "s3_bucket", "sqs_queue")))


def test_a_package_that_loads_lazily_itself_is_left_alone(tmp_path: Path) -> None:
    package = tmp_path / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("from . import one\nfrom . import two\n")
    finder = _LazyPackageFinder((PACKAGE,))
    assert finder.find_spec(PACKAGE, [str(tmp_path)]) is not None, "eager package: loaded lazily"
    (package / "__init__.py").write_text("from . import one\n\ndef __getattr__(name):\n    raise AttributeError(name)\n")
    assert finder.find_spec(PACKAGE, [str(tmp_path)]) is None, "a package with its own __getattr__ loads as it is"
    assert finder.find_spec("some_other_package", [str(tmp_path)]) is None


@pytest.mark.parametrize(("python", "jsii"), [("s3_bucket", "s3Bucket"), ("data_aws_s3_bucket", "dataAwsS3Bucket"), ("apigatewayv2_api", "apigatewayv2Api"), ("provider", "provider")])
def test_jsii_names(python: str, jsii: str) -> None:
    assert jsii_name(python) == jsii
