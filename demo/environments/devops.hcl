# The DevOps account of `make demo`, which runs everything against the local emulated AWS
# (`provisioner local-aws start`, moto). 123456789012 is the account moto acts in for plain
# credentials, so it must be the DevOps account; workload accounts are reached with sts:AssumeRole.
account_id  = "123456789012"
region      = "eu-west-1"
name_prefix = "demo"

# The repository at HEAD is the source (the local pipeline runner archives it, as CodePipeline would fetch
# the commit through the connection). The connection is named, not created: the emulator has no CodeStar
# Connections API, and a pipeline needs only the connection's ARN.
source {
  type           = "codestar"
  repository     = "example-org/pipeline-provisioner"
  branch         = "main"
  connection_arn = "arn:aws:codestar-connections:eu-west-1:123456789012:connection/0c0ffee0-demo-4000-8000-000000000001"
}

notification_emails = ["platform-team@example.com"]

tags = {
  team = "platform"
}
