# The DevOps account: runs the delivery pipeline and holds every stack's remote state.
# Field reference: README.md, "Environment format".
account_id  = "111111111111" # placeholder: your DevOps account
region      = "eu-west-1"
name_prefix = "acme-platform"

source {
  type       = "codestar"
  repository = "acme/platform-infrastructure"
  branch     = "main"
  # connection_arn = "arn:aws:codeconnections:eu-west-1:111111111111:connection/..." # omit to create one
}

notification_emails = ["platform-team@example.com"]

# Secrets Manager secret holding a GitHub token: pull-request plans then post their summary as a PR comment.
# github_token_secret = "acme-platform/github-token"

build {
  compute_type       = "BUILD_GENERAL1_SMALL"
  log_retention_days = 365
}

tags = {
  team = "platform"
}
