"""The bindings' argument type checks, with each signature's type hints worked out once per process.

Every constructor, method and property setter of a jsii binding (``cdktf``, the AWS provider) checks its
arguments' types before it calls the runtime: the clear error a team gets when a workload passes a number
where a bucket name goes. To check, it first calls ``typing.get_type_hints(<stub>)``, where the stub is a
module-level function that carries the signature's annotations, and it does so on every call: the
annotations are evaluated again each time (a resource's configuration type alone is a union of dozens of
names). That is about a quarter of the Python time an environment adds to a synth (measured: 9-10 ms of
37-42 ms per environment, 1 to 31 environments in one process).

``install()`` gives each binding module, as it is imported (and those imported already), a ``typing``
module whose ``get_type_hints`` keeps the hints of each stub it has evaluated. A stub's hints cannot
change: its annotations and the module they are resolved in are fixed once the module is loaded. The
checks themselves run as before, on every call; only the evaluation of the hints is not repeated. Any
other function's hints, or a call with other arguments, go to ``typing.get_type_hints`` itself.
Python's ``-O`` skips the checks altogether, as it did.

Standard library only: ``modules`` installs it on import without loading the framework.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
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
            _give_cached_typing(_namespace(module))
    if not any(isinstance(finder, _BindingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _BindingFinder(tuple(packages)))


def type_hints(obj: Any, globalns: Any = None, localns: Any = None, include_extras: bool = False) -> dict[str, Any]:
    """``typing.get_type_hints``, evaluated once per stub."""
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


def _namespace(module: types.ModuleType) -> dict[str, Any]:
    """The namespace a module's functions run in. A jsii binding module publishes only its public names:
    when it has run, it puts a module of those in its place in ``sys.modules`` (so ``cdktf.typing`` is not
    there), while its functions keep running in the module's own namespace."""
    for value in vars(module).values():
        functions = vars(value).values() if isinstance(value, type) else (value,)
        for function in functions:
            namespace = getattr(function, "__globals__", None)
            if namespace is not None and namespace.get("__name__") == module.__name__:
                return namespace
    return vars(module)


def _give_cached_typing(namespace: dict[str, Any]) -> None:
    if namespace.get("typing") is typing:
        namespace["typing"] = _TYPING


class _BindingFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of each binding module so that the module gets ``_TYPING`` once it has run."""

    def __init__(self, packages: tuple[str, ...]) -> None:
        self.packages = packages

    def find_spec(self, fullname: str, path=None, target=None) -> importlib.machinery.ModuleSpec | None:
        if not _in(fullname, self.packages):
            return None
        for finder in sys.meta_path:  # whoever would have found it (the lazy provider loader, the path)
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _CachedTypingLoader(spec.loader)
        return spec


class _CachedTypingLoader(importlib.abc.Loader):
    def __init__(self, original: importlib.abc.Loader) -> None:
        self.original = original

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self.original.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.original.exec_module(module)  # type: ignore[attr-defined]
        _give_cached_typing(vars(module))

    def __getattr__(self, name: str) -> Any:  # get_resource_reader, is_package, ... of the original loader
        return getattr(self.original, name)
