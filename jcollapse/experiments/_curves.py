"""Per-generation summaries of a run shared by the experiments: mean, standard error,
quantiles over healthy seeds, next to the closed form where one exists."""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

import numpy as np


@dataclasses.dataclass(frozen=True)
class Curve:
    """One metric of one configuration over generations ``t = 0..G``.

    **Fields:**

    - `config`: the experiment's description of the configuration (any hashable value).
    - `metric`: the metric's name.
    - `mean`, `sem`: mean over healthy seeds and its standard error, ``[G + 1]``.
    - `median`, `q05`, `q95`: median and 5 % / 95 % quantiles over healthy seeds.
    - `theory`: the expected value (:func:`jcollapse.theory.expected` or an experiment's
      own formula), or ``None`` where none is known.
    - `seeds`: seeds simulated; `failed`: seeds with a non-zero status flag (excluded
      from the statistics).
    """

    config: Any
    metric: str
    mean: np.ndarray
    sem: np.ndarray
    median: np.ndarray
    q05: np.ndarray
    q95: np.ndarray
    theory: Optional[np.ndarray]
    seeds: int
    failed: int

    @property
    def z(self) -> float:
        """``(mean - theory) / sem`` at the last generation; NaN without theory.

        ```python
        >>> import numpy as np
        >>> one = np.ones(2)
        >>> Curve("a=0", "variance", one * 1.1, one * 0.1, one, one, one, one, 10, 0).z
        1.0000000000000009

        ```
        """
        if self.theory is None:
            return float("nan")
        return float((self.mean[-1] - self.theory[-1]) / self.sem[-1])

    @property
    def max_abs_z(self) -> float:
        """``max_t |mean_t - theory_t| / sem_t`` over generations with ``sem_t > 0``; NaN
        without theory.

        ```python
        >>> import numpy as np
        >>> Curve("c", "m", np.array([1.0, 2.0]), np.array([0.0, 0.5]), *[np.ones(2)] * 3,
        ...       np.ones(2), 4, 0).max_abs_z
        2.0

        ```
        """
        if self.theory is None:
            return float("nan")
        usable = self.sem > 0
        if not usable.any():
            return float("nan")
        return float(np.max(np.abs(self.mean - self.theory)[usable] / self.sem[usable]))


def find_curve(curves, config, metric: str) -> Curve:
    """The curve of `config` and `metric` among `curves`.

    **Arguments:**

    - `curves`: :class:`Curve` objects.
    - `config`, `metric`: what to look for (``config`` compared with ``==``).

    **Returns:**

    The first matching :class:`Curve`.

    **Raises:**

    `KeyError` naming `config` and `metric` if none matches.

    ```python
    >>> import numpy as np
    >>> one = np.ones(1)
    >>> curve = Curve("a=0", "variance", one, one, one, one, one, None, 1, 0)
    >>> find_curve([curve], "a=0", "variance") is curve
    True

    ```
    """
    for curve in curves:
        if curve.config == config and curve.metric == metric:
            return curve
    raise KeyError(f"no curve for {config!r} and metric {metric!r}")


def theory_or_none(loop, truth, metric: str) -> Optional[np.ndarray]:
    """:func:`jcollapse.theory.expected` as float64, or ``None`` where no closed form is
    registered.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.Categorical(num_categories=2)
    >>> truth = model.params(probs=[0.5, 0.5])
    >>> loop = jc.Loop(model, generations=1, sample_size=2)
    >>> theory_or_none(loop, truth, "param_sq_error"), theory_or_none(loop, truth, "tv")
    (array([0.25 , 0.375]), None)

    ```
    """
    import jcollapse as jc

    try:
        return np.asarray(jc.theory.expected(loop, truth, metric), dtype=np.float64)
    except NotImplementedError:
        return None


def healthy_mean_sem(values, failed) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error over the seeds (axis 0) without a status flag, in float64.

    With fewer than two healthy seeds the standard error is NaN, with none both are.

    **Arguments:**

    - `values`: ``[seeds, ...]``, e.g. a run's metric.
    - `failed`: bool ``[seeds]``, the seeds to leave out.

    **Returns:**

    ``(mean, sem)``, each of shape ``values.shape[1:]``.

    ```python
    >>> healthy_mean_sem(np.array([[1.0], [3.0], [9.0]]), np.array([False, False, True]))
    (array([2.]), array([1.]))

    ```
    """
    healthy = np.asarray(values, dtype=np.float64)[~np.asarray(failed)]
    count = healthy.shape[0]
    if not count:
        return np.full(healthy.shape[1:], np.nan), np.full(healthy.shape[1:], np.nan)
    sem = healthy.std(axis=0, ddof=1) / np.sqrt(count) if count > 1 else np.full(healthy.shape[1:], np.nan)
    return healthy.mean(axis=0), sem


def summarize(run, config, metric: str, theory: Optional[np.ndarray] = None) -> Curve:
    """The :class:`Curve` of one metric of a :class:`jcollapse.Run`, over healthy seeds.

    Seeds with a non-zero status are left out (and counted in ``failed``); with fewer than
    two healthy seeds the standard error is NaN, with none every statistic is NaN.

    **Arguments:**

    - `run`: a :class:`jcollapse.Run`.
    - `config`: stored in the curve as is.
    - `metric`: one of the run's metrics.
    - `theory`: the expected curve ``[G + 1]``, or ``None``.

    **Returns:**

    A :class:`Curve`.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=3)
    >>> run = jc.simulate(loop, model.params(mean=0.0, cov=[[1.0]]), key=jax.random.key(0), seeds=16)
    >>> summarize(run, "a=0", "mean_sq_error").mean.shape
    (4,)

    ```
    """
    values = np.asarray(run.metrics[metric], dtype=np.float64)
    mean, sem = healthy_mean_sem(values, run.failed)
    healthy = values[~run.failed]
    if healthy.shape[0]:
        q05, median, q95 = np.quantile(healthy, [0.05, 0.5, 0.95], axis=0)
    else:
        q05 = median = q95 = np.full(healthy.shape[1:], np.nan)
    return Curve(config, metric, mean, sem, median, q05, q95, theory,
                 seeds=int(run.failed.shape[0]), failed=int(run.failed.sum()))
