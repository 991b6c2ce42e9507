"""Truth validation: ``model.params(...)`` accepts a value only if the parameters it
returns (float32 device arrays, the default precision) are inside the documented range.

``params`` validates in float64 and then converts to float32: a value inside the range in
float64 can leave it in float32 (``1e-50`` becomes 0, ``1 - 1e-10`` becomes 1, ``1e39``
becomes ``inf``). This property found that every family but the two probability-vector ones
accepted such values; the range checks now look at the values as stored
(:func:`jcollapse.internal.validation.as_stored`). Nothing here compiles.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jcollapse as jc

from .strategies import NO_SHRINK

FINITE = st.floats(allow_nan=False, allow_infinity=False)
POSITIVE = st.floats(0, exclude_min=True, allow_infinity=False)
UNIT_OPEN = st.floats(0, 1, exclude_min=True, exclude_max=True)


@st.composite
def _psd(draw, dim: int = 2):
    """A symmetric PSD matrix with float64 entries of any magnitude: ``diag(d) + c 11^T``."""
    d = draw(hnp.arrays(np.float64, (dim,), elements=st.floats(0, 1e300)))
    c = draw(st.floats(0, 1e300))
    return np.diag(d) + c * np.ones((dim, dim))


@st.composite
def _simplex(draw, size: int):
    """A probability vector with entries of any magnitude, tiny ones included."""
    w = np.asarray(draw(st.lists(st.floats(0, 1), min_size=size, max_size=size).filter(lambda w: sum(w) > 0)))
    return w / w.sum()


def _finite(*arrays) -> bool:
    return all(np.all(np.isfinite(np.asarray(a))) for a in arrays)


def _sums_to_one(p) -> bool:
    """Entries ``>= 0`` summing to 1 within the documented tolerance ``1e-6 + K 2^-24``."""
    p = np.asarray(p, np.float64)
    return bool(np.all(p >= 0) and abs(p.sum() - 1) <= 1e-6 + p.size * 2.0**-24)


#: name: (model, strategy of params() keyword arguments, the documented range of the result)
CASES = {
    "Bernoulli": (jc.models.Bernoulli(dim=2), st.fixed_dictionaries({"probs": st.lists(UNIT_OPEN, min_size=2,
                                                                                       max_size=2)}),
                  lambda p: bool(np.all((np.asarray(p.probs) > 0) & (np.asarray(p.probs) < 1)))),
    "Poisson": (jc.models.Poisson(dim=2), st.fixed_dictionaries({"rate": st.lists(POSITIVE, min_size=2, max_size=2)}),
                lambda p: bool(np.all(np.asarray(p.rate) > 0)) and _finite(p.rate)),
    "Gaussian": (jc.models.Gaussian(dim=2), st.fixed_dictionaries({"mean": st.lists(FINITE, min_size=2, max_size=2),
                                                                    "cov": _psd()}),
                 lambda p: _finite(p.mean, p.cov, p.factor)),
    "GaussianMean": (jc.models.GaussianMean(dim=2),
                     st.fixed_dictionaries({"mean": st.lists(FINITE, min_size=2, max_size=2), "cov": _psd()}),
                     lambda p: _finite(p.mean, p.cov, p.factor)),
    "LinearRegression": (jc.models.LinearRegression(dim=2),
                         st.fixed_dictionaries({"weights": st.lists(FINITE, min_size=2, max_size=2), "cov": _psd()}),
                         lambda p: _finite(p.weights, p.cov, p.factor)),
    "Categorical": (jc.models.Categorical(num_categories=4), st.fixed_dictionaries({"probs": _simplex(4)}),
                    lambda p: _finite(p.probs) and _sums_to_one(p.probs)),
    "MarkovChain": (jc.models.MarkovChain(num_states=3, sequence_length=2),
                    st.fixed_dictionaries({"transition": st.lists(_simplex(3), min_size=3, max_size=3).map(np.stack),
                                           "initial": _simplex(3)}),
                    lambda p: _finite(p.transition, p.initial) and _sums_to_one(p.initial)
                    and all(_sums_to_one(row) for row in np.asarray(p.transition))),
}
@pytest.mark.parametrize("name", sorted(CASES))
def test_accepted_parameters_are_in_range_as_float32(name):
    """Property: whatever ``model.params(**fields)`` accepts (fields drawn over the whole
    documented range in float64: tiny and huge magnitudes, probabilities next to 0 and 1)
    is, as the float32 arrays it returns, still inside the documented range: finite,
    probabilities in ``(0, 1)`` (Bernoulli) or summing to 1, rates ``> 0``."""
    model, fields, in_range = CASES[name]

    @settings(max_examples=150, **NO_SHRINK)
    @given(fields=fields)
    def check(fields):
        with np.errstate(all="ignore"):
            try:
                params = model.params(**fields)
            except ValueError:
                return  # refusing is always allowed here; what is accepted must be valid
        assert in_range(params), f"accepted {fields}, stored {params}"

    check()
