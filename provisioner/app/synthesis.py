"""Build the CDK app from a checked configuration, and synthesize it without ever damaging old output."""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import signal
import socket
import stat
import tempfile
from pathlib import Path
from typing import Any

from provisioner.configuration.settings import ProjectConfig
from provisioner.configuration.target import Target
from provisioner.errors import UserError
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

    ``outdir`` must be new, empty or an earlier output (``UserError`` otherwise): it is replaced whole, so
    a folder of the user's own, a file or the working folder is refused rather than lost. Files terraform
    keeps beside a stack's ``cdk.tf.json`` (``.terraform/``, lock files, saved plans) are carried over
    from the previous output, so a new synth does not force a new ``terraform init``.
    Returns the stack names.
    """
    shown = outdir
    outdir = Path(outdir).resolve()
    _check_output_folder(outdir, shown)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_scratch(outdir)
    scratch = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    try:
        (scratch / SCRATCH_OWNER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        new = scratch / "output"
        new.mkdir()  # with the umask's mode, as any new folder; mkdtemp's 0700 is only for the scratch folder
        build_app(project, new, target).synth()
        stacks = sorted(p.name for p in (new / "stacks").iterdir() if p.is_dir())
        if outdir.is_dir():
            new.chmod(stat.S_IMODE(outdir.stat().st_mode))
            _carry_over_terraform_files(outdir, new)
            _exchange(new, outdir)
        else:
            os.rename(new, outdir)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return stacks


SCRATCH_OWNER = "owner.json"
"""In each scratch folder: the process and host that made it, so a later run can tell a dead run's folder."""


def _remove_stale_scratch(outdir: Path) -> None:
    """Remove the scratch folders of runs killed before they could (SIGKILL, a crash, power loss).

    Only those provably this code's and unused: with an owner file naming this host and a process
    that is gone. Anything else beside the output is left alone.
    """
    for candidate in outdir.parent.iterdir():
        if not candidate.name.startswith(f".{outdir.name}.") or not candidate.is_dir() or candidate.is_symlink():
            continue
        try:
            owner = json.loads((candidate / SCRATCH_OWNER).read_text())
            pid, host = int(owner["pid"]), owner["host"]
        except (OSError, ValueError, TypeError, KeyError):
            continue
        if host == socket.gethostname() and not _running(pid):
            shutil.rmtree(candidate, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to another user
        pass
    return True


def _check_output_folder(outdir: Path, shown: Path | str) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"{shown}: is a file, not a folder; synthesis writes a folder: choose another output")
    working = Path.cwd().resolve()
    if outdir == working or outdir in working.parents:
        raise UserError(f"{shown}: is or holds the working folder, and synthesis replaces its output folder whole: choose a folder of its own, e.g. cdktf.out")
    if outdir.is_dir() and any(outdir.iterdir()) and not _is_earlier_output(outdir):
        raise UserError(
            f"{shown}: not empty and not an earlier synth output (no cdktf manifest.json and stacks/), and synthesis "
            "replaces its output folder whole: choose a new or empty folder"
        )


def _is_earlier_output(folder: Path) -> bool:
    """The shape cdktf gives every output: ``manifest.json`` with a version and its stacks, beside ``stacks/``."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and "version" in manifest and isinstance(manifest.get("stacks"), dict) and (folder / "stacks").is_dir()


def _carry_over_terraform_files(old: Path, new: Path) -> None:
    """Hard links, not moves: the earlier output stays whole until the swap, whatever interrupts the run."""
    if not (old / "stacks").is_dir():
        return
    for old_stack in (old / "stacks").iterdir():
        new_stack = new / "stacks" / old_stack.name
        if not new_stack.is_dir():
            continue
        for entry in old_stack.iterdir():
            carried = new_stack / entry.name
            if carried.exists() or carried.is_symlink():
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.copytree(entry, carried, symlinks=True, copy_function=_link_or_copy)
            else:
                _link_or_copy(entry, carried)


def _link_or_copy(source: Path | str, destination: Path | str) -> None:
    try:
        os.link(source, destination, follow_symlinks=False)
    except OSError:  # a file system without hard links
        shutil.copy2(source, destination, follow_symlinks=False)


def _load_renameat2() -> Any:
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    return function


_RENAMEAT2 = _load_renameat2()
"""Linux's rename that can exchange two paths in one step; None where the C library lacks it (macOS)."""
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(new: Path, target: Path) -> None:
    """Swap the folders at ``new`` and ``target`` in one step, so there is never a moment without an output."""
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(target), _RENAME_EXCHANGE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):  # those: this file system cannot exchange
            raise OSError(code, os.strerror(code), str(target))
    # Two renames: Ctrl-C and SIGTERM wait until both are done, so an interruption cannot fall between them.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        retired = new.with_name(new.name + ".retired")
        os.rename(target, retired)
        os.rename(new, target)
        os.rename(retired, new)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
