"""Operating an installation: ``doctor``, ``status``, ``bootstrap-state`` and the terraform CLI config."""
