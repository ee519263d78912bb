# The DevOps account of `make demo`, which runs everything against the local emulated AWS
# (`provisioner local-aws start`, moto). 123456789012 is the account moto acts in for plain
# credentials, so it must be the DevOps account; workload accounts are reached with sts:AssumeRole.
account_id  = "123456789012"
region      = "eu-west-1"
name_prefix = "demo"

# The emulator has no CodeStar Connections API; an S3 source (a zip of the repository, which the
# demo uploads) is a source type the product supports and the emulator serves.
source {
  type       = "s3"
  bucket     = "demo-source-123456789012-eu-west-1"
  repository = "pipeline-provisioner/source.zip"
}

notification_emails = ["platform-team@example.com"]

tags = {
  team = "platform"
}
