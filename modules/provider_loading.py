"""Load the AWS provider bindings one resource module at a time.

``cdktf_cdktf_provider_aws`` 20.1.0 ends its root ``__init__`` with 2,135 ``from . import <module>``
lines, so importing any one resource class imports every resource module of the provider: about three
quarters of a synth's time. The package is prebuilt and its generator (cdktf) is archived, so it will
never load lazily on its own; the jsii runtime already can (it imports the module of a type it meets
that is not loaded yet, from a map of submodule names).

``install()`` puts a finder in front of the import system: when the provider package is first
imported, its root module is created without running that ``__init__``; a submodule is imported when
it is named (``from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket``, ``import
cdktf_cdktf_provider_aws.s3_bucket``, or an attribute of the package), and the jsii runtime learns
where each submodule's types live. Nothing else changes: the same classes, the same synthesized JSON.

It steps aside, and the package loads as it always did, when the package already defines a module
``__getattr__`` (a later package that loads lazily itself), when the package was imported before
``install()``, or when the jsii runtime has no map of submodules to fill.

**The JavaScript side.** The jsii runtime (a Node.js child process) loads the provider from the
assembly tarball inside the Python package: it ``require``s the package's main module, ``lib/index.js``,
which requires all 2,135 resource modules (247 MB of JavaScript, about 500 MiB), and it parses the
120 MB ``.jsii`` type description (1.5 s). The same tarball ships ``lib/lazy-index.js``, which exports the
very same modules through getters that ``require`` one when it is first named; the runtime finds a type
by walking the package's exports (``exports.s3Bucket.S3Bucket``), so with it the runtime loads only the
modules of the types in use. ``lazy_tarball()`` derives, once per tarball, a copy in which

- ``package.json`` names ``lib/lazy-index.js`` as the main module (the runtime resolves the package's
  entry point through it);
- ``.jsii`` leaves out what the runtime never reads: documentation and source locations, which the
  runtime's own type index leaves out too (120 MB -> 34 MB);
- the runtime's type index, built by the runtime's own builder (``_runtime_index``), is included, so the
  runtime parses a type's description only when the type is used. The runtime builds that index itself
  after a load, on a worker thread, but a synth ends (and the runtime with it) before it is done;

and hands the kernel that copy instead of the original. Everything else is byte for byte the original.

The copy lives in the user's cache (``$XDG_CACHE_HOME`` or ``~/.cache``, then
``pipeline-provisioner/provider-packages/<sha256>/``, the hash of the original tarball, of this
derivation's version and of the jsii runtime's). It is written to a temporary file and renamed into
place, so an interrupted run never leaves a half-written copy (a leftover temporary file is removed by
a later derivation). Deriving takes about 10 s, 700 MB of memory and 33 MB of disk once per provider
and runtime version; the runtime then unpacks the copy into its own package cache, as it did the
original (315 MB). A small stamp file per tarball (path, size, modification time -> content hash)
spares later runs hashing the 34 MB tarball.

What it costs to maintain: it relies on two things of the prebuilt package, both checked every time a
copy is derived: ``lib/lazy-index.js`` exports exactly the modules ``lib/index.js`` does (same names,
same files, nothing else), and ``package.json`` names ``lib/index.js`` as its main module without an
``exports`` map. When either does not hold (a later package that loads lazily by itself, or another
layout), it steps aside: the kernel loads the tarball as shipped, slower and never different. An
unwritable cache does the same, with a one-line warning. The type index relies on the runtime's builder
(its file name in the ``jsii`` package and the data it is started with); when that changes, the copy
has no index and the runtime parses the slimmed ``.jsii`` (0.3 s). The synthesized stacks are
byte-identical either way (``tests/test_provider_loading.py``).

Standard library only: ``modules`` installs it on import without loading the framework.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.resources
import importlib.util
import io
import json
import os
import re
import sys
import tarfile
import tempfile
import time
import types
from pathlib import Path
from typing import Iterator, Sequence

PROVIDER_PACKAGES = ("cdktf_cdktf_provider_aws",)
_SUBMODULE_IMPORT = re.compile(r"^from \. import (\w+)$", re.M)


def install(packages: Sequence[str] = PROVIDER_PACKAGES) -> None:
    """Load ``packages`` lazily from now on (idempotent)."""
    if any(isinstance(finder, _LazyPackageFinder) for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, _LazyPackageFinder(tuple(packages)))


def jsii_name(python_name: str) -> str:
    """A submodule's jsii name from its Python name: ``data_aws_s3_bucket`` -> ``dataAwsS3Bucket``."""
    first, *rest = python_name.split("_")
    return first + "".join(part[:1].upper() + part[1:] for part in rest)


class _LazyPackageFinder(importlib.abc.MetaPathFinder):
    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.packages:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None or spec.submodule_search_locations is None:
            return None
        source = Path(spec.origin).read_text(encoding="utf-8")
        submodules = tuple(_SUBMODULE_IMPORT.findall(source))
        if not submodules or re.search(r"^def __getattr__\(", source, re.M) or not _runtime_resolves_lazily():
            return None  # the package's own import: already lazy, or nothing this could do
        spec.loader = _LazyPackageLoader(spec.loader, submodules)
        return spec


class _LazyPackageLoader(importlib.abc.Loader):
    def __init__(self, original: importlib.abc.Loader, submodules: tuple[str, ...]) -> None:
        self.original = original
        self.submodules = submodules

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return None  # the default module object, with __path__ from the spec

    def exec_module(self, module: types.ModuleType) -> None:
        name, submodules = module.__name__, self.submodules
        known = frozenset(submodules)

        def __getattr__(attribute: str) -> types.ModuleType:
            if attribute in known:
                return importlib.import_module(f"{name}.{attribute}")
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}")

        module.__getattr__ = __getattr__  # type: ignore[attr-defined]
        module.__all__ = list(submodules)  # type: ignore[attr-defined]
        module.__dir__ = lambda: sorted({*module.__dict__, *submodules})  # type: ignore[attr-defined]
        # What the original root module imports first: the assembly, loaded into the jsii kernel.
        with _kernel_loads_lazy_tarball(Path(module.__path__[0]) / "_jsii"):
            jsii_package = importlib.import_module(f"{name}._jsii")
        from jsii import _reference_map

        assembly = jsii_package.__jsii_assembly__.name
        _reference_map._submodule_fqn_map.update({f"{assembly}.{jsii_name(sub)}": f"{name}.{sub}" for sub in submodules})


def _runtime_resolves_lazily() -> bool:
    """True when the installed jsii runtime imports the module of a type it has not seen yet."""
    try:
        from jsii import _reference_map  # loaded by the provider package anyway
    except ImportError:
        return False
    return hasattr(_reference_map, "_submodule_fqn_map")


# ---- The JavaScript side -------------------------------------------------------------------------

DERIVATION = "lazy-main-slim-jsii-1"
"""Names what a derived tarball holds; a change to the derivation changes it, and so the copies' key."""
LAZY_MAIN = "lib/lazy-index.js"
_EAGER_EXPORT = re.compile(r'^exports\.(\w+) = require\("\./([\w-]+)"\);$', re.M)
_LAZY_EXPORT = re.compile(r"^Object\.defineProperty\(exports, '(\w+)', \{ get: function \(\) \{ return require\('\./([\w-]+)'\); \} \}\);$", re.M)
_DIGEST = re.compile(r"[0-9a-f]{64}")
_RUNTIME_UNUSED = frozenset({"docs", "locationInModule", "sourceLine"})
"""Fields of a type's description the jsii runtime never reads (its own type index drops the same)."""

loaded_tarballs: dict[str, Path] = {}
"""Assembly name -> the tarball the kernel was handed for it, for the provider packages loaded so far."""


class NotDerivable(Exception):
    """The tarball does not have the layout a lazy copy relies on: it is loaded as shipped."""


def cache_dir() -> Path:
    """Where derived tarballs are kept: the user's cache directory."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "pipeline-provisioner" / "provider-packages"


def lazy_tarball(original: Path, cache: Path | None = None) -> Path:
    """The tarball to load instead of ``original`` (``original`` itself when no lazy copy can be made)."""
    cache = cache or cache_dir()
    stat = original.stat()
    # The runtime's version is part of every key: its type index, inside the copy, is the runtime's own.
    derivation = f"{DERIVATION}\0{_runtime_version()}"
    stamp_key = f"{original.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{derivation}"
    stamp = cache / "stamps" / hashlib.sha256(stamp_key.encode()).hexdigest()
    try:
        known = stamp.read_text().strip()
    except OSError:
        known = ""
    if known == "as-shipped":
        return original
    if _DIGEST.fullmatch(known) and (cache / known / original.name).is_file():
        return cache / known / original.name
    digest = hashlib.sha256(f"{derivation}\0".encode())
    with original.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    key = digest.hexdigest()
    derived = cache / key / original.name
    try:
        if not derived.is_file():
            _write_atomically(derived, lambda target: derive(original, target))
        result, record = derived, key
    except NotDerivable:
        result, record = original, "as-shipped"
    _write_atomically(stamp, lambda target: target.write_text(record + "\n"))
    return result


def _runtime_version() -> str:
    import jsii  # loaded by the provider package anyway

    return getattr(jsii, "__version__", "unknown")


def derive(original: Path, target: Path) -> None:
    """Write to ``target`` the copy of the assembly tarball ``original`` whose main module is lazy.

    Deterministic: the same original gives the same bytes (the runtime's package cache is keyed by them).
    Raises ``NotDerivable`` when the package does not have the layout this relies on.
    """
    held: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    kept = {"package/package.json", "package/lib/index.js", f"package/{LAZY_MAIN}"}
    with contextlib.ExitStack() as files:
        source = files.enter_context(tarfile.open(original, "r:gz"))
        stream = files.enter_context(target.open("wb"))
        # No file name and no time in the gzip header: the same original always gives the same bytes.
        compressed = files.enter_context(gzip.GzipFile(filename="", mode="wb", fileobj=stream, compresslevel=6, mtime=0))
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.PAX_FORMAT) as copy:
            for member in source:
                data = source.extractfile(member).read() if member.isfile() else None
                if member.name in kept:
                    held[member.name] = (member, data)
                    continue
                if member.name == "package/.jsii":
                    data, features = _slim_assembly(data)
                    for index_member, index_data in _runtime_index(member, data, features):
                        _add(copy, index_member, index_data)
                _add(copy, member, data)
            if held.keys() != kept:
                raise NotDerivable(f"{original.name}: no {', '.join(sorted(kept - held.keys()))}")
            manifest = json.loads(held["package/package.json"][1])
            if "exports" in manifest or manifest.get("main", "index.js").removeprefix("./") != "lib/index.js":
                raise NotDerivable(f"{original.name}: the package chooses its own entry point")
            eager = held["package/lib/index.js"][1].decode()
            lazy = held[f"package/{LAZY_MAIN}"][1].decode()
            exported = set(_EAGER_EXPORT.findall(eager))
            if not exported or exported != set(_LAZY_EXPORT.findall(lazy)) or eager.count("require(") != len(exported):
                raise NotDerivable(f"{original.name}: {LAZY_MAIN} does not export what lib/index.js does")
            manifest["main"] = LAZY_MAIN
            for name in sorted(kept):
                member, data = held[name]
                _add(copy, member, json.dumps(manifest, indent=2).encode() + b"\n" if name == "package/package.json" else data)


def _slim_assembly(data: bytes) -> tuple[bytes, list[str]]:
    """The assembly without what the runtime never reads, and the features it uses (parsed once: it is large)."""
    assembly = json.loads(data)
    if not isinstance(assembly, dict) or not isinstance(assembly.get("types"), dict):
        return data, []  # a redirect to a compressed assembly, or a layout this does not know: as shipped

    def slim(value):
        if isinstance(value, dict):
            return {key: slim(item) for key, item in value.items() if key not in _RUNTIME_UNUSED}
        if isinstance(value, list):
            return [slim(item) for item in value]
        return value

    assembly["types"] = slim(assembly["types"])
    assembly["fingerprint"] = "*" * 10  # what jsii itself writes into an assembly it has changed
    return json.dumps(assembly, separators=(",", ":"), ensure_ascii=False).encode(), assembly.get("usedFeatures", [])


# Runs the jsii runtime's own index builder (the worker thread it starts itself) on a folder.
_BUILD_INDEX = """
const { Worker } = require("worker_threads");
const [script, packageDir, features] = process.argv.slice(1);
const worker = new Worker(script, { workerData: { packageDir, supportedFeatures: JSON.parse(features) } });
worker.on("message", (message) => { if (message && message.error) { console.error(message.error); process.exitCode = 1; } });
worker.on("error", (error) => { console.error(String(error)); process.exitCode = 1; });
"""


def _runtime_index(assembly_member: tarfile.TarInfo, assembly: bytes, features: list[str]) -> list[tuple[tarfile.TarInfo, bytes]]:
    """The jsii runtime's type index of ``assembly``, built by the runtime's own code, as tar members.

    The runtime reads a type's description from this index only when the type is first used, instead of
    parsing the whole ``.jsii`` (0.3-0.5 s). It builds the index itself after a load, on a worker thread,
    but a synth is over (and the runtime exits) before it is done, so it never would be. Best-effort:
    without it, the runtime parses the ``.jsii`` as it does for any package.
    """
    import subprocess

    import jsii._embedded.jsii as embedded

    script = next((name for name, path in embedded.EMBEDDED_FILES.items() if path == "lib/runtime-index-worker.js"), None)
    if script is None:
        return []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        (folder / "worker.js").write_bytes(importlib.resources.files(embedded).joinpath(script).read_bytes())
        package = folder / "package"
        package.mkdir()
        (package / ".jsii").write_bytes(assembly)
        node = os.environ.get("JSII_NODE", "node")
        built = subprocess.run([node, "-e", _BUILD_INDEX, str(folder / "worker.js"), str(package), json.dumps(features)], capture_output=True, check=False)
        if built.returncode != 0:
            return []
        members = []
        for path in sorted(package.iterdir()):
            if path.name != ".jsii" and path.is_file() and not path.name.endswith(".tmp"):
                member = tarfile.TarInfo(f"package/{path.name}")
                member.mode, member.mtime = assembly_member.mode, assembly_member.mtime
                members.append((member, path.read_bytes()))
        return members


def _add(copy: tarfile.TarFile, member: tarfile.TarInfo, data: bytes | None) -> None:
    if data is None:
        copy.addfile(member)
        return
    member.size = len(data)
    copy.addfile(member, io.BytesIO(data))


_LEFTOVER_AGE = 600
"""Seconds after which a temporary file beside a copy is a killed run's (deriving takes about 10 s)."""


def _write_atomically(target: Path, write) -> None:
    """``write(scratch)`` into a new file beside ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.*.partial"):
        with contextlib.suppress(OSError):  # a killed run's; another run's live one is minutes younger
            if time.time() - leftover.stat().st_mtime > _LEFTOVER_AGE:
                leftover.unlink()
    handle, scratch = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    try:
        write(Path(scratch))
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _kernel_loads_lazy_tarball(jsii_dir: Path) -> Iterator[None]:
    """While the package's ``_jsii`` module is imported, the kernel is handed the lazy copy of its tarball."""
    from jsii import _runtime

    kernel = _runtime.kernel
    load, shadowed = kernel.load, vars(kernel).get("load")

    def load_lazily(name: str, version: str, tarball: str) -> None:
        chosen = Path(tarball)
        if chosen.parent == jsii_dir:
            try:
                chosen = lazy_tarball(chosen)
            except OSError as error:  # an unwritable cache: slower, never different
                print(f"provisioner: provider package loads as shipped: {error}", file=sys.stderr)
            loaded_tarballs[name] = chosen
        load(name, version, str(chosen))

    kernel.load = load_lazily
    try:
        yield
    finally:
        if shadowed is None:
            del kernel.load
        else:
            kernel.load = shadowed
