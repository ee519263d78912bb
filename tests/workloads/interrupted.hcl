# The sample workload plus an archive bucket (tests/workloads/interrupted.py).
entry = "tests.workloads.interrupted:define"

input "data_noncurrent_version_days" {
  type    = number
  default = 90
}
