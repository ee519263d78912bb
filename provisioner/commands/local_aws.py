"""``provisioner local-aws start|stop|status|approve``: the local, multi-account emulated AWS (moto)."""

from __future__ import annotations

import argparse
from pathlib import Path

from provisioner.configuration.target import LOCAL_AWS_FILE, TARGET_ENV
from provisioner.errors import UserError
from provisioner.local_aws import DEVOPS_ACCOUNT_ID
from provisioner.local_aws.pipeline_records import data_dir
from provisioner.paths import ENVIRONMENTS_DIR

EXIT_NOT_RUNNING = 1

EPILOG = f"""\
One moto server on 127.0.0.1 serves every account: plain credentials (any key, e.g. "test") act in
account {DEVOPS_ACCOUNT_ID}, so that must be the DevOps account of the configuration you deploy
(demo/environments/ is such a configuration); sts:AssumeRole into a role of another account
returns credentials acting in that account, as the workload stacks use it. The endpoint is written to
.provisioner/{LOCAL_AWS_FILE.name}, where {TARGET_ENV}=local finds it:

  provisioner local-aws start
  export {TARGET_ENV}=local PROVISIONER_ENVIRONMENTS=demo/environments
  provisioner bootstrap-state
  cdktf deploy devops --auto-approve --skip-provider-lock
  provisioner local-aws stop

`make demo` does all of this and more, with an emulator of its own.

Resources live in memory: stopping the emulator forgets them. The emulator runs no pipeline; the
local pipeline runner (provisioner local-aws run-pipeline) does, and records each execution as files
in .provisioner/{data_dir(LOCAL_AWS_FILE).name}/ (emptied when a new emulator starts). From them the emulator
answers GetPipelineState, ListPipelineExecutions, GetPipelineExecution and ListActionExecutions, so
`provisioner status` and the AWS CLI see executions; StartPipelineExecution, StopPipelineExecution
and PutApprovalResult become requests the runner takes up. `provisioner local-aws approve` answers
an approval that waits.

moto has no CodeStar Connections API: locally, a "codestar" source names its connection
(connection_arn, as demo/environments/devops.hcl does) so the devops stack creates none; the runner
releases the repository's HEAD. An "s3" or "codecommit" source works too. Where moto differs from AWS,
provisioner/local_aws/compat.py patches it inside the emulator (the log lists each patch).
"""


APPROVE_EPILOG = """\
It prints one line, e.g. "approved Approve-prod in Deploy-prod of acme-delivery (execution <id>)".
The pipeline is looked up in account DEVOPS (plain credentials) and the region of devops.hcl
(PROVISIONER_ENVIRONMENTS or --environments names the folder), or --region.

exit codes: 0 answered; 2 no emulator running, no such pipeline or stage, nothing waiting for an
approval there, or several waiting without --action (one line on stderr)""".replace("DEVOPS", DEVOPS_ACCOUNT_ID)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local-aws",
        help="start, stop or inspect the local emulated AWS (moto) for PROVISIONER_TARGET=local; answer its pipelines' approvals",
        description="Run a local, multi-account emulated AWS (moto in server mode) for trying the stacks without AWS.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="local_aws_action", metavar="ACTION")
    actions.required = True

    start = actions.add_parser(
        "start",
        help="start the emulator in the background (a free port unless --port); does nothing when it already runs",
        description="Start the emulator in the background, wait until it answers, and write its endpoint and pid.",
    )
    start.add_argument("--port", type=_port, help="port on 127.0.0.1 (default: a free one)")
    start.set_defaults(func=run_start)

    stop = actions.add_parser("stop", help="stop the emulator and remove its record", description="Stop the emulator.")
    stop.set_defaults(func=run_stop)

    status = actions.add_parser(
        "status",
        help=f"say whether the emulator runs (exit 0) or not (exit {EXIT_NOT_RUNNING}); removes a stale record",
        description=f"Exit 0 when the emulator runs and answers, {EXIT_NOT_RUNNING} otherwise.",
    )
    status.set_defaults(func=run_status)

    run = actions.add_parser(
        "run-pipeline",
        help="execute a deployed pipeline on the emulator as CodePipeline would (the release pipeline unless --pipeline)",
        description=(
            "Read the pipeline deployed to the running emulator (GetPipeline) and its CodeBuild projects, and execute "
            "that definition: the source, stages in order, actions by run order (equal orders side by side), artifacts "
            "in the artifact bucket, variables and namespaces, each build's buildspec with its project's role. "
            "Approvals wait for `provisioner local-aws approve` unless --auto-approve. Executions are recorded where "
            "`provisioner status` reads them; a start requested meanwhile (the pipeline restarting itself) runs next."
        ),
        epilog="exit codes: 0 the execution succeeded, 1 it failed or was stopped, 2 bad input or no emulator (one line on stderr)",
    )
    run.add_argument("--environments", type=Path, default=ENVIRONMENTS_DIR, help="the configuration deployed (default: %(default)s)")
    run.add_argument("--pipeline", help="pipeline name (default: the release pipeline of the configuration)")
    run.add_argument("--auto-approve", action="store_true", help="approve every manual approval, with a visible note")
    run.add_argument(
        "--variable", action="append", default=[], metavar="NAME=VALUE", help="a pipeline variable for this execution (repeatable)"
    )
    run.set_defaults(func=run_pipeline)
    approve = actions.add_parser(
        "approve",
        help="answer the manual approval that waits in a stage of a pipeline of the running emulator",
        description=(
            "Approve (or reject) the manual approval that waits in STAGE of PIPELINE in the running emulator,\n"
            "as a person would in the console: GetPipelineState finds the waiting approval and its token,\n"
            "PutApprovalResult answers it, and the local pipeline runner goes on (or fails the stage)."
        ),
        epilog=APPROVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    approve.add_argument("pipeline", metavar="PIPELINE", help="pipeline name, e.g. acme-delivery")
    approve.add_argument("stage", metavar="STAGE", help="stage the approval waits in, e.g. Deploy-prod")
    approve.add_argument("--action", metavar="NAME", help="the approval action, when several wait in the stage")
    approve.add_argument("--reject", action="store_true", help="reject instead of approving")
    approve.add_argument("--comment", default="", metavar="TEXT", help="the approver's comment (the action's summary)")
    approve.add_argument("--region", metavar="R", help="region of the pipeline (default: region in devops.hcl)")
    approve.add_argument(
        "--environments", type=Path, default=ENVIRONMENTS_DIR, metavar="DIR", help="folder whose devops.hcl names the region (default: %(default)s)"
    )
    approve.set_defaults(func=run_approve)


def run_start(args: argparse.Namespace) -> int:
    from provisioner.local_aws import server

    emulator, started = server.start(args.port)
    verb = "started" if started else "already running at"
    print(f"local AWS {verb} {emulator.describe()}")
    if started:
        print(f"use it with {TARGET_ENV}=local; stop it with `provisioner local-aws stop`")
    return 0


def run_stop(args: argparse.Namespace) -> int:
    from provisioner.local_aws import server

    stopped = server.stop()
    print(f"local AWS stopped (was {stopped.endpoint}, pid {stopped.pid})" if stopped else "local AWS was not running")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from provisioner.local_aws import server

    found = server.status()
    if found.emulator is None:
        print("local AWS is not running")
        return EXIT_NOT_RUNNING
    if not found.running:
        LOCAL_AWS_FILE.unlink(missing_ok=True)
        print(f"local AWS is not running: removed a stale {LOCAL_AWS_FILE} (its pid {found.emulator.pid} is gone)")
        return EXIT_NOT_RUNNING
    if not found.answering:
        print(f"local AWS process {found.emulator.pid} runs but {found.emulator.endpoint} does not answer; log: {found.emulator.log}")
        return EXIT_NOT_RUNNING
    print(f"local AWS is running at {found.emulator.describe()}")
    return 0


def run_pipeline(args: argparse.Namespace) -> int:
    from provisioner.configuration.settings import load
    from provisioner.configuration.target import Target
    from provisioner.local_aws import server
    from provisioner.local_aws.pipeline_runner import PipelineRunner, this_machine
    from provisioner.paths import STATE_DIR
    from provisioner.progress import Progress

    variables = {}
    for pair in args.variable:
        name, equals, value = pair.partition("=")
        if not equals or not name:
            raise UserError(f"--variable {pair!r}: must be NAME=VALUE")
        variables[name] = value
    found = server.status()
    if not (found.running and found.emulator):
        raise UserError("no local AWS is running: start one with `provisioner local-aws start`, then deploy the devops stack to it")
    project = load(args.environments)
    machine, build_variables = this_machine(Path(args.environments))
    workspace = STATE_DIR / "pipeline-runs"
    runner = PipelineRunner(
        Target.local(found.emulator.endpoint),
        account=project.devops.account_id,
        region=project.devops.region,
        records_root=data_dir(LOCAL_AWS_FILE),
        workspace=workspace,
        progress=Progress(workspace / "logs"),
        machine=machine,
        build_variables=build_variables,
        auto_approve=args.auto_approve,
    )
    executions = runner.run_until_idle(args.pipeline or project.naming.pipeline, variables=variables)
    return 0 if executions[-1]["status"] == "Succeeded" else 1


def run_approve(args: argparse.Namespace) -> int:
    from provisioner.configuration.settings import AWS_REGIONS, load
    from provisioner.configuration.target import Target
    from provisioner.local_aws import approvals, server
    from provisioner.operations import aws

    if args.region is not None and args.region not in AWS_REGIONS:
        raise UserError(f"--region {args.region!r}: not an AWS region code")
    found = server.status()
    if not found.running or found.emulator is None:
        raise UserError("the local AWS is not running: start it with `provisioner local-aws start`")
    region = args.region or load(args.environments).devops.region
    codepipeline = aws.client(Target.local(found.emulator.endpoint), "codepipeline", region)
    answered = approvals.answer(codepipeline, args.pipeline, args.stage, args.action, approved=not args.reject, comment=args.comment)
    print(answered.describe())
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (1-65535)")
    return value
