"""The attributes a module construct exposes (``role_arn``, ``bucket_name``, ...) are read from the jsii
runtime once per construct: each read of a resource's attribute is a request to the runtime, and the
stacks read some of them once per environment or per project (a key's ARN, dozens of times)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import cached_property

import modules
from modules import framework
from modules.framework import Construct, TerraformOutput, TerraformStack
from tests.modules.helpers import ref


def construct_classes() -> list[type]:
    found = []
    for info in pkgutil.iter_modules(modules.__path__):
        module = importlib.import_module(f"modules.{info.name}")
        found += [value for value in vars(module).values() if isinstance(value, type) and issubclass(value, Construct) and value.__module__ == module.__name__]
    return found


def test_every_attribute_a_module_construct_exposes_is_read_once() -> None:
    classes = construct_classes()
    assert len(classes) >= 8, classes  # the module constructs were found
    plain = [f"{cls.__name__}.{name}" for cls in classes for name, value in vars(cls).items() if isinstance(value, property)]
    assert plain == [], "read from the runtime on every access; use functools.cached_property"
    cached = {name for cls in classes for name, value in vars(cls).items() if isinstance(value, cached_property)}
    assert len(cached) >= 10, cached
    # jsii takes only data descriptors for overrides of the framework's members: a cached one would not be.
    assert not {name for name in cached if hasattr(Construct, name)}, "a cached attribute shadows a framework member"


def test_a_cached_attribute_is_one_token_that_synthesizes_as_the_reference_wherever_it_is_used() -> None:
    from modules.kms_key import KmsKey, KmsKeyProps

    stack = TerraformStack(framework.Testing.app(), "attributes")
    key = KmsKey(stack, "key", KmsKeyProps(alias="alias/attributes", account_id="111111111111"))
    assert key.key.arn != key.key.arn, "the binding makes a new token per read (what the cache spares)"
    assert key.key_arn is key.key_arn
    for name in ("first", "second"):
        TerraformOutput(stack, name, value=key.key_arn)
    synthesized = json.loads(framework.Testing.synth(stack))
    (logical_id,) = synthesized["resource"]["aws_kms_key"]
    assert {name: output["value"] for name, output in synthesized["output"].items()} == {name: ref("aws_kms_key", logical_id, "arn") for name in ("first", "second")}
