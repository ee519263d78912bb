"""The policy gate (``provisioner scan``): checkov and the project's own rules over every synthesized stack."""
