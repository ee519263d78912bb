"""The synthesized stacks read as AWS would hold them: every role with its identity and trust policies,
every bucket, key and topic with its resource policy, each in its account.

References between resources (``${aws_kms_key.<id>.arn}``) become the ARNs AWS would give them: the
name-derived ones exactly, a KMS key's id as a stable stand-in UUID. An unknown reference fails the
test rather than evaluating a policy that names nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import Synthesized

REFERENCE = re.compile(r"\$\{(?P<type>aws_[a-z0-9_]+)\.(?P<id>[^.}]+)\.(?P<attr>[a-z_]+)\}")
LOCAL = re.compile(r"\$\{local\.(?P<name>[a-z0-9_]+)\}")
REPLACE = re.compile(r'^\$\{replace\((?P<ref>aws_[a-z0-9_]+\.[^.,]+\.arn), "(?P<old>[^"]*)", "(?P<new>[^"]*)"\)\}$')


@dataclass
class Role:
    arn: str
    account: str
    trust: dict
    inline: list[dict] = field(default_factory=list)
    """Inline policy documents."""
    managed: list[str] = field(default_factory=list)
    """ARNs of attached managed policies: AWS-managed ones are not available offline (see ``Case.managed``)."""
    boundary: str | None = None


@dataclass
class Resource:
    arn: str
    account: str
    policy: dict | None


@dataclass
class World:
    roles: dict[str, Role] = field(default_factory=dict)
    """Role ARN -> role."""
    resources: dict[str, Resource] = field(default_factory=dict)
    """Bucket, key or topic ARN -> resource (with its resource policy)."""

    def role(self, arn: str) -> Role:
        assert arn in self.roles, f"no synthesized role {arn}"
        return self.roles[arn]

    def resource(self, arn: str) -> Resource:
        assert arn in self.resources, f"no synthesized resource {arn}"
        return self.resources[arn]


def read_world(synth: Synthesized) -> World:
    world = World()
    for stack_name, doc in synth.stacks.items():
        resolve = _resolver(doc)
        (provider,) = doc["provider"]["aws"]
        account = provider["allowed_account_ids"][0]
        resources = doc.get("resource", {})
        roles_by_id: dict[str, Role] = {}
        for logical_id, role in resources.get("aws_iam_role", {}).items():
            arn = f"arn:aws:iam::{account}:role/{role['name']}"
            roles_by_id[logical_id] = world.roles[arn] = Role(
                arn=arn, account=account, trust=json.loads(resolve(role["assume_role_policy"])), boundary=role.get("permissions_boundary")
            )
        for policy in resources.get("aws_iam_role_policy", {}).values():
            _owner(roles_by_id, policy["role"]).inline.append(json.loads(resolve(policy["policy"])))
        for attachment in resources.get("aws_iam_role_policy_attachment", {}).values():
            _owner(roles_by_id, attachment["role"]).managed.append(attachment["policy_arn"])
        for bucket_policy in resources.get("aws_s3_bucket_policy", {}).values():
            bucket = resolve(bucket_policy["bucket"])
            world.resources[f"arn:aws:s3:::{bucket}"] = Resource(f"arn:aws:s3:::{bucket}", account, json.loads(resolve(bucket_policy["policy"])))
        for logical_id, key in resources.get("aws_kms_key", {}).items():
            arn = resolve(f"${{aws_kms_key.{logical_id}.arn}}")
            world.resources[arn] = Resource(arn, account, json.loads(resolve(key["policy"])))
        for topic_policy in resources.get("aws_sns_topic_policy", {}).values():
            arn = resolve(topic_policy["arn"])
            world.resources[arn] = Resource(arn, account, json.loads(resolve(topic_policy["policy"])))
    return world


def _owner(roles_by_id: dict[str, Role], reference: str) -> Role:
    match = REFERENCE.fullmatch(reference)
    assert match and match["type"] == "aws_iam_role", reference
    return roles_by_id[match["id"]]


def key_arn(region: str, account: str, logical_id: str) -> str:
    """The stand-in ARN of a KMS key: AWS picks the id, only its length and shape matter to a policy."""
    return f"arn:aws:kms:{region}:{account}:key/{uuid.uuid5(uuid.NAMESPACE_URL, logical_id)}"


def connection_arn(region: str, account: str, logical_id: str) -> str:
    """The stand-in ARN of a CodeStar connection the devops stack creates."""
    return f"arn:aws:codestar-connections:{region}:{account}:connection/{uuid.uuid5(uuid.NAMESPACE_URL, logical_id)}"


def _resolver(doc: dict[str, Any]):
    (provider,) = doc["provider"]["aws"]
    region, account = provider["region"], provider["allowed_account_ids"][0]
    resources = doc.get("resource", {})

    def attribute(resource_type: str, logical_id: str, attr: str) -> str:
        found = resources.get(resource_type, {}).get(logical_id)
        assert found is not None, f"reference to a missing resource {resource_type}.{logical_id}"
        if resource_type == "aws_kms_key" and attr == "arn":
            return key_arn(region, account, logical_id)
        if resource_type == "aws_s3_bucket" and attr == "arn":
            return f"arn:aws:s3:::{found['bucket']}"
        if resource_type == "aws_s3_bucket" and attr in ("id", "bucket"):
            return found["bucket"]
        if resource_type == "aws_sns_topic" and attr == "arn":
            return f"arn:aws:sns:{region}:{account}:{found['name']}"
        if resource_type == "aws_iam_role" and attr == "arn":
            return f"arn:aws:iam::{account}:role/{found['name']}"
        if resource_type == "aws_codestarconnections_connection" and attr == "arn":
            return connection_arn(region, account, logical_id)
        raise AssertionError(f"no stand-in for {resource_type}.{logical_id}.{attr}")

    def local(name: str) -> str:
        expression = doc["locals"][name]
        match = REPLACE.fullmatch(expression)
        assert match, f"local.{name}: no stand-in for {expression}"
        resource_type, logical_id, attr = match["ref"].split(".")
        return attribute(resource_type, logical_id, attr).replace(match["old"], match["new"])

    def resolve(text: str) -> str:
        text = REFERENCE.sub(lambda m: attribute(m["type"], m["id"], m["attr"]), text)
        text = LOCAL.sub(lambda m: local(m["name"]), text)
        assert "${" not in text, f"unresolved reference in {text[:200]}"
        return text

    return resolve
