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

Standard library only: ``modules`` installs it on import without loading the framework.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys
import types
from pathlib import Path
from typing import Sequence

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
