"""The ``jcollapse`` command.

```
jcollapse demo [--out DIR] [--seeds N] [--generations G] [--key K]
jcollapse reproduce NAME [--out DIR] [--seeds N] [--generations G] [--key K]
```

Arguments are validated before anything is simulated or written; a bad value exits with
status 2 and a one-line message.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Optional, Sequence


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1; got {value}")
    return value


def _run_demo(args: argparse.Namespace, parser: argparse.ArgumentParser, started: float) -> int:
    from .experiments import demo

    try:
        demo.run(args.out, seeds=args.seeds, generations=args.generations, key=args.key,
                 started=started, log=sys.stderr)
    except ValueError as error:
        parser.error(str(error))
    return 0


def _run_reproduction(args: argparse.Namespace, parser: argparse.ArgumentParser, started: float) -> int:
    from .experiments import REPRODUCTIONS

    module = REPRODUCTIONS[args.name]
    try:
        module.run(args.out or f"out/{args.name}", seeds=args.seeds or module.SEEDS,
                   generations=args.generations or module.GENERATIONS, key=args.key,
                   started=started, log=sys.stderr)
    except ValueError as error:
        parser.error(str(error))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``jcollapse`` command.

    **Returns:**

    An ``argparse.ArgumentParser`` with one subparser per command.

    ```python
    >>> build_parser().parse_args(["demo", "--seeds", "10"]).seeds
    10

    ```
    """
    from .experiments.demo import GENERATIONS, SEEDS

    parser = argparse.ArgumentParser(
        prog="jcollapse",
        description="Model-collapse simulation in JAX: simulations beside closed-form theory.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="Gaussian collapse versus recovery: figures and a summary table",
        description=(
            "Simulate a 1-D Gaussian fitted on its own samples mixed with fresh real data "
            "(real fractions 0, 0.1, 0.5; fixed and growing sample sizes; MLE and unbiased "
            "variance) and write PNG figures and summary.md into --out, atomically."
        ),
    )
    demo.add_argument("--out", default="out/demo", metavar="DIR",
                      help="output directory, replaced if it exists (default: out/demo)")
    demo.add_argument("--seeds", type=_positive_int, default=SEEDS, metavar="N",
                      help=f"independent runs per configuration, >= 1 (default: {SEEDS})")
    demo.add_argument("--generations", type=_positive_int, default=GENERATIONS, metavar="G",
                      help=f"generations after generation 0, >= 1 (default: {GENERATIONS})")
    demo.add_argument("--key", type=int, default=0, help="PRNG seed: jax.random.key(KEY) (default: 0)")
    demo.set_defaults(handler=_run_demo)

    from .experiments import REPRODUCTIONS

    reproduce = commands.add_parser(
        "reproduce",
        help="reproduce a paper's experiments: figures, tables and summary.md",
        description="Run one paper's reproduction (see jcollapse/experiments/) and write its figures, "
                    "CSV tables and summary.md into --out, atomically.",
    )
    reproduce.add_argument("name", choices=sorted(REPRODUCTIONS), metavar="NAME",
                           help=f"the reproduction: {', '.join(sorted(REPRODUCTIONS))}")
    reproduce.add_argument("--out", metavar="DIR", help="output directory, replaced if it exists (default: out/NAME)")
    reproduce.add_argument("--seeds", type=_positive_int, metavar="N",
                           help="seeds per configuration, >= 1 (default: the paper's, e.g. 100)")
    reproduce.add_argument("--generations", type=_positive_int, metavar="G",
                           help="generations after generation 0, >= 1 (default: the paper's, e.g. 200)")
    reproduce.add_argument("--key", type=int, default=0, help="PRNG seed: jax.random.key(KEY) (default: 0)")
    reproduce.set_defaults(handler=_run_reproduction)
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
