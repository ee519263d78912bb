"""``modules.provider_loading``: the AWS provider bindings load one resource module at a time, in Python
and in the jsii runtime (Node.js), and the synthesized stacks are byte-identical to those of the eagerly
loaded package."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from modules import provider_loading
from modules.provider_loading import LAZY_MAIN, PROVIDER_PACKAGES, NotDerivable, _LazyPackageFinder, derive, jsii_name, lazy_tarball
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
from modules.provider_loading import loaded_tarballs
print(json.dumps(sorted(name for name in sys.modules if name.startswith("cdktf_cdktf_provider_aws."))))
print(json.dumps({name: str(path) for name, path in loaded_tarballs.items()}))
"""
# The jsii runtime's own account of each load (JSII_DEBUG_TIMING): "require(<the module it loads>): 6.8s".
KERNEL_REQUIRE = re.compile(r"require\((\S*/@cdktf/provider-aws/\S+)\): [0-9.]+m?s$", re.M)


def synthesize(how: str, environments: Path, workload: Path, outdir: Path) -> tuple[list[str], dict[str, str], str]:
    """Synthesize in a new process; returns the provider modules that process imported, the tarball the
    kernel was handed per assembly, and the module the kernel ``require``d for the provider package."""
    result = subprocess.run(
        [sys.executable, "-c", SYNTH, how, str(environments), str(workload), str(outdir)],
        cwd=REPO_ROOT, env={**os.environ, "JSII_DEBUG_TIMING": "1"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    modules, tarballs = result.stdout.splitlines()[-2:]
    required = KERNEL_REQUIRE.findall(result.stdout)  # the runtime's debug output reaches the host's stdout
    assert len(required) == 1, result.stdout[-3000:]
    return json.loads(modules), json.loads(tarballs), required[0]


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
    lazy_modules, lazy_tarballs, lazy_main = synthesize("lazy", environments, EXAMPLE_WORKLOAD, tmp_path / "lazy")
    eager_modules, eager_tarballs, eager_main = synthesize("eager", environments, EXAMPLE_WORKLOAD, tmp_path / "eager")
    lazy, eager = files(tmp_path / "lazy"), files(tmp_path / "eager")
    assert sorted(lazy) == sorted(eager)
    assert any(name.endswith("cdk.tf.json") for name in lazy)
    different = [name for name in lazy if lazy[name] != eager[name]]
    assert different == [], f"{len(different)} files differ, first {different[:3]}"
    # The lazy process imported what the stacks use; the eager one every resource module.
    assert len(eager_modules) > 2000
    assert 10 < len(lazy_modules) < 100, lazy_modules
    # The jsii runtime loaded the derived copy and required its lazy index; the eager process the package as shipped.
    assert eager_tarballs == {} and eager_main.endswith("/@cdktf/provider-aws/lib/index.js")
    assert list(lazy_tarballs) == ["@cdktf/provider-aws"] and lazy_main.endswith(f"/@cdktf/provider-aws/{LAZY_MAIN}")
    assert Path(lazy_tarballs["@cdktf/provider-aws"]).is_relative_to(provider_loading.cache_dir())


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


# ---- The JavaScript side: the lazy copy of the assembly tarball -----------------------------------

EAGER_INDEX = '"use strict";\nObject.defineProperty(exports, "__esModule", { value: true });\nexports.s3Bucket = exports.sqsQueue = void 0;\nexports.s3Bucket = require("./s3-bucket");\nexports.sqsQueue = require("./sqs-queue");\n'
LAZY_INDEX = "\"use strict\";\nObject.defineProperty(exports, 's3Bucket', { get: function () { return require('./s3-bucket'); } });\nObject.defineProperty(exports, 'sqsQueue', { get: function () { return require('./sqs-queue'); } });\n"
ASSEMBLY = {
    "schema": "jsii/0.10.0",
    "name": "@cdktf/provider-fake",
    "version": "1.0.0",
    "jsiiVersion": "5.7.0",
    "fingerprint": "original",
    "docs": {"summary": "kept: not a type's"},
    "types": {
        "@cdktf/provider-fake.s3Bucket.S3Bucket": {
            "assembly": "@cdktf/provider-fake",
            "fqn": "@cdktf/provider-fake.s3Bucket.S3Bucket",
            "kind": "class",
            "name": "S3Bucket",
            "docs": {"summary": "dropped"},
            "locationInModule": {"filename": "src/s3-bucket/index.ts", "line": 1},
            "properties": [{"name": "bucket", "type": {"primitive": "string"}, "docs": {"summary": "dropped"}}],
        }
    },
}


def fake_tarball(folder: Path, package_json: dict | None = None, files: dict[str, str] | None = None) -> Path:
    """An assembly tarball shaped like the prebuilt provider's: ``package/`` with the eager and the lazy index."""
    contents = {
        "package/package.json": json.dumps(package_json or {"name": "@cdktf/provider-fake", "version": "1.0.0", "main": "lib/index.js"}),
        "package/.jsii": json.dumps(ASSEMBLY),
        "package/lib/index.js": EAGER_INDEX,
        f"package/{LAZY_MAIN}": LAZY_INDEX,
        "package/lib/s3-bucket/index.js": "exports.S3Bucket = class S3Bucket {};\n",
        "package/lib/sqs-queue/index.js": "exports.SqsQueue = class SqsQueue {};\n",
        **(files or {}),
    }
    tarball = folder / "provider-fake@1.0.0.jsii.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        for name, text in contents.items():
            if text is None:
                continue
            member = tarfile.TarInfo(name)
            member.size, member.mtime = len(text.encode()), 499162500
            archive.addfile(member, io.BytesIO(text.encode()))
    return tarball


def members(tarball: Path) -> dict[str, bytes]:
    with tarfile.open(tarball, "r:gz") as archive:
        return {member.name: archive.extractfile(member).read() for member in archive if member.isfile()}


def test_the_copy_has_a_lazy_main_module_a_slim_assembly_and_the_rest_as_shipped(tmp_path: Path) -> None:
    original = fake_tarball(tmp_path)
    copy = lazy_tarball(original, cache=tmp_path / "cache")
    assert copy.name == original.name and copy.is_relative_to(tmp_path / "cache")
    shipped, derived = members(original), members(copy)
    assert json.loads(derived["package/package.json"]) == {"name": "@cdktf/provider-fake", "version": "1.0.0", "main": LAZY_MAIN}
    assembly = json.loads(derived["package/.jsii"])
    assert "docs" not in json.dumps(assembly["types"]) and "locationInModule" not in json.dumps(assembly["types"])
    assert assembly["types"]["@cdktf/provider-fake.s3Bucket.S3Bucket"]["properties"] == [{"name": "bucket", "type": {"primitive": "string"}}]
    assert assembly["docs"] == ASSEMBLY["docs"] and assembly["fingerprint"] == "*" * 10
    unchanged = {name for name in shipped if name not in ("package/package.json", "package/.jsii")}
    assert {name: derived[name] for name in unchanged} == {name: shipped[name] for name in unchanged}
    # The runtime's own type index of the slim assembly, built by the runtime's builder.
    assert {name for name in derived if name.startswith("package/.jsii.runtime")} != set()
    # Later runs find the copy by the tarball's stamp, and the same tarball always gives the same bytes.
    assert lazy_tarball(original, cache=tmp_path / "cache") == copy
    derive(original, tmp_path / "again.tgz")
    assert (tmp_path / "again.tgz").read_bytes() == copy.read_bytes()


@pytest.mark.parametrize(
    ("case", "package_json", "files"),
    [
        ("the package names its own entry points", {"name": "p", "main": "lib/index.js", "exports": {".": "./lib/lazy-index.js"}}, None),
        ("the main module is already another one", {"name": "p", "main": LAZY_MAIN}, None),
        ("no lazy index", None, {f"package/{LAZY_MAIN}": None}),
        ("the lazy index misses a module", None, {f"package/{LAZY_MAIN}": LAZY_INDEX.splitlines(keepends=True)[0] + LAZY_INDEX.splitlines(keepends=True)[1]}),
        ("the eager index exports more than modules", None, {"package/lib/index.js": EAGER_INDEX + 'tslib.__exportStar(require("./provider"), exports);\n'}),
    ],
)
def test_a_package_without_the_expected_layout_loads_as_shipped(case: str, package_json: dict | None, files: dict | None, tmp_path: Path) -> None:
    original = fake_tarball(tmp_path, package_json, files)
    with pytest.raises(NotDerivable):
        derive(original, tmp_path / "copy.tgz")
    cache = tmp_path / "cache"
    assert lazy_tarball(original, cache=cache) == original
    assert lazy_tarball(original, cache=cache) == original, "remembered by the stamp"
    assert [path for path in cache.rglob("*") if path.is_file() and path.parent.name != "stamps"] == []


def test_an_interrupted_derivation_leaves_no_copy_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original, cache = fake_tarball(tmp_path), tmp_path / "cache"

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(provider_loading, "_runtime_index", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lazy_tarball(original, cache=cache)
    assert [path for path in cache.rglob("*") if path.is_file()] == [], "nothing half-written, no stamp"
    monkeypatch.undo()
    copy = lazy_tarball(original, cache=cache)
    assert json.loads(members(copy)["package/package.json"])["main"] == LAZY_MAIN


def test_a_killed_derivations_leftover_is_removed_by_the_next(tmp_path: Path) -> None:
    original, cache = fake_tarball(tmp_path), tmp_path / "cache"
    copy = lazy_tarball(original, cache=cache)
    leftover, fresh = copy.parent / f".{copy.name}.killed.partial", copy.parent / f".{copy.name}.running.partial"
    leftover.write_bytes(b"half")
    fresh.write_bytes(b"half")
    os.utime(leftover, (0, 0))
    copy.unlink()
    assert lazy_tarball(original, cache=cache) == copy and copy.is_file()
    assert not leftover.exists() and fresh.exists(), "only a killed run's file: a running derivation's is young"


def test_an_unwritable_cache_loads_the_package_as_shipped(tmp_path: Path) -> None:
    """A file where the cache folder should be: one line on stderr, and the kernel is handed the original."""
    (tmp_path / "cache").write_text("not a folder")
    script = f"""
import os
os.environ["XDG_CACHE_HOME"] = {str(tmp_path / "cache")!r}
import modules
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from modules.provider_loading import loaded_tarballs
print(loaded_tarballs["@cdktf/provider-aws"])
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert Path(result.stdout.strip()).parent == Path(__import__("importlib").util.find_spec(PACKAGE).origin).parent / "_jsii"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("provisioner:")]
    assert len(warnings) == 1 and "loads as shipped" in warnings[0], result.stderr[-2000:]


def test_the_providers_copy_is_deterministic_and_carries_the_runtime_index(tmp_path: Path) -> None:
    """The runtime's package cache is keyed by the copy's bytes: deriving again must give the same ones."""
    original = next((Path(__import__("importlib").util.find_spec(PACKAGE).origin).parent / "_jsii").glob("*.jsii.tgz"))
    cached = lazy_tarball(original)
    assert cached != original
    derive(original, tmp_path / original.name)
    assert (tmp_path / original.name).read_bytes() == cached.read_bytes()
    with tarfile.open(cached, "r:gz") as archive:
        names = archive.getnames()
        manifest = json.loads(archive.extractfile("package/package.json").read())
    assert manifest["main"] == LAZY_MAIN and "package/lib/index.js" in names and "package/lib/s3-bucket/index.js" in names
    assert {name for name in names if name.startswith("package/.jsii.runtime")} >= {"package/.jsii.runtime.v1.json"}
