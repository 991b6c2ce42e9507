"""Bad configuration raises ValueError naming the field and its allowed range, before any
compilation: ``jcollapse.internal.devices.run_sharded`` (through which the executor runs
every compiled chunk) is replaced by a function that fails the test if it is ever reached."""

import math

import jax
import numpy as np
import pytest

import jcollapse as jc
from jcollapse.internal import devices
from jcollapse.internal.keys import as_key

G1, G2, M1 = jc.models.Gaussian(dim=1), jc.models.Gaussian(dim=2), jc.models.GaussianMean(dim=2)
KEY = jax.random.key(0)


@pytest.fixture(autouse=True)
def no_compilation(monkeypatch):
    def forbidden(*args):
        raise AssertionError("a compiled chunk was run: validation must happen before compiling")

    monkeypatch.setattr(devices, "run_sharded", forbidden)


def _loop(**changes):
    fields = dict(model=G2, generations=3, real_fraction=0.2, sample_size=10)
    fields.update(changes)
    return jc.Loop(**fields)


def _raises(match, function, *args, **kwargs):
    with pytest.raises(ValueError, match=match):
        function(*args, **kwargs)


# (loop fields, regex that must name the field and the allowed range)
BAD_LOOPS = {
    "a>1": (dict(real_fraction=1.5), r"real_fraction.*\[0, 1\]"),
    "a<0": (dict(real_fraction=-0.1), r"real_fraction.*\[0, 1\]"),
    "a nan": (dict(real_fraction=math.nan), r"real_fraction.*\[0, 1\].*NaN"),
    "a inf": (dict(real_fraction=math.inf), r"real_fraction.*\[0, 1\]"),
    "a array": (dict(real_fraction=np.array([1.0, 0.5, 1.01, 0.5])), r"real_fraction.*\[0, 1\].*generation 2"),
    "a array nan": (dict(real_fraction=[0.1, 0.2, math.nan, 0.3]), r"real_fraction.*\[0, 1\].*NaN"),
    "a schedule": (dict(real_fraction=jc.schedules.power(2.0, -1.0)), r"real_fraction.*\[0, 1\]"),
    "a schedule nan": (dict(real_fraction=jc.schedules.constant(math.nan)), r"real_fraction.*NaN"),
    "a wrong length": (dict(real_fraction=[0.1, 0.2]), r"real_fraction.*shape.*\(4,\)"),
    "a from_values wrong length": (dict(real_fraction=jc.schedules.from_values([0.1] * 5)), r"real_fraction.*\(4,\)"),
    "a 2-D": (dict(real_fraction=np.zeros((4, 1))), r"real_fraction.*\(4,\)"),
    "a text": (dict(real_fraction="half"), r"real_fraction.*number"),
    "n<1": (dict(model=M1, sample_size=0), r"sample_size.*>= 1"),
    "n rounds to 0": (dict(model=M1, sample_size=0.4), r"sample_size.*>= 1"),
    "n<dim+1": (dict(model=G2, sample_size=2), r"sample_size.*>= 3"),
    "n<dim+1 dim1": (dict(model=G1, sample_size=1), r"sample_size.*>= 2"),
    "n schedule": (dict(sample_size=jc.schedules.from_values([10, 10, 2, 10])), r"sample_size.*>= 3.*generation 2"),
    "n nan": (dict(sample_size=math.nan), r"sample_size.*finite"),
    "n negative": (dict(sample_size=-5), r"sample_size.*>= 3"),
    "n too large": (dict(sample_size=2**24 + 1), r"sample_size.*<= 16777216"),
    "n wrong length": (dict(sample_size=[10] * 5), r"sample_size.*\(4,\)"),
    "G negative": (dict(generations=-1), r"generations.*\[0, 16777216\]; got -1"),
    "G too many": (dict(generations=2**24 + 1), r"generations.*\[0, 16777216\]; got 16777217"),
    "G float": (dict(generations=2.5), r"generations.*integer"),
    "G float integral": (dict(generations=3.0), r"generations.*integer"),
    "G bool": (dict(generations=True), r"generations.*integer"),
    "G string": (dict(generations="3"), r"generations.*integer"),
    "pool": (dict(pool="keep"), r"pool.*'replace', 'accumulate', 'accumulate-subsample'"),
    "mixing": (dict(mixing="mixture"), r"mixing.*'iid', 'split'"),
    "path": (dict(path="fast"), r"path.*'auto', 'exact', 'raw'"),
    "exact subsample": (dict(pool="accumulate-subsample", path="exact"), r"path='exact'.*accumulate-subsample"),
    "weights with replace": (dict(pool_weights=1.0), r"pool_weights.*accumulate"),
    "weights with subsample": (dict(pool="accumulate-subsample", pool_weights=[1, 1, 1, 1]),
                               r"pool_weights.*accumulate"),
    "weights negative": (dict(pool="accumulate", pool_weights=[1, -1, 1, 1]), r"pool_weights.*>= 0"),
    "weights nan": (dict(pool="accumulate", pool_weights=[1, math.nan, 1, 1]), r"pool_weights.*finite"),
    "weights w0": (dict(pool="accumulate", pool_weights=[0, 1, 1, 1]), r"pool_weights\[0\].*> 0"),
    "weights length": (dict(pool="accumulate", pool_weights=[1, 1]), r"pool_weights.*\(4,\)"),
}


@pytest.mark.parametrize("case", sorted(BAD_LOOPS))
def test_bad_loop(case):
    changes, match = BAD_LOOPS[case]
    _raises(match, _loop, **changes)


def test_not_a_model():
    with pytest.raises(TypeError, match="model"):
        jc.Loop("gaussian", generations=1)


@pytest.mark.parametrize(
    "fields, match",
    [
        (dict(mean=[0.0, 0.0], cov=[[1.0, 2.0], [2.0, 1.0]]), r"cov.*positive semi-definite.*>= 0"),
        (dict(mean=[0.0, 0.0], cov=[[1.0, 0.5], [0.0, 1.0]]), r"cov.*symmetric"),
        (dict(mean=[0.0, 0.0], cov=[[1.0, math.nan], [math.nan, 1.0]]), r"cov.*finite"),
        (dict(mean=[0.0, 0.0], cov=[[math.inf, 0.0], [0.0, 1.0]]), r"cov.*finite"),
        (dict(mean=[0.0, 0.0], cov=np.eye(3)), r"cov.*shape \(2, 2\)"),
        (dict(mean=[0.0, 0.0, 0.0], cov=np.eye(2)), r"mean.*shape \(2,\)"),
        (dict(mean=np.zeros((2, 1)), cov=np.eye(2)), r"mean.*shape \(2,\)"),
        (dict(mean=[0.0, math.nan], cov=np.eye(2)), r"mean.*finite"),
        (dict(mean="zero", cov=np.eye(2)), r"mean.*numeric"),
    ],
)
@pytest.mark.parametrize("model", [G2, M1], ids=["Gaussian", "GaussianMean"])
def test_bad_truth(model, fields, match):
    _raises(match, model.params, **fields)


@pytest.mark.parametrize("kwargs", [dict(dim=0), dict(dim=2.0), dict(dim=True)])
def test_bad_model(kwargs):
    _raises(r"dim.*>= 1", jc.models.Gaussian, **kwargs)
    _raises(r"dim.*>= 1", jc.models.GaussianMean, **kwargs)


def test_bad_variance_estimator():
    _raises(r"variance.*'mle' or 'unbiased'", jc.models.Gaussian, dim=1, variance="map")


@pytest.mark.parametrize("seeds", [0, -1, 2.5, "8", True, None])
def test_bad_seeds(seeds):
    loop = _loop()
    _raises(r"seeds.*integer >= 1", jc.simulate, loop, G2.params(mean=0.0, cov=np.eye(2)), key=KEY, seeds=seeds)


@pytest.mark.parametrize("chunk_size", [0, -4, 1.5, "64", False])
def test_bad_chunk_size(chunk_size):
    loop = _loop()
    truth = G2.params(mean=0.0, cov=np.eye(2))
    _raises(r"chunk_size.*integer >= 1", jc.simulate, loop, truth, key=KEY, seeds=4, chunk_size=chunk_size)


@pytest.mark.parametrize(
    "key",
    [0, np.zeros(3, np.uint32), np.zeros(2, np.float32), jax.random.split(jax.random.key(0), 2), None],
    ids=["int", "uint32[3]", "float32[2]", "key batch", "None"],
)
def test_bad_key(key):
    loop = _loop()
    truth = G2.params(mean=0.0, cov=np.eye(2))
    _raises(r"key must", jc.simulate, loop, truth, key=key, seeds=4)


def test_legacy_key_is_accepted_and_equals_wrapped(monkeypatch):
    """``PRNGKey(0)`` (uint32[2]) is the same key as ``wrap_key_data`` of it."""
    key = as_key(jax.random.PRNGKey(0))
    assert key.shape == () and jax.numpy.issubdtype(key.dtype, jax.dtypes.prng_key)
    np.testing.assert_array_equal(jax.random.key_data(key), jax.random.PRNGKey(0))


def test_not_a_loop():
    with pytest.raises(TypeError, match="jc.Loop"):
        jc.simulate({"generations": 3}, None, key=KEY, seeds=2)


def test_replace_validates_again():
    loop = _loop()
    _raises(r"real_fraction.*\[0, 1\]", loop.replace, real_fraction=2.0)
    assert loop.replace(pool="accumulate").pool == "accumulate"
    weighted = loop.replace(pool="accumulate", pool_weights=[1, 2, 3, 4])
    np.testing.assert_array_equal(weighted.replace(pool="replace").pool_weights, np.ones(4))
