"""``devops``: the DevOps account's remote state and delivery pipeline."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.codestarconnections_connection import CodestarconnectionsConnection

from modules.artifact_store import ArtifactStore, ArtifactStoreProps
from modules.build_project import BuildProject, BuildProjectProps, BuildVpc
from modules.delivery_pipeline import DeliveryPipeline, DeliveryPipelineProps
from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, Fn, TerraformLocal, TerraformOutput, TerraformStack
from modules.kms_key import KmsKey, KmsKeyProps
from modules.pipeline_blueprint import CodeStarSource
from modules.pipeline_notifications import PipelineNotifications, PipelineNotificationsProps
from modules.service_role import ServiceRole, ServiceRoleProps
from provisioner.app import access
from provisioner.app.stacks.common import Target, aws_provider, use_remote_state
from provisioner.app.stacks.pull_requests import declare_pull_request_plans
from provisioner.configuration.naming import DEVOPS_STACK, standard_tags
from provisioner.configuration.settings import ProjectConfig
from provisioner.delivery.pipeline import delivery_stages, drift_stages
from provisioner.delivery.steps import BuildStep, drift_step, release_steps

# Construct ids of what `provisioner bootstrap-state` creates before the S3 backend can exist.
STATE_CONSTRUCT_IDS = ("state-key", "state-bucket")


class DevOpsStack(TerraformStack):
    """Remote state for every stack and the delivery pipeline, in the DevOps account."""

    def __init__(self, scope: Construct, project: ProjectConfig, target: Target) -> None:
        super().__init__(scope, DEVOPS_STACK)
        self.project = project
        devops = project.devops
        use_remote_state(self, project, DEVOPS_STACK, target)
        aws_provider(
            self,
            account_id=devops.account_id,
            region=devops.region,
            tags=standard_tags(devops.name_prefix, "devops", dict(devops.tags)),
            target=target,
        )
        self._remote_state()
        self._delivery_pipeline()

    # -- remote state --------------------------------------------------------------------------
    def _remote_state(self) -> None:
        devops, naming = self.project.devops, self.project.naming
        self.state_key = KmsKey(
            self,
            STATE_CONSTRUCT_IDS[0],
            KmsKeyProps(
                alias=naming.state_key_alias,
                account_id=devops.account_id,
                description=f"{devops.name_prefix}: encrypts Terraform state of every stack",
                partition=naming.partition,
            ),
        )
        self.state_bucket = EncryptedBucket(
            self,
            STATE_CONSTRUCT_IDS[1],
            EncryptedBucketProps(
                bucket_name=naming.state_bucket,
                kms_key_arn=self.state_key.key_arn,
                # Terraform's S3 backend writes its lock file without an encryption header; the bucket's
                # default SSE-KMS encrypts it, so requiring the header would only break locking.
                deny_unencrypted_puts=False,
                noncurrent_version_expiration_days=365,
            ),
        )
        TerraformOutput(self, "state_bucket_name", value=self.state_bucket.bucket_name)
        TerraformOutput(self, "state_kms_key_arn", value=self.state_key.key_arn)

    # -- delivery pipeline ---------------------------------------------------------------------
    def _delivery_pipeline(self) -> None:
        project, devops, naming = self.project, self.project.devops, self.project.naming
        self.artifacts = ArtifactStore(
            self,
            "artifacts",
            ArtifactStoreProps(
                bucket_name=naming.artifact_bucket,
                key_alias=naming.artifact_key_alias,
                account_id=devops.account_id,
                region=devops.region,
                log_group_prefix=f"/aws/codebuild/{devops.name_prefix}-",
                partition=naming.partition,
            ),
        )
        resources = self._resources()
        # Every build and pipeline role, from the one place that decides permissions.
        self.roles = {spec.id: ServiceRole(self, spec.id, service_role_props(spec)) for spec in access.devops_roles(project, resources)}
        self.projects = {step.construct_id: self._project(step) for step in release_steps(project)}
        self.pipeline = self._pipeline("pipeline", naming.pipeline, resources, delivery_stages(project, resources.source, naming.notifications_topic_arn))
        self.notifications = PipelineNotifications(
            self,
            "notifications",
            PipelineNotificationsProps(
                topic_name=naming.notifications_topic,
                kms_key_arn=self.artifacts.key_arn,
                pipeline_names=[naming.pipeline],
                account_id=devops.account_id,
                region=devops.region,
                emails=devops.notification_emails,
                partition=naming.partition,
            ),
        )
        if devops.drift_schedule:
            self._drift_pipeline(resources)
        if isinstance(resources.source, CodeStarSource):
            self.pr_pipeline = declare_pull_request_plans(
                self,
                project=project,
                source=resources.source,
                kms_key_arn=self.artifacts.key_arn,
                pipeline_role_arn=self.roles["pipeline-role"].role_arn,
                make_project=self._project,
            )
        TerraformOutput(self, "pipeline_name", value=self.pipeline.pipeline_name)
        TerraformOutput(self, "artifact_bucket_name", value=self.artifacts.bucket_name)
        TerraformOutput(self, "artifact_kms_key_arn", value=self.artifacts.key_arn)
        TerraformOutput(self, "notifications_topic_arn", value=self.notifications.topic_arn)

    def _drift_pipeline(self, resources: access.Resources) -> None:
        """The scheduled drift run: the release's Synth, then a read-only plan of every workload stack."""
        project, devops, naming = self.project, self.project.devops, self.project.naming
        step = drift_step(project)
        self.projects[step.construct_id] = self._project(step)
        self.drift_pipeline = self._pipeline(
            "drift-pipeline", naming.drift_pipeline, resources, drift_stages(project), trigger="schedule", schedule_expression=devops.drift_schedule
        )
        TerraformOutput(self, "drift_pipeline_name", value=self.drift_pipeline.pipeline_name)

    def _pipeline(self, id_: str, name: str, resources: access.Resources, stages: list, **trigger: str | None) -> DeliveryPipeline:
        """A pipeline of the release's source, run by the pipeline role, with its artifacts in the artifact store."""
        devops = self.project.devops
        return DeliveryPipeline(
            self,
            id_,
            DeliveryPipelineProps(
                pipeline_name=name,
                role_arn=self.roles["pipeline-role"].role_arn,
                artifact_bucket_name=self.artifacts.bucket_name,
                kms_key_arn=self.artifacts.key_arn,
                account_id=devops.account_id,
                region=devops.region,
                source=resources.source,
                stages=stages,
                partition=self.project.naming.partition,
                **trigger,  # type: ignore[arg-type]
            ),
        )

    def _resources(self) -> access.Resources:
        """The ARNs the roles' policies name that only AWS knows: the keys, and a connection this stack creates."""
        config = self.project.devops.source
        created = None
        if config.type == "codestar" and config.connection_arn is None:
            # Created PENDING: someone must complete the handshake once in the console (README).
            connection = CodestarconnectionsConnection(
                self,
                "source-connection",
                name=f"{self.project.devops.name_prefix}-source"[:32],
                provider_type=config.connection_provider,
            )
            created = connection.arn
            TerraformOutput(self, "source_connection_arn", value=created)
        source = access.source_of(self.project, created)
        connection_arns: tuple[str, ...] = ()
        if created is not None:
            # Locals, so that the policy documents hold plain references (no quotes inside their JSON).
            connection_arns = (
                TerraformLocal(self, "source_connection_codestar_arn", Fn.replace(created, ":codeconnections:", ":codestar-connections:")).as_string,
                TerraformLocal(self, "source_connection_codeconnections_arn", Fn.replace(created, ":codestar-connections:", ":codeconnections:")).as_string,
            )
        return access.Resources(
            state_key_arn=self.state_key.key_arn,
            artifact_key_arn=self.artifacts.key_arn,
            source=source,
            connection_arns=connection_arns,
        )

    def _project(self, step: BuildStep) -> BuildProject:
        """The CodeBuild project of ``step``, with the build settings of devops.hcl, encrypted with the pipeline key."""
        naming, build = self.project.naming, self.project.devops.build
        return BuildProject(
            self,
            step.construct_id,
            BuildProjectProps(
                project_name=step.project_name(naming),
                service_role_arn=self.roles[step.role_id].role_arn,
                kms_key_arn=self.artifacts.key_arn,
                buildspec=step.buildspec,
                description=step.description,
                compute_type=build.compute_type,
                image=build.image,
                timeout_minutes=step.timeout_minutes or build.timeout_minutes,
                log_retention_days=build.log_retention_days,
                cache_location=f"{naming.artifact_bucket}/{step.cache_prefix(naming)}" if step.cache else None,
                vpc=self._vpc(step),
            ),
        )

    def _vpc(self, step: BuildStep) -> BuildVpc | None:
        vpc = self.project.devops.build.vpc
        subnets = access.build_subnets(self.project, step)
        return BuildVpc(vpc_id=vpc.vpc_id, subnet_ids=subnets, security_group_ids=vpc.security_group_ids) if vpc and subnets else None


def service_role_props(spec: access.ServiceRoleSpec) -> ServiceRoleProps:
    return ServiceRoleProps(
        role_name=spec.name,
        service=spec.service,
        account_id=spec.account_id,
        source_arns=spec.source_arns,
        statements=spec.statements,
        description=spec.description,
        managed_policy_arns=spec.managed_policy_arns,
        deny_statements=spec.deny_statements,
    )
