"""Host-side configuration: ``jc.Loop`` accepts exactly its documented ranges, and a
schedule's arrays are its formula. Nothing here compiles, so the examples are many."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import jcollapse as jc

from .strategies import (
    DEFAULT,
    MIXINGS,
    PATHS,
    POOLS,
    SETTINGS,
    LoopFields,
    RawOnly,
    loop_fields,
    schedule_formula,
    schedules,
)

MAX_GENERATIONS = 2**24
MAX_SAMPLE_SIZE = 2**24


def _is_choice(value, allowed) -> bool:
    """A documented choice: one of the allowed names, as a string."""
    return isinstance(value, str) and value in allowed


def _values(spec, length: int):
    """The documented reading of a per-generation field: a number (not text, even numeric)
    is every generation's value, a schedule its formula, a list or array of numbers
    of length ``G + 1`` itself; anything else (wrong length or rank, text, None) is
    ``None``: not a valid value."""
    if isinstance(spec, jc.schedules.Schedule):
        return schedule_formula(spec, length)
    if isinstance(spec, (str, bytes)) or spec is None:
        return None
    if isinstance(spec, (int, float, np.integer, np.floating)):
        return np.full(length, float(spec))
    if isinstance(spec, (list, tuple, np.ndarray)):
        array = np.asarray(spec)
        if array.dtype.kind not in "iuf" or array.shape != (length,):
            return None
        return array.astype(np.float64)
    return None


def expected_error(fields: LoopFields):
    """The field the documentation says is invalid, in the order ``jc.Loop`` checks them
    (generations, real_fraction, sample_size, pool, mixing, pool_weights, path), or
    ``None`` for a valid configuration. Written from the documented ranges only:

    - ``generations``: an integer (not a bool) in ``[0, 2**24]``;
    - ``real_fraction``: every value in ``[0, 1]`` (NaN is not);
    - ``sample_size``: every value finite and, rounded to the nearest integer (half to
      even, as ``np.rint``), in ``[model.min_sample_size, 2**24]``;
    - ``pool``, ``mixing``, ``path``: one of their names;
    - ``pool_weights``: only with ``pool="accumulate"``; finite, ``>= 0``, ``w_0 > 0``;
    - ``path="exact"``: not for a model without exact statistics, nor with
      ``pool="accumulate-subsample"``.
    """
    g = fields.generations
    if isinstance(g, (bool, np.bool_)) or not isinstance(g, (int, np.integer)) or not 0 <= g <= MAX_GENERATIONS:
        return "generations"
    length = int(g) + 1
    given = lambda name, default: default if getattr(fields, name) is DEFAULT else getattr(fields, name)
    a = _values(given("real_fraction", 0.0), length)
    if a is None or not np.all((a >= 0) & (a <= 1)):
        return "real_fraction"
    n = _values(given("sample_size", 100), length)
    if n is None or not np.all(np.isfinite(n)):
        return "sample_size"
    rounded = np.rint(n)
    if not np.all((rounded >= fields.model.min_sample_size) & (rounded <= MAX_SAMPLE_SIZE)):
        return "sample_size"
    pool, mixing, path = given("pool", "replace"), given("mixing", "iid"), given("path", "auto")
    if not _is_choice(pool, POOLS):
        return "pool"
    if not _is_choice(mixing, MIXINGS):
        return "mixing"
    if fields.pool_weights is not None:
        if pool != "accumulate":
            return "pool_weights"
        w = _values(fields.pool_weights, length)
        if w is None or not np.all(np.isfinite(w) & (w >= 0)) or not w[0] > 0:
            return "pool_weights"
    if not _is_choice(path, PATHS):
        return "path"
    if path == "exact" and (isinstance(fields.model, RawOnly) or pool == "accumulate-subsample"):
        return "path"
    return None


@settings(max_examples=500, **SETTINGS)
@given(fields=loop_fields())
@example(fields=LoopFields(jc.models.GaussianMean(dim=1), MAX_GENERATIONS, DEFAULT, DEFAULT, DEFAULT, DEFAULT,
                           None, DEFAULT))
@example(fields=LoopFields(jc.models.GaussianMean(dim=1), 3, "0.5", DEFAULT, DEFAULT, DEFAULT, None, DEFAULT))
@example(fields=LoopFields(jc.models.GaussianMean(dim=1), 3, DEFAULT, DEFAULT, np.array(["replace"]), DEFAULT,
                           None, DEFAULT))
def test_loop_accepts_exactly_the_documented_ranges(fields):
    """Property: ``jc.Loop(...)`` succeeds iff every field is inside its documented range
    (:func:`expected_error`, an oracle written from the docstrings), and otherwise raises
    ``ValueError`` whose message names the first invalid field. The fields are drawn on
    both sides of every boundary (``0``, ``1``, ``min_sample_size`` and ``2**24`` after
    rounding, ``w_0 = 0``, ``generations`` in ``[0, 2**24]``), with NaN, infinities,
    negative and non-integer counts, wrong lengths and ranks, schedules, and wrong types
    (text, bytes, None, lists and arrays of names); explicit examples: ``2**24``
    generations, a numeric string, a one-element array of a pool name."""
    expected = expected_error(fields)
    with np.errstate(all="ignore"):  # schedules may overflow or take roots of negatives: invalid, not an error
        try:
            loop = jc.Loop(**fields.kwargs())
        except ValueError as error:
            assert expected is not None, f"a valid configuration was refused: {error}"
            assert expected in str(error), f"expected an error naming {expected!r}; got: {error}"
            return
    assert expected is None, f"invalid {expected!r} was accepted: {getattr(loop, expected, None)!r}"
    assert loop.real_fraction.shape == loop.sample_size.shape == loop.pool_weights.shape == (loop.generations + 1,)
    assert loop.sample_size.dtype == np.int64
    assert all(type(choice) is str for choice in (loop.pool, loop.mixing, loop.path))


@settings(max_examples=300, **SETTINGS)
@given(length_and_schedule=st.integers(1, 50).flatmap(lambda length: st.tuples(st.just(length), st.one_of(
    schedules(st.floats(-1e6, 1e6), length),
    st.builds(jc.schedules.power, st.floats(-1e3, 1e3), st.floats(-4, 4), st.floats(0, 100)),
    st.builds(jc.schedules.geometric, st.floats(-1e3, 1e3), st.floats(-3, 3)),
    st.builds(jc.schedules.constant, st.floats(allow_nan=False))))))
def test_a_schedule_s_arrays_equal_its_formula(length_and_schedule):
    """Property: ``schedule.values(length)`` (and ``schedules.resolve``) is a float64 array
    of ``length`` entries equal to the documented formula at ``t = 0..length-1``:
    ``constant(v) = v``, ``power(s, e, o) = s (t + o)^e``, ``geometric(s, r) = s r^t``,
    ``from_values(a) = a`` (whose length must match: else ``ValueError`` naming the field),
    evaluated independently entry by entry with ``math.pow``; equal to the last bit except
    where the two ``pow`` implementations may differ (1e-14 relative: libm's and NumPy's
    ``pow`` are not required to be correctly rounded). ``Schedule.replace`` of a parameter
    gives the schedule built with it."""
    length, schedule = length_and_schedule
    formula = schedule_formula(schedule, length)
    with np.errstate(all="ignore"):
        if formula is None:
            with pytest.raises(ValueError, match="a_field.*shape"):
                jc.schedules.resolve(schedule, length, "a_field")
            return
        values = schedule.values(length)
        resolved = jc.schedules.resolve(schedule, length, "a_field")
    assert values.dtype == np.float64 and values.shape == (length,)
    np.testing.assert_array_equal(resolved, values)
    np.testing.assert_allclose(values, formula, rtol=1e-14, atol=0, equal_nan=True)
    names = jc.schedules.PARAMETER_NAMES.get(schedule.kind, ())
    if names:
        changed = schedule.replace(**{names[0]: 2.5})
        rebuilt = getattr(jc.schedules, schedule.kind)(2.5, *schedule.parameters[1:])
        assert changed == rebuilt
