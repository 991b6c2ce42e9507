"""Model families. Each is an ``eqx.Module`` of static structure; see :mod:`._base`."""

from ._base import AbstractExactModel, AbstractMeanFamily, AbstractModel, AbstractStatistics
from ._categorical import Categorical, CategoricalParams
from ._counts import CountStatistics
from ._exponential import Bernoulli, BernoulliParams, Poisson, PoissonParams
from ._gaussian import Gaussian, GaussianMean, GaussianParams
from ._markov import MarkovChain, MarkovChainParams
from ._moments import MomentStatistics
from ._regression import LinearRegression, RegressionParams, RegressionStatistics

__all__ = [
    "AbstractModel",
    "AbstractExactModel",
    "AbstractMeanFamily",
    "AbstractStatistics",
    "Bernoulli",
    "BernoulliParams",
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
    "Poisson",
    "PoissonParams",
    "RegressionParams",
    "RegressionStatistics",
]
