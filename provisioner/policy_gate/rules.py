"""The project's own policy rules: what checkov does not check, read from a synthesized ``cdk.tf.json``.

Each rule looks at one kind of resource and returns one ``RuleResult`` per resource it applies to
(passed or failed, with the reason). Policies in the synthesized JSON are JSON strings whose
Terraform interpolations (``${aws_s3_bucket.x.arn}``) sit inside string values, so ``json.loads``
reads them; a policy that is one reference to a ``data.aws_iam_policy_document`` is read from that
data source. A policy the rules cannot read fails: the gate never passes what it could not check.

- ``PROV_1`` a role that trusts AWS accounts or roles pins the exact roles (``aws:PrincipalArn``
  with ``ArnEquals``/``ArnLike`` and exact role ARNs) or names exact roles as principals.
- ``PROV_2`` no IAM statement allows ``*`` or ``<service>:*`` on ``*`` (the KMS key-policy statement
  giving the key's own account root ``kms:*`` aside).
- ``PROV_3`` every bucket policy denies all S3 access without TLS, on the bucket and its objects.
- ``PROV_4`` every bucket has a bucket policy.
- ``PROV_5`` every symmetric KMS key rotates automatically.
- ``PROV_6`` every CodeBuild project encrypts its artifacts with a customer-managed key ARN.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator

from provisioner.configuration import naming


@dataclass(frozen=True)
class Rule:
    id: str
    title: str


TRUST_PINNED = Rule("PROV_1", "Cross-account role trust is pinned to exact role ARNs")
NO_WILDCARD_ADMIN = Rule("PROV_2", "No IAM statement allows * actions on * resources")
BUCKET_POLICY_DENIES_INSECURE_TRANSPORT = Rule("PROV_3", "Bucket policy denies every S3 action without TLS")
BUCKET_HAS_POLICY = Rule("PROV_4", "S3 bucket has a bucket policy")
KMS_KEY_ROTATION = Rule("PROV_5", "KMS key rotates automatically")
CODEBUILD_CMK = Rule("PROV_6", "CodeBuild project encrypts artifacts with a customer-managed KMS key ARN")
RULES = (TRUST_PINNED, NO_WILDCARD_ADMIN, BUCKET_POLICY_DENIES_INSECURE_TRANSPORT, BUCKET_HAS_POLICY, KMS_KEY_ROTATION, CODEBUILD_CMK)


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    address: str
    """Terraform address of the resource, ``<type>.<name>``."""
    passed: bool
    detail: str = ""
    """Why it failed (empty when it passed)."""


# Resource types and the attributes holding IAM policy documents (trust policies are PROV_1's).
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_s3_bucket": "policy",
    "aws_kms_key": "policy",
    "aws_kms_key_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_sns_topic": "policy",
    "aws_sqs_queue_policy": "policy",
}
KMS_KEY_POLICY_TYPES = ("aws_kms_key", "aws_kms_key_policy")

_REFERENCE = re.compile(r"^\$\{(?P<address>(?:data\.)?[a-z0-9_]+\.[A-Za-z0-9_-]+)\.(?P<attribute>[a-z0-9_]+)\}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_ACCOUNT_ROOT = re.compile(r"^(?:arn:aws[a-z-]*:iam::)?(?P<account>\d{12})(?::root)?$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_SERVICE_WILDCARD = re.compile(r"^[A-Za-z0-9-]+:\*$")
_PIN_OPERATORS = ("arnequals", "arnlike")


class UnreadablePolicy(ValueError):
    """A policy document the rules cannot read; the resource fails with this message."""


def check_stack(stack: dict[str, Any]) -> list[RuleResult]:
    """Every rule over one synthesized stack (``cdk.tf.json`` as parsed JSON)."""
    index = _Index(stack)
    results: list[RuleResult] = []
    for rule_check in (_trust_pinned, _no_wildcard_admin, _bucket_policies, _buckets_have_policies, _key_rotation, _codebuild_cmk):
        results.extend(rule_check(index))
    return results


class _Index:
    """The stack's resources and data sources by type and name, and reference resolution."""

    def __init__(self, stack: dict[str, Any]) -> None:
        self.resources: dict[str, dict[str, dict]] = stack.get("resource") or {}
        self.data: dict[str, dict[str, dict]] = stack.get("data") or {}
        providers = (stack.get("provider") or {}).get("aws") or []
        self.allowed_accounts = {
            account
            for provider in (providers if isinstance(providers, list) else [providers])
            for account in provider.get("allowed_account_ids") or []
        }

    def each(self, resource_type: str) -> Iterator[tuple[str, dict]]:
        for name, config in sorted((self.resources.get(resource_type) or {}).items()):
            yield f"{resource_type}.{name}", config

    def policy(self, value: Any) -> dict:
        """A policy document from a JSON string, a parsed object, or a policy-document data source reference."""
        if isinstance(value, dict):
            return value
        if not isinstance(value, str) or not value.strip():
            raise UnreadablePolicy("the policy is empty")
        reference = _REFERENCE.match(value.strip())
        if reference and reference["address"].startswith("data.aws_iam_policy_document."):
            name = reference["address"].split(".", 2)[2]
            document = (self.data.get("aws_iam_policy_document") or {}).get(name)
            if document is None:
                raise UnreadablePolicy(f"{reference['address']} is not in the stack")
            return _from_policy_document_data(document)
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise UnreadablePolicy(f"the policy is not a JSON document the gate can read ({error.msg})") from None
        if not isinstance(parsed, dict):
            raise UnreadablePolicy("the policy is not a JSON object")
        return parsed


def _from_policy_document_data(data: dict) -> dict:
    """An ``aws_iam_policy_document`` data source's statements in IAM JSON form."""
    blocks = data.get("statement") or []
    statements = []
    for block in blocks if isinstance(blocks, list) else [blocks]:
        statement: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
        for source, target in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource")):
            if block.get(source):
                statement[target] = list(block[source])
        principals: dict[str, list[str]] = {}
        for principal in _as_list(block.get("principals")):
            principals.setdefault(principal.get("type", ""), []).extend(principal.get("identifiers") or [])
        if principals:
            # type "*" with identifier "*" is how the data source writes "Principal": "*".
            statement["Principal"] = "*" if principals == {"*": ["*"]} else principals
        conditions: dict[str, dict[str, list[str]]] = {}
        for condition in _as_list(block.get("condition")):
            conditions.setdefault(condition.get("test", ""), {})[condition.get("variable", "")] = list(condition.get("values") or [])
        if conditions:
            statement["Condition"] = conditions
        if block.get("sid"):
            statement["Sid"] = block["sid"]
        statements.append(statement)
    if data.get("source_policy_documents") or data.get("override_policy_documents"):
        raise UnreadablePolicy("policy documents merged from other documents are not supported by the gate")
    return {"Version": "2012-10-17", "Statement": statements}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(document: dict) -> list[dict]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _label(statement: dict, position: int) -> str:
    return f'statement "{statement["Sid"]}"' if statement.get("Sid") else f"statement #{position + 1}"


def _aws_principals(statement: dict) -> list[str]:
    principal = statement.get("Principal")
    if principal == "*":
        return ["*"]
    if isinstance(principal, dict):
        return [str(p) for p in _as_list(principal.get("AWS"))]
    return []


def _is_role_reference(value: str, index: _Index) -> bool:
    reference = _REFERENCE.match(value)
    if not reference or reference["attribute"] != "arn":
        return False
    resource_type, name = reference["address"].split(".", 1)
    return resource_type == "aws_iam_role" and name in (index.resources.get("aws_iam_role") or {})


def _is_exact_role(value: str, index: _Index) -> bool:
    if _is_role_reference(value, index):
        return True
    return bool(_ROLE_ARN.match(value)) and "*" not in value and "?" not in value


# -- PROV_1 ----------------------------------------------------------------------------------------
def _trust_pinned(index: _Index) -> Iterator[RuleResult]:
    for address, role in index.each("aws_iam_role"):
        try:
            document = index.policy(role.get("assume_role_policy"))
        except UnreadablePolicy as error:
            yield RuleResult(TRUST_PINNED, address, False, f"assume_role_policy: {error}")
            continue
        problems: list[str] = []
        trusts_aws = False
        for position, statement in enumerate(_statements(document)):
            principals = _aws_principals(statement)
            if statement.get("Effect") != "Allow" or not principals:
                continue
            trusts_aws = True
            label = _label(statement, position)
            if "*" in principals:
                problems.append(f'{label} trusts any AWS principal ("*")')
                continue
            unpinned = [p for p in principals if not _is_exact_role(p, index)]
            if not unpinned:
                continue
            pin_problem = _principal_arn_pin_problem(statement, index)
            if pin_problem:
                problems.append(f"{label} trusts {', '.join(unpinned)} {pin_problem}")
        if trusts_aws:
            yield RuleResult(TRUST_PINNED, address, not problems, "; ".join(problems))


def _principal_arn_pin_problem(statement: dict, index: _Index) -> str:
    """Why the statement's conditions do not pin exact roles through ``aws:PrincipalArn`` (empty when they do)."""
    pins: list[str] = []
    for operator, keys in (statement.get("Condition") or {}).items():
        if operator.lower() not in _PIN_OPERATORS or not isinstance(keys, dict):
            continue
        for key, values in keys.items():
            if key.lower() == "aws:principalarn":
                pins.extend(str(v) for v in _as_list(values))
    if not pins:
        return "without an ArnEquals/ArnLike aws:PrincipalArn condition naming the exact roles"
    loose = [pin for pin in pins if not _is_exact_role(pin, index)]
    if loose:
        return f"with aws:PrincipalArn values that are not exact role ARNs: {', '.join(loose)}"
    return ""


# -- PROV_2 ----------------------------------------------------------------------------------------
def _no_wildcard_admin(index: _Index) -> Iterator[RuleResult]:
    for resource_type, attribute in POLICY_ATTRIBUTES.items():
        for address, config in index.each(resource_type):
            if attribute not in config:
                continue
            yield _wildcard_admin_result(address, resource_type, config[attribute], index)
    for address, role in index.each("aws_iam_role"):
        for inline in _as_list(role.get("inline_policy")):
            if inline.get("policy"):
                prefix = f'inline policy "{inline.get("name", "")}": '
                yield _wildcard_admin_result(address, "aws_iam_role", inline["policy"], index, prefix)


def _wildcard_admin_result(address: str, resource_type: str, value: Any, index: _Index, prefix: str = "") -> RuleResult:
    try:
        document = index.policy(value)
    except UnreadablePolicy as error:
        return RuleResult(NO_WILDCARD_ADMIN, address, False, f"{prefix}{error}")
    problems = []
    for position, statement in enumerate(_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        broad = [a for a in map(str, _as_list(statement.get("Action"))) if a == "*" or _SERVICE_WILDCARD.match(a)]
        if not broad or "*" not in _as_list(statement.get("Resource")):
            continue
        if resource_type in KMS_KEY_POLICY_TYPES and _is_key_owner_statement(statement, broad, index):
            continue
        problems.append(f"{prefix}{_label(statement, position)} allows {', '.join(broad)} on *")
    return RuleResult(NO_WILDCARD_ADMIN, address, not problems, "; ".join(problems))


def _is_key_owner_statement(statement: dict, broad: list[str], index: _Index) -> bool:
    """AWS's default key-policy statement: the owning account's root may do ``kms:*`` (IAM then delegates)."""
    if broad != ["kms:*"] or _as_list(statement.get("Action")) != ["kms:*"]:
        return False
    principals = _aws_principals(statement)
    if not principals or isinstance(statement.get("Principal"), dict) and set(statement["Principal"]) != {"AWS"}:
        return False
    for principal in principals:
        root = _ACCOUNT_ROOT.match(principal)
        if not root or (index.allowed_accounts and root["account"] not in index.allowed_accounts):
            return False
    return True


# -- PROV_3, PROV_4 --------------------------------------------------------------------------------
def _bucket_policies(index: _Index) -> Iterator[RuleResult]:
    for address, config in index.each("aws_s3_bucket_policy"):
        yield _bucket_policy_result(address, config.get("policy"), _bucket_arns(config.get("bucket"), index), index)
    for address, bucket in index.each("aws_s3_bucket"):
        if bucket.get("policy"):
            yield _bucket_policy_result(address, bucket["policy"], _bucket_arns(f"${{{address}.id}}", index), index)


def _bucket_arns(bucket: Any, index: _Index) -> set[str]:
    """Ways a policy may write the ARN of the bucket named by a policy's ``bucket`` argument."""
    if not isinstance(bucket, str):
        return set()
    reference = _REFERENCE.match(bucket)
    if reference and reference["address"].startswith("aws_s3_bucket."):
        arns = {f"${{{reference['address']}.arn}}"}
        name = reference["address"].split(".", 1)[1]
        literal = ((index.resources.get("aws_s3_bucket") or {}).get(name) or {}).get("bucket")
        if isinstance(literal, str) and "${" not in literal:
            arns |= _literal_bucket_arns(literal)
        return arns
    return _literal_bucket_arns(bucket) if "${" not in bucket else set()


def _literal_bucket_arns(bucket: str) -> set[str]:
    """The bucket's ARN in each partition: a stack names its own partition's, whichever that is."""
    return {naming.arn(partition, "s3", "", "", bucket) for partition in naming.PARTITIONS}


def _bucket_policy_result(address: str, value: Any, bucket_arns: set[str], index: _Index) -> RuleResult:
    rule = BUCKET_POLICY_DENIES_INSECURE_TRANSPORT
    try:
        document = index.policy(value)
    except UnreadablePolicy as error:
        return RuleResult(rule, address, False, str(error))
    covered: set[str] = set()
    denies = False
    for statement in _statements(document):
        if not _denies_insecure_transport(statement):
            continue
        denies = True
        resources = {str(r) for r in _as_list(statement.get("Resource"))}
        if "*" in resources or resources & bucket_arns:
            covered.add("the bucket")
        if "*" in resources or resources & {f"{arn}/*" for arn in bucket_arns}:
            covered.add("its objects")
    missing = [part for part in ("the bucket", "its objects") if part not in covered]
    if not missing:
        return RuleResult(rule, address, True)
    if denies:
        detail = f"the aws:SecureTransport deny does not cover {' or '.join(missing)}"
    else:
        detail = 'no statement denies "s3:*" to "*" when aws:SecureTransport is false'
    return RuleResult(rule, address, False, detail)


def _denies_insecure_transport(statement: dict) -> bool:
    if statement.get("Effect") != "Deny" or not (statement.get("Principal") == "*" or _aws_principals(statement) == ["*"]):
        return False
    if not {"*", "s3:*"} & {str(a).lower() for a in _as_list(statement.get("Action"))}:
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        if operator.lower() not in ("bool", "boolifexists") or not isinstance(keys, dict):
            continue
        for key, values in keys.items():
            if key.lower() == "aws:securetransport" and [str(v).lower() for v in _as_list(values)] == ["false"]:
                return True
    return False


def _buckets_have_policies(index: _Index) -> Iterator[RuleResult]:
    covered: set[str] = set()
    for _, config in index.each("aws_s3_bucket_policy"):
        bucket = config.get("bucket")
        reference = _REFERENCE.match(bucket) if isinstance(bucket, str) else None
        if reference and reference["address"].startswith("aws_s3_bucket."):
            covered.add(reference["address"])
        elif isinstance(bucket, str):
            covered.update(address for address, b in index.each("aws_s3_bucket") if b.get("bucket") == bucket)
    for address, bucket in index.each("aws_s3_bucket"):
        has_policy = address in covered or bool(bucket.get("policy"))
        yield RuleResult(BUCKET_HAS_POLICY, address, has_policy, "" if has_policy else "no aws_s3_bucket_policy names this bucket")


# -- PROV_5 ----------------------------------------------------------------------------------------
def _key_rotation(index: _Index) -> Iterator[RuleResult]:
    for address, key in index.each("aws_kms_key"):
        spec = key.get("customer_master_key_spec") or key.get("key_spec") or "SYMMETRIC_DEFAULT"
        if spec != "SYMMETRIC_DEFAULT":
            continue  # AWS rotates only symmetric encryption keys
        rotates = key.get("enable_key_rotation") in (True, "true")
        yield RuleResult(KMS_KEY_ROTATION, address, rotates, "" if rotates else "enable_key_rotation is not true")


# -- PROV_6 ----------------------------------------------------------------------------------------
def _codebuild_cmk(index: _Index) -> Iterator[RuleResult]:
    for address, project in index.each("aws_codebuild_project"):
        problem = _encryption_key_problem(project.get("encryption_key"))
        yield RuleResult(CODEBUILD_CMK, address, problem is None, problem or "")


def _encryption_key_problem(value: Any) -> str | None:
    if not value:
        return "encryption_key is not set, so CodeBuild uses the AWS-managed alias/aws/s3 key"
    value = str(value)
    if value == "alias/aws/s3" or value.endswith(":alias/aws/s3"):
        return f"encryption_key {value} is the AWS-managed S3 key, which other accounts cannot use"
    reference = _REFERENCE.match(value)
    if reference:
        if reference["address"].split(".")[-2] == "aws_kms_key" and reference["attribute"] == "arn":
            return None
        return f"encryption_key {value} is not the ARN of an aws_kms_key"
    if _KMS_KEY_ARN.match(value):
        return None
    if "alias/" in value:
        return f"encryption_key {value} is an alias; aliases do not resolve across accounts, use the key ARN"
    return f"encryption_key {value} is not a KMS key ARN"

