# Workload environment "staging". Field reference: README.md, "Environment format".
account_id = "333333333333" # placeholder: the staging workload account
region     = "eu-west-1"
order      = 2

deployment_role {
  max_session_duration = 3600
}
