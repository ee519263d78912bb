# The sample workload, stopping synthesis mid-way (tests/workloads/stalled.py): the interrupted-synth tests signal it there.
entry = "tests.workloads.stalled:define"

input "data_noncurrent_version_days" {
  type    = number
  default = 90
}
