"""Model families. Each is an ``eqx.Module`` of static structure; see :mod:`._base`."""

from ._base import AbstractExactModel, AbstractModel, AbstractStatistics
from ._gaussian import Gaussian, GaussianMean, GaussianParams
from ._moments import MomentStatistics

__all__ = [
    "AbstractModel",
    "AbstractExactModel",
    "AbstractStatistics",
    "Gaussian",
    "GaussianMean",
    "GaussianParams",
    "MomentStatistics",
]
