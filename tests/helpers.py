"""Shared helpers for the engine tests (not collected: no ``test_`` prefix)."""

from __future__ import annotations

import contextlib
import socket

import jax
import jax.numpy as jnp
import numpy as np

from jcollapse.rollout import (
    EVALUATION_STREAM,
    REFERENCE_STREAM,
    generation_step,
    initial_carry,
    loop_inputs,
    measure,
)

#: Names of the functions jax has traced in this process (jit's cache misses), in order.
_TRACED: list = []
jax.monitoring.register_event_duration_secs_listener(
    lambda event, duration, **meta: _TRACED.append(meta.get("fun_name"))
    if event == "/jax/core/compile/jaxpr_trace_duration" else None)


@contextlib.contextmanager
def traced(name: str = "chunk"):
    """Collect, in the yielded list, the traces of functions called `name` made inside the
    block (the executor's compiled chunk is ``chunk``): an empty list means no new program."""
    start, found = len(_TRACED), []
    yield found
    found.extend(n for n in _TRACED[start:] if n == name)


#: A non-isotropic 2-D covariance (correlated, unequal variances).
COV2 = np.array([[2.0, 0.6], [0.6, 0.5]])
MEAN2 = np.array([1.0, -0.5])


def regression_truth(model):
    """A regression truth with correlated covariates of unequal variances."""
    d = model.dim
    cov = np.diag(np.linspace(2.0, 0.5, d)) + 0.3 * np.ones((d, d))
    return model.params(weights=np.linspace(1.0, -0.5, d), cov=cov)


def seed_keys(key, seeds: int):
    """The keys ``fold_in(key, i)`` that :func:`jcollapse.simulate` gives seed ``i``."""
    return jax.vmap(lambda i: jax.random.fold_in(key, i))(jnp.arange(seeds, dtype=jnp.uint32))


def python_loop(loop, truth, key, seeds: int):
    """Run ``loop`` with a host-side Python ``for`` over generations.

    Each generation is one call of a jitted, seed-vmapped :func:`generation_step`, with the
    same per-seed keys as :func:`jcollapse.simulate`. Returns ``(metrics, status)`` with
    the layout of a :class:`jcollapse.Run` (``[seeds, G + 1]``).
    """
    plan = loop.plan()
    inputs = loop_inputs(loop, plan)
    plan = plan.with_settings(loop.model_settings)
    keys = seed_keys(key, seeds)
    carry = jax.vmap(lambda k: initial_carry(plan, truth, k))(keys)
    references = jax.vmap(lambda k: plan.model.reference(jax.random.fold_in(k, REFERENCE_STREAM), truth))(keys)
    step = jax.jit(
        jax.vmap(lambda tr, k, c, x: generation_step(plan, tr, k, c, x), in_axes=(None, 0, 0, None))
    )

    def measured(c, tr, k, reference, t):
        return measure(plan, c[0], tr, jax.random.fold_in(jax.random.fold_in(k, EVALUATION_STREAM), t), reference)

    observe = jax.jit(jax.vmap(measured, in_axes=(0, None, 0, 0, None)))
    metrics, status = [], []
    for t in range(loop.generations + 1):
        xs = jax.tree.map(lambda a, t=t: a[t], inputs)
        carry = step(truth, keys, carry, xs)
        m, s = observe(carry, truth, keys, references, t)
        metrics.append(jax.device_get(m))
        status.append(np.asarray(s))
    names = metrics[0].keys()
    return {k: np.stack([m[k] for m in metrics], axis=1) for k in names}, np.stack(status, axis=1)


def assert_runs_equal(a_metrics, a_status, b_metrics, b_status):
    """Bitwise equality of two runs' metrics (NaN == NaN) and status."""
    assert a_metrics.keys() == b_metrics.keys()
    for name in a_metrics:
        a, b = np.asarray(a_metrics[name]), np.asarray(b_metrics[name])
        assert a.dtype == b.dtype and a.shape == b.shape, name
        # Compare bit patterns: stricter than ==, which equates 0.0 and -0.0.
        assert np.array_equal(a.view(np.uint8), b.view(np.uint8)), (
            f"{name}: {np.sum(a != b)} entries differ, max |diff| {np.nanmax(np.abs(a - b))}"
        )
    np.testing.assert_array_equal(a_status, b_status)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a jax.distributed coordinator)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
