"""Sub-commands of the ``provisioner`` CLI, one module each."""
