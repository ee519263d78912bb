"""``DeliveryPipeline``: a CodePipeline V2 built from a ``modules.pipeline_blueprint`` description."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Sequence

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.codepipeline import (
    Codepipeline,
    CodepipelineArtifactStore,
    CodepipelineArtifactStoreEncryptionKey,
    CodepipelineStage,
    CodepipelineStageAction,
    CodepipelineStageBeforeEntry,
    CodepipelineStageBeforeEntryCondition,
    CodepipelineStageBeforeEntryConditionRule,
    CodepipelineStageBeforeEntryConditionRuleRuleTypeId,
    CodepipelineStageOnFailure,
    CodepipelineStageOnFailureRetryConfiguration,
    CodepipelineTrigger,
    CodepipelineTriggerGitConfiguration,
    CodepipelineTriggerGitConfigurationPullRequest,
    CodepipelineTriggerGitConfigurationPullRequestBranches,
    CodepipelineTriggerGitConfigurationPush,
    CodepipelineTriggerGitConfigurationPushBranches,
    CodepipelineTriggerGitConfigurationPushFilePaths,
    CodepipelineVariable,
)

from modules import policy, validation
from modules.framework import Construct
from modules.pipeline_blueprint import (
    SOURCE_ACTION,
    SOURCE_ARTIFACT,
    SOURCE_NAMESPACE,
    Action,
    ApprovalAction,
    BuildAction,
    CodeCommitSource,
    CodeStarSource,
    Source,
    Stage,
    source_revision,
)
from modules.service_role import ServiceRole, ServiceRoleProps


@dataclass(frozen=True)
class DeliveryPipelineProps:
    """Settings of a ``DeliveryPipeline``."""

    pipeline_name: str
    """Pipeline name. Required."""
    role_arn: str
    """Role CodePipeline acts as. Required."""
    artifact_bucket_name: str
    """Artifact bucket. Required."""
    kms_key_arn: str
    """Key ARN that encrypts artifacts (an ARN, never an alias: aliases do not resolve across accounts). Required."""
    account_id: str
    """Account of the pipeline: a CodeCommit source's trigger rule and its role are scoped to it. Required."""
    region: str
    """Region of the pipeline, for the same scoping. Required."""
    source: Source
    """Where releases come from: a ``CodeStarSource``, ``CodeCommitSource`` or ``S3Source``. Required."""
    stages: Sequence[Stage]
    """Stages after the source stage, in order. Required."""
    trigger: str = "push"
    """``push`` releases the branch on every push; ``pull_request`` runs on pull requests opened or updated
    against the branch (CodeStar sources only); ``schedule`` runs on ``schedule_expression`` only, the
    source's latest revision, never on a change. Default: push."""
    schedule_expression: str | None = None
    """EventBridge ``rate(...)`` or ``cron(...)`` expression; required with the ``schedule`` trigger, unused otherwise."""
    execution_mode: str = "QUEUED"
    """QUEUED runs one release at a time, in commit order, so a plan is never made while another release
    applies. Default: QUEUED."""
    partition: str = "aws"
    """ARN partition of the account: ``aws-cn`` in the China regions, ``aws-us-gov`` in AWS GovCloud (US).
    Default: ``aws``."""

    def __post_init__(self) -> None:
        validation.check_types(self)
        validation.check(self, "region", validation.REGION)
        policy.check_partition("DeliveryPipelineProps", self.partition, self.region)
        validation.check(self, "pipeline_name", validation.PIPELINE_NAME)
        validation.check(self, "role_arn", validation.ROLE_ARN, validation.in_partition(self.partition))
        validation.check(self, "artifact_bucket_name", validation.BUCKET_NAME)
        validation.check(self, "kms_key_arn", validation.KMS_KEY_ARN, validation.in_partition(self.partition))
        validation.check(self, "account_id", validation.ACCOUNT_ID)
        if self.trigger not in ("push", "pull_request", "schedule"):
            raise ValueError(f'DeliveryPipelineProps.trigger "{self.trigger}" must be "push", "pull_request" or "schedule"')
        if (self.trigger == "schedule") != (self.schedule_expression is not None):
            raise ValueError("DeliveryPipelineProps.schedule_expression is required with the schedule trigger, and only with it")
        if self.trigger == "pull_request" and not isinstance(self.source, CodeStarSource):
            raise ValueError("DeliveryPipelineProps: pull_request triggers need a CodeStar connection source")
        if self.execution_mode not in ("QUEUED", "SUPERSEDED", "PARALLEL"):
            raise ValueError(f'DeliveryPipelineProps.execution_mode "{self.execution_mode}" is not a CodePipeline mode')


class DeliveryPipeline(Construct):
    """A CodePipeline V2.

    Default settings: V2 type, QUEUED execution mode, artifact store encrypted with the given key
    ARN, a source stage whose variables are published under ``SourceVariables`` (every build gets the
    released revision as ``COMMIT_ID``: the commit id for git sources, the object version for S3), a pipeline-level variable ``RELEASE_REASON``, automatic
    retry of failed actions on stages that allow it, and a start trigger: a git push/pull-request
    trigger with branch and file-path filters (CodeStar), an EventBridge rule (CodeCommit), or
    polling (S3); with the ``schedule`` trigger, an EventBridge schedule rule instead.
    """

    def __init__(self, scope: Construct, id_: str, props: DeliveryPipelineProps) -> None:
        super().__init__(scope, id_)
        self.props = props
        self.pipeline = Codepipeline(
            self,
            "pipeline",
            name=props.pipeline_name,
            pipeline_type="V2",
            execution_mode=props.execution_mode,
            role_arn=props.role_arn,
            artifact_store=[
                CodepipelineArtifactStore(
                    location=props.artifact_bucket_name,
                    type="S3",
                    encryption_key=CodepipelineArtifactStoreEncryptionKey(id=props.kms_key_arn, type="KMS"),
                )
            ],
            stage=[self._source_stage(), *(self._stage(stage) for stage in props.stages)],
            trigger=self._triggers(),
            variable=[
                CodepipelineVariable(
                    name="RELEASE_REASON",
                    default_value="schedule" if props.trigger == "schedule" else "source change",
                    description="Why this release runs; set it when starting the pipeline by hand",
                )
            ],
        )
        if isinstance(props.source, CodeCommitSource) and props.trigger == "push":
            self._codecommit_rule(props.source)
        if props.trigger == "schedule":
            self._schedule_rule(props.schedule_expression or "")

    @cached_property
    def pipeline_name(self) -> str:
        return self.pipeline.name

    @cached_property
    def pipeline_arn(self) -> str:
        return self.pipeline.arn

    # -- stages -----------------------------------------------------------------------------
    def _source_stage(self) -> CodepipelineStage:
        source = self.props.source
        # A scheduled pipeline takes the source's latest revision when its schedule starts it, never on a change.
        detect = "false" if self.props.trigger == "schedule" else "true"
        if isinstance(source, CodeStarSource):
            provider, owner, configuration = "CodeStarSourceConnection", "AWS", {
                "ConnectionArn": source.connection_arn,
                "FullRepositoryId": source.repository,
                "BranchName": source.branch,
                "OutputArtifactFormat": "CODE_ZIP",
                "DetectChanges": detect,
            }
        elif isinstance(source, CodeCommitSource):
            provider, owner, configuration = "CodeCommit", "AWS", {
                "RepositoryName": source.repository,
                "BranchName": source.branch,
                "PollForSourceChanges": "false",
                "OutputArtifactFormat": "CODE_ZIP",
            }
        else:
            provider, owner, configuration = "S3", "AWS", {
                "S3Bucket": source.bucket,
                "S3ObjectKey": source.object_key,
                "PollForSourceChanges": detect,
            }
        action = CodepipelineStageAction(
            name=SOURCE_ACTION,
            category="Source",
            owner=owner,
            provider=provider,
            version="1",
            output_artifacts=[SOURCE_ARTIFACT],
            namespace=SOURCE_NAMESPACE,
            configuration=configuration,
        )
        return CodepipelineStage(name="Source", action=[action])

    def _stage(self, stage: Stage) -> CodepipelineStage:
        on_failure = (
            CodepipelineStageOnFailure(
                result="RETRY", retry_configuration=CodepipelineStageOnFailureRetryConfiguration(retry_mode="FAILED_ACTIONS")
            )
            if stage.retry_failed_actions
            else None
        )
        return CodepipelineStage(
            name=stage.name, action=[self._action(action) for action in stage.actions], on_failure=on_failure, before_entry=self._entry(stage)
        )

    @staticmethod
    def _entry(stage: Stage) -> CodepipelineStageBeforeEntry | None:
        """Skip the stage unless its variable has the value (only VariableCheck and Lambda rules can skip)."""
        if stage.enter_when is None:
            return None
        variable, value = stage.enter_when
        rule = CodepipelineStageBeforeEntryConditionRule(
            name=f"{stage.name}-entry"[:100],
            rule_type_id=CodepipelineStageBeforeEntryConditionRuleRuleTypeId(category="Rule", owner="AWS", provider="VariableCheck", version="1"),
            configuration={"Variable": variable, "Value": value, "Operator": "EQ"},
        )
        return CodepipelineStageBeforeEntry(condition=CodepipelineStageBeforeEntryCondition(result="SKIP", rule=[rule]))

    def _action(self, action: Action) -> CodepipelineStageAction:
        if isinstance(action, BuildAction):
            configuration = {"ProjectName": action.project_name}
            if len(action.inputs) > 1:
                configuration["PrimarySource"] = action.inputs[0]
            variables = {"COMMIT_ID": source_revision(self.props.source), "RELEASE_REASON": "#{variables.RELEASE_REASON}", **action.environment}
            configuration["EnvironmentVariables"] = json.dumps(
                [{"name": name, "value": value, "type": "PLAINTEXT"} for name, value in variables.items()],
                separators=(",", ":"),
            )
            return CodepipelineStageAction(
                name=action.name,
                category="Build",
                owner="AWS",
                provider="CodeBuild",
                version="1",
                run_order=action.run_order,
                input_artifacts=list(action.inputs),
                output_artifacts=list(action.outputs) or None,
                namespace=action.namespace,
                configuration=configuration,
            )
        assert isinstance(action, ApprovalAction)
        configuration = {"NotificationArn": action.notification_topic_arn, "CustomData": action.message}
        if action.review_url:
            configuration["ExternalEntityLink"] = action.review_url
        return CodepipelineStageAction(
            name=action.name,
            category="Approval",
            owner="AWS",
            provider="Manual",
            version="1",
            run_order=action.run_order,
            configuration=configuration,
        )

    # -- triggers ---------------------------------------------------------------------------
    def _triggers(self) -> list[CodepipelineTrigger] | None:
        source = self.props.source
        if not isinstance(source, CodeStarSource) or self.props.trigger == "schedule":
            return None
        branches = CodepipelineTriggerGitConfigurationPushBranches(includes=[source.branch])
        if self.props.trigger == "pull_request":
            git = CodepipelineTriggerGitConfiguration(
                source_action_name=SOURCE_ACTION,
                pull_request=[
                    CodepipelineTriggerGitConfigurationPullRequest(
                        events=["OPEN", "UPDATED"],
                        branches=CodepipelineTriggerGitConfigurationPullRequestBranches(includes=[source.branch]),
                    )
                ],
            )
        else:
            paths = CodepipelineTriggerGitConfigurationPushFilePaths(includes=list(source.trigger_paths)) if source.trigger_paths else None
            git = CodepipelineTriggerGitConfiguration(
                source_action_name=SOURCE_ACTION,
                push=[CodepipelineTriggerGitConfigurationPush(branches=branches, file_paths=paths)],
            )
        return [CodepipelineTrigger(provider_type="CodeStarSourceConnection", git_configuration=git)]

    def _start_role(self, rule_name: str, why: str) -> ServiceRole:
        """The role EventBridge's rule ``rule_name`` starts this pipeline with, and nothing else."""
        p = self.props
        pipeline_arn = policy.arn(p.partition, "codepipeline", p.region, p.account_id, p.pipeline_name)
        return ServiceRole(
            self,
            "start-role",
            ServiceRoleProps(
                role_name=f"{p.pipeline_name}-start"[:64],
                service="events.amazonaws.com",
                account_id=p.account_id,
                source_arns=[policy.arn(p.partition, "events", p.region, p.account_id, f"rule/{rule_name}")],
                statements=[
                    {"Sid": "StartThisPipeline", "Effect": "Allow", "Action": "codepipeline:StartPipelineExecution", "Resource": pipeline_arn}
                ],
                description=f"Lets EventBridge start {p.pipeline_name} {why}",
            ),
        )

    def _schedule_rule(self, expression: str) -> None:
        rule_name = f"{self.props.pipeline_name}-on-schedule"
        role = self._start_role(rule_name, f"on its schedule, {expression}")
        rule = CloudwatchEventRule(
            self, "on-schedule", name=rule_name, description=f"Start {self.props.pipeline_name} {expression}", schedule_expression=expression
        )
        CloudwatchEventTarget(self, "on-schedule-target", rule=rule.name, arn=self.pipeline.arn, role_arn=role.role_arn)

    def _codecommit_rule(self, source: CodeCommitSource) -> None:
        p = self.props
        rule_name = f"{p.pipeline_name}-on-push"
        repository_arn = policy.arn(p.partition, "codecommit", p.region, p.account_id, source.repository)
        role = self._start_role(rule_name, f"on pushes to {source.repository}")
        rule = CloudwatchEventRule(
            self,
            "on-push",
            name=rule_name,
            description=f"Start {p.pipeline_name} on pushes to {source.repository}:{source.branch}",
            event_pattern=json.dumps(
                {
                    "source": ["aws.codecommit"],
                    "detail-type": ["CodeCommit Repository State Change"],
                    "resources": [repository_arn],
                    "detail": {
                        "event": ["referenceCreated", "referenceUpdated"],
                        "referenceType": ["branch"],
                        "referenceName": [source.branch],
                    },
                }
            ),
        )
        CloudwatchEventTarget(self, "on-push-target", rule=rule.name, arn=self.pipeline.arn, role_arn=role.role_arn)
