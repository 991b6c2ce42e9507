"""Build ``01_gaussian_collapse.ipynb`` from the cells below (the notebook's source of truth).

    .venv/bin/python notebooks/build_01_gaussian_collapse.py            # write, no outputs
    .venv/bin/python notebooks/build_01_gaussian_collapse.py --execute  # write and run it

Edit the cells here, not in the ``.ipynb``, and rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

from notebook_builder import main

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "01_gaussian_collapse.ipynb"

CELLS = [
    ("md", """\
# Gaussian model collapse in jcollapse

A model is fitted, generates synthetic data, and the next generation is fitted on a mix of
that synthetic data and fresh real data — again and again. This notebook walks through the
one-dimensional Gaussian case:

1. build a `jc.Loop` and simulate thousands of seeds at once;
2. compare the empirical mean over seeds with the closed form `jc.theory.expected`;
3. vary the real fraction $a_t$ and the sample-size schedule $n_t$;
4. check the default *exact-statistics* path against the *raw* path that draws every sample;
5. read the per-seed status flags.

It runs on a laptop CPU in well under a minute."""),
    ("code", """\
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

import jcollapse as jc

print("jcollapse", jc.__version__, "| jax", jax.__version__, "|", jax.default_backend())"""),
    ("md", """\
## 1. A loop, simulated over 4000 seeds

`Gaussian(dim=1)` fits mean and variance by maximum likelihood (variance = scatter / n).
Generation 0 is fitted on $n_0 = 100$ real samples; every later generation on $n_t = 100$
samples drawn from the previous fit (`real_fraction=0.0`: no fresh real data). The pool
`"replace"` fits each generation on its own data only."""),
    ("code", """\
model = jc.models.Gaussian(dim=1)                    # static structure; variance="mle"
truth = model.params(mean=0.0, cov=[[1.0]])          # N(0, 1), validated
loop = jc.Loop(model, generations=60, real_fraction=0.0, sample_size=100,
               pool="replace", mixing="iid")
print("path:", loop.plan().path, "| n_t:", loop.sample_size[:4], "...")

SEEDS = 4000
start = time.perf_counter()
run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=SEEDS)
print(f"{SEEDS} seeds x {loop.generations + 1} generations in {time.perf_counter() - start:.2f} s "
      "(compilation included)")
print({name: values.shape for name, values in run.metrics.items()})"""),
    ("md", """\
## 2. Empirical versus theory

For the MLE variance with fixed $n$ and no real data,
$\\mathbb{E}\\,\\hat\\sigma^2_t = \\sigma^2\\,((n-1)/n)^{t+1}$: the expected variance decays
geometrically. The band is the mean over seeds $\\pm 2$ standard errors; theory is dashed.
The median (dotted) decays faster than the mean: $\\hat\\sigma^2_t$ is a product of many
independent factors, so its distribution is log-normal-like and right-skewed, and the
standard error of its mean is itself noisy: expect $|z| \\lesssim 3$, not better."""),
    ("code", """\
def band(ax, run, metric, label, colour, theory=True):
    t = np.arange(run.loop.generations + 1)
    mean, sem = run.mean(metric), run.sem(metric)
    ax.fill_between(t, np.maximum(mean - 2 * sem, 1e-12), mean + 2 * sem, color=colour, alpha=0.25, lw=0)
    ax.plot(t, mean, color=colour, label=label)
    if theory:
        ax.plot(t, jc.theory.expected(run.loop, truth, metric), "k--", lw=1)

fig, ax = plt.subplots(figsize=(6, 3.5))
band(ax, run, "variance", "mean over seeds ± 2 SE", "C0")
ax.plot(np.median(run.metrics["variance"], axis=0), "C3:", label="median over seeds")
ax.plot([], [], "k--", lw=1, label="theory")
ax.set(yscale="log", xlabel="generation t", ylabel="fitted variance", title="MLE, a = 0, n = 100")
ax.legend()
plt.show()

last = loop.generations
theory = jc.theory.expected(loop, truth, "variance")
z = (run.mean("variance")[last] - theory[last]) / run.sem("variance")[last]
print(f"t = {last}: empirical {run.mean('variance')[last]:.4f} ± {run.sem('variance')[last]:.4f}, "
      f"theory {theory[last]:.4f}, z = {z:+.2f}")"""),
    ("md", """\
## 3. Real fraction and sample-size schedules

`real_fraction` ($a_t$) and `sample_size` ($n_t$) take a number, a schedule from
`jc.schedules`, or an array of length $G+1$. They are data to the compiled loop:
`loop.replace(real_fraction=0.5)` after `0.1` reuses the compiled code.

The squared error of the mean, $(\\hat\\mu_t - \\mu)^2$, is a random walk without real data;
a constant real fraction bounds it, and a growing $n_t = 100(t+1)$ with real data drives it
to zero."""),
    ("code", """\
variants = {
    "a = 0, n = 100": loop,
    "a = 0.1, n = 100": loop.replace(real_fraction=0.1),
    "a = 0.5, n = 100": loop.replace(real_fraction=0.5),
    "a = 0.1, n_t = 100(t+1)": loop.replace(real_fraction=0.1, sample_size=jc.schedules.power(100, 1)),
}
fig, ax = plt.subplots(figsize=(6, 3.5))
for i, (label, variant) in enumerate(variants.items()):
    result = run if variant is loop else jc.simulate(variant, truth, key=jax.random.key(1), seeds=SEEDS)
    band(ax, result, "mean_sq_error", label, f"C{i}")
    expected = jc.theory.expected(variant, truth, "mean_sq_error")[-1]
    print(f"{label:24s} t = {last}: {result.mean('mean_sq_error')[-1]:.3g} "
          f"± {result.sem('mean_sq_error')[-1]:.2g} (theory {expected:.3g})")
ax.plot([], [], "k--", lw=1, label="theory")
ax.set(yscale="log", xlabel="generation t", ylabel="squared error of the mean", title="MLE Gaussian")
ax.legend(fontsize=8)
plt.show()"""),
    ("md", """\
## 4. Exact statistics versus raw samples

By default (`path="auto"` → `"exact"`) a generation does not draw its $n_t$ samples: for a
Gaussian it draws the sample mean $\\mathcal N(\\mu, \\Sigma/n)$ and the scatter matrix
$\\mathrm{Wishart}(n-1, \\Sigma)$ directly, so it costs $O(\\mathrm{dim}^3)$ whatever $n$ is.
`path="raw"` draws every sample; the two must agree in distribution (not seed by seed), so we
compare their means within Monte-Carlo error."""),
    ("code", """\
raw_loop = loop.replace(path="raw")
start = time.perf_counter()
raw = jc.simulate(raw_loop, truth, key=jax.random.key(2), seeds=SEEDS)
print(f"raw path: {time.perf_counter() - start:.2f} s (compilation included)")
for t in (1, 10, 50, last):
    diff = run.mean("variance")[t] - raw.mean("variance")[t]
    se = np.hypot(run.sem("variance")[t], raw.sem("variance")[t])
    print(f"t = {t:3d}: exact {run.mean('variance')[t]:.4f}  raw {raw.mean('variance')[t]:.4f}  "
          f"z = {diff / se:+.2f}")"""),
    ("md", """\
## 5. Status flags: failures are data

Inside a vmapped run one bad seed must not poison its batch, so a fit that goes wrong is
recorded, not raised: `run.status` is a `uint8` array `[seeds, G+1]` whose bits are
`jc.STATUS_NONFINITE` (a NaN or infinity in the fit, or a NaN metric) and `jc.STATUS_DEGENERATE`
(e.g. a covariance whose Cholesky factor fails). `run.failed` marks seeds with any flag.

With a 2-D Gaussian, the minimum sample size $n = \\mathrm{dim} + 1 = 3$ and no real data, the
fitted covariance collapses towards a singular matrix within a few generations, until
float32 can no longer factor it."""),
    ("code", """\
model2 = jc.models.Gaussian(dim=2)
truth2 = model2.params(mean=np.zeros(2), cov=np.eye(2))
tiny = jc.Loop(model2, generations=30, real_fraction=0.0, sample_size=3)
run2 = jc.simulate(tiny, truth2, key=jax.random.key(3), seeds=SEEDS)

flags = np.unique(run2.status)
print("status values seen:", flags, "| NONFINITE =", jc.STATUS_NONFINITE,
      "| DEGENERATE =", jc.STATUS_DEGENERATE)
print(f"failed seeds: {run2.failed.mean():.1%}")
first = np.argmax(run2.status != 0, axis=1)[run2.failed]
print("median first failing generation:", int(np.median(first)))
healthy = run2.metrics["variance"][~run2.failed]
print(f"healthy seeds ({len(healthy)}) have finite metrics: {np.isfinite(healthy).all()}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(np.mean(run2.status != 0, axis=0), "C3")
ax.set(xlabel="generation t", ylabel="share of seeds flagged",
       title="2-D Gaussian, n = 3, a = 0: degenerate fits")
plt.show()"""),
    ("md", """\
## Where next

- `jcollapse demo --out out/demo` runs the full comparison (MLE and unbiased variance,
  $a \\in \\{0, 0.1, 0.5\\}$, fixed and growing $n_t$, 200 generations) and writes figures and
  a table of z-scores.
- Seed $i$ uses the key `fold_in(key, i)`: the first 100 seeds of a 4000-seed run are the
  same as a 100-seed run, whatever the chunk size."""),
    ("code", """\
small = jc.simulate(loop, truth, key=jax.random.key(0), seeds=100, chunk_size=32)
print("same trajectories:", np.array_equal(small.metrics["variance"], run.metrics["variance"][:100]))"""),
]


if __name__ == "__main__":
    sys.exit(main(CELLS, NOTEBOOK, doc=__doc__.splitlines()[0]))
