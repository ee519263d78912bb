"""Who can do what, decided by an IAM policy evaluator over the synthesized policies.

Each ``Case`` is one request: a principal (a role, or an AWS service), an action, a resource and the
request's context keys. ``evaluate`` builds what AWS would evaluate for it (the caller's identity
policies in the caller's account; the trust, bucket, key or topic policy in the resource's account;
cross-account requests need both) and asks ``@cloud-copilot/iam-simulate`` (run with Node.js from
``node_modules``; AGPL-3.0, a test-only dependency, never shipped). The evaluator fills in no context
key by itself: every case says what the request carries. It cannot chain "assume a role, then act":
each hop is its own case.

AWS-managed policies (ReadOnlyAccess, PowerUserAccess) and customer-managed boundaries are not
available offline. A case says what it assumes of them (``managed``): ``"grants"`` (a stand-in allows
exactly the requested action) or ``"withholds"`` (a stand-in allows nothing). A denial under
``"grants"`` holds whatever the managed policy says; an allowance under ``"grants"`` and a denial
under ``"withholds"`` depend on it, and the report lists them.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from provisioner.paths import REPO_ROOT
from tests.permissions.world import Role, World

SIMULATOR = Path(__file__).with_name("simulate.mjs")
ALLOWED, DENIED = "Allowed", "Denied"


@dataclass(frozen=True)
class Case:
    name: str
    """What it proves, in a sentence; also the test id."""
    principal: str
    """A role ARN, or a service principal (``codebuild.amazonaws.com``)."""
    action: str
    resource: str
    expected: str
    """``ALLOWED`` or ``DENIED``."""
    account: str = ""
    """The resource's account when the world holds no policy for it (a workload account's SSM parameter)."""
    context: dict[str, str | list[str]] = field(default_factory=dict)
    """Context keys of the request besides the principal's own (aws:PrincipalArn, aws:PrincipalAccount)."""
    managed: str | None = None
    """What the case assumes of the principal's AWS-managed policies: "grants", "withholds", or None (it has none)."""
    extra_identity: tuple[dict, ...] = ()
    """Identity policies someone else adds to the principal (an admin of a workload account widening its role)."""

    def depends_on_managed_policies(self, decision: str) -> bool:
        return (self.managed == "grants" and decision == ALLOWED) or (self.managed == "withholds" and decision == DENIED)


def allow_everything() -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def simulation(world: World, case: Case) -> dict:
    identity: list[dict] = []
    boundaries: list[dict] = []
    context: dict[str, str | list[str]] = {}
    if not case.principal.endswith(".amazonaws.com"):
        # A role the stacks do not create (an operator's, another team's) has only what the case gives it.
        role = world.roles.get(case.principal) or Role(arn=case.principal, account=case.principal.split(":")[4], trust={})
        identity = [{"name": f"inline-{i}", "policy": doc} for i, doc in enumerate(role.inline)]
        assert (case.managed is not None) == bool(role.managed), f"{case.name}: say what the case assumes of {role.managed}"
        if role.managed:
            granted = [{"Effect": "Allow", "Action": case.action, "Resource": "*"}] if case.managed == "grants" else []
            identity.append({"name": "managed-stand-in", "policy": {"Version": "2012-10-17", "Statement": granted}})
        if role.boundary:
            boundaries = [{"name": "boundary-stand-in", "policy": allow_everything()}]
        identity += [{"name": f"added-{i}", "policy": doc} for i, doc in enumerate(case.extra_identity)]
        context = {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": role.account}
    context.update(case.context)
    parts = case.resource.split(":")
    resource_policy, account = None, case.account or (parts[4] if len(parts) > 4 else "")
    target = world.roles.get(case.resource) or world.resources.get(case.resource) or world.resources.get(case.resource.split("/", 1)[0])
    if target is not None:
        resource_policy = target.trust if isinstance(target, Role) else target.policy
        account = target.account
    assert account, f"{case.name}: no account for {case.resource}"
    found: dict = {
        "request": {
            "principal": case.principal,
            "action": case.action,
            "resource": {"resource": case.resource, "accountId": account},
            "contextVariables": context,
        },
        "identityPolicies": identity,
        "serviceControlPolicies": [],
        "resourceControlPolicies": [],
    }
    if resource_policy is not None:
        found["resourcePolicy"] = resource_policy
    if boundaries:
        found["permissionBoundaryPolicies"] = boundaries
    return found


@dataclass(frozen=True)
class Verdict:
    decision: str
    """``ALLOWED`` or ``DENIED``."""
    detail: str
    """The evaluator's own answer (ExplicitlyDenied, ImplicitlyDenied, Allowed) and any context key it ignored."""


def evaluate(world: World, cases: list[Case]) -> dict[str, Verdict]:
    """Every case's verdict, in one run of the evaluator."""
    simulations = [simulation(world, case) for case in cases]
    result = subprocess.run(
        ["node", str(SIMULATOR)], input=json.dumps(simulations), capture_output=True, text=True, cwd=REPO_ROOT, check=False, timeout=600
    )
    assert result.returncode == 0, f"the IAM evaluator failed (run `make setup`):\n{result.stderr[-3000:]}"
    verdicts: dict[str, Verdict] = {}
    for case, answer in zip(cases, json.loads(result.stdout), strict=True):
        assert "error" not in answer, f"{case.name}: the evaluator refused the request: {answer['error'][:1500]}"
        decision = ALLOWED if answer["decision"] == "Allowed" else DENIED
        ignored = f", ignored context keys {answer['ignored']}" if answer["ignored"] else ""
        verdicts[case.name] = Verdict(decision, f"{answer['decision']}{ignored}")
    return verdicts
