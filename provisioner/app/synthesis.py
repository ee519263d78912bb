"""Build the CDK app from a checked configuration, and synthesize it without ever damaging old output."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from provisioner.configuration.settings import ProjectConfig
from provisioner.configuration.target import Target
from provisioner.runtime import prepare_environment


def build_app(project: ProjectConfig, outdir: Path, target: Target | None = None):
    """The ``App`` with every stack: ``devops``, then ``bootstrap-<env>`` and ``workload-<env>`` per environment."""
    prepare_environment()
    from modules.framework import App  # the framework loads only once the config is known to be good
    from provisioner.app.stacks.bootstrap import BootstrapStack
    from provisioner.app.stacks.devops import DevOpsStack
    from provisioner.app.stacks.workload import WorkloadStack
    from provisioner.app.workloads import entry_point

    target = target or Target()
    app = App(outdir=str(outdir), context={"excludeStackIdFromLogicalIds": "true", "allowSepCharsInLogicalIds": "true"})
    define = entry_point(project)
    DevOpsStack(app, project, target)
    for environment in project.environments:
        BootstrapStack(app, project, environment, target)
        WorkloadStack(app, project, environment, target, define)
    return app


def synthesize(project: ProjectConfig, outdir: Path, target: Target | None = None) -> list[str]:
    """Synthesize into a scratch folder next to ``outdir`` and swap it in only when synthesis succeeded.

    Files terraform keeps beside a stack's ``cdk.tf.json`` (``.terraform/``, lock files, saved plans)
    are carried over from the previous output, so a new synth does not force a new ``terraform init``.
    Returns the stack names.
    """
    outdir = Path(outdir).resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        build_app(project, scratch, target).synth()
        stacks = sorted(p.name for p in (scratch / "stacks").iterdir() if p.is_dir())
        _carry_over_terraform_files(outdir, scratch)
        _swap(scratch, outdir)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return stacks


def _carry_over_terraform_files(old: Path, new: Path) -> None:
    if not (old / "stacks").is_dir():
        return
    for old_stack in (old / "stacks").iterdir():
        new_stack = new / "stacks" / old_stack.name
        if not new_stack.is_dir():
            continue
        for entry in old_stack.iterdir():
            if not (new_stack / entry.name).exists():
                os.replace(entry, new_stack / entry.name)


def _swap(new: Path, target: Path) -> None:
    if not target.exists():
        os.replace(new, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    os.replace(target, retired / target.name)
    os.replace(new, target)
    shutil.rmtree(retired, ignore_errors=True)
