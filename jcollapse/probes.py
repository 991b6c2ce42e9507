"""Probes: extra random measurements of every generation's fitted model.

A model's metrics are deterministic functions of the fit. Some experiments measure a fit
by using it: Dohmatob et al. train a downstream model on data labelled by generation
``t``'s model and report that model's error. A probe is such a measurement: an
``eqx.Module`` of static settings called as ``probe(key, params, truth) -> dict`` inside
the scan, after each generation's fit, with its own random stream (it never changes the
loop's trajectory). Pass it as ``jc.simulate(..., probe=...)``; its metrics join the
run's, with trailing axes if the probe returns vectors.
"""

from __future__ import annotations

import abc
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from .internal.validation import check_count
from .models import LinearRegression, RegressionParams, excess_risks, ridge_solutions


class AbstractProbe(eqx.Module):
    """A random measurement of a fitted model (see the module docstring)."""

    metric_names: ClassVar[tuple[str, ...]]

    @abc.abstractmethod
    def check_model(self, model) -> None:
        """Raise ``ValueError`` unless the probe can measure fits of ``model``."""

    @abc.abstractmethod
    def __call__(self, key: PRNGKeyArray, params, truth) -> dict[str, Array]:
        """The probe's metrics, keyed by ``metric_names``."""


class DownstreamRidge(AbstractProbe):
    """Dohmatob et al.'s downstream model: ridge regression on ``sample_size`` fresh
    samples labelled by the probed fit (noise ``noise``), one fit per penalty.

    Covariates come from the truth's law; the labels are ``x . w_hat + noise * eps``
    with ``w_hat`` the probed generation's weights. One draw of exact normal-equation
    statistics (:meth:`jcollapse.models.LinearRegression.sample_statistics`) is shared by
    all penalties, so the curve over ``ridges`` is smooth within a seed. ``ridge = 0``
    is OLS, or the minimum-norm solution when ``sample_size < dim``.

    **Arguments:**

    - `sample_size`: ``T >= 1``, the downstream training-set size.
    - `noise`: ``sigma >= 0``, the downstream label noise.
    - `ridges`: the penalties ``lambda >= 0`` (a tuple of numbers).

    Metric: ``downstream_test_error``, shape ``[len(ridges)]`` per generation:
    ``||w_pred - w0||^2_Sigma``.

    ```python
    >>> import jax, numpy as np, jcollapse as jc
    >>> model = jc.models.LinearRegression(dim=4, noise=0.5)
    >>> truth = model.params(weights=np.ones(4), cov=np.eye(4))
    >>> probe = DownstreamRidge(sample_size=30, noise=0.5, ridges=(0.0, 0.1, 1.0))
    >>> run = jc.simulate(jc.Loop(model, generations=2, sample_size=20), truth,
    ...                   key=jax.random.key(0), seeds=8, probe=probe)
    >>> run.metrics["downstream_test_error"].shape
    (8, 3, 3)

    ```
    """

    sample_size: int = eqx.field(static=True)
    # Settings (jcollapse.internal.settings): traced, so other penalties reuse the compilation.
    noise: float
    ridges: tuple[float, ...]

    metric_names: ClassVar[tuple[str, ...]] = ("downstream_test_error",)

    def __init__(self, sample_size: int, noise: float, ridges):
        self.sample_size = check_count("sample_size", sample_size, 1)
        if isinstance(noise, bool) or not np.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be a finite number >= 0; got {noise!r}")
        values = np.atleast_1d(np.asarray(ridges, dtype=np.float64))
        if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"ridges must be a non-empty list of finite numbers >= 0; got {ridges!r}")
        self.noise = float(noise)
        self.ridges = tuple(float(v) for v in values)

    def check_model(self, model) -> None:
        if not isinstance(model, LinearRegression):
            raise ValueError(f"DownstreamRidge probes a jc.models.LinearRegression; got {type(model).__name__}")

    def __call__(self, key, params: RegressionParams, truth: RegressionParams) -> dict[str, Float[Array, " k"]]:
        labeller = eqx.tree_at(lambda m: m.noise, LinearRegression(dim=truth.weights.shape[0]), self.noise)
        stats = labeller.sample_statistics(key, params, jnp.asarray(self.sample_size))
        weights = ridge_solutions(stats, jnp.asarray(self.ridges, truth.weights.dtype))
        return {"downstream_test_error": excess_risks(weights, truth)}
