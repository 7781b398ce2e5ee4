"""Starting the evaluation's processes on a CPU machine. `accelerate launch --cpu --num_processes N` starts ONE
process in accelerate 1.x: `--cpu` always takes its simple launcher, which sets MASTER_ADDR/PORT and drops N. So
when this process finds itself in that case (ACCELERATE_USE_CPU and MASTER_ADDR set, but no process group: no
WORLD_SIZE/RANK/LOCAL_RANK, no MPI variables), it reads N back from the `accelerate launch` command that started it
(with accelerate's own argument parser) and becomes torch's launcher for N processes on this machine
(`torch.distributed.run --standalone --nproc_per_node N`, what `accelerate launch --multi_gpu` runs too). The N
processes then meet over gloo and split the examples as under any other launcher."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from shared import config

MODULE = "shared.evaluate"
LAUNCH_COMMANDS = ("accelerate launch --cpu --num_processes N -m shared.evaluate …  (from a shell)",
                   "accelerate launch --multi_gpu --num_processes N -m shared.evaluate …  (CPU: gloo)",
                   "torchrun --standalone --nproc_per_node N -m shared.evaluate …")


def dropped_processes(launched: config.Launch) -> bool:
    """True when accelerate's `--cpu` launcher was asked for several processes or machines but started only this
    one process, outside any process group."""
    return launched.cpu and launched.rendezvous and not launched.process_group


def launcher_arguments(command: list[str]) -> list[str] | None:
    """What follows `launch` in an `accelerate launch …` command line (also `python -m
    accelerate.commands.launch …`); None when the command is something else."""
    for index, word in enumerate(command):
        if word == "launch" and index and Path(command[index - 1]).name.startswith("accelerate"):
            return command[index + 1:]
        if word == "accelerate.commands.launch" or word.endswith(("/accelerate/commands/launch.py",)):
            return command[index + 1:]
    return None


def requested_processes(command: list[str]) -> int | None:
    """The N of `--num_processes N` (or of the `--config_file` it names) in an `accelerate launch` command on one
    machine; None when `command` is not one, names no N, or spans several machines (one process per machine
    cannot become N here)."""
    from accelerate.commands.launch import launch_command_parser

    arguments = launcher_arguments(command)
    if arguments is None:
        return None
    parsed, _ = launch_command_parser().parse_known_args(arguments)
    processes, machines = parsed.num_processes, parsed.num_machines
    if parsed.config_file and (processes is None or machines is None):
        from accelerate.commands.config.config_args import load_config_from_file

        try:
            defaults = load_config_from_file(parsed.config_file)
        except Exception:  # a config accelerate itself would refuse: N is unknown (the caller says so)
            return None
        processes = processes if processes is not None else defaults.num_processes
        machines = machines if machines is not None else defaults.num_machines
    if processes is None or int(machines or 1) > 1:
        return None
    return int(processes)


def parent_command() -> list[str]:
    """The command line of the process that started this one ([] when it cannot be read)."""
    import psutil

    try:
        parent = psutil.Process().parent()
        return parent.cmdline() if parent is not None else []
    except psutil.Error:
        return []


def torchrun_command(processes: int, arguments: list[str]) -> list[str]:
    """torch's launcher starting `processes` copies of `python -m shared.evaluate <arguments>` on this machine (a
    free rendezvous port: `--standalone`)."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
            "-m", MODULE, *arguments]


def start_processes(arguments: list[str]) -> None:
    """Under `accelerate launch --cpu --num_processes N` (N > 1): replace this process by torch's launcher running
    N processes with the same `arguments`. If N cannot be read, say that this runs one process, and how to get N.
    Otherwise return at once."""
    if not dropped_processes(config.launch()):
        return
    processes = requested_processes(parent_command())
    if processes is None:
        print("warning: accelerate's --cpu launcher started ONE process (it drops --num_processes) and the number "
              "asked for could not be read from its command line; this evaluation runs in one process. For N "
              "processes on this machine use one of these (several machines: --multi_gpu --num_machines M, see the "
              "README):\n  " + "\n  ".join(LAUNCH_COMMANDS), file=sys.stderr,
              flush=True)
        return
    if processes <= 1:
        return
    command = torchrun_command(processes, arguments)
    print(f"accelerate --cpu started one process; starting {processes} with torch's launcher: "
          + " ".join(command[1:]), flush=True)
    os.execv(command[0], command)
