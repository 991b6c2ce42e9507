"""One seed's trajectory: a ``lax.scan`` over generations.

The scan carries ``(params of generation t-1, pool state)`` and emits each generation's
metrics and status flags, never samples. Random stream ``s`` (mixing, real data, synthetic
data, pool) of generation ``t`` of seed ``i`` uses the key
``fold_in(fold_in(key, i), STREAMS * t + s)``, so a trajectory does not depend on how many
seeds or generations run, nor on how the seeds are chunked.

Generation 0 draws from the "previous model" initialised to the truth, so it is fitted on
real data whatever the mixing rule says. (A family fitted to a :mod:`jcollapse.truths` law
starts from its own placeholder instead, and its generation 0 draws real data.)

Learned families also use four streams outside the generations' (see
:class:`jcollapse.models.AbstractModel`'s hooks): a fit's randomness
``fold_in(fold_in(seed_key, FIT_STREAM), t)``, a measurement's
``fold_in(fold_in(seed_key, EVALUATION_STREAM), t)``, the seed's reference (a test set
drawn once) ``fold_in(seed_key, REFERENCE_STREAM)``, and generation 0's placeholder
``fold_in(seed_key, INITIAL_STREAM)``. A family that does not use them draws nothing from them.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from .internal.fusion import materialise
from .loop import MAX_GENERATIONS, Loop, Plan
from .mixing import MIXINGS, split_real_counts
from .pools import RawBatch, make_pool

#: Random streams per generation: mixing, real data, synthetic data, pool.
STREAMS = 4

#: Status bit: a fitted parameter is NaN or infinite, or a metric is NaN. (A metric may
#: legitimately be +inf, e.g. KL(P* || P_hat) once P_hat has lost a category.)
STATUS_NONFINITE = 1
#: Status bit: the model reports the fit as degenerate (e.g. a singular covariance).
STATUS_DEGENERATE = 2


class GenerationInputs(NamedTuple):
    """Per-generation inputs, the ``xs`` of the scan (each of shape ``[G + 1]``).

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=2)
    >>> loop_inputs(loop, loop.plan()).t
    Array([0, 1, 2], dtype=int32)

    ```
    """

    t: Int[Array, " T"]
    real_fraction: Float[Array, " T"]
    sample_size: Int[Array, " T"]
    split_real_count: Int[Array, " T"]
    pool_weight: Float[Array, " T"]


def host_inputs(loop: Loop, plan: Plan) -> GenerationInputs:
    """The loop's schedules as NumPy arrays, with ``a_0`` set so generation 0 is real.

    ``a_0 = 1`` when real samples are drawn at all, else ``0`` (then generation 0 draws
    from the previous model, which is the truth at ``t = 0``). Built on the host, so a new
    G compiles nothing (``jnp.asarray`` and ``jnp.arange`` would compile a small program
    each); callers stack them as they need and
    pass them to the compiled chunk, which moves them once.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=2, real_fraction=0.5)
    >>> host_inputs(loop, loop.plan()).real_fraction
    array([1. , 0.5, 0.5], dtype=float32)

    ```
    """
    dtype = jnp.result_type(float)
    real_fraction = np.array(loop.real_fraction)
    real_fraction[0] = 1.0 if plan.draw_real else 0.0
    return GenerationInputs(
        t=np.arange(loop.generations + 1, dtype=np.int32),
        real_fraction=real_fraction.astype(dtype),
        sample_size=np.asarray(loop.sample_size, np.int32),
        split_real_count=split_real_counts(real_fraction, loop.sample_size).astype(np.int32),
        pool_weight=np.asarray(loop.pool_weights, dtype),
    )


def loop_inputs(loop: Loop, plan: Plan) -> GenerationInputs:
    """:func:`host_inputs` as device arrays (one ``device_put``, no compilation).

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.GaussianMean(dim=1), generations=2, real_fraction=0.5)
    >>> loop_inputs(loop, loop.plan()).real_fraction
    Array([1. , 0.5, 0.5], dtype=float32)

    ```
    """
    return jax.device_put(host_inputs(loop, plan))


def _draw_exact(plan: Plan, truth, prev, keys, inputs: GenerationInputs):
    model, n = plan.model, inputs.sample_size
    key_mix, key_real, key_synthetic = keys
    if not plan.draw_synthetic:
        return model.sample_statistics(key_real, truth, n)
    if not plan.draw_real:
        return model.sample_statistics(key_synthetic, prev, n)
    real = MIXINGS[plan.mixing].real_count(key_mix, inputs)
    real_stats = model.sample_statistics(key_real, truth, real)
    return real_stats.merge(model.sample_statistics(key_synthetic, prev, n - real))


def _draw_raw(plan: Plan, truth, prev, keys, inputs: GenerationInputs) -> RawBatch:
    model = plan.model
    key_mix, key_real, key_synthetic = keys
    if not plan.draw_synthetic:
        data = model.sample_truth(key_real, truth, plan.slots)
    elif not plan.draw_real:
        data = model.sample(key_synthetic, prev, plan.slots)
    else:
        is_real = MIXINGS[plan.mixing].real_mask(key_mix, inputs, plan.slots)
        real = model.sample_truth(key_real, truth, plan.slots)
        synthetic = model.sample(key_synthetic, prev, plan.slots)
        pick = lambda r, s: jnp.where(is_real.reshape(-1, *([1] * (r.ndim - 1))), r, s)
        data = jax.tree.map(pick, real, synthetic)
    weights = (jnp.arange(plan.slots) < inputs.sample_size).astype(inputs.real_fraction.dtype)
    # Read from memory by every statistic, not redrawn inside each one (see _fusion).
    return materialise(RawBatch(data, weights), inputs.t)


def _template_batch(plan: Plan, truth):
    key = jax.random.key(0)
    if plan.path == "exact":
        count = jnp.zeros((), jnp.int32)
        return jax.eval_shape(plan.model.sample_statistics, key, truth, count)
    data = jax.eval_shape(lambda k, p: plan.model.sample_truth(k, p, plan.slots), key, truth)
    return RawBatch(data, jax.ShapeDtypeStruct((plan.slots,), jnp.zeros(()).dtype))


def initial_carry(plan: Plan, truth, seed_key: PRNGKeyArray) -> tuple[Any, Any]:
    """The scan's initial carry: the model's :meth:`~jcollapse.models.AbstractModel.initial_params`
    as "previous model" (the truth, by default) and an empty pool.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=2)
    >>> prev, pool = initial_carry(loop.plan(), model.params(mean=0.0, cov=[[1.0]]), jax.random.key(0))

    ```
    """
    pool = make_pool(plan.pool, plan.model, plan.generations)
    template = _template_batch(plan, truth)
    state = pool.init(template)
    # The shapes of what every generation's fit sees (traced, not run).
    stats = jax.eval_shape(lambda s, b, k: pool.update(s, b, jnp.ones(()), plan.slots, k)[1], state, template, seed_key)
    return plan.model.initial_params(jax.random.fold_in(seed_key, INITIAL_STREAM), truth, stats), state


def _all_finite(tree) -> Array:
    """Whether every entry of every leaf of `tree` is finite."""
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


def _any_nan(tree) -> Array:
    """Whether any entry of any leaf of `tree` is NaN (``+inf`` is a legitimate metric)."""
    return jnp.any(jnp.stack([jnp.any(jnp.isnan(leaf)) for leaf in jax.tree.leaves(tree)]))


def measure(plan: Plan, params, truth, key: PRNGKeyArray, reference=None):
    """The metrics and status bits of one fitted generation.

    **Arguments:**

    - `plan`: the loop's static part.
    - `params`: fitted parameters.
    - `truth`: the true parameters.
    - `key`, `reference`: the measurement's key and the seed's reference (a test set), for
      families measured through samples (:meth:`jcollapse.models.AbstractModel.evaluate`).

    **Returns:**

    ``(metrics, status)``: a dict of scalars and a uint8 of :data:`STATUS_NONFINITE` |
    :data:`STATUS_DEGENERATE` bits.

    ```python
    >>> import jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> truth = model.params(mean=0.0, cov=[[1.0]])
    >>> metrics, status = measure(jc.Loop(model, generations=1).plan(), truth, truth, jax.random.key(0))
    >>> float(metrics["mean_sq_error"]), int(status)
    (0.0, 0)

    ```
    """
    metrics = plan.model.evaluate(key, params, truth, reference)
    healthy = _all_finite(params) & ~_any_nan(metrics)
    nonfinite = jnp.where(healthy, 0, STATUS_NONFINITE)
    degenerate = jnp.where(plan.model.is_degenerate(params), STATUS_DEGENERATE, 0)
    return metrics, (nonfinite | degenerate).astype(jnp.uint8)


def generation_step(plan: Plan, truth, seed_key: PRNGKeyArray, carry, inputs: GenerationInputs):
    """One generation's transition: draw the mixed sample, update the pool, fit.

    **Arguments:**

    - `plan`: the loop's static part.
    - `truth`: the true parameters.
    - `seed_key`: this seed's key, ``fold_in(key, seed_index)``.
    - `carry`: ``(previous params, pool state)``.
    - `inputs`: this generation's :class:`GenerationInputs` entries (scalars).

    **Returns:**

    The new carry ``(params, pool state)``; :func:`measure` gives its metrics.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=1)
    >>> plan, truth = loop.plan(), model.params(mean=0.0, cov=[[1.0]])
    >>> xs = jax.tree.map(lambda x: x[0], loop_inputs(loop, plan))
    >>> carry = initial_carry(plan, truth, jax.random.key(0))
    >>> params, pool = generation_step(plan, truth, jax.random.key(0), carry, xs)
    >>> params.mean.shape
    (1,)

    ```
    """
    prev, pool_state = carry
    # One fold_in of the seed's key per stream, not split(fold_in(seed_key, t), 4): XLA
    # drops the streams a loop never uses (the replace loop draws no real data), where a
    # split computes all four; and it costs one threefry call per key, not two.
    key_mix, key_real, key_synthetic, key_pool = (
        jax.random.fold_in(seed_key, STREAMS * inputs.t + stream) for stream in range(STREAMS)
    )
    draw = _draw_exact if plan.path == "exact" else _draw_raw
    batch = draw(plan, truth, prev, (key_mix, key_real, key_synthetic), inputs)
    pool = make_pool(plan.pool, plan.model, plan.generations)
    pool_state, stats = pool.update(pool_state, batch, inputs.pool_weight, inputs.sample_size, key_pool)
    fit_key = jax.random.fold_in(jax.random.fold_in(seed_key, FIT_STREAM), inputs.t)
    return plan.model.fit_generation(fit_key, stats, prev, truth), pool_state


#: ``fold_in`` data of the streams apart from the generations' keys: the probes', and the
#: learned families' fits, measurements, reference and initial placeholder (module docstring).
PROBE_STREAM = 0x70726F62
FIT_STREAM = 0x66697421
EVALUATION_STREAM = 0x6576616C
REFERENCE_STREAM = 0x74657374
INITIAL_STREAM = 0x696E6974
assert STREAMS * (MAX_GENERATIONS + 1) <= min(PROBE_STREAM, FIT_STREAM, EVALUATION_STREAM, REFERENCE_STREAM,
                                              INITIAL_STREAM), "generation keys would reach another stream"


def _probed(probe, probe_keys: PRNGKeyArray, t, params, truth):
    """The probe's metrics of generation ``t``'s fit and their NaN flag.

    The key is ``fold_in(fold_in(probe_keys, t), nonfinite)`` with ``nonfinite = 0`` for
    a finite fit: every random draw of the probe then depends on the fit's output, so XLA
    runs the whole probe after the fit (see :func:`rollout`). A non-finite fit is flagged
    by :func:`measure` whatever the probe returns.
    """
    nonfinite = jnp.where(_all_finite(params), 0, 1).astype(jnp.uint32)
    extra = probe(jax.random.fold_in(jax.random.fold_in(probe_keys, t), nonfinite), params, truth)
    return extra, jnp.where(_any_nan(extra), STATUS_NONFINITE, 0).astype(jnp.uint8)


def rollout(plan: Plan, truth, inputs: GenerationInputs, seed_key: PRNGKeyArray, probe=None):
    """One seed's whole trajectory as a ``lax.scan`` over generations.

    Generation ``t``'s metrics are measured at the start of step ``t + 1``, from the loop
    carry (and the last generation's after the scan). The carry is a materialised buffer,
    so XLA cannot fuse the fit into the metrics; when it could, whether a multiply and an
    add became one FMA depended on the chunk size, and metrics differed in their last bit
    between chunk sizes.

    A ``probe`` (:mod:`jcollapse.probes`) measures each generation's fit too, with its own
    key stream ``fold_in(seed_key, PROBE_STREAM)``; a NaN probe metric sets
    :data:`STATUS_NONFINITE`. The probe runs in the step that fits generation ``t``, and
    its key depends on the fit's output, so it starts only once the fit is done. Beside
    the fit it could deadlock: jaxlib's batched LAPACK kernels (``eigh``, ``cholesky``,
    ...) split their batch over XLA's intra-op thread pool and wait for it from a thread
    of that pool, so two independent batched solves (say the fit's and a downstream
    model's) occupy both threads of a 2-core pool and wait for each other forever.

    **Returns:**

    ``(metrics, status)``: a dict of ``[G + 1]`` arrays and a ``[G + 1]`` uint8 array.

    ```python
    >>> import jax, jcollapse as jc
    >>> model = jc.models.GaussianMean(dim=1)
    >>> loop = jc.Loop(model, generations=3)
    >>> plan, truth = loop.plan(), model.params(mean=0.0, cov=[[1.0]])
    >>> metrics, status = rollout(plan, truth, loop_inputs(loop, plan), jax.random.key(0))
    >>> metrics["mean_sq_error"].shape
    (4,)

    ```
    """
    probe_keys = jax.random.fold_in(seed_key, PROBE_STREAM)
    evaluation_keys = jax.random.fold_in(seed_key, EVALUATION_STREAM)
    reference = plan.model.reference(jax.random.fold_in(seed_key, REFERENCE_STREAM), truth)

    def step(carry, xs):
        # generation t - 1's fit (at t = 0 the initial carry, whose metrics are dropped)
        previous = measure(plan, carry[0], truth, jax.random.fold_in(evaluation_keys, xs.t - 1), reference)
        carry = generation_step(plan, truth, seed_key, carry, xs)
        probed = None if probe is None else _probed(probe, probe_keys, xs.t, carry[0], truth)
        return carry, (previous, probed)

    (last, _), (measured, probed) = jax.lax.scan(step, initial_carry(plan, truth, seed_key), inputs)
    final = measure(plan, last, truth, jax.random.fold_in(evaluation_keys, inputs.t[-1]), reference)
    # measured[0] is the truth's (the initial "previous model"): drop it, append the last.
    metrics, status = jax.tree.map(lambda m, f: jnp.concatenate([m[1:], f[None]]), measured, final)
    if probe is None:
        return metrics, status
    extra, flags = probed
    return {**metrics, **extra}, status | flags
