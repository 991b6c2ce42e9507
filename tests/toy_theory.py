"""The closed form of tests/test_families.py's toy family, in a module nothing imports: the
theory registry must load it because the family names it."""

import numpy as np
from test_families import ToyMean

import jcollapse as jc


@jc.theory.register(ToyMean, pool="accumulate-subsample", mixing="split", metrics=("mean_sq_error",))
def toy_subsample(loop, truth):
    """Not a real closed form: zeros, enough to be found."""
    return {"mean_sq_error": np.zeros(loop.generations + 1)}
