"""Model families. Each is an ``eqx.Module`` of static structure (and traced settings), registered
by name with :func:`register_family`; see :mod:`._base` for the contract a family implements."""

from ._base import AbstractExactModel, AbstractMeanFamily, AbstractModel, AbstractStatistics, uniform_mean_prior
from ._categorical import Categorical, CategoricalParams
from ._counts import CountStatistics
from ._exponential import Bernoulli, BernoulliParams, Poisson, PoissonParams
from ._gaussian import Gaussian, GaussianMean, GaussianParams
from ._gaussian_mixture import EMPTY_SHARE, GaussianMixture, GaussianMixtureParams
from ._kernel_density import KernelDensity, KernelDensityParams, bandwidth_rule_factor
from ._markov import MarkovChain, MarkovChainParams, stationary
from ._moments import MomentStatistics
from ._registry import families, family, register_family, theory_modules
from ._regression import LinearRegression, RegressionParams, RegressionStatistics, excess_risks, ridge_solutions
from ._samples import AbstractSampleModel, SampleStatistics

__all__ = [
    "EMPTY_SHARE",
    "AbstractModel",
    "AbstractExactModel",
    "AbstractMeanFamily",
    "AbstractSampleModel",
    "AbstractStatistics",
    "Bernoulli",
    "BernoulliParams",
    "Categorical",
    "CategoricalParams",
    "CountStatistics",
    "Gaussian",
    "GaussianMean",
    "GaussianMixture",
    "GaussianMixtureParams",
    "GaussianParams",
    "KernelDensity",
    "KernelDensityParams",
    "LinearRegression",
    "MarkovChain",
    "MarkovChainParams",
    "MomentStatistics",
    "Poisson",
    "PoissonParams",
    "RegressionParams",
    "RegressionStatistics",
    "SampleStatistics",
    "bandwidth_rule_factor",
    "excess_risks",
    "families",
    "family",
    "register_family",
    "ridge_solutions",
    "stationary",
    "theory_modules",
    "uniform_mean_prior",
]
