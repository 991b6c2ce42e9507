"""Statistics over seeds, streamed chunk by chunk, in memory independent of the seed count.

Per chunk, each metric contributes its count, mean and centred sum of squares (float64,
computed on the device: :func:`jcollapse.sweeps.summarise_chunk`); they are combined in
chunk order (Chan et al.'s pairwise update), so the result depends only on the chunk size,
never on which process or which run computed a chunk. Quantiles
come from a histogram sketch on fixed log-spaced bins: integer counts, summed exactly in
any order, together with the exact minimum and maximum.
"""

from __future__ import annotations

import dataclasses

import numpy as np

#: Histogram resolution: bins per decade of ``|x|`` (relative bin width ``10**(1/10) - 1 = 26 %``,
#: interpolated log-linearly within a bin).
BINS_PER_DECADE = 10
#: ``|x|`` is binned between ``10**-DECADES`` and ``10**DECADES``; smaller values share a zero
#: bin, larger ones (and infinities) an overflow bin on each side.
DECADES = 10
_SIDE = 2 * DECADES * BINS_PER_DECADE
#: Total number of histogram bins: under, negative, zero, positive, over.
BINS = 2 * _SIDE + 3
#: The default quantiles reported beside the mean and its standard error.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def stat_names(quantiles) -> tuple[str, ...]:
    """The names along a sweep's ``stat`` dimension.

    ```python
    >>> stat_names((0.1, 0.5))
    ('mean', 'sem', 'min', 'q0.1', 'q0.5', 'max')

    ```
    """
    return ("mean", "sem", "min", *(f"q{q:g}" for q in quantiles), "max")


def bin_index(values, xp=np):
    """Each value's histogram bin in ``[0, BINS)``, or -1 for NaN.

    **Arguments:**

    - `values`: an array of numbers, read as float64.
    - `xp`: the array module, ``numpy`` or ``jax.numpy`` (the latter inside a float64
      program, see :func:`jcollapse.sweeps.summarise`).

    **Returns:**

    int64 bin indices, the shape of ``values``.

    ```python
    >>> bin_index(np.array([0.0, 1.0, -1.0, np.inf, np.nan])).tolist()
    [201, 302, 100, 402, -1]

    ```
    """
    values = xp.asarray(values, dtype=xp.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        position = xp.floor((xp.log10(xp.abs(values)) + DECADES) * BINS_PER_DECADE)
    position = xp.nan_to_num(position, nan=-1.0, posinf=_SIDE, neginf=-1.0)
    small = position < 0  # |x| below 10**-DECADES, zero included
    large = position >= _SIDE
    k = xp.clip(position, 0, _SIDE - 1).astype(xp.int64)
    index = xp.where(values > 0, _SIDE + 2 + k, _SIDE - k)
    index = xp.where(small, _SIDE + 1, index)
    index = xp.where(large, xp.where(values > 0, BINS - 1, 0), index)
    return xp.where(xp.isnan(values), -1, index)


def _bin_value(index: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """The value a fraction ``[0, 1]`` of the way through bin ``index`` (log-linear)."""
    positive = (index - (_SIDE + 2) + fraction) / BINS_PER_DECADE - DECADES
    negative = (_SIDE - index + 1 - fraction) / BINS_PER_DECADE - DECADES
    value = np.where(index > _SIDE + 1, 10.0**positive, -(10.0**negative))
    value = np.where(index == _SIDE + 1, 0.0, value)
    return np.where(index == 0, -np.inf, np.where(index == BINS - 1, np.inf, value))


@dataclasses.dataclass
class MetricState:
    """One metric's running statistics over the seeds seen so far.

    **Fields:**

    - `moments`: chunk index -> ``(count, mean, centred sum of squares)``, arrays of the
      cell shape ``[configs, G + 1, ...]``.
    - `histogram`: int64 ``[*cells, BINS]`` counts (NaN not counted).
    - `minimum`, `maximum`: the extreme non-NaN values (``+inf``/``-inf`` when none yet).
    """

    moments: dict
    histogram: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def empty(cls, cells: tuple[int, ...]) -> "MetricState":
        """No seeds yet, for cells of shape ``cells``.

        ```python
        >>> MetricState.empty((2, 3)).histogram.shape
        (2, 3, 403)

        ```
        """
        return cls({}, np.zeros((*cells, BINS), np.int64), np.full(cells, np.inf), np.full(cells, -np.inf))

    def add(self, chunk: int, summary) -> None:
        """Fold in chunk ``chunk``'s :class:`~jcollapse.sweeps.ChunkSummary` (see :func:`jcollapse.sweeps.summarise`).

        ```python
        >>> from jcollapse.sweeps import summarise
        >>> state = MetricState.empty((1, 2))
        >>> state.add(0, summarise(np.array([[[1.0, 2.0], [3.0, 4.0]]])))
        >>> state.moments[0][1].tolist(), int(state.histogram.sum())
        ([[2.0, 3.0]], 4)

        ```
        """
        self.moments[chunk] = (summary.count, summary.mean, summary.m2)
        self.histogram += summary.histogram
        self.minimum = np.fmin(self.minimum, summary.minimum)
        self.maximum = np.fmax(self.maximum, summary.maximum)

    def merge(self, other: "MetricState") -> None:
        """Fold in another process's state (disjoint chunks): the union of their seeds."""
        overlap = set(self.moments) & set(other.moments)
        if overlap:
            raise ValueError(f"chunks {sorted(overlap)} were computed twice")
        self.moments.update(other.moments)
        self.histogram += other.histogram
        self.minimum = np.fmin(self.minimum, other.minimum)
        self.maximum = np.fmax(self.maximum, other.maximum)

    def summary(self, quantiles) -> np.ndarray:
        """``[*cells, stat]``: mean, standard error, minimum, quantiles, maximum (see :func:`stat_names`).

        The mean and standard error combine the chunks in chunk order; the quantiles are
        read off the histogram (relative resolution ``10**(1/BINS_PER_DECADE)``) and
        clamped to the exact minimum and maximum, so a metric that takes few values
        (0 and 1, say) has exact quantiles.

        ```python
        >>> from jcollapse.sweeps import summarise
        >>> state = MetricState.empty((1, 1))
        >>> state.add(0, summarise(np.array([[[0.0], [1.0], [1.0]]])))
        >>> state.summary((0.5,)).round(4).tolist()
        [[[0.6667, 0.3333, 0.0, 1.0, 1.0]]]

        ```
        """
        count, mean, m2 = None, None, None
        for chunk in sorted(self.moments):
            n, m, s = self.moments[chunk]
            if count is None:
                count, mean, m2 = n, m, s
                continue
            total = count + n
            delta = m - mean
            mean = mean + delta * (n / total)
            m2 = m2 + s + delta**2 * (count * n / total)
            count = total
        with np.errstate(invalid="ignore", divide="ignore"):
            sem = np.sqrt(m2 / (count - 1)) / np.sqrt(count) if count > 1 else np.full_like(mean, np.nan)
        return np.stack([mean, sem, self.minimum, *self._quantiles(quantiles), self.maximum], axis=-1)

    def _quantiles(self, quantiles) -> list[np.ndarray]:
        cumulative = np.cumsum(self.histogram, axis=-1)
        total = cumulative[..., -1]
        result = []
        for q in quantiles:
            target = q * total
            index = np.argmax(cumulative >= np.maximum(target, 1e-300)[..., None], axis=-1)
            before = np.take_along_axis(cumulative, index[..., None], -1)[..., 0]
            inside = np.take_along_axis(self.histogram, index[..., None], -1)[..., 0]
            with np.errstate(invalid="ignore", divide="ignore"):
                fraction = np.clip((target - (before - inside)) / inside, 0.0, 1.0)
            value = np.clip(_bin_value(index, fraction), self.minimum, self.maximum)
            result.append(np.where(total > 0, value, np.nan))
        return result
