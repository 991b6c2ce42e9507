"""The loop configuration: what is simulated, validated on the host before compilation."""

from __future__ import annotations

import dataclasses
from typing import Literal

import equinox as eqx
import numpy as np

from . import schedules
from .internal.settings import join_settings, split_settings
from .mixing import MIXINGS
from .models import AbstractExactModel, AbstractModel
from .pools import POOL_NAMES

#: Largest per-generation sample size: counts are carried as float32, exact up to 2**24.
MAX_SAMPLE_SIZE = 2**24
#: Most generations a loop may run: generation keys fold ``4 t + stream`` into the seed's
#: key (:mod:`jcollapse.rollout`), which must stay an int32 and below the probes' stream.
MAX_GENERATIONS = 2**24

PATHS = ("auto", "exact", "raw")


@dataclasses.dataclass(frozen=True)
class Plan:
    """The static (compile-time) part of a loop: changing any of it recompiles.

    **Fields:**

    - `model`: the model's structure: its settings (float fields such as
      ``LinearRegression``'s ``noise``) are ``None`` here and reach the compiled program as
      traced inputs (:meth:`with_settings`), so changing them does not recompile.
    - `pool`, `mixing`, `path` (``"exact"`` or ``"raw"``), `generations`.
    - `slots`: the number of sample slots per generation on the raw path (``max n_t``);
      0 on the exact path, which has no slots, so that it does not recompile per ``n``.
    - `draw_real`, `draw_synthetic`: whether any generation ``t >= 1`` has real, resp.
      synthetic, samples; a source that is never drawn is skipped. (``draw_real`` is always
      true for a family fitted to a :mod:`jcollapse.truths` law: its generation 0 is real.)

    ```python
    >>> import jcollapse as jc
    >>> plan = jc.Loop(jc.models.Gaussian(dim=1), generations=2, sample_size=[5, 7, 6], path="raw").plan()
    >>> plan.slots, plan.draw_real, plan.draw_synthetic
    (7, False, True)

    ```
    """

    model: AbstractModel
    generations: int
    pool: str
    mixing: str
    path: str
    slots: int
    draw_real: bool
    draw_synthetic: bool

    def with_settings(self, settings) -> "Plan":
        """This plan with its model's settings filled in (see
        :mod:`jcollapse.internal.settings`; inside a compiled program they are traced).

        ```python
        >>> import jcollapse as jc
        >>> loop = jc.Loop(jc.models.LinearRegression(dim=2, noise=0.5), generations=1)
        >>> loop.plan().model.noise, float(loop.plan().with_settings(loop.model_settings).model.noise)
        (None, 0.5)

        ```
        """
        return dataclasses.replace(self, model=join_settings(settings, self.model))


class Loop(eqx.Module):
    """A model-collapse loop: fit, generate, mix with real data, refit, for ``G`` generations.

    Generation 0 is fitted on ``n_0`` real samples. Generation ``t >= 1`` draws ``n_t``
    samples, a share ``a_t`` (``real_fraction``) from the truth and the rest from the
    model of generation ``t - 1``, and fits on them (``pool="replace"``) or on everything
    so far (``"accumulate"``, ``"accumulate-subsample"``).

    **Arguments:**

    - `model`: a model family, e.g. ``jc.models.Gaussian(dim=1)``.
    - `generations`: ``0 <= G <= 2**24`` (:data:`MAX_GENERATIONS`); the loop has ``G + 1``
      fitted generations.
    - `real_fraction`: ``a_t`` in ``[0, 1]``: a number, a :mod:`jcollapse.schedules`
      schedule, or an array of length ``G + 1``. ``a_0`` is ignored: generation 0 is real.
    - `sample_size`: ``n_t``: a number, schedule or array; non-integers are rounded to the
      nearest integer, ties to even (2.5 becomes 2). Must be at least ``model.min_sample_size``.
    - `pool`: ``"replace"`` | ``"accumulate"`` | ``"accumulate-subsample"``.
    - `mixing`: ``"iid"`` (each sample real with probability ``a_t``) | ``"split"``
      (exactly ``round(a_t n_t)`` real samples).
    - `pool_weights`: with ``pool="accumulate"`` only: weight of generation ``s``'s data
      (number, schedule or array; ``>= 0``, ``w_0 > 0``). Default: all 1.
    - `path`: ``"auto"`` (exact statistics when the model has them, the pool allows, and
      the model estimates them cheaper than raw samples at the largest ``n_t``; else
      raw), ``"exact"`` or ``"raw"``. The exact path draws sufficient statistics
      directly (cost independent of ``n``); the raw path draws every sample.

    **Raises:**

    `ValueError` naming the field and its allowed range, before any compilation; `TypeError`
    for a `model` that is not a jcollapse model.

    ```python
    >>> import jcollapse as jc
    >>> loop = jc.Loop(jc.models.Gaussian(dim=1), generations=3, real_fraction=0.0,
    ...                sample_size=100)
    >>> loop.sample_size
    array([100, 100, 100, 100])

    ```
    """

    model: AbstractModel
    generations: int = eqx.field(static=True)
    real_fraction: np.ndarray
    sample_size: np.ndarray
    pool: str = eqx.field(static=True)
    mixing: str = eqx.field(static=True)
    pool_weights: np.ndarray
    path: str = eqx.field(static=True)
    specs: dict = eqx.field(repr=False)

    def __init__(
        self,
        model: AbstractModel,
        generations: int,
        real_fraction=0.0,
        sample_size=100,
        pool: Literal["replace", "accumulate", "accumulate-subsample"] = "replace",
        mixing: Literal["iid", "split"] = "iid",
        pool_weights=None,
        path: Literal["auto", "exact", "raw"] = "auto",
    ):
        if not isinstance(model, AbstractModel):
            raise TypeError(f"model must be a jcollapse model (jc.models.*); got {model!r}")
        self.model = model
        # The schedules and path as given, so that replace(...) resolves them again.
        self.specs = dict(
            real_fraction=real_fraction, sample_size=sample_size, pool_weights=pool_weights, path=path
        )
        self.generations = _check_generations(generations)
        length = self.generations + 1
        self.real_fraction = _check_real_fraction(schedules.resolve(real_fraction, length, "real_fraction"))
        self.sample_size = _check_sample_size(
            schedules.resolve(sample_size, length, "sample_size"), model
        )
        self.pool = _check_choice("pool", pool, POOL_NAMES)
        self.mixing = _check_choice("mixing", mixing, tuple(MIXINGS))
        self.pool_weights = _check_pool_weights(pool_weights, length, self.pool)
        self.path = _resolve_path(path, model, self.pool, int(self.sample_size.max()))

    def plan(self) -> Plan:
        """The static part of this loop (see :class:`Plan`).

        ```python
        >>> import jcollapse as jc
        >>> jc.Loop(jc.models.Gaussian(dim=1), generations=2).plan().path
        'exact'

        ```
        """
        later = self.real_fraction[1:]
        return Plan(
            model=split_settings(self.model)[1],
            generations=self.generations,
            pool=self.pool,
            mixing=self.mixing,
            path=self.path,
            slots=int(self.sample_size.max()) if self.path == "raw" else 0,
            # A family fitted to a jc.truths law draws generation 0 from it, never from a "previous model".
            draw_real=bool(np.any(later > 0)) or not self.model.truth_is_params,
            draw_synthetic=bool(np.any(later < 1)),
        )

    @property
    def model_settings(self):
        """The model's settings: its float fields that are data to the compiled program, as
        host arrays (everything else ``None``; see :mod:`jcollapse.internal.settings`).

        ```python
        >>> import jcollapse as jc
        >>> jc.Loop(jc.models.LinearRegression(dim=2, ridge=0.5), generations=1).model_settings.ridge
        array(0.5, dtype=float32)

        ```
        """
        return split_settings(self.model)[0]

    def replace(self, **changes) -> "Loop":
        """A copy with some fields changed, validated again.

        ```python
        >>> import jcollapse as jc
        >>> loop = jc.Loop(jc.models.Gaussian(dim=1), generations=2)
        >>> float(loop.replace(real_fraction=0.5).real_fraction[1])
        0.5
        >>> loop.replace(generations=4).sample_size.shape
        (5,)
        >>> model = jc.models.Categorical(num_categories=10)
        >>> small = jc.Loop(model, generations=2, sample_size=10)  # path="auto"
        >>> small.path, small.replace(sample_size=1000).path
        ('raw', 'exact')

        ```
        """
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "specs"}
        fields.update(self.specs)
        fields.update(changes)
        if "pool_weights" not in changes and fields["pool"] != "accumulate":
            fields["pool_weights"] = None  # only "accumulate" accepts weights
        return Loop(**fields)


def _check_generations(generations) -> int:
    allowed = f"an integer in [0, {MAX_GENERATIONS}]"
    if isinstance(generations, bool) or not isinstance(generations, (int, np.integer)):
        raise ValueError(f"generations must be {allowed}; got {generations!r}")
    if not 0 <= generations <= MAX_GENERATIONS:
        raise ValueError(f"generations must be {allowed}; got {generations}")
    return int(generations)


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_real_fraction(values: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(values) | (values < 0) | (values > 1)
    if bad.any():
        t = _first_bad(bad)
        raise ValueError(
            f"real_fraction must lie in [0, 1] (and not be NaN); got {values[t]} at generation {t}"
        )
    return values


def _check_sample_size(values: np.ndarray, model: AbstractModel) -> np.ndarray:
    if not np.all(np.isfinite(values)):
        t = _first_bad(~np.isfinite(values))
        raise ValueError(f"sample_size must be finite; got {values[t]} at generation {t}")
    rounded = np.rint(values)
    minimum = model.min_sample_size
    small = rounded < minimum
    if small.any():
        t = _first_bad(small)
        raise ValueError(
            f"sample_size must be >= {minimum} for {model} (the estimator needs at least "
            f"{minimum} samples); got {values[t]} at generation {t}"
        )
    large = rounded > MAX_SAMPLE_SIZE
    if large.any():
        t = _first_bad(large)
        raise ValueError(
            f"sample_size must be <= {MAX_SAMPLE_SIZE} (2**24); got {values[t]} at generation {t}"
        )
    return rounded.astype(np.int64)


def _check_choice(field: str, value, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:  # an array of a name is not a name
        raise ValueError(f"{field} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return str(value)  # a plain str: a NumPy string would be a static NumPy leaf of the Loop


def _check_pool_weights(pool_weights, length: int, pool: str) -> np.ndarray:
    if pool_weights is None:
        return np.ones(length)
    if pool != "accumulate":
        raise ValueError(f"pool_weights applies only to pool='accumulate'; got pool={pool!r}")
    values = schedules.resolve(pool_weights, length, "pool_weights")
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        t = _first_bad(bad)
        raise ValueError(f"pool_weights must be finite and >= 0; got {values[t]} at generation {t}")
    if not values[0] > 0:
        raise ValueError(f"pool_weights[0] must be > 0 (generation 0 starts the pool); got {values[0]}")
    return values


def _resolve_path(path: str, model: AbstractModel, pool: str, max_sample_size: int) -> str:
    path = _check_choice("path", path, PATHS)
    exact_possible = isinstance(model, AbstractExactModel) and pool != "accumulate-subsample"
    if path == "exact" and not exact_possible:
        why = (
            "pool='accumulate-subsample' needs raw samples"
            if pool == "accumulate-subsample"
            else f"{type(model).__name__} has no exact-statistics sampler"
        )
        raise ValueError(f"path='exact' is not available here: {why}; use path='raw' or 'auto'")
    if path == "auto":
        return "exact" if exact_possible and model.exact_is_cheaper(max_sample_size) else "raw"
    return path

