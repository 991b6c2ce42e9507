"""Training a :class:`ContractionFilter` on simulated chains with the contraction hinge.

Each optimisation step draws ``batch`` truths from a prior and, per chain, a real fraction
``a ~ U(real_fraction_range)`` (the filter never sees it), simulates ``generations`` steps
of the filtered replace loop (``lax.scan``, vmapped over chains) and minimises

    mean_{chains, t} max(0, ||e_t||_P^2 - (1 - c) ||e_{t-1}||_P^2) + lambda ||e_t||_P^2,

with ``e_t = theta_hat_t - theta*`` and ``P = diag(1 / sample_std(theta*)^2)`` (the Fisher
metric of the mean parameter), ``c = contraction`` and ``lambda = error_weight``. The
hinge is the Lyapunov condition of Han et al.'s Assumption 2.3.

**Gradient truncation.** The state is carried with ``stop_gradient`` between generations:
the gradient flows only through the one-step update ``theta_t = theta_{t-1} + (1/n) sum_i
w_i (x_i - theta_{t-1})`` given the samples and ``theta_{t-1}``. Drawing Poisson or
Bernoulli samples is not differentiable, so the effect of today's weights on tomorrow's
samples is ignored; the filter is trained greedily, one step at a time, on the
distribution of states its own rollouts visit.
"""

from __future__ import annotations

import functools
from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..internal.keys import as_key
from ..internal.reduce import pairwise_sum
from ..internal.validation import check_count, check_fraction
from ._chain import check_mean_family, draw_mixed, filtered_update


@functools.lru_cache(maxsize=32)
def default_prior(model) -> Callable:
    """The default training prior of a mean family: its
    :meth:`~jcollapse.models.AbstractMeanFamily.parameter_prior` (``GaussianMean``: ``mean ~
    N(0, I)``; ``Poisson``: rates ``~ U(1, 10)``; ``Bernoulli``: probabilities ``~ U(0.1, 0.9)``).

    **Arguments:**

    - `model`: an :class:`~jcollapse.models.AbstractMeanFamily`.

    **Returns:**

    ``prior(key) -> params``, the same function object for equal models (so training
    with the default prior compiles once per model).

    ```python
    >>> import jax, jcollapse as jc
    >>> default_prior(jc.models.GaussianMean(dim=3))(jax.random.key(0)).mean.shape
    (3,)

    ```
    """
    return check_mean_family(model).parameter_prior()


def chain_losses(
    filter, model, truth, key, real_fraction, *, generations: int, sample_size: int, contraction, error_weight
):
    """One training chain's per-generation losses (state carried with ``stop_gradient``).

    Loss at ``t``: ``max(0, ||e_t||_P^2 - (1 - c) ||e_{t-1}||_P^2) + error_weight ||e_t||_P^2``.

    **Returns:**

    ``(losses, errors)``, each ``[generations]``; ``errors`` are ``||e_t||_P^2``.

    ```python
    >>> import jax, jcollapse as jc
    >>> from jcollapse.filters import ContractionFilter
    >>> model = jc.models.GaussianMean(dim=1)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> losses, errors = chain_losses(ContractionFilter(jax.random.key(0)), model, truth,
    ...     jax.random.key(1), 0.5, generations=3, sample_size=5, contraction=0.1, error_weight=0.0)
    >>> losses.shape
    (3,)

    ```
    """
    theta_star = model.mean_parameter(truth)
    precision = 1.0 / jnp.maximum(model.sample_std(truth), 1e-6) ** 2

    def norm_sq(params):
        e = model.mean_parameter(params) - theta_star
        return pairwise_sum(precision * e**2)

    first = draw_mixed(model, truth, truth, jax.random.fold_in(key, 0), 1.0, sample_size)
    start = jax.lax.stop_gradient(filtered_update(None, model, truth, first, 0))

    def step(previous, t):
        samples = draw_mixed(model, truth, previous, jax.random.fold_in(key, t), real_fraction, sample_size)
        new = filtered_update(filter, model, previous, samples, t)
        before, after = norm_sq(previous), norm_sq(new)
        loss = jax.nn.relu(after - (1.0 - contraction) * before) + error_weight * after
        return jax.lax.stop_gradient(new), (loss, jax.lax.stop_gradient(after))

    _, (losses, errors) = jax.lax.scan(step, start, jnp.arange(1, generations + 1, dtype=jnp.int32))
    return losses, errors


def train_filter(
    filter,
    model,
    prior: Callable | None = None,
    *,
    key,
    steps: int = 300,
    batch: int = 32,
    generations: int = 30,
    sample_size: int = 20,
    real_fraction_range: tuple[float, float] = (0.0, 0.6),
    contraction: float = 0.1,
    error_weight: float = 0.0,
    learning_rate: float = 3e-3,
):
    """Train ``filter`` with Adam on the contraction hinge (see the module docstring).

    The whole optimisation is one jitted ``lax.scan`` over steps; each step vmaps
    :func:`chain_losses` over ``batch`` chains with fresh truths, real fractions and keys
    (step ``s`` uses ``fold_in(key, s)``).

    **Arguments:**

    - `filter`: the initial :class:`ContractionFilter`.
    - `model`: an :class:`~jcollapse.models.AbstractMeanFamily`.
    - `prior`: ``prior(key) -> params`` for the truths (default :func:`default_prior`).
    - `key`: ``jax.random.key(...)``.
    - `steps`, `batch`, `generations`, `sample_size`: counts, each ``>= 1``.
    - `real_fraction_range`: ``(low, high)`` within ``[0, 1]``; ``a ~ U(low, high)`` per chain.
    - `contraction`: ``c`` in ``[0, 1]``.
    - `error_weight`: ``lambda >= 0``, weight of the added mean ``||e_t||_P^2`` term.
    - `learning_rate`: Adam's step size, ``> 0``.

    **Returns:**

    ``(trained filter, losses)`` with ``losses`` a NumPy array ``[steps]`` (the loss of
    each step's batch, before that step's update).

    ```python
    >>> import jax, jcollapse as jc
    >>> from jcollapse.filters import ContractionFilter
    >>> model = jc.models.GaussianMean(dim=1)
    >>> f, losses = train_filter(ContractionFilter(jax.random.key(0)), model, key=jax.random.key(1),
    ...                          steps=2, batch=2, generations=2, sample_size=4)
    >>> losses.shape
    (2,)

    ```
    """
    model = check_mean_family(model)
    if not (isinstance(filter, eqx.Module) and callable(filter)):
        raise ValueError(f"filter must be a ContractionFilter; got {filter!r}")
    steps = check_count("steps", steps, 1)
    batch = check_count("batch", batch, 1)
    generations = check_count("generations", generations, 1)
    sample_size = check_count("sample_size", sample_size, max(1, model.min_sample_size))
    try:
        low, high = real_fraction_range
    except (TypeError, ValueError):
        raise ValueError(f"real_fraction_range must be a pair (low, high); got {real_fraction_range!r}") from None
    low, high = check_fraction("real_fraction_range[0]", low), check_fraction("real_fraction_range[1]", high)
    if low > high:
        raise ValueError(f"real_fraction_range must have low <= high; got {real_fraction_range!r}")
    contraction = check_fraction("contraction", contraction)
    if not (np.isfinite(error_weight) and error_weight >= 0):
        raise ValueError(f"error_weight must be a finite number >= 0; got {error_weight!r}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0; got {learning_rate!r}")
    prior = default_prior(model) if prior is None else prior
    key = as_key(key)
    params, static = eqx.partition(filter, eqx.is_inexact_array)
    hyper = jnp.asarray([low, high, contraction, error_weight, learning_rate], jnp.zeros(()).dtype)
    trained, losses = _train(params, static, model, prior, key, hyper, steps, batch, generations, sample_size)
    return trained, np.asarray(losses)


@eqx.filter_jit
def _train(params, static, model, prior, key, hyper, steps, batch, generations, sample_size):
    # Hyperparameters are traced: changing them (or the learning rate) does not recompile.
    low, high, contraction, error_weight, learning_rate = (hyper[i] for i in range(5))
    optimizer = optax.adam(learning_rate)

    def batch_loss(params, step_key):
        filter = eqx.combine(params, static)
        key_truth, key_fraction, key_chain = jax.random.split(step_key, 3)
        truths = jax.vmap(prior)(jax.random.split(key_truth, batch))
        fractions = jax.random.uniform(key_fraction, (batch,), dtype=hyper.dtype, minval=low, maxval=high)
        run = lambda truth, k, a: chain_losses(
            filter, model, truth, k, a, generations=generations, sample_size=sample_size,
            contraction=contraction, error_weight=error_weight,
        )[0]
        return jnp.mean(jax.vmap(run)(truths, jax.random.split(key_chain, batch), fractions))

    def step(carry, s):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(batch_loss)(params, jax.random.fold_in(key, s))
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), jnp.arange(steps))
    return eqx.combine(params, static), losses
