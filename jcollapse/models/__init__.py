"""Model families. Each is an ``eqx.Module`` of static structure; see :mod:`._base`."""

from ._base import AbstractExactModel, AbstractMeanFamily, AbstractModel, AbstractStatistics
from ._categorical import Categorical, CategoricalParams
from ._counts import CountStatistics
from ._gaussian import Gaussian, GaussianMean, GaussianParams
from ._markov import MarkovChain, MarkovChainParams
from ._moments import MomentStatistics
from ._regression import LinearRegression, RegressionParams, RegressionStatistics

__all__ = [
    "AbstractModel",
    "AbstractExactModel",
    "AbstractMeanFamily",
    "AbstractStatistics",
    "Categorical",
    "CategoricalParams",
    "CountStatistics",
    "Gaussian",
    "GaussianMean",
    "GaussianParams",
    "LinearRegression",
    "MarkovChain",
    "MarkovChainParams",
    "MomentStatistics",
    "RegressionParams",
    "RegressionStatistics",
]
