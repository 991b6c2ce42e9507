"""The filter network: per-sample, per-coordinate weights from what is known at test time."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PRNGKeyArray

from ..internal.reduce import matmul, pairwise_sum

#: Number of input features per sample and coordinate (see :func:`filter_features`).
NUM_FEATURES = 3


def filter_features(
    samples: Float[Array, "n dim"],
    estimate: Float[Array, " dim"],
    std: Float[Array, " dim"],
    generation: Int[Array, ""],
    *,
    clip: float = 5.0,
    eps: float = 1e-3,
) -> Float[Array, "n dim 3"]:
    """The filter's inputs: only quantities the learner has at test time.

    Per sample ``i`` and coordinate ``j``:

    - ``z_ij = clip((x_ij - theta_hat_j) / max(std_j, eps), -clip, clip)``, the residual
      standardised by the *current model's* sample standard deviation;
    - ``m_j = clip(sqrt(n) * mean_i z_ij, -2 clip, 2 clip)``, the batch's mean residual
      (with a real fraction ``a > 0`` the batch mean sits about ``-a e_{t-1}`` away from
      the estimate, so ``m`` carries information about the unknown error ``e_{t-1}``);
    - ``g = log1p(t)``, the generation index.

    **Arguments:**

    - `samples`: the generation's ``n`` samples, shape ``[n, dim]``.
    - `estimate`: the current estimate's mean parameter ``theta_hat_{t-1}``, ``[dim]``.
    - `std`: the standard deviation of one sample under ``theta_hat_{t-1}``, ``[dim]``.
    - `generation`: ``t``.
    - `clip`, `eps`: see above.

    **Returns:**

    An array ``[n, dim, 3]`` of ``(z, m, g)``.

    ```python
    >>> import jax.numpy as jnp
    >>> x = jnp.array([[0.0], [2.0], [0.0], [2.0]])
    >>> filter_features(x, jnp.array([0.0]), jnp.array([2.0]), 0)[:2, 0]
    Array([[0., 1., 0.],
           [1., 1., 0.]], dtype=float32)

    ```
    """
    samples, estimate, std = jnp.asarray(samples), jnp.asarray(estimate), jnp.asarray(std)
    n = samples.shape[0]
    z = jnp.clip((samples - estimate[None, :]) / jnp.maximum(std, eps)[None, :], -clip, clip)
    m = jnp.clip(jnp.sqrt(jnp.asarray(n, z.dtype)) * (pairwise_sum(z) / n), -2 * clip, 2 * clip)
    g = jnp.log1p(jnp.asarray(generation, z.dtype))
    return jnp.stack(jnp.broadcast_arrays(z, m[None, :], g), axis=-1)


class ContractionFilter(eqx.Module):
    """A learned data filter: a small MLP maps each sample's features to a weight in (0, 1).

    The estimate then moves by ``theta_t = theta_{t-1} + (1/n) sum_i w_i (x_i - theta_{t-1})``
    (see :func:`jcollapse.filters.filtered_update`). What the filter sees is listed in
    :func:`filter_features`: the samples, the current estimate and its sample standard
    deviation, the generation index ``t`` and the sample size ``n`` (the number of rows).
    It never sees the truth ``theta*``, the real fraction ``a``, nor which samples are real.

    The same MLP is applied to every sample and coordinate (coordinates are filtered
    independently), so one filter serves any ``dim`` and any ``n``.

    **Arguments:**

    - `key`: initialises the MLP.
    - `width`, `depth`: hidden width and number of hidden layers of ``eqx.nn.MLP``.
    - `clip`, `eps`: feature clipping and the floor on the standard deviation.
    - `initial_weight`: the output bias is set so the untrained filter's weights are about
      this value (the default 0.5 is halfway between keeping the estimate and the MLE).

    ```python
    >>> import jax, jax.numpy as jnp
    >>> f = ContractionFilter(jax.random.key(0))
    >>> w = f(jnp.zeros((5, 2)), jnp.zeros(2), jnp.ones(2), 1)
    >>> w.shape, bool(jnp.all((w > 0) & (w < 1)))
    ((5, 2), True)

    ```
    """

    mlp: eqx.nn.MLP
    clip: float = eqx.field(static=True)
    eps: float = eqx.field(static=True)

    def __init__(
        self,
        key: PRNGKeyArray,
        *,
        width: int = 16,
        depth: int = 2,
        clip: float = 5.0,
        eps: float = 1e-3,
        initial_weight: float = 0.5,
    ):
        if not 0.0 < initial_weight < 1.0:
            raise ValueError(f"initial_weight must be in (0, 1); got {initial_weight!r}")
        mlp = eqx.nn.MLP(NUM_FEATURES, 1, width, depth, activation=jax.nn.tanh, key=key)
        logit = math.log(initial_weight) - math.log1p(-initial_weight)
        last = mlp.layers[-1]
        self.mlp = eqx.tree_at(lambda m: m.layers[-1].bias, mlp, last.bias + logit)
        self.clip = float(clip)
        self.eps = float(eps)

    def __call__(
        self,
        samples: Float[Array, "n dim"],
        estimate: Float[Array, " dim"],
        std: Float[Array, " dim"],
        generation: Int[Array, ""],
    ) -> Float[Array, "n dim"]:
        """Weights ``w`` in ``(0, 1)``, one per sample and coordinate.

        **Arguments:**

        - `samples`: ``[n, dim]``; `estimate`: ``theta_hat_{t-1}`` ``[dim]``; `std`:
          ``sample_std(theta_hat_{t-1})`` ``[dim]``; `generation`: ``t``.

        **Returns:**

        ``[n, dim]`` weights (see the class example).
        """
        features = filter_features(samples, estimate, std, generation, clip=self.clip, eps=self.eps)
        n, dim, _ = features.shape
        hidden = features.reshape(n * dim, NUM_FEATURES).astype(self.mlp.layers[0].weight.dtype)
        # The MLP's layers applied with fixed-order sums (jcollapse.internal.reduce.matmul) rather
        # than a vmapped dot, whose rounding depends on the batch size on XLA CPU: a seed's
        # trajectory must not depend on how many seeds run beside it.
        for i, layer in enumerate(self.mlp.layers):
            hidden = matmul(hidden, layer.weight.T) + layer.bias[None, :]
            if i < len(self.mlp.layers) - 1:
                hidden = self.mlp.activation(hidden)
        logits = hidden.reshape(n, dim)
        return jax.nn.sigmoid(logits).astype(jnp.asarray(samples).dtype)
