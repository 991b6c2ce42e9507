"""Sweeps: grids of loops over many seeds, summarised into an ``xarray.Dataset``.

``jc.sweep`` is :func:`sweep`; the helpers below are its parts, exposed for inspection.
"""

from ._chunk import ChunkSummary, summarise, summarise_chunk
from ._config import SweepConfig, load_config, parse_config
from ._figures import write_figures
from ._grid import LOOP_FIELDS, SCHEDULE_FIELDS, Config, Grid, expand
from ._stats import BINS, BINS_PER_DECADE, DECADES, QUANTILES, MetricState, bin_index, stat_names
from ._sweep import sweep
from ._theory import theory_curves

__all__ = ["BINS", "BINS_PER_DECADE", "ChunkSummary", "Config", "DECADES", "Grid", "LOOP_FIELDS", "MetricState",
           "QUANTILES", "SCHEDULE_FIELDS", "SweepConfig", "bin_index", "expand", "load_config", "parse_config",
           "stat_names", "summarise", "summarise_chunk", "sweep", "theory_curves", "write_figures"]
