"""The checks the ``XxxProps`` classes share: each failure is a ValueError naming the props class, the
field and the rule, such as ``KmsKeyProps.account_id "55" must be 12 digits``.

Standard library only, so that a props class can be imported and checked without anything else.
A value cdktf resolves only at deploy time (another resource's attribute, such as a key's ARN) is a
token string; it passes the shape checks, since only terraform will know its value.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from modules.policy import PARTITIONS

_TOKEN_MARKERS = ("${TfToken[", "#{TfToken[")
"""How cdktf writes an unresolved string or list element (``Token.as_string``, ``Token.as_list``)."""


@dataclass(frozen=True)
class Rule:
    """What a value must be, as the error message says it, and the test."""

    requirement: str
    """Completes ``<Props>.<field> "<value>" ...``, for example "must be 12 digits"."""
    test: Callable[[Any], bool]


def is_token(value: object) -> bool:
    return isinstance(value, str) and any(marker in value for marker in _TOKEN_MARKERS)


def check(props: object, field_name: str, *rules: Rule) -> None:
    """``rules`` hold for the field's value, or for each element of a list; None (unset) and tokens pass."""
    value = getattr(props, field_name)
    items = [(field_name, value)] if isinstance(value, (str, int)) or value is None else [(f"{field_name}[{index}]", item) for index, item in enumerate(value)]
    for shown_name, item in items:
        if item is None or is_token(item):
            continue
        for rule in rules:
            if not rule.test(item):
                raise ValueError(f"{type(props).__name__}.{shown_name} {_shown(item)} {rule.requirement}")


def _shown(value: object) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


# --- types -------------------------------------------------------------------------------------


def check_types(props: object) -> None:
    """Every field holds a value of its annotated type (a str is no list of str, a bool no int)."""
    hints = _type_hints(type(props))
    for field in dataclasses.fields(props):  # type: ignore[arg-type]
        value = getattr(props, field.name)
        if not _matches(value, hints[field.name]):
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
            raise ValueError(f"{type(props).__name__}.{field.name} must be {_described(hints[field.name])}, got {type(value).__name__} {shown}")


@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _matches(value: object, annotation: Any) -> bool:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, argument) for argument in arguments)
    if annotation is type(None):
        return value is None
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is collections.abc.Sequence:
        return _is_list(value) and all(_matches(item, arguments[0]) for item in value)  # type: ignore[union-attr]
    if origin in (collections.abc.Mapping, dict):
        return isinstance(value, collections.abc.Mapping) and all(
            _matches(key, arguments[0]) and _matches(item, arguments[1]) for key, item in value.items()
        )
    return isinstance(value, origin or annotation)


def _is_list(value: object) -> bool:
    return isinstance(value, collections.abc.Sequence) and not isinstance(value, (str, bytes))


def _described(annotation: Any) -> str:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_described(argument) for argument in arguments)
    if origin is collections.abc.Sequence:
        return f"a list or tuple of {_described(arguments[0])}"
    if origin in (collections.abc.Mapping, dict):
        return f"a mapping of {_described(arguments[0])} to {_described(arguments[1])}"
    return "None" if annotation is type(None) else getattr(annotation, "__name__", str(annotation))


# --- rules -------------------------------------------------------------------------------------


def matching(pattern: str, requirement: str) -> Rule:
    compiled = re.compile(pattern)
    return Rule(requirement, lambda value: compiled.fullmatch(value) is not None)


def between(minimum: int, maximum: int) -> Rule:
    return Rule(f"must be {minimum}-{maximum}", lambda value: minimum <= value <= maximum)


def at_least(minimum: int) -> Rule:
    return Rule(f"must be at least {minimum}", lambda value: value >= minimum)


def one_of(choices: Iterable[object]) -> Rule:
    allowed = tuple(choices)
    return Rule(f"must be one of {', '.join(map(str, allowed))}", lambda value: value in allowed)


def not_in_account(account_id: str, why: str) -> Rule:
    return Rule(f"is in account {account_id}: {why}", lambda arn: arn.split(":")[4] != account_id)


def in_partition(partition: str) -> Rule:
    return Rule(f"is not in the partition {partition} (the partition field)", lambda arn: arn.split(":")[1] == partition)


_PARTITION = "(?:" + "|".join(map(re.escape, PARTITIONS)) + ")"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d{1,2}"

ACCOUNT_ID = matching(r"\d{12}", "must be 12 digits")
REGION = matching(_REGION, "is not an AWS region code (such as eu-west-1)")
ROLE_ARN = matching(
    rf"arn:{_PARTITION}:iam::\d{{12}}:role/[A-Za-z0-9_+=,.@/-]+",
    "is not an exact IAM role ARN (arn:<partition>:iam::<12 digits>:role/<name>, no wildcards)",
)
POLICY_ARN = matching(
    rf"arn:{_PARTITION}:iam::(?:aws|\d{{12}}):policy/[A-Za-z0-9_+=,.@/-]+",
    "is not an IAM policy ARN (arn:<partition>:iam::<12 digits, or aws>:policy/<name>)",
)
KMS_KEY_ARN = matching(
    rf"arn:{_PARTITION}:kms:{_REGION}:\d{{12}}:key/[A-Za-z0-9-]+",
    "is not a KMS key ARN (arn:<partition>:kms:<region>:<12 digits>:key/<key id>; an alias does not resolve across accounts)",
)
ANY_ARN = matching(
    rf"arn:{_PARTITION}:[a-z0-9-]+:[a-z0-9*-]*:(?:\d{{12}}|\*)?:.+",
    "is not an ARN (arn:<partition>:<service>:<region>:<account>:<resource>, wildcards allowed)",
)
KMS_ALIAS = Rule(
    'must start with "alias/" (and not "alias/aws/", which AWS reserves), then 1-250 letters, digits and /_-',
    lambda alias: re.fullmatch(r"alias/[A-Za-z0-9/_-]{1,250}", alias) is not None and not alias.startswith("alias/aws/"),
)
ROLE_NAME = matching(r"[A-Za-z0-9_+=,.@-]{1,64}", "must be 1-64 characters of letters, digits and +=,.@_-")
EXTERNAL_ID = matching(r"[A-Za-z0-9_+=,.@:/-]{2,1224}", "must be 2-1224 characters of letters, digits and +=,.@:/-_")
SERVICE_PRINCIPAL = matching(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?", "is not a service principal (such as codebuild.amazonaws.com)")
EMAIL = matching(r"[^@\s]+@[^@\s]+\.[^@\s.]+", "is not an email address")
PIPELINE_NAME = matching(r"[A-Za-z0-9.@_-]{1,100}", "must be 1-100 characters of letters, digits and .@_-")
PROJECT_NAME = matching(r"[A-Za-z0-9][A-Za-z0-9_-]{1,254}", "must be 2-255 letters, digits, _ and -, starting with a letter or digit")
TOPIC_NAME = matching(r"[A-Za-z0-9_-]{1,256}", "must be 1-256 letters, digits, _ and -")
LOG_GROUP_NAME = matching(r"[A-Za-z0-9._/#-]{1,512}", "must be 1-512 letters, digits and ._/#-")
NOT_EMPTY = Rule("must not be empty", lambda text: text != "")

_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _is_bucket_name(name: str) -> bool:
    """S3's rules for general purpose bucket names."""
    return (
        re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name) is not None
        and ".." not in name
        and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name) is None
        and not name.startswith(_RESERVED_BUCKET_PREFIXES)
        and not name.endswith(_RESERVED_BUCKET_SUFFIXES)
    )


BUCKET_NAME = Rule(
    "is not an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter "
    "or digit, no two dots in a row, not shaped like an IP address, no prefix xn--, sthree- or amzn-s3-demo- "
    "and no suffix -s3alias, --ol-s3, .mrap, --x-s3 or --table-s3",
    _is_bucket_name,
)
BUCKET_AND_PREFIX = Rule(
    "must be <bucket>/<prefix>, with an S3 bucket name",
    lambda location: "/" in location and (is_token(location.split("/", 1)[0]) or _is_bucket_name(location.split("/", 1)[0])),
)
