"""``devops``: the DevOps account's remote state and delivery pipeline."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.codestarconnections_connection import CodestarconnectionsConnection

from modules import policy
from modules.artifact_store import ArtifactStore, ArtifactStoreProps
from modules.build_project import BuildProject, BuildProjectProps
from modules.delivery_pipeline import DeliveryPipeline, DeliveryPipelineProps
from modules.encrypted_bucket import EncryptedBucket, EncryptedBucketProps
from modules.framework import Construct, TerraformOutput, TerraformStack
from modules.kms_key import KmsKey, KmsKeyProps
from modules.pipeline_blueprint import CodeCommitSource, CodeStarSource, S3Source, Source
from modules.pipeline_notifications import PipelineNotifications, PipelineNotificationsProps
from modules.service_role import ServiceRole, ServiceRoleProps
from provisioner import buildspecs
from provisioner.config import ProjectConfig
from provisioner.delivery import SYNTH_PROJECT_STEP, delivery_stages
from provisioner.naming import DEVOPS_STACK, standard_tags, workload_stack
from provisioner.stacks.common import Target, aws_provider, use_remote_state
from provisioner.stacks.pull_requests import declare_pull_request_plans, pull_request_project_names, pull_request_role_arns
from provisioner.stacks.statements import artifact_statements, assume_roles, build_log_statements

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
        account, region = devops.account_id, devops.region
        deployment_roles = [project.deployment_role_arn(env) for env in project.environments]
        # Pull requests get their own plan-only pipeline where the source can trigger on them (CodeStar).
        self.plans_pull_requests = devops.source.type == "codestar"

        self.artifacts = ArtifactStore(
            self,
            "artifacts",
            ArtifactStoreProps(
                bucket_name=naming.artifact_bucket,
                key_alias=naming.artifact_key_alias,
                account_id=account,
                region=region,
                pipeline_role_arns=[
                    naming.role_arn(account, naming.pipeline_role),
                    naming.role_arn(account, naming.synth_build_role),
                    naming.deploy_build_role_arn(),
                ],
                deployment_role_arns=deployment_roles,
                key_only_role_arns=pull_request_role_arns(project) if self.plans_pull_requests else [],
                log_group_prefix=f"/aws/codebuild/{devops.name_prefix}-",
            ),
        )
        source = self._source()
        topic_arn = f"arn:aws:sns:{region}:{account}:{naming.notifications_topic}"
        pipeline_names = [naming.pipeline, *([naming.pr_pipeline] if self.plans_pull_requests else [])]
        pipeline_arns = [f"arn:aws:codepipeline:{region}:{account}:{name}" for name in pipeline_names]

        release_artifacts = artifact_statements(self.artifacts.bucket_arn, self.artifacts.key_arn)
        synth_projects = [naming.build_project(SYNTH_PROJECT_STEP)]
        deploy_projects = [name for name in self._release_project_names() if name not in synth_projects]

        def project_arns(names: list[str]) -> list[str]:
            return [f"arn:aws:codebuild:{region}:{account}:project/{name}" for name in names]

        synth_role = ServiceRole(
            self,
            "synth-build-role",
            ServiceRoleProps(
                role_name=naming.synth_build_role,
                service="codebuild.amazonaws.com",
                account_id=account,
                # Each build role serves exactly its own projects: no other project can run as it.
                source_arns=project_arns(synth_projects),
                statements=[*release_artifacts, *build_log_statements(region, account, synth_projects)],
                description="CodeBuild: synthesizes the stacks and runs the policy gate; no AWS access beyond its artifacts and logs",
            ),
        )
        deploy_role = ServiceRole(
            self,
            "deploy-build-role",
            ServiceRoleProps(
                role_name=naming.deploy_build_role,
                service="codebuild.amazonaws.com",
                account_id=account,
                source_arns=project_arns(deploy_projects),
                statements=[
                    *release_artifacts,
                    *build_log_statements(region, account, deploy_projects),
                    *self._state_statements(),
                    assume_roles(deployment_roles),
                ],
                description="CodeBuild: plans and applies workload stacks by assuming each environment's deployment role",
            ),
        )
        self.projects = self._release_projects(synth_role.role_arn, deploy_role.role_arn)
        pr_artifacts = (
            artifact_statements(f"arn:aws:s3:::{naming.pr_artifact_bucket}", None, sid="PullRequestArtifact")
            if self.plans_pull_requests
            else []
        )
        pipeline_role = ServiceRole(
            self,
            "pipeline-role",
            ServiceRoleProps(
                role_name=naming.pipeline_role,
                service="codepipeline.amazonaws.com",
                account_id=account,
                source_arns=pipeline_arns,
                statements=[
                    *release_artifacts,
                    *pr_artifacts,
                    {
                        "Sid": "RunThisPipelinesBuilds",
                        "Effect": "Allow",
                        "Action": ["codebuild:StartBuild", "codebuild:BatchGetBuilds", "codebuild:StopBuild"],
                        "Resource": sorted(self.projects_arns()),
                    },
                    {"Sid": "NotifyApprovers", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic_arn},
                    *self._source_statements(source),
                ],
                description="CodePipeline: reads the source, runs the builds, passes artifacts",
            ),
        )
        self.pipeline = DeliveryPipeline(
            self,
            "pipeline",
            DeliveryPipelineProps(
                pipeline_name=naming.pipeline,
                role_arn=pipeline_role.role_arn,
                artifact_bucket_name=self.artifacts.bucket_name,
                kms_key_arn=self.artifacts.key_arn,
                account_id=account,
                region=region,
                source=source,
                stages=delivery_stages(project, topic_arn),
            ),
        )
        self.notifications = PipelineNotifications(
            self,
            "notifications",
            PipelineNotificationsProps(
                topic_name=naming.notifications_topic,
                kms_key_arn=self.artifacts.key_arn,
                pipeline_names=[naming.pipeline],
                account_id=account,
                region=region,
                emails=devops.notification_emails,
            ),
        )
        if isinstance(source, CodeStarSource):
            self.pr_pipeline = declare_pull_request_plans(
                self,
                project=project,
                source=source,
                kms_key_arn=self.artifacts.key_arn,
                pipeline_role=pipeline_role,
                read_only_state_statements=self._state_statements(read_only=True),
                make_project=self._project,
            )
        TerraformOutput(self, "pipeline_name", value=self.pipeline.pipeline_name)
        TerraformOutput(self, "artifact_bucket_name", value=self.artifacts.bucket_name)
        TerraformOutput(self, "artifact_kms_key_arn", value=self.artifacts.key_arn)
        TerraformOutput(self, "notifications_topic_arn", value=self.notifications.topic_arn)
        TerraformOutput(self, "deploy_build_role_arn", value=deploy_role.role_arn)

    def _source(self) -> Source:
        config = self.project.devops.source
        if config.type == "codecommit":
            return CodeCommitSource(repository=config.repository, branch=config.branch)
        if config.type == "s3":
            return S3Source(bucket=config.bucket, object_key=config.repository)
        connection_arn = config.connection_arn
        if connection_arn is None:
            # Created PENDING: someone must complete the handshake once in the console (README).
            connection = CodestarconnectionsConnection(
                self,
                "source-connection",
                name=f"{self.project.devops.name_prefix}-source"[:32],
                provider_type=config.connection_provider,
            )
            connection_arn = connection.arn
            TerraformOutput(self, "source_connection_arn", value=connection_arn)
        return CodeStarSource(
            connection_arn=connection_arn, repository=config.repository, branch=config.branch, trigger_paths=config.trigger_paths
        )

    def _project(self, step: str, env_name: str | None, role_arn: str, spec: str, description: str, cache: bool = False) -> BuildProject:
        """One CodeBuild project with the build settings from devops.hcl, encrypted with the pipeline key."""
        naming, build = self.project.naming, self.project.devops.build
        return BuildProject(
            self,
            f"build-{step}" if env_name is None else f"build-{step}-{env_name}",
            BuildProjectProps(
                project_name=naming.build_project(step, env_name),
                service_role_arn=role_arn,
                kms_key_arn=self.artifacts.key_arn,
                buildspec=spec,
                description=description,
                compute_type=build.compute_type,
                image=build.image,
                timeout_minutes=build.timeout_minutes,
                log_retention_days=build.log_retention_days,
                cache_location=f"{naming.artifact_bucket}/build-cache/{step}" if cache else None,
            ),
        )

    def _release_projects(self, synth_role_arn: str, deploy_role_arn: str) -> dict[str, BuildProject]:
        projects = {
            SYNTH_PROJECT_STEP: self._project(
                SYNTH_PROJECT_STEP, None, synth_role_arn, buildspecs.synth(buildspecs.POLICY_GATE_COMMAND),
                "Synthesizes every stack and runs the policy gate", cache=True,
            )
        }  # fmt: skip
        for env in self.project.environments:
            stack = workload_stack(env.name)
            projects[f"plan-{env.name}"] = self._project(
                "plan", env.name, deploy_role_arn, buildspecs.plan(stack), f"Plans {stack} to a saved plan file and summarizes it"
            )
            projects[f"apply-{env.name}"] = self._project(
                "apply", env.name, deploy_role_arn, buildspecs.apply(stack), f"Applies the reviewed saved plan of {stack}"
            )
        return projects

    def _release_project_names(self) -> list[str]:
        naming = self.project.naming
        names = [naming.build_project(SYNTH_PROJECT_STEP)]
        for env in self.project.environments:
            names += [naming.build_project("plan", env.name), naming.build_project("apply", env.name)]
        return names

    def projects_arns(self) -> list[str]:
        devops = self.project.devops
        names = self._release_project_names()
        if self.plans_pull_requests:
            names += pull_request_project_names(self.project)
        return [f"arn:aws:codebuild:{devops.region}:{devops.account_id}:project/{name}" for name in names]

    # -- IAM statements --------------------------------------------------------------------------
    def _state_statements(self, read_only: bool = False) -> list[policy.Statement]:
        """Workload stacks' state (``stacks/workload-*``) and its key: read-write with locks, or read only."""
        bucket, key = self.state_bucket.bucket_arn, self.state_key.key_arn
        workload_keys = "stacks/workload-*"
        listing = {
            "Sid": "ListWorkloadState",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringLike": {"s3:prefix": [workload_keys]}},
        }
        if read_only:
            return [
                listing,
                {"Sid": "ReadWorkloadState", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket}/{workload_keys}"},
                {"Sid": "StateKeyDecrypt", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key},
            ]
        return [
            listing,
            {
                "Sid": "ReadWriteWorkloadStateAndLocks",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{bucket}/{workload_keys}",
            },
            {
                "Sid": "StateKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": key,
            },
        ]

    def _source_statements(self, source: Source) -> list[policy.Statement]:
        devops = self.project.devops
        if isinstance(source, CodeStarSource):
            return [
                {
                    "Sid": "UseSourceConnection",
                    "Effect": "Allow",
                    "Action": ["codestar-connections:UseConnection", "codeconnections:UseConnection"],
                    "Resource": source.connection_arn,
                }
            ]
        if isinstance(source, CodeCommitSource):
            return [
                {
                    "Sid": "ReadSourceRepository",
                    "Effect": "Allow",
                    "Action": [
                        "codecommit:GetBranch", "codecommit:GetCommit", "codecommit:GetRepository",
                        "codecommit:UploadArchive", "codecommit:GetUploadArchiveStatus", "codecommit:CancelUploadArchive",
                    ],  # fmt: skip
                    "Resource": f"arn:aws:codecommit:{devops.region}:{devops.account_id}:{source.repository}",
                }
            ]
        return [
            {
                "Sid": "ReadSourceObject",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"arn:aws:s3:::{source.bucket}/{source.object_key}",
            },
            {
                "Sid": "ReadSourceBucket",
                "Effect": "Allow",
                "Action": ["s3:GetBucketVersioning", "s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{source.bucket}",
            },
        ]
