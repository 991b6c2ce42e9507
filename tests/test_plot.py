"""jc.plot: curves (lines = means, bands, theory dashed, log axis), heatmap (image = data),
theory_curves against jc.theory.expected, and the ValueErrors, on small hand-built Datasets."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.colors import LogNorm, to_rgba

import jcollapse as jc
from jcollapse import plot

STATS = ("mean", "sem", "min", "q0.05", "q0.25", "q0.5", "q0.75", "q0.95", "max")
FRACTIONS = [0.1, 0.5, 0.9]
MIXINGS = ["iid", "split"]
G = 5


def _stats_block(mean: np.ndarray, stats=STATS) -> np.ndarray:
    """``[..., stat]`` values consistent with ``mean`` (sem 5 %, quantiles ordered around it)."""
    offsets = {"mean": 1.0, "sem": 0.05, "min": 0.1, "max": 3.0}
    out = []
    for name in stats:
        if name in offsets:
            out.append(mean * offsets[name])
        else:  # a quantile q: grows with q
            out.append(mean * (0.2 + 2.0 * float(name[1:])))
    return np.stack(out, axis=-1)


def _dataset(stats=STATS, scale=None) -> xr.Dataset:
    """grid (real_fraction 3, mixing 2), generations 0..G, metrics "mse" and "variance" and "failed"."""
    rng = np.random.default_rng(0)
    mean = rng.uniform(0.5, 2.0, size=(len(FRACTIONS), len(MIXINGS), G + 1))
    if scale is not None:
        mean = mean * scale
    dims = ("real_fraction", "mixing", "generation", "stat")
    return xr.Dataset(
        {
            "mse": (dims, _stats_block(mean, stats)),
            "variance": (dims, _stats_block(2.0 * mean, stats)),
            "failed": (dims[:3], np.zeros(mean.shape, np.int32)),
        },
        coords={"real_fraction": FRACTIONS, "mixing": MIXINGS, "generation": np.arange(G + 1), "stat": list(stats)},
    )


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _solid(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() == "-"]


def _dashed(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


def _bands(ax):
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def _band_range(collection) -> tuple[float, float]:
    y = np.concatenate([path.vertices[:, 1] for path in collection.get_paths()])
    return float(y.min()), float(y.max())


# ----------------------------------------------------------------------------- curves


def test_curves_lines_are_the_means_with_sem_bands():
    ds = _dataset().sel(mixing="split")
    ax = plot.curves(ds, "mse")
    lines = _solid(ax)
    assert len(lines) == len(FRACTIONS) and not _dashed(ax)
    assert len(_bands(ax)) == len(FRACTIONS)
    for line, band, fraction in zip(lines, _bands(ax), FRACTIONS):
        cell = ds["mse"].sel(real_fraction=fraction)
        mean, sem = cell.sel(stat="mean").values, cell.sel(stat="sem").values
        np.testing.assert_array_equal(line.get_xdata(), np.arange(G + 1))
        np.testing.assert_array_equal(line.get_ydata(), mean)
        assert line.get_label() == f"real_fraction = {fraction:g}"
        np.testing.assert_allclose(_band_range(band), ((mean - 2 * sem).min(), (mean + 2 * sem).max()))
        assert to_rgba(band.get_facecolor()[0], 1.0) == to_rgba(line.get_color())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("2 sem" in text for text in legend), legend
    assert ax.get_yscale() == "linear"
    assert ax.get_title() == "mse (mixing = split)"
    assert ax.figure.canvas.__class__.__name__ == "FigureCanvasAgg"


def test_curves_default_hue_skips_size_one_dims_and_draws_on_given_axes():
    ds = _dataset().isel(mixing=[1])  # mixing of size 1: not a hue candidate, named in the title
    fig, ax = plt.subplots()
    out = plot.curves(ds, "variance", ax=ax, band=None, title="custom")
    assert out is ax
    assert len(_solid(ax)) == len(FRACTIONS) and not _bands(ax)
    assert ax.get_title() == "custom"
    assert plot.curves(ds, "variance").get_title() == "variance (mixing = split)"


def test_curves_explicit_hue_and_single_line():
    ds = _dataset().sel(real_fraction=0.5)
    ax = plot.curves(ds, "mse", hue="mixing", band=None)
    lines = _solid(ax)
    assert [line.get_label() for line in lines] == ["mixing = iid", "mixing = split"]
    for line, mixing in zip(lines, MIXINGS):
        np.testing.assert_array_equal(line.get_ydata(), ds["mse"].sel(mixing=mixing, stat="mean").values)
    single = plot.curves(ds.sel(mixing="iid"), "mse")  # no grid dimension left: one line
    assert len(_solid(single)) == 1 and len(_bands(single)) == 1
    np.testing.assert_array_equal(_solid(single)[0].get_ydata(), ds["mse"].sel(mixing="iid", stat="mean").values)


def test_curves_quantile_band_inner_quartiles_else_outermost():
    ds = _dataset().sel(mixing="iid")
    ax = plot.curves(ds, "mse", band="quantiles")
    for band, fraction in zip(_bands(ax), FRACTIONS):
        cell = ds["mse"].sel(real_fraction=fraction)
        expected = (cell.sel(stat="q0.25").values.min(), cell.sel(stat="q0.75").values.max())
        np.testing.assert_allclose(_band_range(band), expected)
    assert any("q0.25" in t.get_text() for t in ax.get_legend().get_texts())

    stats = ("mean", "sem", "min", "q0.1", "q0.5", "q0.9", "max")
    other = _dataset(stats).sel(mixing="iid")
    ax = plot.curves(other, "mse", band="quantiles")
    cell = other["mse"].sel(real_fraction=FRACTIONS[0])
    np.testing.assert_allclose(_band_range(_bands(ax)[0]),
                               (cell.sel(stat="q0.1").values.min(), cell.sel(stat="q0.9").values.max()))

    lonely = _dataset(("mean", "sem", "min", "q0.5", "max")).sel(mixing="iid")
    with pytest.raises(ValueError, match="band='quantiles'.*'q0.5'"):
        plot.curves(lonely, "mse", band="quantiles")


def test_curves_theory_dataarray_and_callable_dashed_in_curve_colour():
    ds = _dataset().sel(mixing="split")
    rows = np.stack([np.linspace(1.0, 2.0, G + 1) * (i + 1) for i in range(len(FRACTIONS))])
    rows[1] = np.nan  # no closed form for the middle fraction: not drawn
    theory = xr.DataArray(rows, dims=("real_fraction", "generation"),
                          coords={"real_fraction": FRACTIONS, "generation": np.arange(G + 1)})
    ax = plot.curves(ds, "mse", theory=theory)
    solid, dashed = _solid(ax), _dashed(ax)
    assert len(solid) == 3 and len(dashed) == 2
    for line, i in zip(dashed, (0, 2)):
        np.testing.assert_array_equal(line.get_ydata(), rows[i])
        assert line.get_color() == solid[i].get_color()
    assert any("theory" in t.get_text() for t in ax.get_legend().get_texts())

    ax = plot.curves(ds, "mse", theory=lambda fraction: np.full(G + 1, fraction))
    assert len(_dashed(ax)) == 3
    for line, fraction in zip(_dashed(ax), FRACTIONS):
        np.testing.assert_array_equal(line.get_ydata(), np.full(G + 1, fraction))

    shared = xr.DataArray(np.ones(G + 1), dims=("generation",), coords={"generation": np.arange(G + 1)})
    assert len(_dashed(plot.curves(ds, "mse", theory=shared))) == 3

    with pytest.raises(ValueError, match=r"theory\(0.1\) must return an array of shape \(6,\)"):
        plot.curves(ds, "mse", theory=lambda fraction: np.ones(3))
    with pytest.raises(ValueError, match="theory must be a DataArray with dimensions"):
        plot.curves(ds, "mse", theory=theory.rename(real_fraction="other"))
    with pytest.raises(ValueError, match="theory has no curve for real_fraction = 0.9"):
        plot.curves(ds, "mse", theory=theory.isel(real_fraction=[0, 1]))
    with pytest.raises(ValueError, match="theory must be None, an xarray.DataArray or a callable"):
        plot.curves(ds, "mse", theory=[1.0] * (G + 1))


def test_curves_log_axis_chosen_by_span_and_sign():
    scale = np.logspace(0, 4, G + 1)  # four decades over generations
    ds = _dataset(scale=scale).sel(mixing="iid")
    ax = plot.curves(ds, "mse")
    assert ax.get_yscale() == "log"
    low, _ = _band_range(_bands(ax)[0])
    assert low > 0  # the band's lower edge is clipped above zero on a log axis
    assert plot.curves(ds, "mse", logy=False).get_yscale() == "linear"
    assert plot.curves(_dataset().sel(mixing="iid"), "mse").get_yscale() == "linear"  # < 2 decades
    signed = _dataset(scale=scale).sel(mixing="iid")
    signed["mse"].loc[{"stat": "mean", "generation": 0}] = 0.0
    assert plot.curves(signed, "mse").get_yscale() == "linear"  # a zero mean: no log
    assert plot.curves(signed, "mse", logy=True).get_yscale() == "log"


@pytest.mark.parametrize(
    "selection, kwargs, match",
    [
        ({}, {"metric": "nope"}, r"metric must be one of 'mse', 'variance'.*got 'nope'"),
        ({}, {"metric": "failed"}, r"metric must be one of .*got 'failed'"),
        ({"mixing": "iid"}, {"hue": "sample_size"},
         r"hue must be a grid dimension .*'real_fraction'.*got 'sample_size'"),
        ({"mixing": "iid"}, {"hue": "generation"}, r"hue must be a grid dimension"),
        ({}, {}, r"hue must be given: .*'real_fraction' \(3 values\), 'mixing' \(2 values\)"),
        ({}, {"hue": "real_fraction"}, r"other grid dimensions .*'mixing' \(2 values\).*ds.sel\(mixing='iid'\)"),
        ({"mixing": "iid"}, {"band": "std"}, r"band must be one of 'sem', 'quantiles', None; got 'std'"),
        ({"mixing": "iid"}, {"logy": "yes"}, r"logy must be True, False or None"),
    ],
)
def test_curves_errors_name_the_argument(selection, kwargs, match):
    ds = _dataset().sel(selection)
    kwargs = {"metric": "mse", **kwargs}
    with pytest.raises(ValueError, match=match):
        plot.curves(ds, **kwargs)


def test_curves_rejects_a_dataarray():
    with pytest.raises(ValueError, match="ds must be an xarray.Dataset"):
        plot.curves(_dataset()["mse"], "mse")


# ----------------------------------------------------------------------------- heatmap


def test_heatmap_image_is_the_selected_data():
    ds = _dataset()
    ax = plot.heatmap(ds, "mse", x="real_fraction", y="mixing")
    image = ax.images[0]
    expected = ds["mse"].sel(stat="mean", generation=G).transpose("mixing", "real_fraction").values
    np.testing.assert_array_equal(np.asarray(image.get_array()), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.1", "0.5", "0.9"]
    assert [t.get_text() for t in ax.get_yticklabels()] == MIXINGS
    assert ax.get_xlabel() == "real_fraction" and ax.get_ylabel() == "mixing"
    assert ax.get_title() == f"mse (mean) at generation {G}"
    assert len(ax.figure.axes) == 2  # the colorbar
    assert not isinstance(image.norm, LogNorm)

    ax = plot.heatmap(ds, "variance", x="mixing", y="real_fraction", generation=2, stat="sem")
    expected = ds["variance"].sel(stat="sem", generation=2).transpose("real_fraction", "mixing").values
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), expected)
    assert ax.get_title() == "variance (sem) at generation 2"
    drawn = plot.heatmap(ds, "mse", x="mixing", y="real_fraction", generation=-3).images[0].get_array()
    expected = ds["mse"].sel(stat="mean", generation=G - 2).transpose("real_fraction", "mixing").values
    np.testing.assert_array_equal(np.asarray(drawn), expected)


def test_heatmap_extra_dims_of_size_one_and_log_scale():
    ds = _dataset(scale=np.logspace(0, 4, G + 1)).expand_dims(pool=["replace"], axis=0)
    ds = ds.assign(mse=ds["mse"] * np.array([1.0, 10.0, 1000.0])[None, :, None, None, None])
    fig, ax = plt.subplots()
    assert plot.heatmap(ds, "mse", x="real_fraction", y="mixing", ax=ax, stat="q0.5") is ax
    assert isinstance(ax.images[0].norm, LogNorm)
    assert ax.get_title() == f"mse (q0.5) at generation {G}; pool = replace"
    linear = plot.heatmap(ds, "mse", x="real_fraction", y="mixing", log=False)
    assert not isinstance(linear.images[0].norm, LogNorm)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"metric": "nope"}, r"metric must be one of 'mse', 'variance'"),
        ({"x": "alpha"}, r"x must be a grid dimension .*'pool', 'real_fraction', 'mixing'; got 'alpha'"),
        ({"y": "generation"}, r"y must be a grid dimension .*got 'generation'"),
        ({"y": "real_fraction"}, r"x and y must be different grid dimensions; both are 'real_fraction'"),
        ({}, r"other grid dimensions have more than one value: 'pool' \(2 values\)"),
        ({"stat": "median"}, r"stat must be one of 'mean', 'sem'.*got 'median'"),
        ({"generation": G + 1}, r"generation must be one of ds's generations 0..5"),
        ({"generation": -(G + 2)}, r"generation=-7 counts back past"),
        ({"generation": 1.5}, r"generation must be an integer"),
        ({"log": "auto"}, r"log must be True, False or None"),
    ],
)
def test_heatmap_errors_name_the_argument(kwargs, match):
    ds = _dataset().expand_dims(pool=["replace", "accumulate"])
    if "x" not in kwargs and "y" not in kwargs and kwargs:
        ds = ds.isel(pool=[0])  # only the error under test
    kwargs = {"metric": "mse", "x": "real_fraction", "y": "mixing", **kwargs}
    with pytest.raises(ValueError, match=match):
        plot.heatmap(ds, **kwargs)


# ----------------------------------------------------------------------------- theory


def test_theory_curves_match_theory_expected():
    model = jc.models.GaussianMean(dim=1)
    loop = jc.Loop(model, generations=G, sample_size=10, mixing="split")
    truth = model.params(mean=0.0, cov=[[1.0]])
    theory = jc.sweeps.theory_curves(loop, truth, "real_fraction", FRACTIONS, "mean_sq_error")
    assert theory.dims == ("real_fraction", "generation") and theory.name == "mean_sq_error"
    np.testing.assert_array_equal(theory["real_fraction"].values, FRACTIONS)
    for row, fraction in zip(theory.values, FRACTIONS):
        np.testing.assert_array_equal(row, jc.theory.expected(loop.replace(real_fraction=fraction), truth,
                                                              "mean_sq_error"))
    ax = plot.curves(_dataset().sel(mixing="split").rename(mse="mean_sq_error"), "mean_sq_error", theory=theory)
    assert len(_dashed(ax)) == len(FRACTIONS)

    pools = jc.sweeps.theory_curves(loop, truth, "pool", ["replace", "accumulate-subsample"], "mean_sq_error")
    np.testing.assert_array_equal(pools.values[0], jc.theory.expected(loop, truth, "mean_sq_error"))
    assert np.isnan(pools.values[1]).all()  # no closed form for accumulate-subsample
    lengths = jc.sweeps.theory_curves(loop, truth, "generations", [2, 4], "mean_sq_error")
    assert lengths.shape == (2, 5) and np.isnan(lengths.values[0, 3:]).all() and not np.isnan(lengths.values[1]).any()


def test_theory_curves_schedule_parameter_and_errors():
    model = jc.models.GaussianMean(dim=1)
    loop = jc.Loop(model, generations=3, sample_size=jc.schedules.power(10, 1.0))
    truth = model.params(mean=0.0, cov=[[1.0]])
    theory = jc.sweeps.theory_curves(loop, truth, "sample_size.exponent", [0.0, 1.0], "mean_sq_error")
    np.testing.assert_array_equal(theory.values[1], jc.theory.expected(loop, truth, "mean_sq_error"))
    flat = jc.Loop(model, generations=3, sample_size=10)
    np.testing.assert_array_equal(theory.values[0], jc.theory.expected(flat, truth, "mean_sq_error"))
    with pytest.raises(ValueError, match="metric must be one of 'mean_sq_error'"):
        jc.sweeps.theory_curves(loop, truth, "real_fraction", [0.5], "variance")
    with pytest.raises(ValueError, match="grid key 'alpha' is not sweepable"):
        jc.sweeps.theory_curves(loop, truth, "alpha", [0.5], "mean_sq_error")
    with pytest.raises(ValueError, match="grid_key must be a string"):
        jc.sweeps.theory_curves(loop, truth, 3, [0.5], "mean_sq_error")
