"""IAM statements the devops stack's roles share."""

from __future__ import annotations

from modules import policy


def artifact_statements(bucket_arn: str, kms_key_arn: str | None, sid: str = "Artifact") -> list[policy.Statement]:
    """Read and write one artifact bucket's objects, and use the pipeline key unless ``kms_key_arn`` is None
    (a role that already holds the key grant through another statement)."""
    statements: list[policy.Statement] = [
        {
            "Sid": f"{sid}Bucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketLocation", "s3:GetBucketVersioning", "s3:ListBucket"],
            "Resource": bucket_arn,
        },
        {
            "Sid": f"{sid}Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"],
            "Resource": f"{bucket_arn}/*",
        },
    ]
    if kms_key_arn is not None:
        statements.append({"Sid": f"{sid}Key", "Effect": "Allow", "Action": list(policy.KMS_USE_ACTIONS), "Resource": kms_key_arn})
    return statements


def assume_roles(role_arns: list[str]) -> policy.Statement:
    """``sts:AssumeRole`` on exactly these roles."""
    return {"Sid": "AssumeExactDeploymentRoles", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": sorted(set(role_arns))}


def build_log_statements(region: str, account: str, project_names: list[str]) -> list[policy.Statement]:
    """Write the logs and test reports of exactly these CodeBuild projects, nobody else's."""
    return [
        {
            "Sid": "OwnBuildLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"arn:aws:logs:{region}:{account}:log-group:/aws/codebuild/{name}:*" for name in project_names],
        },
        {
            "Sid": "OwnBuildReports",
            "Effect": "Allow",
            "Action": ["codebuild:CreateReportGroup", "codebuild:CreateReport", "codebuild:UpdateReport", "codebuild:BatchPutTestCases"],
            "Resource": [f"arn:aws:codebuild:{region}:{account}:report-group/{name}-*" for name in project_names],
        },
    ]
