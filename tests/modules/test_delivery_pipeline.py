"""``modules.delivery_pipeline.DeliveryPipeline``: the synthesized release pipeline of the devops stack."""

from __future__ import annotations

import json

import pytest

from modules.delivery_pipeline import DeliveryPipelineProps
from modules.pipeline_blueprint import CodeCommitSource, CodeStarSource, S3Source, source_revision
from tests.modules.helpers import at_path, by_sid, ref, statements, team_step_project, team_steps

COMMIT_ID = "#{SourceVariables.CommitId}"
APPROVING = {"acme-platform": ["prod"], "alt": ["live"]}
"""Environments that require approval, by project prefix (example_synth, alt_synth)."""


def pipeline(synth) -> tuple[str, dict]:
    return at_path(synth.stacks["devops"], "aws_codepipeline", "devops/pipeline/pipeline")


def stages(synth) -> dict[str, dict]:
    return {stage["name"]: stage for stage in pipeline(synth)[1]["stage"]}


def actions(stage: dict) -> dict[str, dict]:
    return {action["name"]: action for action in stage["action"]}


def build_actions(synth):
    for stage in pipeline(synth)[1]["stage"]:
        for action in stage["action"]:
            if action["category"] == "Build":
                yield stage["name"], action


def environment_stage(synth, env_name: str) -> dict:
    for stage in pipeline(synth)[1]["stage"]:
        if f"Plan-{env_name}" in actions(stage):
            return stage
    raise AssertionError(f"no stage plans {env_name}")


def test_pipeline_is_v2_queued_and_named_from_the_prefix(synth) -> None:
    _, found = pipeline(synth)
    assert found["pipeline_type"] == "V2"
    assert found["execution_mode"] == "QUEUED"
    assert found["name"] == f"{synth.project.devops.name_prefix}-delivery"
    role_id, _ = at_path(synth.stacks["devops"], "aws_iam_role", "devops/pipeline-role/role")
    assert found["role_arn"] == ref("aws_iam_role", role_id, "arn")


def test_artifact_store_is_the_artifact_bucket_encrypted_by_key_arn(synth) -> None:
    devops = synth.stacks["devops"]
    key_id, _ = at_path(devops, "aws_kms_key", "devops/artifacts/key/key")
    bucket_id, _ = at_path(devops, "aws_s3_bucket", "devops/artifacts/bucket/bucket")
    (store,) = pipeline(synth)[1]["artifact_store"]
    assert store == {
        "encryption_key": {"id": ref("aws_kms_key", key_id, "arn"), "type": "KMS"},
        "location": ref("aws_s3_bucket", bucket_id, "bucket"),
        "type": "S3",
    }
    assert "alias" not in json.dumps(store), "aliases do not resolve across accounts"


def test_repo_stages_follow_the_environment_order(example_synth) -> None:
    assert list(stages(example_synth)) == [
        "Source", "Synth", "UpdatePipeline", "UpdatePipeline-apply", "Deploy-dev", "Deploy-staging", "Deploy-prod",
    ]  # fmt: skip


def test_alt_stages_group_environments_of_the_same_order(alt_synth) -> None:
    assert list(stages(alt_synth)) == ["Source", "Synth", "Deploy-order-1", "Deploy-live"], "self_update = false: no UpdatePipeline stages"


def test_environments_of_the_same_order_plan_and_apply_in_parallel(alt_synth) -> None:
    wave = actions(stages(alt_synth)["Deploy-order-1"])
    assert sorted(wave) == ["Apply-perf", "Apply-qa", "Plan-perf", "Plan-qa", "smoke-test-qa"]
    assert wave["Plan-qa"]["run_order"] == wave["Plan-perf"]["run_order"] == 1
    assert wave["Apply-qa"]["run_order"] == wave["Apply-perf"]["run_order"] == 2
    assert wave["smoke-test-qa"]["run_order"] == 3, "qa's after-apply step runs once qa is applied"


def test_team_steps_sit_around_the_apply_after_the_approval(alt_synth) -> None:
    live = actions(environment_stage(alt_synth, "live"))
    order = {name: action["run_order"] for name, action in live.items()}
    assert order == {"Plan-live": 1, "Approve-live": 2, "drain-check-live": 3, "Apply-live": 4, "smoke-test-live": 5}
    for name in ("drain-check-live", "smoke-test-live"):
        assert live[name]["input_artifacts"] == ["synth"], "a team step runs in a checkout of the release"
        assert "output_artifacts" not in live[name]
        assert live[name]["configuration"]["ProjectName"] == f"alt-step-{name.removesuffix('-live')}-live"


def test_artifacts_flow_source_synth_plan_apply(synth) -> None:
    all_stages = stages(synth)
    (source,) = all_stages["Source"]["action"]
    assert source["output_artifacts"] == ["source"] and source["namespace"] == "SourceVariables"
    (synth_action,) = all_stages["Synth"]["action"]
    assert synth_action["input_artifacts"] == ["source"] and synth_action["output_artifacts"] == ["synth"]
    for env in synth.project.environments:
        found = actions(environment_stage(synth, env.name))
        plan, apply = found[f"Plan-{env.name}"], found[f"Apply-{env.name}"]
        assert plan["input_artifacts"] == ["synth"]
        assert plan["output_artifacts"] == [f"plan_{env.name}"]
        assert plan["namespace"] == f"Plan-{env.name}"
        assert apply["input_artifacts"] == plan["output_artifacts"], "Apply must apply this environment's saved plan"
        assert "output_artifacts" not in apply


def test_approval_sits_between_plan_and_apply_and_shows_the_plan(synth) -> None:
    approving = [env for env in synth.project.environments if env.requires_approval]
    assert [env.name for env in approving] == APPROVING[synth.project.devops.name_prefix]
    devops = synth.project.devops
    for env in approving:
        found = actions(environment_stage(synth, env.name))
        approval = found[f"Approve-{env.name}"]
        assert (approval["category"], approval["owner"], approval["provider"], approval["version"]) == ("Approval", "AWS", "Manual", "1")
        assert found[f"Plan-{env.name}"]["run_order"] == 1
        assert approval["run_order"] == 2
        before = sum(1 for step in env.steps if step.when == "before-apply")
        assert found[f"Apply-{env.name}"]["run_order"] == 3 + (1 if before else 0)
        configuration = approval["configuration"]
        # The headline ends with a full stop of its own (terraform's "Plan: ... to destroy.", "No changes.").
        assert f"#{{Plan-{env.name}.PLAN_HEADLINE}} Read the plan summary" in configuration["CustomData"]
        assert COMMIT_ID in configuration["CustomData"]
        assert len(configuration["CustomData"]) <= 500, "CodePipeline limits CustomData to 500 characters"
        assert configuration["ExternalEntityLink"] == f"#{{Plan-{env.name}.PLAN_BUILD_URL}}"
        assert configuration["NotificationArn"] == f"arn:aws:sns:{devops.region}:{devops.account_id}:{devops.name_prefix}-delivery-events"


def test_approval_variables_are_ones_the_plan_build_exports(synth) -> None:
    from provisioner.delivery.buildspecs import EXPORTED_PLAN_VARIABLES

    for env in synth.project.environments:
        for action in environment_stage(synth, env.name)["action"]:
            if action["category"] == "Approval":
                text = json.dumps(action["configuration"])
                used = {v for v in ("PLAN_HEADLINE", "PLAN_BUILD_URL") if f"Plan-{env.name}.{v}" in text}
                assert used == set(EXPORTED_PLAN_VARIABLES)


def test_no_approval_for_environments_that_do_not_require_one(synth) -> None:
    for env in synth.project.environments:
        if env.requires_approval:
            continue
        found = actions(environment_stage(synth, env.name))
        assert f"Approve-{env.name}" not in found
        assert found[f"Apply-{env.name}"]["run_order"] == 2
    approvals = [a["name"] for s in pipeline(synth)[1]["stage"] for a in s["action"] if a["category"] == "Approval"]
    expected = [f"Approve-{env.name}" for env in synth.project.environments if env.requires_approval]
    assert approvals == ["Approve-devops", *expected] if synth.project.devops.self_update else expected


def test_only_stages_without_approval_retry_failed_actions(synth) -> None:
    for stage in pipeline(synth)[1]["stage"]:
        has_approval = any(action["category"] == "Approval" for action in stage["action"])
        if stage["name"] == "Source" or has_approval:
            assert "on_failure" not in stage, stage["name"]
        else:
            assert stage["on_failure"] == {"result": "RETRY", "retry_configuration": {"retry_mode": "FAILED_ACTIONS"}}, stage["name"]


@pytest.fixture(scope="session")
def s3_synth(tmp_path_factory: pytest.TempPathFactory):
    """The demo's configuration with an S3 source, whose action emits only VersionId and ETag."""
    import re
    import shutil

    from provisioner.configuration import settings
    from provisioner.paths import REPO_ROOT
    from tests.conftest import _synthesize

    folder = tmp_path_factory.mktemp("s3") / "environments"
    shutil.copytree(REPO_ROOT / "demo" / "environments", folder)
    devops = folder / "devops.hcl"
    s3_source = 'source {\n  type       = "s3"\n  bucket     = "demo-source-123456789012-eu-west-1"\n  repository = "pipeline-provisioner/source.zip"\n}'
    text, replaced = re.subn(r"source \{.*?\n\}", s3_source, devops.read_text(), count=1, flags=re.S)
    assert replaced == 1
    devops.write_text(text)
    return _synthesize(settings.load(folder), folder.parent / "cdktf.out")


def test_an_s3_source_releases_its_object_version(s3_synth) -> None:
    """An unresolvable #{...} fails the action: with an S3 source every reference must be to VersionId."""
    (source_stage, *_) = pipeline(s3_synth)[1]["stage"]
    assert source_stage["action"][0]["provider"] == "S3"
    count = 0
    for _, action in build_actions(s3_synth):
        variables = {v["name"]: v for v in json.loads(action["configuration"]["EnvironmentVariables"])}
        assert variables["COMMIT_ID"]["value"] == "#{SourceVariables.VersionId}", action["name"]
        count += 1
    steps = sum(len(env.steps) for env in s3_synth.project.environments)
    assert count == 1 + 2 + 2 * len(s3_synth.project.environments) + steps
    approvals = [a for stage in pipeline(s3_synth)[1]["stage"] for a in stage["action"] if a["category"] == "Approval"]
    assert [a["name"] for a in approvals] == ["Approve-devops", "Approve-prod"]
    for approval in approvals:
        assert "#{SourceVariables.VersionId}" in approval["configuration"]["CustomData"]
    assert "CommitId" not in json.dumps(pipeline(s3_synth)[1]), "the S3 source action emits no CommitId"


@pytest.mark.parametrize(
    ("source", "variable"),
    [
        (CodeStarSource(connection_arn="arn", repository="a/b", branch="main"), "#{SourceVariables.CommitId}"),
        (CodeCommitSource(repository="infra", branch="main"), "#{SourceVariables.CommitId}"),
        (S3Source(bucket="b", object_key="repo.zip"), "#{SourceVariables.VersionId}"),
    ],
    ids=["codestar", "codecommit", "s3"],
)
def test_each_source_type_names_a_variable_its_action_emits(source, variable: str) -> None:
    assert source_revision(source) == variable


def test_every_build_action_gets_the_commit_id_and_release_reason(synth) -> None:
    count = 0
    for stage_name, action in build_actions(synth):
        variables = {v["name"]: v for v in json.loads(action["configuration"]["EnvironmentVariables"])}
        assert variables["COMMIT_ID"] == {"name": "COMMIT_ID", "value": COMMIT_ID, "type": "PLAINTEXT"}, action["name"]
        assert variables["RELEASE_REASON"]["value"] == "#{variables.RELEASE_REASON}"
        count += 1
    self_update = 2 if synth.project.devops.self_update else 0
    assert count == 1 + self_update + 2 * len(synth.project.environments) + len(team_steps(synth.project))


def test_build_actions_run_existing_projects(synth) -> None:
    names = {p["name"] for p in synth.stacks["devops"]["resource"]["aws_codebuild_project"].values()}
    prefix = synth.project.devops.name_prefix
    for _, action in build_actions(synth):
        assert action["provider"] == "CodeBuild"
        assert action["configuration"]["ProjectName"] in names
        step = action["name"].split("-", 1) + [""]
        teams = {f"{s.name}-{env.name}": team_step_project(synth.project, env, s) for env, s in team_steps(synth.project)}
        teams |= {"Synth": f"{prefix}-synth", "Plan-devops": f"{prefix}-devops-plan", "Apply-devops": f"{prefix}-devops-apply"}
        expected = teams.get(action["name"], f"{prefix}-{step[0].lower()}-{step[1]}")
        assert action["configuration"]["ProjectName"] == expected


def test_release_reason_is_a_pipeline_variable(synth) -> None:
    (variable,) = pipeline(synth)[1]["variable"]
    assert variable["name"] == "RELEASE_REASON"
    assert variable["default_value"]


# --- triggers ------------------------------------------------------------------------------------
def test_codestar_source_triggers_on_pushes_to_the_branch(example_synth) -> None:
    devops = example_synth.stacks["devops"]
    _, found = pipeline(example_synth)
    (source,) = stages(example_synth)["Source"]["action"]
    connection_id, _ = at_path(devops, "aws_codestarconnections_connection", "devops/source-connection")
    assert source["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["ConnectionArn"] == ref("aws_codestarconnections_connection", connection_id, "arn")
    assert source["configuration"]["FullRepositoryId"] == "acme/platform-infrastructure"
    assert source["configuration"]["BranchName"] == "main"
    assert found["trigger"] == [
        {
            "provider_type": "CodeStarSourceConnection",
            "git_configuration": {"source_action_name": "Source", "push": [{"branches": {"includes": ["main"]}}]},
        }
    ]


def test_codecommit_source_starts_through_an_eventbridge_rule(alt_synth) -> None:
    devops = alt_synth.stacks["devops"]
    pipeline_id, found = pipeline(alt_synth)
    assert "trigger" not in found
    (source,) = stages(alt_synth)["Source"]["action"]
    assert source["provider"] == "CodeCommit"
    assert source["configuration"]["RepositoryName"] == "platform-infra"
    assert source["configuration"]["BranchName"] == "release"
    assert source["configuration"]["PollForSourceChanges"] == "false"

    rule_id, rule = at_path(devops, "aws_cloudwatch_event_rule", "devops/pipeline/on-push")
    assert rule["name"] == "alt-delivery-on-push"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": ["arn:aws:codecommit:us-east-1:123456789012:platform-infra"],
        "detail": {"event": ["referenceCreated", "referenceUpdated"], "referenceType": ["branch"], "referenceName": ["release"]},
    }
    role_id, role = at_path(devops, "aws_iam_role", "devops/pipeline/start-role/role")
    _, target = at_path(devops, "aws_cloudwatch_event_target", "devops/pipeline/on-push-target")
    assert target == {
        "//": target["//"],
        "rule": ref("aws_cloudwatch_event_rule", rule_id, "name"),
        "arn": ref("aws_codepipeline", pipeline_id, "arn"),
        "role_arn": ref("aws_iam_role", role_id, "arn"),
    }
    (trust,) = statements(role, "assume_role_policy")
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": ["arn:aws:events:us-east-1:123456789012:rule/alt-delivery-on-push"]}
    _, inline = at_path(devops, "aws_iam_role_policy", "devops/pipeline/start-role/policy")
    assert list(by_sid(inline).values()) == [
        {
            "Sid": "StartThisPipeline",
            "Effect": "Allow",
            "Action": "codepipeline:StartPipelineExecution",
            "Resource": "arn:aws:codepipeline:us-east-1:123456789012:alt-delivery",
        }
    ]


def test_codestar_source_has_no_eventbridge_start_rule(example_synth) -> None:
    rules = example_synth.stacks["devops"]["resource"]["aws_cloudwatch_event_rule"].values()
    assert not [r for r in rules if r["name"].endswith("-on-push")]



# --- the pull-request pipeline ---------------------------------------------------------------------
def pr_pipeline(synth) -> tuple[str, dict]:
    return at_path(synth.stacks["devops"], "aws_codepipeline", "devops/pr-pipeline/pipeline")


def test_codecommit_source_has_only_the_release_pipeline(alt_synth) -> None:
    pipelines = alt_synth.stacks["devops"]["resource"]["aws_codepipeline"].values()
    assert [p["name"] for p in pipelines] == ["alt-delivery"]


@pytest.mark.parametrize(
    ("synth_name", "stage_names"),
    [("example_synth", ["Source", "Synth", "Plan"]), ("token_synth", ["Source", "Synth", "Plan", "Comment"])],
)
def test_pull_request_pipeline_plans_on_its_own_bucket_and_projects(request, synth_name: str, stage_names: list[str]) -> None:
    synth = request.getfixturevalue(synth_name)
    devops = synth.stacks["devops"]
    prefix = synth.project.devops.name_prefix
    _, found = pr_pipeline(synth)
    assert found["name"] == f"{prefix}-pr-plan"
    # SUPERSEDED is pipeline-wide: with several open pull requests some would never get a plan.
    assert (found["pipeline_type"], found["execution_mode"]) == ("V2", "PARALLEL")
    role_id, _ = at_path(devops, "aws_iam_role", "devops/pipeline-role/role")
    assert found["role_arn"] == ref("aws_iam_role", role_id, "arn")
    key_id, _ = at_path(devops, "aws_kms_key", "devops/artifacts/key/key")
    pr_bucket_id, _ = at_path(devops, "aws_s3_bucket", "devops/pr-artifacts/bucket")
    release_bucket_id, _ = at_path(devops, "aws_s3_bucket", "devops/artifacts/bucket/bucket")
    (store,) = found["artifact_store"]
    assert store == {
        "encryption_key": {"id": ref("aws_kms_key", key_id, "arn"), "type": "KMS"},
        "location": ref("aws_s3_bucket", pr_bucket_id, "bucket"),
        "type": "S3",
    }
    assert release_bucket_id not in json.dumps(found), "the pull-request pipeline never touches the release bucket"
    assert [stage["name"] for stage in found["stage"]] == stage_names
    builds = [
        (action["name"], action["configuration"]["ProjectName"], action.get("input_artifacts"), action.get("output_artifacts"))
        for stage in found["stage"][1:]
        for action in stage["action"]
    ]
    expected = [("Synth", f"{prefix}-pr-synth", ["source"], ["synth"]), ("Plan-all-environments", f"{prefix}-pr-plan", ["synth"], ["pr_plan"])]
    if "Comment" in stage_names:
        expected.append(("Comment", f"{prefix}-pr-comment", ["pr_plan"], None))
    assert builds == expected
    assert not [a for s in found["stage"] for a in s["action"] if a["category"] == "Approval"]
    (trigger,) = found["trigger"]
    assert set(trigger["git_configuration"]) == {"pull_request", "source_action_name"}
    assert "push" not in trigger["git_configuration"], "pushes release through the other pipeline"


def test_release_pipeline_runs_no_pull_request_project(synth) -> None:
    for _, action in build_actions(synth):
        assert "-pr-" not in action["configuration"]["ProjectName"], action["name"]


# --- the scheduled drift run -----------------------------------------------------------------------
def drift_pipeline(synth) -> dict:
    return at_path(synth.stacks["devops"], "aws_codepipeline", "devops/drift-pipeline/pipeline")[1]


@pytest.mark.parametrize(("synth_name", "expression"), [("example_synth", "rate(1 day)"), ("token_synth", "cron(0 6 ? * MON-FRI *)")])
def test_the_drift_pipeline_runs_on_its_schedule_only(request, synth_name: str, expression: str) -> None:
    """No push or pull-request trigger, no change detection: EventBridge starts it on devops.hcl's schedule."""
    synth = request.getfixturevalue(synth_name)
    prefix, devops = synth.project.devops.name_prefix, synth.stacks["devops"]
    found = drift_pipeline(synth)
    assert found["name"] == f"{prefix}-drift"
    assert "trigger" not in found
    (source_stage, synth_stage, drift_stage) = found["stage"]
    assert source_stage["action"][0]["configuration"]["DetectChanges"] == "false"
    assert [(a["name"], a["configuration"]["ProjectName"]) for a in synth_stage["action"]] == [("Synth", f"{prefix}-synth")]
    assert [(a["name"], a["configuration"]["ProjectName"]) for a in drift_stage["action"]] == [("Detect-drift", f"{prefix}-drift-plan")]
    assert found["variable"][0]["default_value"] == "schedule"
    _, rule = at_path(devops, "aws_cloudwatch_event_rule", "devops/drift-pipeline/on-schedule")
    assert (rule["name"], rule["schedule_expression"]) == (f"{prefix}-drift-on-schedule", expression)
    _, target = at_path(devops, "aws_cloudwatch_event_target", "devops/drift-pipeline/on-schedule-target")
    pipeline_id, _ = at_path(devops, "aws_codepipeline", "devops/drift-pipeline/pipeline")
    assert target["arn"] == ref("aws_codepipeline", pipeline_id, "arn")


def test_an_s3_drift_pipeline_does_not_poll(s3_synth) -> None:
    (source_stage, *_) = drift_pipeline(s3_synth)["stage"]
    assert source_stage["action"][0]["configuration"]["PollForSourceChanges"] == "false"
    (release_source, *_) = pipeline(s3_synth)[1]["stage"]
    assert release_source["action"][0]["configuration"]["PollForSourceChanges"] == "true"


def test_drift_off_means_no_drift_pipeline_rule_or_build(alt_synth) -> None:
    assert alt_synth.project.devops.drift_schedule is None
    assert "-drift" not in json.dumps(alt_synth.stacks["devops"])


def test_a_schedule_trigger_needs_an_expression_and_only_it_takes_one() -> None:
    base = dict(
        pipeline_name="acme-drift", role_arn="arn:aws:iam::111111111111:role/r", artifact_bucket_name="acme-artifacts",
        kms_key_arn="arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000",
        account_id="111111111111", region="eu-west-1", source=S3Source(bucket="acme-source", object_key="k.zip"), stages=[],
    )  # fmt: skip
    with pytest.raises(ValueError, match="schedule_expression is required with the schedule trigger"):
        DeliveryPipelineProps(**base, trigger="schedule")
    with pytest.raises(ValueError, match="schedule_expression is required with the schedule trigger, and only with it"):
        DeliveryPipelineProps(**base, schedule_expression="rate(1 day)")


# --- the pipeline updates itself -------------------------------------------------------------------
def test_a_release_plans_the_devops_stack_and_applies_it_only_when_it_changes(example_synth) -> None:
    """Plan-devops says whether the devops stack changes; the approval and apply run only then (a skipped stage)."""
    found = stages(example_synth)
    (plan,) = found["UpdatePipeline"]["action"]
    assert (plan["name"], plan["configuration"]["ProjectName"], plan["namespace"]) == ("Plan-devops", "acme-platform-devops-plan", "Plan-devops")
    apply_stage = found["UpdatePipeline-apply"]
    assert apply_stage["before_entry"] == {
        "condition": {
            "result": "SKIP",
            "rule": [{
                "name": "UpdatePipeline-apply-entry",
                "rule_type_id": {"category": "Rule", "owner": "AWS", "provider": "VariableCheck", "version": "1"},
                "configuration": {"Variable": "#{Plan-devops.DEVOPS_CHANGED}", "Value": "true", "Operator": "EQ"},
            }],
        }
    }  # fmt: skip
    approve, apply = apply_stage["action"]
    assert (approve["name"], approve["category"], approve["run_order"]) == ("Approve-devops", "Approval", 1)
    assert "#{Plan-devops.PLAN_HEADLINE}" in approve["configuration"]["CustomData"]
    assert approve["configuration"]["ExternalEntityLink"] == "#{Plan-devops.PLAN_BUILD_URL}"
    assert (apply["name"], apply["configuration"]["ProjectName"], apply["run_order"]) == ("Apply-devops", "acme-platform-devops-apply", 2)
    assert apply["input_artifacts"] == plan["output_artifacts"] == ["devops_plan"]
    variables = {v["name"]: v["value"] for v in json.loads(apply["configuration"]["EnvironmentVariables"])}
    assert variables["PIPELINE_EXECUTION_ID"] == "#{codepipeline.PipelineExecutionId}"
    assert "on_failure" not in apply_stage, "a rejected approval of the pipeline's own change is never retried automatically"


def test_an_entry_condition_names_a_variable() -> None:
    from modules.pipeline_blueprint import ApprovalAction, Stage

    approval = ApprovalAction(name="Approve", run_order=1, notification_topic_arn="arn:aws:sns:eu-west-1:111111111111:t", message="m")
    with pytest.raises(ValueError, match="must be #{namespace.NAME}"):
        Stage(name="S", actions=[approval], enter_when=("CHANGED", "true"))
