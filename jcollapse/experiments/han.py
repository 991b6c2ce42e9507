r"""Han et al., "Preventing Model Collapse via Contraction-Conditioned Neural Filters"
(arXiv 2512.00757): the reproduction behind ``jcollapse reproduce han``.

Setting: the replace loop with a **constant** sample size ``n`` (:data:`SAMPLE_SIZE`), iid
mixing with real fraction ``a`` in :data:`REAL_FRACTIONS`, for three mean families with a
fixed evaluation truth (:data:`FAMILIES`): ``GaussianMean(dim=1)`` with ``N(0, 1)``,
``Poisson(dim=1)`` with rate 3 and ``Bernoulli(dim=1)`` with ``p = 0.3``. Per family and
``a``, three methods:

- **no filter**: the plain replace loop (every weight 1,
  :func:`jcollapse.filters.filtered_errors` with ``None``), next to its exact expected
  error :func:`jcollapse.theory.expected`;
- **filter**: a :class:`jcollapse.filters.ContractionFilter` trained per family with
  :func:`jcollapse.filters.train_filter` (Adam on the contraction hinge of Han et al.'s
  Assumption 2.3, on simulated chains) on that family's default training prior
  (:func:`jcollapse.filters.default_prior`), no closed form;
- **growth**: no filter but a superlinear sample size ``n_t = n (t + 1)^1.5``
  (:func:`jcollapse.simulate`; ``sum 1/n_t < inf``), next to its exact expected error.

**What the filter may know at test time.** The generation's samples, the current estimate
``theta_hat_{t-1}`` (and its sample standard deviation), ``t`` and ``n``. It does not know
the truth ``theta*``, the real fraction ``a``, nor which samples are real. Training draws
its truths from the prior (the evaluation truth is one fixed point of it, never singled
out) and its real fractions from ``U(0, 0.6)``; training and evaluation keys differ.

The error is ``||theta_hat_t - theta*||^2`` of the mean parameter (``mean_sq_error`` for
the Gaussian, ``param_sq_error`` for Poisson and Bernoulli). The exceedance
``limsup_t P(||e_t|| > delta)`` is estimated by :func:`jcollapse.filters.exceedance` as the
largest fraction of seeds above ``delta`` over the last quarter of the generations, with
``delta = DELTA_FRACTION * sqrt(Var*/n)``: a fixed fraction of the generation-0 RMS error
(``Var*`` is the per-sample variance at the truth, ``Var*/n`` the generation-0 mean
squared error).

The filter's mechanism is measured, not asserted: :func:`mean_weights` records its mean
weight per generation on the evaluation chains (a decreasing weight is a decreasing step
size, i.e. averaging over generations).

The driver writes ``filter_errors.png``, ``exceedance.png``, ``training.png``,
``errors.csv`` (every kept point: mean, standard error, theory, z), ``exceedance.csv``,
``checks.csv``, ``summary.md`` and ``index.html``.

```python
>>> from jcollapse.experiments import han
>>> han.Han(families=["bernoulli", "gaussian"]).families
('gaussian', 'bernoulli')

```
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import ClassVar, Optional, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import Loop, models, schedules, theory
from .. import simulate as simulate_loop
from ..filters import ContractionFilter, draw_mixed, exceedance, filtered_errors, filtered_update, train_filter
from ..internal.validation import check_count
from . import _figures
from ._protocol import Check, Progress, Reproduction, Result, quiet_progress
from ._series import CHI2_INTERVAL, Series, chi2_floored_sem, healthy_mean_sem, log_spaced, max_abs_z

#: Seeds per configuration.
SEEDS = 2000
#: ``G``: generations ``0..G``.
GENERATIONS = 200
#: The constant sample size ``n`` (and ``n_0`` of the growth baseline).
SAMPLE_SIZE = 20
#: Real fractions ``a`` of generations ``t >= 1``.
REAL_FRACTIONS = (0.0, 0.2, 0.5)
#: Families, in simulation (and key) order.
FAMILIES = ("gaussian", "poisson", "bernoulli")
#: Methods, in table order.
METHODS = ("no filter", "filter", "growth")
#: Growth baseline: ``n_t = SAMPLE_SIZE * (t + 1) ** GROWTH_EXPONENT``.
GROWTH_EXPONENT = 1.5
#: Optimisation steps of :func:`jcollapse.filters.train_filter` per family (its other
#: settings are its defaults: 32 chains of 30 generations per step, n = 20, a ~ U(0, 0.6),
#: c = 0.1, Adam 3e-3).
TRAIN_STEPS = 200
#: ``delta`` of the exceedance, as a fraction of the generation-0 RMS error ``sqrt(Var*/n)``.
DELTA_FRACTION = 0.5
#: Share of the final generations over which the exceedance takes its max.
TAIL_FRACTION = 0.25
#: Generations kept in the table and the error figure: about this many, log-spaced (plus 0).
POINTS = 40
#: Seeds of the mean-weight trace (:func:`mean_weights`).
WEIGHT_SEEDS = 256
#: Half-width of the plotted bands, in standard errors.
BAND_SE = 2.0



@dataclasses.dataclass(frozen=True)
class Training:
    """One family's filter training.

    **Fields:** `family`, `steps`, `losses` (``[steps]``, the batch loss before each
    update), `seconds` (wall time, compilation included), and `weights`: ``{a: [G]}``, the
    trained filter's mean weight in generations ``1..G`` of the evaluation chains
    (:func:`mean_weights`).

    ```python
    >>> Training("gaussian", 2, np.ones(2), 0.5, {0.0: np.ones(3)}).steps
    2

    ```
    """

    family: str
    steps: int
    losses: np.ndarray
    seconds: float
    weights: dict


def label(method: str, real_fraction: float) -> str:
    """A series' label.

    **Arguments:**

    - `method`: one of :data:`METHODS`.
    - `real_fraction`: ``a``.

    **Returns:**

    ``"METHOD, a=A"``.

    ```python
    >>> label("no filter", 0.2)
    'no filter, a=0.2'

    ```
    """
    return f"{method}, a={real_fraction:g}"


def family(name: str):
    """``(model, truth, metric)`` of family `name` (one of :data:`FAMILIES`).

    **Arguments:**

    - `name`: ``"gaussian"``, ``"poisson"`` or ``"bernoulli"``.

    **Returns:**

    The model, the evaluation truth and the name of its squared-error metric in
    :func:`jcollapse.simulate`'s ``run.metrics``.

    ```python
    >>> model, truth, metric = family("poisson")
    >>> float(truth.rate[0]), metric
    (3.0, 'param_sq_error')

    ```
    """
    if name == "gaussian":
        model = models.GaussianMean(dim=1)
        return model, model.params(mean=0.0, cov=[[1.0]]), "mean_sq_error"
    if name == "poisson":
        model = models.Poisson(dim=1)
        return model, model.params(rate=3.0), "param_sq_error"
    if name == "bernoulli":
        model = models.Bernoulli(dim=1)
        return model, model.params(probs=0.3), "param_sq_error"
    raise ValueError(f"family must be one of {FAMILIES}; got {name!r}")


def delta_for(name: str, sample_size: int = SAMPLE_SIZE) -> float:
    """The exceedance threshold of family `name`: ``DELTA_FRACTION * sqrt(Var*/n)``.

    **Arguments:**

    - `name`: one of :data:`FAMILIES`.
    - `sample_size`: ``n``.

    **Returns:**

    A float.

    ```python
    >>> delta_for("gaussian", 25)
    0.1

    ```
    """
    model, truth, _ = family(name)
    variance = float(np.sum(np.asarray(model.sample_std(truth), np.float64) ** 2))
    return DELTA_FRACTION * math.sqrt(variance / sample_size)


def kept_generations(generations: int, points: int = POINTS) -> np.ndarray:
    """Generation 0 and about `points` log-spaced generations in ``1..generations``.

    **Arguments:**

    - `generations`: ``G``.
    - `points`: about how many besides 0.

    **Returns:**

    An increasing integer array starting at 0.

    ```python
    >>> kept_generations(5).tolist()
    [0, 1, 2, 3, 4, 5]

    ```
    """
    return np.concatenate([[0], log_spaced(generations, points)])


def _weights_trace(filter, model, truth, keys, a, sample_size, generations):
    def chain(seed_key):
        first = draw_mixed(model, truth, truth, jax.random.fold_in(seed_key, 0), 1.0, sample_size)
        start = filtered_update(None, model, truth, first, 0)

        def step(previous, t):
            x = draw_mixed(model, truth, previous, jax.random.fold_in(seed_key, t), a, sample_size)
            w = filter(x, model.mean_parameter(previous), model.sample_std(previous), t)
            return filtered_update(filter, model, previous, x, t), jnp.mean(w)

        return jax.lax.scan(step, start, jnp.arange(1, generations + 1, dtype=jnp.int32))[1]

    return jax.vmap(chain)(keys)


_weights_trace_jit = eqx.filter_jit(_weights_trace)


def mean_weights(filter, model, truth, *, real_fraction: float, sample_size: int, generations: int, seeds: int,
                 key) -> np.ndarray:
    """The filter's mean weight in each generation ``1..G`` of the filtered replace loop,
    averaged over samples and `seeds` chains (chains as in
    :func:`jcollapse.filters.filtered_chain`).

    **Arguments:**

    - `filter`: a :class:`jcollapse.filters.ContractionFilter`.
    - `model`, `truth`: a mean family and its true parameters.
    - `real_fraction`, `sample_size`, `generations`, `seeds`: ``a``, ``n``, ``G``, chains.
    - `key`: ``jax.random.key(...)``.

    **Returns:**

    A NumPy array ``[G]``.

    ```python
    >>> model, truth, _ = family("gaussian")
    >>> mean_weights(ContractionFilter(jax.random.key(0)), model, truth, real_fraction=0.5,  # tests/test_han.py's
    ...              sample_size=20, generations=40, seeds=256, key=jax.random.key(1)).shape  # sizes
    (40,)

    ```
    """
    dtype = model.mean_parameter(truth).dtype
    a = jnp.asarray(real_fraction, dtype)
    keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(seeds, dtype=jnp.uint32))
    return np.asarray(_weights_trace_jit(filter, model, truth, keys, a, sample_size, generations)).mean(axis=0)


def _train(name: str, key, steps: int, weight_generations: int, weight_seeds: int) -> tuple:
    model, truth, _ = family(name)
    start = time.perf_counter()
    filter, losses = train_filter(ContractionFilter(jax.random.fold_in(key, 0)), model, key=jax.random.fold_in(key, 1),
                                  steps=steps, sample_size=SAMPLE_SIZE)
    seconds = time.perf_counter() - start
    weights = {a: mean_weights(filter, model, truth, real_fraction=a, sample_size=SAMPLE_SIZE,
                               generations=weight_generations, seeds=weight_seeds, key=jax.random.fold_in(key, 2))
               for a in REAL_FRACTIONS}
    return filter, Training(name, steps, losses, seconds, weights)


def _family_study(name: str, filter, key, seeds: int, generations: int, bar: Progress) -> tuple[list, list]:
    model, truth, metric = family(name)
    kept = kept_generations(generations)
    delta = delta_for(name)
    tail = max(1, int(round(TAIL_FRACTION * generations)))
    series, exceed = [], []
    for j, a in enumerate(REAL_FRACTIONS):
        # the filter and no filter see the same seeds (same key): the same generation 0
        eval_key = jax.random.fold_in(key, 10 + j)
        constant = Loop(model, generations=generations, real_fraction=a, sample_size=SAMPLE_SIZE, mixing="iid")
        growing = constant.replace(sample_size=schedules.power(SAMPLE_SIZE, GROWTH_EXPONENT))
        for method in METHODS:
            if method == "growth":
                run = simulate_loop(growing, truth, key=jax.random.fold_in(key, 20 + j), seeds=seeds, progress=False)
                errors, failed = np.asarray(run.metrics[metric], np.float64), np.asarray(run.failed)
                values = theory.expected(growing, truth, metric)[kept]
            else:
                errors = filtered_errors(filter if method == "filter" else None, model, truth, real_fraction=a,
                                         sample_size=SAMPLE_SIZE, generations=generations, seeds=seeds, key=eval_key,
                                         progress=False)
                failed = np.zeros(seeds, bool)
                values = theory.expected(constant, truth, metric)[kept] if method == "no filter" else None
            mean, sem = healthy_mean_sem(errors[:, kept], failed)
            series.append(Series(name, label(method, a), kept.astype(float), mean, sem, theory=values,
                                 theory_kind="exact" if values is not None else "",
                                 closed_form="jc.theory.expected" if values is not None else "", seeds=seeds,
                                 failed=int(failed.sum()), metric=metric, config=(name, method, a)))
            healthy = errors[~failed]
            p, se = exceedance(healthy, delta, tail)
            p0, _ = exceedance(healthy[:, :1], delta, 1)
            exceed.append(dict(family=name, real_fraction=a, method=method, delta=delta, tail=tail, p=p, se=se, p0=p0))
            bar.update(seeds)
    return series, exceed


def _check_families(families: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(families)
    if not chosen or any(name not in FAMILIES for name in chosen) or len(set(chosen)) < len(chosen):
        raise ValueError(f"families must be distinct names from {FAMILIES}; got {families!r}")
    return tuple(name for name in FAMILIES if name in chosen)


#: Figure files and their captions.
FIGURES = {
    "filter_errors.png": "Squared error of the estimate over generations, per family (rows) and real fraction "
                         "(columns): no filter, the trained filter, superlinear growth; bands ± 2 SE, exact "
                         "expectations dashed.",
    "exceedance.png": "Estimated limsup P(‖e_t‖ > δ) (max over the last quarter of generations) per family, a and "
                      "method, ± 2 SE; crosses: the same fraction at generation 0.",
    "training.png": "Training loss per optimisation step (left) and the trained filter's mean weight per generation "
                    "on the evaluation chains (right): the mechanism.",
}

SUMMARY = """\
# Han et al., "Preventing Model Collapse via Contraction-Conditioned Neural Filters": reproduction

Replace loop, constant n = {{ sample_size }}, iid mixing with real fraction a, generations
0..{{ r.generations }}, {{ r.seeds }} seeds per configuration; PRNG `jax.random.key({{ r.key }})`.
Error = ‖θ̂_t − θ*‖² of the mean parameter. Every kept point is in `errors.csv`
(z = (mean − theory)/SE), every exceedance in `exceedance.csv`. See
`jcollapse/experiments/han.py` for the settings.

## What the filter may know

At test time the filter sees each generation's samples, the current estimate θ̂_{t−1} (and its
sample standard deviation), the generation index t and n. It does **not** know the truth θ*, the
real fraction a, nor which samples are real. It outputs a weight w ∈ (0, 1) per sample and the
estimate moves by θ̂_t = θ̂_{t−1} + (1/n) Σ w_i (x_i − θ̂_{t−1}) (w = 1: the plain MLE).

## Training

One `ContractionFilter` (MLP 3 → 16 → 16 → 1, tanh) per family, trained by `train_filter` with
Adam (3e-3) on the hinge max(0, ‖e_t‖²_P − (1 − c)‖e_{t−1}‖²_P), c = 0.1 (Assumption 2.3's
Lyapunov condition, P the Fisher metric), 32 simulated chains of 30 generations per step,
n = 20, a ~ U(0, 0.6), truths from the family's default prior (Gaussian mean ~ N(0, 1), Poisson
rate ~ U(1, 10), Bernoulli p ~ U(0.1, 0.9)); the evaluation truth is held fixed and training keys
differ from evaluation keys.

| family | steps | training time (s, compile included) | loss, first 10 steps | loss, last 10 steps |
|---|---|---|---|---|
{% for t in r.extras.training %}
| {{ t.family }} | {{ t.steps }} | {{ "%.1f" | format(t.seconds) }} | {{ t.losses[:10].mean() | num(3) }} \
| {{ t.losses[-10:].mean() | num(3) }} |
{% endfor %}

## Error at t = G and exceedance

δ = {{ delta_fraction }}·sqrt(Var*/n), a fixed fraction of the generation-0 RMS error (Var* the
per-sample variance at the truth); exceedance = max over the last {{ tail }} of generations of the
fraction of seeds with ‖e_t‖ > δ (± binomial SE; the max biases it upwards slightly). Theory: the
exact expectation (`jc.theory.expected`) for no filter and growth; none for the filter. Max |z|
against the exact expectations over all kept points: {{ exact_z | num(3) }} (with the sample's SE;
the checks below floor it at the χ²₁ one).

| family | a | method | error at t = 0 | error at t = {{ r.generations }} | theory at t = {{ r.generations }} \
| error ratio G/0 | exceedance | at t = 0 |
|---|---|---|---|---|---|---|---|---|
{% for row in rows %}
| {{ row.family }} | {{ row.a }} | {{ row.method }} | {{ row.first | pm(row.first_sem, 3, 2) }} \
| {{ row.last | pm(row.last_sem, 3, 2) }} | {{ row.theory | num(3) }} | {{ row.ratio | num(3) }} \
| {{ row.p | pm(row.se, 3, 2) }} | {{ row.p0 | num(3) }} |
{% endfor %}

## What the filter achieves, and what it cannot

**a = 0 (no real data).** Nothing pulls the estimate towards θ*, so the best any filter can do
is to freeze: the error floor is the generation-0 error Var*/n, and the exceedance cannot go to 0.
Measured, at t = {{ r.generations }}: {% for z in zero %}{{ z.family }}: filter {{ z.filter | num(3) }}× its \
generation-0 error (no filter {{ z.none | num(3) }}×), exceedance {{ z.p | num(3) }} (generation 0: \
{{ z.p0 | num(3) }}){{ "; " if not loop.last }}{% endfor %}. Han et al.'s claim limsup P(‖e_t‖ > δ) = 0
with constant n does not hold here for any δ below the generation-0 error: the filter only
stops the random walk.

**a > 0.** Without a filter the error settles at the floor Var*/(n a (2 − a)) of the iid replace
loop; the filter takes it well below that floor (to a lower floor: its weight settles, see below),
but superlinear growth, whose error keeps falling, wins. Error at t = {{ r.generations }}:
{% for p in positive %}{{ p.family }}, a = {{ p.a }}: no filter {{ p.none | num(3) }}, filter \
{{ p.filter | num(3) }} ({{ (p.none / p.filter) | num(3) }}× lower), growth {{ p.growth | num(3) }} \
({{ (p.filter / p.growth) | num(3) }}× lower than the filter){{ "; " if not loop.last }}{% endfor %}.

**Mechanism (measured).** The trained filter's mean weight, i.e. its step size relative to the
MLE, falls over the first generations and then settles at a small constant w: the estimate
becomes an exponential moving average over about 1/w generations, whose real-data part shrinks
the error while the synthetic part only adds noise of weight w²/n.
{% for w in weights %}{{ w.family }}, a = {{ w.a }}: {{ w.first | num(2) }} at t = 1, {{ w.tenth | num(2) }} \
at t = {{ w.tenth_t }}, {{ w.last | num(2) }} at t = {{ w.last_t }}{{ "; " if not loop.last }}{% endfor %}.
The filter cannot tell real from synthetic samples (it never sees the label); its gain comes from
the small step size (a constant w leaves a floor ∝ w at constant n; only a step size → 0 would
remove it), which growth achieves with more data instead.
"""


class Han(Reproduction):
    """Han et al.'s contraction-conditioned filters (``jcollapse reproduce han``); see the
    module docstring.

    **Fields:**

    - `train_steps`: optimisation steps per family, ``>= 1`` (default :data:`TRAIN_STEPS`).
    - `families`: a subset of :data:`FAMILIES` (a family's keys do not depend on the others).

    ```python
    >>> Han(train_steps=0)
    Traceback (most recent call last):
    ...
    ValueError: train_steps must be an integer >= 1; got 0

    ```
    """

    train_steps: int = eqx.field(default=TRAIN_STEPS, converter=lambda value: check_count("train_steps", value, 1))
    families: tuple[str, ...] = eqx.field(default=FAMILIES, converter=_check_families)

    name: ClassVar[str] = "han"
    title: ClassVar[str] = "Han et al.: preventing model collapse with contraction-conditioned neural filters"
    default_seeds: ClassVar[int] = SEEDS
    default_generations: ClassVar[int] = GENERATIONS
    min_seeds: ClassVar[int] = 2
    min_generations: ClassVar[int] = 4
    figure_captions: ClassVar[dict] = FIGURES
    summary_template: ClassVar[str] = SUMMARY

    def simulate(self, seeds: int, generations: int, key: int = 0, *,
                 progress: Optional[Progress] = None) -> Result:
        """Train a filter per family and simulate every family, ``a`` and method.

        Family ``i`` of :data:`FAMILIES` uses ``k_i = fold_in(key(key), i)``: training
        ``fold_in(k_i, 0)`` (network initialisation, optimisation and weight trace under it),
        evaluation of ``a = REAL_FRACTIONS[j]`` ``fold_in(k_i, 10 + j)`` (no filter and filter
        share it) and the growth baseline ``fold_in(k_i, 20 + j)``. Series: study = family,
        label ``"METHOD, a=A"``, ``x`` the generation. Tables: ``exceedance.csv``, a row per
        family, ``a`` and method. Extras: ``training``, a :class:`Training` per family.
        """
        seeds, generations = self.check_counts(seeds, generations)
        weight_seeds = min(seeds, WEIGHT_SEEDS)
        bar = quiet_progress(progress)
        bar.reset(total=len(self.families) * len(REAL_FRACTIONS) * (weight_seeds + len(METHODS) * seeds))
        start = time.perf_counter()
        root = jax.random.key(key)
        series, exceed, training = [], [], []
        for name in self.families:
            family_key = jax.random.fold_in(root, FAMILIES.index(name))
            filter, trained = _train(name, jax.random.fold_in(family_key, 0), self.train_steps, generations,
                                     weight_seeds)
            training.append(trained)
            bar.update(len(REAL_FRACTIONS) * weight_seeds)
            s, e = _family_study(name, filter, family_key, seeds, generations, bar)
            series += s
            exceed += e
        return Result(self.name, seeds, generations, key, tuple(series), tables={"exceedance.csv": tuple(exceed)},
                      extras={"training": tuple(training)}, simulate_seconds=time.perf_counter() - start)

    def figures(self, result: Result) -> dict:
        """The figures of :data:`FIGURES`."""
        return {
            "filter_errors.png": _errors_figure(result),
            "exceedance.png": _exceedance_figure(result),
            "training.png": _training_figure(result),
        }

    def checks(self, result: Result) -> list[Check]:
        """Every kept generation of no filter and growth against the exact expected error,
        the SE floored at the chi-square one (:data:`CHI2_INTERVAL`); the filter has no
        closed form."""
        statistic = "mean ‖θ̂_t − θ*‖² over seeds"
        return [
            Check.compare(f"{method}: exact expected error", [s for s in result.series if s.label.startswith(method)],
                          statistic=statistic, interval=CHI2_INTERVAL, standard_error=chi2_floored_sem)
            for method in ("no filter", "growth")
        ]

    def summary_context(self, result: Result) -> dict:
        """The summary's tables and the numbers its paragraphs quote."""
        families = _families(result)
        rows = []
        for name in families:
            for a in REAL_FRACTIONS:
                for method in METHODS:
                    s, e = _get(result, name, method, a), _exceedance(result, name, method, a)
                    rows.append(dict(family=name, a=f"{a:g}", method=method, first=s.mean[0], first_sem=s.sem[0],
                                     last=s.mean[-1], last_sem=s.sem[-1],
                                     theory=s.theory[-1] if s.theory is not None else None,
                                     ratio=s.mean[-1] / s.mean[0], p=e["p"], se=e["se"], p0=e["p0"]))
        zero = []
        for name in families:
            f, n, e = _get(result, name, "filter", 0.0), _get(result, name, "no filter", 0.0), \
                _exceedance(result, name, "filter", 0.0)
            zero.append(dict(family=name, filter=f.mean[-1] / f.mean[0], none=n.mean[-1] / n.mean[0], p=e["p"],
                             p0=e["p0"]))
        positive = [dict(family=name, a=f"{a:g}", none=_get(result, name, "no filter", a).mean[-1],
                         filter=_get(result, name, "filter", a).mean[-1],
                         growth=_get(result, name, "growth", a).mean[-1])
                    for name in families for a in REAL_FRACTIONS[1:]]
        weights = [dict(family=t.family, a=f"{a:g}", first=float(w[0]), tenth=float(w[min(9, w.size - 1)]),
                        tenth_t=min(10, w.size), last=float(w[-1]), last_t=w.size)
                   for t in result.extras["training"] for a, w in t.weights.items()]
        return dict(sample_size=SAMPLE_SIZE, delta_fraction=f"{DELTA_FRACTION:g}", tail=f"{TAIL_FRACTION:.0%}",
                    exact_z=max_abs_z([s for s in result.series if s.theory is not None]), rows=rows, zero=zero,
                    positive=positive, weights=weights)


def _families(result: Result) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s.study for s in result.series))


def _get(result: Result, name: str, method: str, real_fraction: float) -> Series:
    return result.get(name, label(method, real_fraction))


def _exceedance(result: Result, name: str, method: str, real_fraction: float) -> dict:
    return next(e for e in result.tables["exceedance.csv"]
                if e["family"] == name and e["method"] == method and e["real_fraction"] == real_fraction)


_COLOUR = dict(zip(METHODS, (_figures.COLOURS[1], _figures.COLOURS[0], _figures.COLOURS[2])))
_TITLES = {"gaussian": "Gaussian N(0, 1)", "poisson": "Poisson(3)", "bernoulli": "Bernoulli(0.3)"}


def _errors_figure(result: Result):
    families = _families(result)
    fig, axes = _figures.new_figure(len(families), len(REAL_FRACTIONS), width=4.2, height=3.3)
    for row, name in zip(axes, families):
        for ax, a in zip(row, REAL_FRACTIONS):
            ax.set_yscale("log")
            for method in METHODS:
                s = _get(result, name, method, a)
                x = np.maximum(s.x, 0.5)  # generation 0 drawn at 0.5 on the log axis
                _figures.band_plot(ax, x, s.mean, s.sem, theory=s.theory, label=method, colour=_COLOUR[method],
                                   width=BAND_SE)
            ax.set_xscale("log")
            ax.set_title(f"{_TITLES[name]}, a = {a:g}", fontsize=10)
            ax.set_xlabel("generation $t$ (0 drawn at 0.5)")
            ax.set_ylabel(r"$E\,\|\hat\theta_t-\theta^*\|^2$")
            ax.grid(True, which="major", alpha=0.3)
    _figures.finish_legend(axes[0, 0], extra=[_figures.theory_legend_handle("exact expectation")], loc="upper left")
    fig.suptitle(f"Constant n = {SAMPLE_SIZE}: no filter, a trained contraction filter, and growth "
                 f"n_t = n(t+1)^{GROWTH_EXPONENT:g}; {result.seeds} seeds", fontsize=11)
    return fig


def _exceedance_figure(result: Result):
    families = _families(result)
    fig, axes = _figures.new_figure(1, len(families), width=4.4, height=3.6)
    width = 0.26
    for ax, name in zip(axes[0], families):
        for k, method in enumerate(METHODS):
            es = [_exceedance(result, name, method, a) for a in REAL_FRACTIONS]
            x = np.arange(len(REAL_FRACTIONS)) + (k - 1) * width
            ax.bar(x, [e["p"] for e in es], width, yerr=[2 * e["se"] for e in es], color=_COLOUR[method], label=method,
                   capsize=2)
            ax.plot(x, [e["p0"] for e in es], "kx", markersize=5)
        ax.set_xticks(np.arange(len(REAL_FRACTIONS)), [f"a = {a:g}" for a in REAL_FRACTIONS])
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{_TITLES[name]}, δ = {_exceedance(result, name, METHODS[0], 0.0)['delta']:.3g}", fontsize=10)
        ax.set_ylabel(r"$\max_{t \in tail} P(\|e_t\| > \delta)$")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle(f"Exceedance, δ = {DELTA_FRACTION:g}·sqrt(Var*/n), tail = last {TAIL_FRACTION:.0%} of generations "
                 "(× : generation 0)", fontsize=10)
    return fig


def _training_figure(result: Result):
    fig, axes = _figures.new_figure(1, 2, width=5.2, height=3.8)
    left, right = axes[0]
    styles = ("-", "--", ":")
    for i, trained in enumerate(result.extras["training"]):
        colour = _figures.COLOURS[i % len(_figures.COLOURS)]
        left.plot(np.arange(1, trained.steps + 1), trained.losses, color=colour, linewidth=1.0,
                  label=f"{trained.family} ({trained.seconds:.0f} s)")
        for style, (a, weights) in zip(styles, trained.weights.items()):
            right.plot(np.arange(1, weights.size + 1), weights, color=colour, linestyle=style, linewidth=1.3,
                       label=f"{trained.family}, a = {a:g}")
    left.set_yscale("log")
    left.set_xlabel("optimisation step")
    left.set_ylabel("batch loss (contraction hinge)")
    left.legend(fontsize=8)
    left.grid(True, alpha=0.3)
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("generation $t$")
    right.set_ylabel("mean filter weight $w$")
    right.legend(fontsize=7, ncol=3)
    right.grid(True, which="major", alpha=0.3)
    fig.suptitle("Training the filter, and what it learned: the weight (step size) it applies per generation",
                 fontsize=10)
    return fig
