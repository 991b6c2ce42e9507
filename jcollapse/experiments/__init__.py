"""Reproductions: the demo and paper experiments, each simulated next to its closed forms.

Every reproduction is a :class:`Reproduction`: a name, default sizes, a
:meth:`~Reproduction.simulate` step returning a :class:`Result` made of named
:class:`Series` (mean, standard error, theory where known, z) and tables, the figures drawn
from that result, and the :class:`Check` list it reports (each closed form against the
simulation, with the largest |z|). One driver, :func:`run`, writes any of them into a
directory, atomically: the figures, CSV tables, ``checks.csv``, ``summary.md`` and an
``index.html`` page with the figures and the checks table. :func:`run_all` runs several into
``DIR/NAME`` and writes ``DIR/index.html`` with a one-line verdict for each.

- :data:`DEMO` (:mod:`~jcollapse.experiments.demo`): Gaussian collapse versus recovery
  (``jcollapse demo``).
- :data:`REPRODUCTIONS` (``jcollapse reproduce NAME`` or ``--all``):

  - ``amin`` (:mod:`~jcollapse.experiments.amin`): Amin et al.'s mean estimation (Theorem 1,
    weighted estimators) and PAC learning on self-labelled rounds.
  - ``bakshi-chakraborty`` (:mod:`~jcollapse.experiments.bakshi_chakraborty`): Bakshi &
    Chakraborty's categorical next-token loop, with its Markov-chain and Gaussian counterparts.
  - ``dohmatob`` (:mod:`~jcollapse.experiments.dohmatob`): Dohmatob, Feng & Kempe's regression
    pipeline, and replace versus accumulate.
  - ``han`` (:mod:`~jcollapse.experiments.han`): Han et al.'s contraction-conditioned neural
    filters on Gaussian, Poisson and Bernoulli loops with constant n.
  - ``shumailov`` (:mod:`~jcollapse.experiments.shumailov`): Shumailov et al.'s Gaussian mixture
    refitted by EM to its own samples, and the 1-D Gaussian.
  - ``xu`` (:mod:`~jcollapse.experiments.xu`): Xu, He & Cheng's collapse dichotomy (sum 1/n_t
    infinite or not) for Gaussian, Poisson and Bernoulli.

```python
>>> from jcollapse import experiments
>>> sorted(experiments.REPRODUCTIONS), experiments.DEMO.name
(['amin', 'bakshi-chakraborty', 'dohmatob', 'han', 'shumailov', 'xu'], 'demo')

```
"""

from . import amin, bakshi_chakraborty, demo, dohmatob, han, shumailov, xu
from ._driver import Report, run, run_all, verdict, write
from ._protocol import Check, Progress, Reproduction, Result, worst_z
from ._series import (
    CHI2_INTERVAL,
    RESOLUTION,
    Series,
    chi2_floored_sem,
    healthy_mean_sem,
    max_abs_z,
    series_rows,
    summarize,
)

#: The demo, ``jcollapse demo``.
DEMO = demo.Demo()

#: Paper reproductions by command name: ``jcollapse reproduce NAME``.
REPRODUCTIONS = {
    reproduction.name: reproduction
    for reproduction in (amin.Amin(), bakshi_chakraborty.BakshiChakraborty(), dohmatob.Dohmatob(), han.Han(),
                           shumailov.Shumailov(), xu.Xu())
}

__all__ = [
    "CHI2_INTERVAL",
    "DEMO",
    "RESOLUTION",
    "REPRODUCTIONS",
    "Check",
    "Progress",
    "Report",
    "Reproduction",
    "Result",
    "Series",
    "amin",
    "bakshi_chakraborty",
    "chi2_floored_sem",
    "demo",
    "dohmatob",
    "han",
    "healthy_mean_sem",
    "max_abs_z",
    "run",
    "run_all",
    "series_rows",
    "shumailov",
    "summarize",
    "verdict",
    "worst_z",
    "write",
    "xu",
]
