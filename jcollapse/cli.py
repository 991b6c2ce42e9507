"""The ``jcollapse`` command.

```
jcollapse demo [--out DIR] [--seeds N] [--generations G] [--key K] [--no-progress]
jcollapse reproduce NAME|--all [--out DIR] [--seeds N] [--generations G] [--key K] [--no-progress]
jcollapse sweep CONFIG.toml --out DIR [--no-progress] [--distributed]
jcollapse list
```

``demo`` and ``reproduce`` run through one driver (:func:`jcollapse.experiments.run`): each
writes its figures, CSV tables, ``checks.csv``, ``summary.md`` and ``index.html`` into its
directory, atomically; ``reproduce --all`` writes ``DIR/NAME`` for every reproduction and
``DIR/index.html`` linking them. Arguments (and a sweep's configuration) are validated before
anything is simulated or written; a bad value exits with status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence

import jax

from . import models, theory
from .experiments import DEMO, REPRODUCTIONS, run, run_all
from .sweeps import load_config, sweep, write_figures


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {value}")
    return value


def _progress(args: argparse.Namespace) -> Optional[bool]:
    """The driver's progress setting: never with ``--no-progress``, else once a run lasts a few seconds."""
    return False if args.no_progress else None


def _run_demo(args: argparse.Namespace, parser: argparse.ArgumentParser, started: float) -> int:
    try:
        run(DEMO, args.out, seeds=args.seeds, generations=args.generations, key=args.key, started=started,
            log=sys.stderr, progress=_progress(args))
    except ValueError as error:
        parser.error(str(error))
    return 0


def _run_reproduction(args: argparse.Namespace, parser: argparse.ArgumentParser, started: float) -> int:
    if args.all == (args.name is not None):
        parser.error("reproduce takes a NAME or --all (not both)")
    try:
        if args.all:
            run_all([REPRODUCTIONS[name] for name in sorted(REPRODUCTIONS)], args.out or "out", seeds=args.seeds,
                    generations=args.generations, key=args.key, started=started, log=sys.stderr,
                    progress=_progress(args))
        else:
            run(REPRODUCTIONS[args.name], args.out or f"out/{args.name}", seeds=args.seeds,
                generations=args.generations, key=args.key, started=started, log=sys.stderr,
                progress=_progress(args))
    except ValueError as error:
        parser.error(str(error))
    return 0


def _run_sweep(args: argparse.Namespace, parser: argparse.ArgumentParser, started: float) -> int:
    try:
        config = load_config(args.config)
        if args.distributed:
            jax.distributed.initialize()  # SLURM, Open MPI, ... fill in the coordinator and process ids
        dataset = sweep(**config.sweep_arguments(), out=args.out, progress=not args.no_progress)
    except ValueError as error:
        parser.error(str(error))
    if jax.process_index() != 0:
        return 0
    figures = write_figures(dataset, args.out)
    points = dataset["failed"].size // dataset.sizes["generation"]
    print(f"jcollapse sweep: wrote {args.out}/sweep.nc and {len(figures)} figure(s): {points} grid point(s) x "
          f"{dataset.attrs['seeds']} seeds in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


def _run_list(args: argparse.Namespace, parser: argparse.ArgumentParser, started: float) -> int:
    print("reproductions (jcollapse reproduce NAME, or --all):")
    for name, reproduction in sorted(REPRODUCTIONS.items()):
        print(f"  {name:20s} {reproduction.title} ({reproduction.default_seeds} seeds, "
              f"{reproduction.default_generations} generations)")
    print(f"{DEMO.name} (jcollapse demo): {DEMO.title}")
    print("model families ([model] family in sweep configurations) and their closed forms (jc.theory.expected):")
    for name, family in models.families().items():
        forms = sorted({f"{', '.join(metrics)} (pool {pool})" for _, pool, _, metrics in theory.available(family)})
        print(f"  {name:20s} {'; '.join(forms) if forms else 'none'}")
    return 0


def _add_run_options(command: argparse.ArgumentParser, seeds_help: str, generations_help: str) -> None:
    command.add_argument("--seeds", type=_positive_int, metavar="N", help=seeds_help)
    command.add_argument("--generations", type=_positive_int, metavar="G", help=generations_help)
    command.add_argument("--key", type=int, default=0, help="PRNG seed: jax.random.key(KEY) (default: 0)")
    command.add_argument("--no-progress", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``jcollapse`` command.

    **Returns:**

    An ``argparse.ArgumentParser`` with one subparser per command.

    ```python
    >>> build_parser().parse_args(["demo", "--seeds", "10"]).seeds
    10

    ```
    """
    parser = argparse.ArgumentParser(
        prog="jcollapse",
        description="Model-collapse simulation in JAX: simulations beside closed-form theory.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="Gaussian collapse versus recovery: figures, a summary table and a page",
        description=(
            "Simulate a 1-D Gaussian fitted on its own samples mixed with fresh real data "
            "(real fractions 0, 0.1, 0.5; fixed and growing sample sizes; MLE and unbiased "
            "variance) and write PNG figures, last_generation.csv, checks.csv, summary.md and "
            "index.html into --out, atomically."
        ),
    )
    demo.add_argument("--out", default="out/demo", metavar="DIR",
                      help="output directory, replaced if it exists (default: out/demo)")
    _add_run_options(demo, f"independent runs per configuration, >= 1 (default: {DEMO.default_seeds})",
                     f"generations after generation 0, >= 1 (default: {DEMO.default_generations})")
    demo.set_defaults(handler=_run_demo)

    names = sorted(REPRODUCTIONS)
    reproduce = commands.add_parser(
        "reproduce",
        help="reproduce a paper's experiments: figures, tables, checks, summary.md and index.html",
        description="Run one paper's reproduction (see jcollapse/experiments/) and write its figures, CSV tables, "
                    "checks.csv, summary.md and index.html into --out, atomically. With --all, run every one into "
                    "DIR/NAME and write DIR/index.html with a one-line verdict (worst |z| over its checks) each.",
    )
    reproduce.add_argument("name", nargs="?", choices=names, metavar="NAME",
                           help=f"the reproduction: {', '.join(names)}")
    reproduce.add_argument("--all", action="store_true", help="run every reproduction, each into DIR/NAME")
    reproduce.add_argument("--out", metavar="DIR",
                           help="output directory, replaced if it exists (default: out/NAME; with --all: out)")
    _add_run_options(reproduce, "seeds per configuration, >= 1 (default: the paper's, e.g. 100)",
                     "generations after generation 0, >= 1 (default: the paper's, e.g. 200)")
    reproduce.set_defaults(handler=_run_reproduction)

    sweep = commands.add_parser(
        "sweep",
        help="a grid of loops over many seeds, from a TOML configuration: sweep.nc and figures",
        description="Run the sweep a TOML file describes (schema: README, examples/*.toml) and write its "
                    "statistics as DIR/sweep.nc (netCDF) and a figure per metric. Each finished chunk is "
                    "checkpointed in DIR; running the same command again resumes.",
    )
    sweep.add_argument("config", metavar="CONFIG.toml", help="the sweep's configuration")
    sweep.add_argument("--out", required=True, metavar="DIR", help="output and checkpoint directory")
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.add_argument("--distributed", action="store_true",
                       help="one of several processes (e.g. under srun): call jax.distributed.initialize() "
                            "and run this process's share of the seeds; process 0 writes DIR")
    sweep.set_defaults(handler=_run_sweep)

    listing = commands.add_parser("list", help="the reproductions and model families available")
    listing.set_defaults(handler=_run_list)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``jcollapse`` console script.

    **Arguments:**

    - `argv`: the arguments without the program name (default: ``sys.argv[1:]``).

    **Returns:**

    The exit status (0 on success). Bad arguments exit with status 2 and a message on
    standard error, before anything is simulated or written.

    ```python
    >>> try:
    ...     main(["demo", "--seeds", "0"])   # stderr: "... --seeds: must be an integer >= 1; got 0"
    ... except SystemExit as exit:
    ...     print(exit.code)
    2

    ```
    """
    started = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args, parser, started)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
