"""Hypothesis strategies for the property tests: every family's valid parameters, raw data
and 0/1 weights, and the loop's fields (sample sizes, schedules, pools, mixings) on both
sides of every documented boundary.

Shapes are fixed per family (:data:`FAMILIES`: ``dim = 2``, ``K = 4`` categories, ``S = 3``
states with sequences of ``L = 4``, batches of ``N = 8`` samples): hypothesis varies values
only, so every example of a test reuses the compilations of the first.

Parameter strategies draw from each family's documented range (probabilities in the open
unit interval or the simplex, rates ``> 0``, symmetric PSD covariances, row-stochastic
transition matrices), as float32 numbers (the library's default precision), with
magnitudes bounded so that float32 sums of a batch cannot overflow. ``moderate`` strategies
keep away from the edges, for the Monte-Carlo checks whose 4-SE tests assume a law that is
not too skewed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Optional

import numpy as np
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import jcollapse as jc

#: Hypothesis settings of every property: the same examples on every run (derandomized, no
#: example database), no deadline (a first example compiles).
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
#: For properties whose examples run compiled loops (or fail on purpose, ``xfail``): no
#: shrinking, a failure is reported as found (shrinking re-runs the example hundreds of
#: times; un-jitted or in a new loop, each run compiles).
NO_SHRINK = dict(SETTINGS, phases=[Phase.explicit, Phase.generate])

#: Samples per batch in the function-level properties.
N = 8
DIM = 2
K = 4
S = 3
L = 4

#: float32 numbers, no NaN, infinities or subnormals (XLA on the CPU flushes them to zero).
F32 = dict(width=32, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def floats32(low: float, high: float, **options) -> st.SearchStrategy[float]:
    """float32 numbers in ``[low, high]`` (bounds rounded inwards to float32)."""
    lo, hi = np.float32(low), np.float32(high)
    lo = lo if lo >= low else np.nextafter(lo, np.float32(np.inf))
    hi = hi if hi <= high else np.nextafter(hi, np.float32(-np.inf))
    return st.floats(float(lo), float(hi), **F32, **options)


def open_unit(low: float = 0.0, high: float = 1.0) -> st.SearchStrategy[float]:
    """float32 numbers in the open interval ``(low, high)``."""
    return floats32(low, high, exclude_min=True, exclude_max=True)


@st.composite
def simplex(draw, size: int, zeros: bool = True, low: float = 2.0**-20) -> np.ndarray:
    """A probability vector of ``size`` entries (float64, renormalised): entries ``>= 0``
    (exact zeros included when ``zeros``) summing to 1."""
    entry = floats32(low, 1.0)
    if zeros:
        entry = st.one_of(st.just(0.0), entry)
    weights = np.asarray(draw(st.lists(entry, min_size=size, max_size=size).filter(lambda w: sum(w) > 0)))
    return weights / weights.sum()


@st.composite
def covariances(draw, dim: int = DIM, scale: float = 10.0, min_eigenvalue: float = 0.0) -> np.ndarray:
    """A symmetric PSD ``dim x dim`` matrix ``A A^T + r I`` with ``|A_ij| <= scale`` and
    ``r >= min_eigenvalue`` (``r = 0`` and a rank-deficient ``A`` give a singular one)."""
    a = draw(hnp.arrays(np.float64, (dim, dim), elements=floats32(-scale, scale)))
    ridge = draw(floats32(min_eigenvalue, max(scale, min_eigenvalue)))
    cov = a @ a.T + ridge * np.eye(dim)
    return (cov + cov.T) / 2


def vectors(size: int, bound: float) -> st.SearchStrategy[np.ndarray]:
    """float32-representable vectors with entries in ``[-bound, bound]`` (as float64)."""
    return hnp.arrays(np.float64, (size,), elements=floats32(-bound, bound))


@st.composite
def integer_valued(draw, shape, bound: int) -> np.ndarray:
    """float32 arrays of integers in ``[-bound, bound]``: their float32 sums are exact."""
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(-bound, bound))).astype(np.float32)


@st.composite
def gaussian_data(draw, shape, integer: Optional[bool] = None, bound: float = 100.0):
    """Real data: float32 values in ``[-bound, bound]``, or integer ones (``integer``;
    ``None``: either, half the time)."""
    if integer is None:
        integer = draw(st.booleans())
    if integer:
        return draw(integer_valued(shape, int(bound))), True
    return draw(hnp.arrays(np.float32, shape, elements=floats32(-bound, bound))), False


@st.composite
def regression_data(draw, integer: Optional[bool] = None):
    """``(x, y)`` of ``N`` samples, both integer-valued or both general float32
    (``integer``; ``None``: either, half the time)."""
    if integer is None:
        integer = draw(st.booleans())
    if integer:
        x = draw(integer_valued((N, DIM), 10))
        y = draw(integer_valued((N,), 100))
    else:
        x = draw(hnp.arrays(np.float32, (N, DIM), elements=floats32(-10, 10)))
        y = draw(hnp.arrays(np.float32, (N,), elements=floats32(-100, 100)))
    return (x, y), integer


def _always_integer(strategy):
    """The data strategy of a family whose data are integers whatever is asked."""
    return lambda integer=None: strategy.map(lambda data: (data, True))


@dataclasses.dataclass(frozen=True)
class Family:
    """One family in its fixed shape, with strategies for what its functions take.

    **Fields:**

    - `name`: the registered name.
    - `model`: the model (its static structure; fixed, so that programs compile once).
    - `models`: models of the same structure (``LinearRegression`` draws its traced
      settings ``ridge`` and ``noise``); the others: just `model`.
    - `truths`: ``model.params(...)`` over the documented range.
    - `moderate`: parameters away from the edges, for Monte-Carlo checks.
    - `data`: ``data(integer=None)`` is a strategy of ``(data, integer_valued)``: ``N`` raw
      samples in the family's domain, and whether they are integer-valued (then sums of
      them are exact in float32); ``integer`` asks for integer-valued data or not, where
      the family has both (``None``: either).
    - `counts`: the statistics are counts (integer sums, exact in any order).
    - `loop_size`: per-generation sample size of the loop-level properties.
    """

    name: str
    model: Any
    models: st.SearchStrategy
    truths: st.SearchStrategy
    moderate: st.SearchStrategy
    data: Callable[..., st.SearchStrategy]
    counts: bool = False
    loop_size: int = N


def _bernoulli() -> Family:
    model = jc.models.Bernoulli(dim=DIM)
    params = lambda entry: st.lists(entry, min_size=DIM, max_size=DIM).map(lambda p: model.params(probs=p))
    data = hnp.arrays(np.float32, (N, DIM), elements=st.sampled_from([0.0, 1.0]))
    return Family("Bernoulli", model, st.just(model), params(open_unit()), params(floats32(0.1, 0.9)),
                  _always_integer(data), loop_size=16)


def _poisson() -> Family:
    model = jc.models.Poisson(dim=DIM)
    params = lambda entry: st.lists(entry, min_size=DIM, max_size=DIM).map(lambda r: model.params(rate=r))
    # Rates up to 1e4: the raw sampler is exact there, and the exact one up to N rate = 2^24.
    data = hnp.arrays(np.float32, (N, DIM), elements=st.integers(0, 1000).map(float))
    return Family("Poisson", model, st.just(model), params(floats32(2.0**-20, 1e4)),
                  params(floats32(0.5, 20.0)), _always_integer(data))


def _gaussian(cls) -> Family:
    model = cls(dim=DIM)
    # A fitted covariance must be non-singular for Gaussian's metrics to be finite:
    # truths keep the smallest eigenvalue >= 0.1 (condition number <= 2000); GaussianMean
    # estimates no covariance and takes any PSD one, singular included.
    floor = 0.1 if cls is jc.models.Gaussian else 0.0
    truths = st.builds(lambda mean, cov: model.params(mean=mean, cov=cov), vectors(DIM, 1e3),
                       covariances(min_eigenvalue=floor))
    moderate = st.builds(lambda mean, cov: model.params(mean=mean, cov=cov), vectors(DIM, 5.0),
                         covariances(scale=1.0, min_eigenvalue=0.5))
    return Family(cls.__name__, model, st.just(model), truths, moderate,
                  lambda integer=None: gaussian_data((N, DIM), integer))


def _categorical() -> Family:
    model = jc.models.Categorical(num_categories=K)
    truths = simplex(K).map(lambda p: model.params(probs=p))
    # Every category >= 1/7: at n = 128 a category is lost with probability < 3e-9.
    moderate = st.lists(floats32(1.0, 2.0), min_size=K, max_size=K).map(
        lambda w: model.params(probs=np.asarray(w) / np.sum(w)))
    data = hnp.arrays(np.int32, (N,), elements=st.integers(0, K - 1))
    return Family("Categorical", model, st.just(model), truths, moderate, _always_integer(data), counts=True,
                  loop_size=128)


def _markov() -> Family:
    model = jc.models.MarkovChain(num_states=S, sequence_length=L)

    def chains(row):
        return st.builds(lambda rows, initial: model.params(transition=np.stack(rows), initial=initial),
                         st.lists(row, min_size=S, max_size=S), row)

    moderate_row = st.lists(floats32(1.0, 3.0), min_size=S, max_size=S).map(lambda w: np.asarray(w) / sum(w))
    data = hnp.arrays(np.int32, (N, L), elements=st.integers(0, S - 1))
    return Family("MarkovChain", model, st.just(model), chains(simplex(S)), chains(moderate_row), _always_integer(data),
                  counts=True, loop_size=16)


def _regression() -> Family:
    model = jc.models.LinearRegression(dim=DIM, noise=0.5)
    settings = floats32(0.0, 10.0)
    models = st.builds(lambda ridge, noise: jc.models.LinearRegression(dim=DIM, ridge=ridge, noise=noise),
                       st.one_of(st.just(0.0), settings), settings)
    truths = st.builds(lambda w, cov: model.params(weights=w, cov=cov), vectors(DIM, 100.0),
                       covariances(min_eigenvalue=0.1))
    moderate = st.builds(lambda w, cov: model.params(weights=w, cov=cov), vectors(DIM, 2.0),
                         covariances(scale=1.0, min_eigenvalue=0.5))
    return Family("LinearRegression", model, models, truths, moderate, regression_data)


#: Every registered family, in its fixed shape.
FAMILIES: dict[str, Family] = {
    f.name: f for f in (_bernoulli(), _categorical(), _gaussian(jc.models.Gaussian),
                        _gaussian(jc.models.GaussianMean), _regression(), _markov(), _poisson())
}


@st.composite
def weights(draw, minimum: int = 0, size: int = N) -> np.ndarray:
    """The engine's weights: a 0/1 float32 mask of ``size`` slots with at least ``minimum`` ones."""
    ones = draw(st.integers(minimum, size))
    order = draw(st.permutations(range(size)))
    mask = np.zeros(size, np.float32)
    mask[list(order[:ones])] = 1.0
    return mask


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``jax.random.key``."""
    return st.integers(0, 2**32 - 1)


# ----------------------------------------------------------------------------------------
# Loop fields. Each strategy mixes valid values, values just across the documented
# boundary, and wrong types; the tests decide validity with their own oracle.

#: A non-exact model: the contract without ``sample_statistics`` (``path="exact"`` is refused).
class RawOnly(jc.models.AbstractModel):
    """A Gaussian-like model without exact statistics (for the ``path`` rules only;
    never compiled)."""

    dim: int = 1
    metric_names = ("mean_sq_error",)

    def params(self, **fields):
        return jc.models.GaussianMean(dim=self.dim).params(**fields)

    @property
    def min_sample_size(self) -> int:
        return 2

    def sample(self, key, params, n):
        return jc.models.GaussianMean(dim=self.dim).sample(key, params, n)

    def statistics(self, data, weights):
        return jc.models.GaussianMean(dim=self.dim).statistics(data, weights)

    def fit(self, stats, truth):
        return jc.models.GaussianMean(dim=self.dim).fit(stats, truth)

    def metrics(self, params, truth):
        return jc.models.GaussianMean(dim=self.dim).metrics(params, truth)

    def is_degenerate(self, params):
        return jc.models.GaussianMean(dim=self.dim).is_degenerate(params)


#: Models of the validation properties: minimum sample sizes 3, 1 and 2; exact, exact, raw only.
LOOP_MODELS = (jc.models.Gaussian(dim=2), jc.models.GaussianMean(dim=1), RawOnly())

POOLS = ("replace", "accumulate", "accumulate-subsample")
MIXINGS = ("iid", "split")
PATHS = ("auto", "exact", "raw")

#: Values that are not numbers, schedules or arrays of numbers.
NOT_NUMBERS = st.one_of(st.text(max_size=4), st.sampled_from(["0.5", "1", "nan", b"1", "", "ten"]),
                        st.lists(st.sampled_from(["0.5", "x"]), min_size=1, max_size=5),
                        st.builds(object), st.just({"value": 1.0}))


def just_across(*points: float) -> st.SearchStrategy[float]:
    """Each point and its float64 neighbours on both sides."""
    values = []
    for p in points:
        values += [p, math.nextafter(p, -math.inf), math.nextafter(p, math.inf)]
    return st.sampled_from(values)


def numbers(boundaries: tuple[float, ...], typical: st.SearchStrategy) -> st.SearchStrategy[float]:
    """Typical values, the boundaries and their neighbours, special values, anything."""
    return st.one_of(typical, just_across(*boundaries), st.sampled_from([math.nan, math.inf, -math.inf, -0.0]),
                     st.floats(), st.integers(-(2**40), 2**40))


@st.composite
def schedules(draw, values: st.SearchStrategy[float], length: int):
    """A :mod:`jcollapse.schedules` schedule: constant, power, geometric, or from_values of
    the right length or one off."""
    kind = draw(st.sampled_from(["constant", "power", "geometric", "values"]))
    if kind == "constant":
        return jc.schedules.constant(draw(values))
    if kind == "power":
        return jc.schedules.power(draw(values), draw(st.floats(-3, 3)), draw(st.floats(0, 10)))
    if kind == "geometric":
        return jc.schedules.geometric(draw(values), draw(st.floats(0, 2)))
    size = draw(st.sampled_from([length, length, length - 1, length + 1]))
    return jc.schedules.from_values(draw(st.lists(values, min_size=max(size, 0), max_size=max(size, 0))))


@st.composite
def per_generation(draw, values: st.SearchStrategy[float], length: int):
    """A per-generation field: a number, a schedule, an array (right length or one off, or
    2-D), or something that is not numeric."""
    form = draw(st.sampled_from(["number", "number", "schedule", "array", "list", "wrong"]))
    if form == "number":
        return draw(values)
    if form == "schedule":
        return draw(schedules(values, length))
    if form == "wrong":
        return draw(st.one_of(NOT_NUMBERS, st.none(), st.just(np.zeros((length, 1)))))
    size = draw(st.sampled_from([length, length, length - 1, length + 1]))
    items = draw(st.lists(values, min_size=max(size, 0), max_size=max(size, 0)))
    return np.asarray(items) if form == "array" else items


@functools.cache
def real_fractions(length: int):
    """``real_fraction`` specs around ``[0, 1]``."""
    return per_generation(numbers((0.0, 1.0), st.floats(0, 1)), length)


@functools.cache
def sample_sizes(length: int, minimum: int):
    """``sample_size`` specs around ``minimum`` and ``2**24`` (after rounding: the
    half-integers next to them are boundaries too)."""
    top = float(jc.loop.MAX_SAMPLE_SIZE)
    boundaries = (minimum, minimum - 0.5, minimum + 0.5, top, top + 0.5, top - 0.5, 0.0)
    return per_generation(numbers(boundaries, st.integers(minimum, 1000)), length)


@functools.cache
def pool_weights(length: int):
    """``pool_weights`` specs: ``None`` (the default) or values around 0."""
    return st.one_of(st.none(), per_generation(numbers((0.0,), st.floats(0, 10)), length))


@functools.cache
def choices(allowed: tuple[str, ...]):
    """A choice field: an allowed name, a near miss, or a wrong type."""
    near = [a.upper() for a in allowed] + [a + " " for a in allowed] + ["", "none"]
    wrong = st.one_of(st.none(), st.integers(0, 2), st.floats(), st.just(b"replace"),
                      st.lists(st.sampled_from(allowed), min_size=1, max_size=1),
                      st.sampled_from(allowed).map(lambda a: np.array([a])),
                      st.sampled_from(allowed).map(lambda a: (a,)))
    return st.one_of(st.sampled_from(allowed), st.sampled_from(allowed).map(np.str_), st.sampled_from(near),
                     st.text(max_size=6), wrong)


@functools.cache
def generations():
    """``generations``: small valid counts (their arrays stay small), the boundaries
    ``-1`` and ``2**24 + 1`` and beyond, NumPy integers, and non-integers."""
    top = jc.loop.MAX_GENERATIONS
    return st.one_of(
        st.integers(0, 6), st.integers(0, 6).map(np.int64), st.integers(0, 6).map(np.uint8),
        st.sampled_from([-1, -(2**31), top + 1, 2**63, np.int64(-1), np.int64(top + 1)]),
        st.integers(max_value=-1), st.integers(min_value=top + 1),
        st.sampled_from([True, False, 2.0, 2.5, math.nan, "3", None, np.float64(3.0), [3]]),
    )


@dataclasses.dataclass(frozen=True)
class LoopFields:
    """The arguments of one ``jc.Loop(...)`` call (``None`` fields are left at their default)."""

    model: Any
    generations: Any
    real_fraction: Any
    sample_size: Any
    pool: Any
    mixing: Any
    pool_weights: Any
    path: Any

    def kwargs(self) -> dict:
        """The keyword arguments, defaults left out."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {k: v for k, v in fields.items() if v is not DEFAULT}

    def given(self, name: str) -> bool:
        """Whether field `name` was passed."""
        return getattr(self, name) is not DEFAULT


class _Default:
    """A field left at its default."""

    def __repr__(self) -> str:
        return "DEFAULT"


#: A field left at its default.
DEFAULT = _Default()


@functools.cache
def _or_default(strategy):
    return st.one_of(st.just(DEFAULT), strategy)


@st.composite
def loop_fields(draw) -> LoopFields:
    """Arguments of ``jc.Loop``: every field either left at its default or drawn from its
    strategy above (so that one invalid field often comes alone). The field strategies are
    built once per length and cached: hypothesis analyses every new strategy object."""
    model = draw(st.sampled_from(LOOP_MODELS))
    g = draw(generations())
    length = int(g) + 1 if isinstance(g, (int, np.integer)) and 0 <= g <= 6 else 4

    def maybe(strategy):
        return draw(_or_default(strategy))

    return LoopFields(
        model=model,
        generations=g,
        real_fraction=maybe(real_fractions(length)),
        sample_size=maybe(sample_sizes(length, model.min_sample_size)),
        pool=maybe(choices(POOLS)),
        mixing=maybe(choices(MIXINGS)),
        pool_weights=draw(pool_weights(length)),
        path=maybe(choices(PATHS)),
    )


def schedule_formula(schedule: jc.schedules.Schedule, length: int) -> Optional[np.ndarray]:
    """The documented formula of a schedule at ``t = 0..length-1``, evaluated entry by entry
    with Python's ``math`` (independently of :meth:`Schedule.values`); ``None`` for a
    ``from_values`` schedule of another length."""
    t = range(length)
    if schedule.kind == "constant":
        (value,) = schedule.parameters
        return np.array([value] * length, dtype=np.float64)
    if schedule.kind == "power":
        scale, exponent, offset = schedule.parameters
        return np.array([scale * _pow(i + offset, exponent) for i in t], dtype=np.float64)
    if schedule.kind == "geometric":
        start, ratio = schedule.parameters
        return np.array([start * _pow(ratio, i) for i in t], dtype=np.float64)
    (values,) = schedule.parameters
    return np.array(values, dtype=np.float64) if len(values) == length else None


def _pow(base: float, exponent: float) -> float:
    """``base ** exponent`` as IEEE ``pow``: ``inf`` on overflow, NaN for a negative base
    and a non-integer exponent (where Python's ``math.pow`` raises)."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf if base > 0 or float(exponent).is_integer() and exponent % 2 == 0 else -math.inf
    except ValueError:
        return math.inf if base == 0 else math.nan



@st.composite
def loop_configs(draw):
    """A valid loop of a Gaussian or GaussianMean model (dimension 1 to 3), a truth and a
    number of seeds (1 to 5): any pool, a path it allows, either mixing, 0 to 4
    generations, sample sizes from the model's minimum to 12 (a number or an array),
    real fractions 0, 1/2, 1 or a ``from_values`` schedule."""
    dim = draw(st.integers(1, 3))
    model = draw(st.sampled_from([jc.models.Gaussian(dim=dim), jc.models.GaussianMean(dim=dim)]))
    generations = draw(st.integers(0, 4))
    length = generations + 1
    pool = draw(st.sampled_from(POOLS))
    paths = ["auto", "raw"] if pool == "accumulate-subsample" else ["auto", "exact", "raw"]
    path = draw(st.sampled_from(paths))
    low = model.min_sample_size
    sample_size = draw(
        st.one_of(
            st.integers(low, 12),
            st.lists(st.integers(low, 12), min_size=length, max_size=length).map(np.array),
        )
    )
    real_fraction = draw(
        st.one_of(
            st.sampled_from([0.0, 0.5, 1.0]),
            st.lists(st.floats(0, 1), min_size=length, max_size=length).map(jc.schedules.from_values),
        )
    )
    mixing = draw(st.sampled_from(MIXINGS))
    truth = model.params(mean=np.linspace(-1.0, 1.0, dim), cov=np.eye(dim) + 0.25)
    loop = jc.Loop(
        model, generations=generations, real_fraction=real_fraction,
        sample_size=sample_size, pool=pool, mixing=mixing, path=path,
    )
    return loop, truth, draw(st.integers(1, 5))
