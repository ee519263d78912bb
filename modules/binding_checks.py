"""The bindings' argument type checks, with each signature's type hints worked out once per process.

Every constructor, method and property setter of a jsii binding (``cdktf``, the AWS provider) checks its
arguments' types before it calls the runtime: the clear error a team gets when a workload passes a number
where a bucket name goes. To check, it first calls ``typing.get_type_hints(<stub>)``, where the stub is a
module-level function that carries the signature's annotations, and it does so on every call:
``get_type_hints`` walks the annotations and builds them anew each time (130 µs for an S3 bucket's
constructor, whose configuration type is a union of dozens of names). Measured in one process, 1 to 31
environments, median of 5: about 7 of the 45 ms an environment adds to a synth.

``install()`` gives each binding module, as it is imported (and those imported already), a ``typing``
module whose ``get_type_hints`` keeps the hints of each stub it has worked out. A stub's hints cannot
change: its annotations are objects built when its module ran (none is a string to resolve later), and
the bindings only read the hints. The checks themselves run as before, on every call; only the hints are
not built again. Any other function's hints, or a call with other arguments, go to
``typing.get_type_hints`` itself. Python's ``-O`` skips the checks altogether, as it did.

A binding module, once it has run, puts a module of its public names in its place in ``sys.modules`` and
itself under ``<name>._private``, where its functions keep running: that is the one patched.

Standard library only: ``modules`` installs it on import without loading the framework.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
import typing
from typing import Any, Sequence

BINDING_PACKAGES = ("cdktf", "cdktf_cdktf_provider_aws")
STUB_PREFIX = "_typecheckingstub__"
"""How the binding generator names the functions that carry a signature's annotations for the checks."""

_hints: dict[Any, dict[str, Any]] = {}


def install(packages: Sequence[str] = BINDING_PACKAGES) -> None:
    """Remember the stubs' hints in ``packages`` and their submodules from now on (idempotent)."""
    for name, module in list(sys.modules.items()):
        if module is not None and _in(name, packages):
            _give_cached_typing(vars(module))
    if not any(getattr(finder, "gives_cached_typing", False) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BindingFinder(tuple(packages)))


def type_hints(obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False) -> dict[str, Any]:
    """``typing.get_type_hints``, worked out once per stub."""
    if globalns is None and localns is None and not include_extras and getattr(obj, "__name__", "").startswith(STUB_PREFIX):
        hints = _hints.get(obj)
        if hints is None:
            hints = _hints[obj] = typing.get_type_hints(obj)
        return hints
    return typing.get_type_hints(obj, globalns, localns, include_extras)


_TYPING = types.ModuleType("typing", typing.__doc__)
_TYPING.__dict__.update({name: value for name, value in vars(typing).items() if not name.startswith("__")})
_TYPING.get_type_hints = type_hints  # type: ignore[attr-defined]


def _in(name: str, packages: Sequence[str]) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def _give_cached_typing(namespace: dict[str, Any]) -> None:
    if namespace.get("typing") is typing:
        namespace["typing"] = _TYPING


class _BindingFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of each binding module so that the module gets ``_TYPING`` once it has run."""

    gives_cached_typing = True  # how install() knows one is there, even one from a reloaded module

    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages
        self._finding = threading.local()

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        finding = self._finding.__dict__.setdefault("names", set())
        if not _in(fullname, self.packages) or fullname in finding:
            return None  # asked again by a finder that asks the others, as this one does: not a loop
        finding.add(fullname)
        try:
            spec = self._others_spec(fullname, path, target)
        finally:
            finding.discard(fullname)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _CachedTypingLoader(spec.loader)
        return spec

    def _others_spec(self, fullname: str, path, target) -> importlib.machinery.ModuleSpec | None:
        """The spec whoever comes next would give (the lazy provider loader, the path)."""
        for finder in sys.meta_path:
            if finder is not self and hasattr(finder, "find_spec"):
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    return spec
        return None


class _CachedTypingLoader(importlib.abc.Loader):
    def __init__(self, original: importlib.abc.Loader) -> None:
        self.original = original

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.original.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.original.exec_module(module)  # type: ignore[attr-defined]
        _give_cached_typing(vars(module))

    def __getattr__(self, name: str) -> Any:  # whatever else the original loader offers (is_package, ...)
        return getattr(self.original, name)
