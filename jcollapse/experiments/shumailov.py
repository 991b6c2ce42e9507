r"""Shumailov, Shumaylov, Zhao, Gal, Papernot & Anderson, "The curse of recursion: training on
generated data makes models forget": the reproduction behind ``jcollapse reproduce shumailov``.

Two studies:

1. **Mixture** (``mixture``): the authors' notebook's loop. The truth is one 2-D standard
   Gaussian blob; each generation draws :data:`SAMPLE_SIZE` points, fits a 2-component
   full-covariance :class:`jcollapse.models.GaussianMixture` by EM (k-means++ seeding each
   generation, at most :data:`EM_STEPS` steps with scikit-learn's tolerance), and the next
   generation's data are drawn from that fit (replace pool). The same loop with
   :data:`REAL_SHARE` of each generation's data fresh from the truth is the paper's
   mitigation. Measured every generation: the exact ``L2`` distance between fit and truth,
   the fitted variance, the tail mass (the share of generated points beyond 3 of the truth's
   standard deviations from their own mean; the truth's own is ``exp(-9/2) = 1.11 %`` in
   2-D) and the negative log-likelihood of the seed's held-out test set. The fully synthetic
   loop's mean variance has a closed form (:func:`jcollapse.theory.mixture_variance`: EM keeps
   the pool's moments), checked where its mean is light-tailed; the rest has none, and the
   summary gives the numbers with standard errors.
2. **Gaussian** (``gaussian``): the paper's 1-D Gaussian example, :class:`jcollapse.models.Gaussian`
   fitted by maximum likelihood to its own samples for ``n`` in :data:`GAUSSIAN_SIZES`. The
   fitted variance is a product of independent ``chi^2`` factors, so its mean is heavy-tailed
   at long horizons; the check compares ``E log sigma_hat^2_t`` with its exact value
   (:func:`jcollapse.theory.gaussian_expected_log_variance`), and the figure shows the mean
   variance against :func:`jcollapse.theory.expected`.

The driver writes ``mixture.png``, ``gaussian.png``, ``errors.csv``, ``checks.csv``,
``summary.md`` and ``index.html``.

```python
>>> from jcollapse.experiments import shumailov
>>> shumailov.Shumailov().default_generations
2000

```
"""

from __future__ import annotations

import math
import time
from typing import ClassVar, Optional

import equinox as eqx
import jax
import numpy as np

from .. import Loop, models, theory, truths
from .. import simulate as simulate_loop
from ..internal.validation import check_count
from . import _figures
from ._protocol import Check, Progress, Reproduction, Result, quiet_progress
from ._series import Series, healthy_mean_sem, log_spaced, max_abs_z

#: Seeds per configuration; the mixture study uses at most :data:`MIXTURE_SEEDS` of them (a
#: fitted mixture costs about as much per generation as a thousand Gaussian seeds).
SEEDS, MIXTURE_SEEDS = 1000, 20
#: ``G``: generations ``0..G`` (the notebook's 2,000).
GENERATIONS = 2000
#: Points per generation of the mixture study, and of its held-out test set.
SAMPLE_SIZE, TEST_SIZE = 1000, 200
#: Components of the fitted mixture, and its EM budget per generation (scikit-learn allows 100
#: steps but stops at its tolerance, after about ten on this blob; every lane of a vmapped fit
#: runs the whole budget, so the reproduction gives it 20).
COMPONENTS, EM_STEPS = 2, 20
#: The share of each generation's data drawn fresh from the truth in the mitigated loop.
REAL_SHARE = 0.1
#: Sample sizes of the 1-D Gaussian study.
GAUSSIAN_SIZES = (100, 500, 1000, 10_000)
#: Generations kept in the tables and figures: about this many, log-spaced.
POINTS = 60
#: The mixture metrics reported, in order.
MIXTURE_METRICS = ("l2", "variance", "tail_mass", "nll")
#: The tail mass of the 2-D standard Gaussian beyond 3 standard deviations: ``exp(-9/2)``.
TRUTH_TAIL = math.exp(-4.5)

#: Study names, in simulation (and key) order.
STUDIES = ("mixture", "gaussian")


def kept_generations(generations: int, points: int = POINTS) -> np.ndarray:
    """About `points` generations in ``0..generations``, log-spaced from 1 (every one when few).

    ```python
    >>> kept_generations(5).tolist()
    [0, 1, 2, 3, 4, 5]

    ```
    """
    return np.concatenate([[0], log_spaced(generations, points)])


def mixture_loop(real_share: float, generations: int, sample_size: int = SAMPLE_SIZE,
                 em_steps: int = EM_STEPS, test_size: int = TEST_SIZE) -> Loop:
    """The mixture study's loop: the 2-component mixture, `sample_size` points per
    generation, `real_share` of them fresh from the truth, replace pool.

    ```python
    >>> mixture_loop(0.1, 3).real_fraction.tolist()  # generation 0 is all real: the truth is a law
    [0.1, 0.1, 0.1, 0.1]

    ```
    """
    model = models.GaussianMixture(COMPONENTS, 2, em_steps=em_steps, test_size=test_size)
    return Loop(model, generations=generations, real_fraction=real_share, sample_size=sample_size)


def mixture_truth() -> truths.GaussianMixture:
    """One 2-D standard Gaussian blob.

    ```python
    >>> mixture_truth().covs.tolist()
    [[[1.0, 0.0], [0.0, 1.0]]]

    ```
    """
    return truths.GaussianMixture.gaussian(mean=[0.0, 0.0], cov=np.eye(2))


def gaussian_loop(sample_size: int, generations: int) -> Loop:
    """The 1-D Gaussian study's loop: :class:`jcollapse.models.Gaussian` on its own samples.

    ```python
    >>> gaussian_loop(100, 3).sample_size.tolist()
    [100, 100, 100, 100]

    ```
    """
    return Loop(models.Gaussian(dim=1), generations=generations, real_fraction=0.0, sample_size=sample_size)


def _kept_series(study: str, label: str, values, failed, kept, **fields) -> Series:
    mean, sem = healthy_mean_sem(np.asarray(values)[:, kept], failed)
    return Series(study, label, kept.astype(float), mean, sem, seeds=len(failed), failed=int(np.sum(failed)),
                  **fields)


def light_tailed(generations: np.ndarray, sample_size: int) -> np.ndarray:
    """Where the fully synthetic variance's mean has a meaningful standard error: the variance
    is a product of ``t`` independent factors of mean ``1 - 1/n`` and relative variance about
    ``2/n``, so its relative variance is about ``(1 + 2/n)^t - 1``; kept where that is <= 1.

    ```python
    >>> light_tailed(np.array([0, 300, 400]), 1000).tolist()
    [True, True, False]

    ```
    """
    return (1 + 2 / sample_size) ** generations <= 2


def _mixture(key, seeds: int, generations: int, reproduction: "Shumailov", bar: Progress) -> list[Series]:
    kept, truth = kept_generations(generations), mixture_truth()
    out = []
    for i, share in enumerate((0.0, REAL_SHARE)):
        label = "fully synthetic" if share == 0 else f"{share:.0%} real"
        loop = mixture_loop(share, generations, reproduction.sample_size, reproduction.em_steps,
                            reproduction.test_size)
        run = simulate_loop(loop, truth, key=jax.random.fold_in(key, i), seeds=seeds, progress=False)
        for metric in MIXTURE_METRICS:
            exact = metric == "variance" and share == 0
            theory_fields = dict(theory=theory.expected(loop, truth, "variance")[kept], theory_kind="exact",
                                 closed_form="jc.theory.mixture_variance") if exact else {}
            out.append(_kept_series("mixture", f"{label}, {metric}", run.metrics[metric], run.failed, kept,
                                    metric=metric, **theory_fields))
        bar.update(seeds)
    return out


def _gaussian(key, seeds: int, generations: int, bar: Progress) -> list[Series]:
    kept = kept_generations(generations)
    truth = models.Gaussian(dim=1).params(mean=0.0, cov=[[1.0]])
    out = []
    for i, n in enumerate(GAUSSIAN_SIZES):
        loop = gaussian_loop(n, generations)
        run = simulate_loop(loop, truth, key=jax.random.fold_in(key, i), seeds=seeds, progress=False)
        out.append(_kept_series("gaussian", f"n={n}, log variance", np.log(run.metrics["variance"]), run.failed,
                                kept, metric="variance",
                                theory=theory.gaussian_expected_log_variance(loop, truth)[kept], theory_kind="exact",
                                closed_form="jc.theory.gaussian_expected_log_variance"))
        out.append(_kept_series("gaussian", f"n={n}, variance", run.metrics["variance"], run.failed, kept,
                                metric="variance", theory=theory.expected(loop, truth, "variance")[kept],
                                theory_kind="exact", closed_form="jc.theory.expected"))
        bar.update(seeds)
    return out


#: Figure files and their captions.
FIGURES = {
    "mixture.png": "A 2-component Gaussian mixture refitted by EM to its own samples of one 2-D Gaussian: the L2 "
                   "distance to the truth, the fitted variance (dashed: exact, fully synthetic), the tail mass "
                   "beyond 3 standard deviations (dotted: the truth's) and the test NLL, fully synthetic against "
                   "10 % fresh real data per generation.",
    "gaussian.png": "The 1-D Gaussian fitted to its own samples: E log σ̂²_t (left) and the mean σ̂²_t (right) "
                    "against their exact values (dashed).",
}

SUMMARY = """\
# Shumailov et al., "The curse of recursion": reproduction

{{ r.seeds }} seeds per configuration ({{ mixture_seeds }} for the mixture); PRNG
`jax.random.key({{ r.key }})`; generations 0..{{ r.generations }}. Every kept point (mean, standard
error, theory where known, z) is in `errors.csv`. See `jcollapse/experiments/shumailov.py` for the
settings.

## A Gaussian mixture refitted to its own samples

Truth: one 2-D standard Gaussian. {{ sample_size }} points per generation, a {{ components }}-component
full-covariance mixture fitted by EM (k-means++ seeding, at most {{ em_steps }} steps, tolerance 1e-3),
replace pool; the test set ({{ test_size }} points per seed) is drawn once per seed. The truth's own
tail mass beyond 3 standard deviations is {{ truth_tail | num(4) }}.

| loop | generation | L2(fit, truth) | variance | exact variance | tail mass | test NLL |
|---|---|---|---|---|---|---|
{% for row in mixture %}
| {{ row.loop }} | {{ row.generation }} | {{ row.l2 | pm(row.l2_sem, 4, 2) }} \
| {{ row.variance | pm(row.variance_sem, 4, 2) }} | {{ row.variance_theory | num(4) }} \
| {{ row.tail | pm(row.tail_sem, 4, 2) }} | {{ row.nll | pm(row.nll_sem, 4, 2) }} |
{% endfor %}

The fully synthetic variance has an exact mean (every M-step gives the mixture the pool's
covariance plus reg_covar, so the KDE's recursion holds with h² = reg_covar; our derivation).
The L2 distance, the tail mass and the test NLL have no closed form: these numbers are what
the simulation gives.

## The 1-D Gaussian

Maximum likelihood on its own samples, n points per generation. Max |z| of E log σ̂²_t against
its exact value over every kept generation: {{ log_z | num(3) }}.

| n | E log σ̂²_t at t = {{ r.generations }} | exact | mean σ̂²_t | exact mean |
|---|---|---|---|---|
{% for row in gaussian %}
| {{ row.n }} | {{ row.log | pm(row.log_sem, 4, 2) }} | {{ row.log_theory | num(4) }} \
| {{ row.variance | pm(row.variance_sem, 4, 2) }} | {{ row.variance_theory | num(4) }} |
{% endfor %}
"""


class Shumailov(Reproduction):
    """Shumailov et al.'s curse of recursion (``jcollapse reproduce shumailov``); see the module docstring.

    **Fields:**

    - `sample_size`: points per generation of the mixture study, ``>= 2`` (default :data:`SAMPLE_SIZE`).
    - `em_steps`: EM steps per generation, ``>= 1`` (default :data:`EM_STEPS`).
    - `test_size`: held-out points per seed, and points drawn from each fit for the sample
      metrics, ``>= 6`` (default :data:`TEST_SIZE`).
    - `mixture_seeds`: the most seeds the mixture study runs, ``>= 2`` (default
      :data:`MIXTURE_SEEDS`; at the default sizes its loops cost about 14 ms per seed and generation
      on two cores).

    ```python
    >>> Shumailov(em_steps=0)
    Traceback (most recent call last):
    ...
    ValueError: em_steps must be an integer >= 1; got 0

    ```
    """

    sample_size: int = eqx.field(default=SAMPLE_SIZE, converter=lambda value: check_count("sample_size", value, 2))
    em_steps: int = eqx.field(default=EM_STEPS, converter=lambda value: check_count("em_steps", value, 1))
    test_size: int = eqx.field(default=TEST_SIZE, converter=lambda value: check_count("test_size", value, 6))
    mixture_seeds: int = eqx.field(default=MIXTURE_SEEDS,
                                   converter=lambda value: check_count("mixture_seeds", value, 2))

    name: ClassVar[str] = "shumailov"
    title: ClassVar[str] = "Shumailov et al.: the curse of recursion, a Gaussian mixture and a Gaussian"
    default_seeds: ClassVar[int] = SEEDS
    default_generations: ClassVar[int] = GENERATIONS
    min_seeds: ClassVar[int] = 2
    min_generations: ClassVar[int] = 1
    figure_captions: ClassVar[dict] = FIGURES
    summary_template: ClassVar[str] = SUMMARY

    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Simulate both studies: study ``i`` of :data:`STUDIES` uses ``fold_in(key(key), i)``,
        its configuration ``j`` ``fold_in`` of that with ``j``; the mixture study uses at most
        `mixture_seeds` seeds."""
        seeds, generations = self.check_counts(seeds, generations)
        mixture_seeds = min(seeds, self.mixture_seeds)
        bar = quiet_progress(progress)
        bar.reset(total=2 * mixture_seeds + len(GAUSSIAN_SIZES) * seeds)
        start = time.perf_counter()
        root = jax.random.key(key)
        series = _mixture(jax.random.fold_in(root, 0), mixture_seeds, generations, self, bar)
        series += _gaussian(jax.random.fold_in(root, 1), seeds, generations, bar)
        return Result(self.name, seeds, generations, key, tuple(series), simulate_seconds=time.perf_counter() - start)

    def figures(self, result: Result) -> dict:
        """``mixture.png`` and ``gaussian.png``."""
        return {"mixture.png": _mixture_figure(result), "gaussian.png": _gaussian_figure(result)}

    def checks(self, result: Result) -> list[Check]:
        """The fully synthetic mixture's mean variance where it is light-tailed
        (:func:`light_tailed`), and ``E log sigma_hat^2_t`` of the 1-D Gaussian at every kept
        generation; the Gaussian's mean variance is shown, not checked."""
        logs = [s for s in result.study("gaussian") if s.label.endswith("log variance")]
        variance = result.get("mixture", "fully synthetic, variance")
        light = light_tailed(variance.x, self.sample_size)
        window = Series(variance.study, variance.label, variance.x[light], variance.mean[light], variance.sem[light],
                        theory=variance.theory[light], theory_kind="exact", closed_form=variance.closed_form,
                        seeds=variance.seeds, failed=variance.failed, metric="variance")
        return [
            Check.compare("mixture: mean fitted variance (EM keeps the pool's moments)", [window],
                          statistic="mean of the mixture's variance over seeds",
                          note=f"generations 0..{int(window.x[-1])}, where (1 + 2/n)^t <= 2"),
            Check.compare("1-D Gaussian: E log σ̂²_t", logs, statistic="mean of log σ̂²_t over seeds"),
            Check.shown("1-D Gaussian: mean σ̂²_t", "jc.theory.expected", "exact", "mean σ̂²_t over seeds",
                        "heavy-tailed: a product of t + 1 independent χ² factors (E log σ̂²_t is checked instead)"),
        ]

    def summary_context(self, result: Result) -> dict:
        """The mixture's rows at a few generations and the Gaussian's at the last."""
        mixture = []
        for loop in ("fully synthetic", f"{REAL_SHARE:.0%} real"):
            chosen = {metric: result.get("mixture", f"{loop}, {metric}") for metric in MIXTURE_METRICS}
            x = chosen["l2"].x
            for generation in sorted({0, *(g for g in (10, 100, 1000) if g < x[-1]), int(x[-1])}):
                i = int(np.searchsorted(x, generation))
                variance = chosen["variance"]
                mixture.append(dict(loop=loop, generation=int(x[i]), l2=chosen["l2"].mean[i],
                                    l2_sem=chosen["l2"].sem[i], nll=chosen["nll"].mean[i], nll_sem=chosen["nll"].sem[i],
                                    tail=chosen["tail_mass"].mean[i], tail_sem=chosen["tail_mass"].sem[i],
                                    variance=variance.mean[i], variance_sem=variance.sem[i],
                                    variance_theory=variance.theory[i] if variance.theory is not None else None))
        gaussian = []
        for n in GAUSSIAN_SIZES:
            log, variance = (result.get("gaussian", f"n={n}, {what}") for what in ("log variance", "variance"))
            gaussian.append(dict(n=n, log=log.mean[-1], log_sem=log.sem[-1], log_theory=log.theory[-1],
                                 variance=variance.mean[-1], variance_sem=variance.sem[-1],
                                 variance_theory=variance.theory[-1]))
        logs = [s for s in result.study("gaussian") if s.label.endswith("log variance")]
        return dict(sample_size=self.sample_size, components=COMPONENTS, em_steps=self.em_steps,
                    test_size=self.test_size, mixture_seeds=result.study("mixture")[0].seeds, truth_tail=TRUTH_TAIL,
                    mixture=mixture, gaussian=gaussian, log_z=max_abs_z(logs))


def _mixture_figure(result: Result):
    titles = {"l2": "$L_2$ distance to the truth", "variance": "fitted variance",
              "tail_mass": "tail mass beyond 3 s.d.", "nll": "test negative log-likelihood"}
    fig, axes = _figures.new_figure(1, len(MIXTURE_METRICS), width=3.8, height=3.5)
    for ax, metric in zip(axes[0], MIXTURE_METRICS):
        for colour, loop in zip(_figures.COLOURS, ("fully synthetic", f"{REAL_SHARE:.0%} real")):
            s = result.get("mixture", f"{loop}, {metric}")
            _figures.band_plot(ax, s.x + 1, s.mean, s.sem, theory=s.theory, label=loop, colour=colour)
        if metric == "tail_mass":
            ax.axhline(TRUTH_TAIL, color="grey", linestyle=":", linewidth=1.2)
        ax.set_xscale("log")
        ax.set_xlabel("generation + 1")
        ax.set_title(titles[metric], fontsize=10)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"A {COMPONENTS}-component Gaussian mixture refitted to its own samples ({result.seeds} seeds)",
                 fontsize=10)
    return fig


def _gaussian_figure(result: Result):
    fig, axes = _figures.new_figure(1, 2, width=5.0, height=3.8)
    ylabels = (r"$E \log \hat\sigma^2_t$", r"$E \hat\sigma^2_t$")
    for ax, what, ylabel in zip(axes[0], ("log variance", "variance"), ylabels):
        for colour, n in zip(_figures.COLOURS, GAUSSIAN_SIZES):
            s = result.get("gaussian", f"n={n}, {what}")
            _figures.band_plot(ax, s.x + 1, s.mean, s.sem, theory=s.theory, label=f"$n={n}$", colour=colour)
        ax.set_xscale("log")
        ax.set_xlabel("generation + 1")
        ax.set_ylabel(ylabel)
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("exact")], loc="lower left")
    fig.suptitle("The 1-D Gaussian fitted to its own samples", fontsize=10)
    return fig
