"""Learned, contraction-conditioned data filters (Han et al., "Preventing Model Collapse via
Contraction-Conditioned Neural Filters", arXiv 2512.00757).

Setting: the replace loop with constant sample size ``n``, real fraction ``a`` and iid
mixing, for a mean-parametrised family (:class:`~jcollapse.models.AbstractMeanFamily`:
``GaussianMean``, and Poisson and Bernoulli where available). Generation 0 is the sample
mean of ``n`` real samples; generation ``t >= 1`` draws ``n`` samples, each real with
probability ``a`` and otherwise synthetic (from ``theta_hat_{t-1}``), and a filter weights
each sample and coordinate with ``w`` in ``(0, 1)``:

    theta_hat_t = theta_hat_{t-1} + (1/n) sum_i w_i (x_i - theta_hat_{t-1}).

``w = 1`` is the plain MLE (no filter), ``w = 0`` keeps the estimate. This is Han et al.'s
error recursion ``e_t = A(e_{t-1}) e_{t-1} + xi_t`` with a learned, state-dependent
contraction.

**What the filter knows at test time.** The samples, the current estimate
``theta_hat_{t-1}`` (and hence its sample standard deviation), the generation index ``t``
and the sample size ``n``. It does NOT know the truth ``theta*``, the real fraction ``a``,
nor which samples are real. The truth and ``a`` are used only in training (to draw the
chains and to score them), never as inputs of the network.

**Limits.** With constant ``n`` and ``a = 0`` nothing pulls the estimate towards
``theta*``: the best any filter can do is to freeze (``w -> 0``), which keeps the
generation-0 error ``tr(Sigma)/n`` instead of collapsing (a random walk whose error grows
like ``t tr(Sigma)/n``). For ``a > 0`` shrinking weights act like a decreasing step size
(averaging over generations) and take the error below the unfiltered floor
``tr(Sigma) / (n a (2 - a))``.

- :class:`ContractionFilter`, :func:`filter_features`: the network and its inputs.
- :func:`train_filter`, :func:`chain_losses`, priors: training with optax.
- :func:`filtered_errors`, :func:`exceedance`: evaluation over many seeds.
- :func:`draw_mixed`, :func:`filtered_update`, :func:`filtered_chain`: the building blocks.
"""

from ._chain import draw_mixed, exceedance, filtered_chain, filtered_errors, filtered_update
from ._network import ContractionFilter, filter_features
from ._train import chain_losses, default_prior, train_filter

__all__ = [
    "ContractionFilter",
    "chain_losses",
    "default_prior",
    "draw_mixed",
    "exceedance",
    "filter_features",
    "filtered_chain",
    "filtered_errors",
    "filtered_update",
    "train_filter",
]
