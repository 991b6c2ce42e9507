"""Build ``05_sample_growth_and_filters.ipynb`` from the cells below (the notebook's source of truth).

    .venv/bin/python notebooks/build_05_sample_growth_and_filters.py            # write, no outputs
    .venv/bin/python notebooks/build_05_sample_growth_and_filters.py --execute  # write and run it

Edit the cells here, not in the ``.ipynb``, and rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

from notebook_builder import main

NOTEBOOK = Path(__file__).resolve().parent / "05_sample_growth_and_filters.ipynb"

CELLS = [
    ("md", """\
# Sample growth and contraction filters

Two ways out of collapse when every generation is refitted on its own samples
(`docs/theory.md`, section 4):

1. **Grow the sample** (Xu, He & Cheng, "A Probabilistic Perspective on Model Collapse").
   Without real data the estimate is a random walk; with unbiased estimation it collapses
   almost surely iff $\\sum_t 1/n_t = \\infty$: constant and linear $n_t$ collapse (linear
   very slowly), superlinear $n_t$ does not.
2. **Filter the data** (Han et al., contraction-conditioned neural filters). With a
   constant $n$, a learned filter weights each sample, given the current estimate, so that
   the error contracts.

A Poisson model shows the dichotomy sharply: a rate fitted to 0 draws only zeros, an
absorbing state, and the probability of reaching it is known exactly (a Galton–Watson
process, `jc.theory.poisson_absorption_probability`)."""),
    ("code", """\
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

from scipy import stats

import jcollapse as jc

START = time.perf_counter()
SEEDS = 2000"""),
    ("md", """\
## 1. The collapse dichotomy

Poisson, rate 1, $n_0 = 10$, no real data after generation 0. Given the sum $S_{t-1}$,
$S_t \\sim \\mathrm{Poisson}(S_{t-1} n_t / n_{t-1})$: a branching process with offspring mean
$n_t/n_{t-1}$, whose extinction probability by generation $t$ is an iterated generating
function. The three schedules share one compiled loop (sample sizes are traced). Dotted:
the exact probability continued to $10^4$ generations."""),
    ("code", """\
model = jc.models.Poisson(dim=1)
truth = model.params(rate=1.0)
G, n0 = 300, 10
exponents = {"constant": 0.0, "linear": 1.0, "superlinear": 2.0}       # n_t = n0 (t + 1)^exponent
t = np.arange(G + 1)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
worst, final = 1.0, {}
for i, (name, exponent) in enumerate(exponents.items()):
    loop = jc.Loop(model, generations=G, real_fraction=0.0, sample_size=jc.schedules.power(n0, exponent))
    run = jc.simulate(loop, truth, key=jax.random.key(i), seeds=SEEDS)
    absorbed = run.mean("absorbed")
    theory = jc.theory.poisson_absorption_probability(loop, truth)
    # exact binomial test: early on only a few seeds are expected to be absorbed, where a
    # normal z is wrong; compared with 6.3e-5, the two-sided level of 4 standard errors
    counts = np.rint(absorbed * SEEDS).astype(int)
    worst = min(worst, min(stats.binomtest(k, SEEDS, p).pvalue for k, p in zip(counts, theory) if 0 < p < 1))
    axes[0].plot(t[1:], absorbed[1:], color=f"C{i}", label=name)
    axes[0].plot(t[1:], theory[1:], "k--", lw=0.9)
    # beyond 2^24 samples: theory only
    long_sizes = np.rint(n0 * np.arange(1, 10_002, dtype=float) ** exponent).astype(np.int64)
    assert np.array_equal(long_sizes[: G + 1], loop.sample_size)
    long_theory = jc.theory.poisson_absorption_probability(long_sizes, 1.0)
    axes[0].plot(np.arange(G, 10_001), long_theory[G:], ":", color=f"C{i}")
    final[name] = (absorbed[-1], theory[-1], long_theory[-1])
    error = run.mean("param_sq_error") / 1.0             # E (rate_hat - rate)^2 / Var(one sample)
    walk = jc.theory.random_walk_error(loop.sample_size)
    axes[1].plot(t, error, color=f"C{i}", label=name)
    axes[1].plot(t, walk, "k--", lw=0.9)
axes[0].set(xscale="log", xlabel="generation t", ylabel="fraction of seeds absorbed (rate_hat = 0)",
            title="Poisson, no real data: simulation, exact (dashed), continued (dotted)")
axes[1].set(xscale="log", yscale="log", xlabel="generation t", ylabel="E(rate_hat - rate)² / rate",
            title="Random-walk error: Σ 1/n_k (dashed)")
axes[0].legend()
plt.show()
for name, (sim, exact, long_run) in final.items():
    print(f"{name:11s}: absorbed at t = {G}: {sim:.3f} (exact {exact:.3f}); exact at t = 10^4: {long_run:.4f}")
print(f"absorbed fractions agree with the exact probability at every t (binomial test, level 6.3e-5): "
      f"{worst > 6.3e-5} (smallest p-value {worst:.2g})")
print(f"constant n collapses (> 0.95 at 10^4), superlinear n does not (< 0.01 at 10^4): "
      f"{final['constant'][2] > 0.95 and final['superlinear'][2] < 0.01}")"""),
    ("md", """\
## 2. A contraction-conditioned filter at constant n

`jc.filters.ContractionFilter` is an equinox MLP that gives each sample a weight in
$(0, 1)$ from its standardised residual $z = (x - \\hat\\theta_{t-1})/\\hat\\sigma$, the batch's
mean residual and $\\log(1 + t)$; the estimate moves by
$\\hat\\theta_t = \\hat\\theta_{t-1} + \\frac1n\\sum_i w_i (x_i - \\hat\\theta_{t-1})$. It never sees
$\\theta^*$, the real fraction $a$, nor which samples are real. It is trained with optax on
simulated chains (truths from a prior) on the Lyapunov hinge
$\\max(0, \\|e_t\\|_P^2 - (1 - c)\\|e_{t-1}\\|_P^2)$ of Han et al.'s Assumption 2.3.

We train on Gaussian means and evaluate on held-out seeds at $a = 0.2$ and $a = 0$, against
no filter (whose error has a closed form) and against superlinear growth."""),
    ("code", """\
gm = jc.models.GaussianMean(dim=1)
gm_truth = gm.params(mean=0.0, cov=[[1.0]])
n, G2 = 20, 100
start = time.perf_counter()
trained, losses = jc.filters.train_filter(jc.filters.ContractionFilter(jax.random.key(0)), gm,
                                          key=jax.random.key(1), steps=150)
print(f"trained in {time.perf_counter() - start:.1f} s; hinge loss {float(losses[:10].mean()):.4f} -> "
      f"{float(losses[-10:].mean()):.4f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
summary = {}
for ax, a in zip(axes, (0.2, 0.0)):
    common = dict(real_fraction=a, sample_size=n, generations=G2, seeds=1000, key=jax.random.key(7))
    curves = {"no filter": jc.filters.filtered_errors(None, gm, gm_truth, **common),
              "filter": jc.filters.filtered_errors(trained, gm, gm_truth, **common)}
    growth = jc.Loop(gm, generations=G2, real_fraction=a, sample_size=jc.schedules.power(n, 1.5))
    curves["growth n(t+1)^1.5"] = jc.simulate(growth, gm_truth, key=jax.random.key(8), seeds=1000).metrics[
        "mean_sq_error"]
    plain = jc.Loop(gm, generations=G2, real_fraction=a, sample_size=n)
    for j, (label, errors) in enumerate(curves.items()):
        mean, sem = errors.mean(0), errors.std(0, ddof=1) / np.sqrt(errors.shape[0])
        ax.fill_between(np.arange(G2 + 1), mean - 2 * sem, mean + 2 * sem, color=f"C{j}", alpha=0.25, lw=0)
        ax.plot(mean, color=f"C{j}", label=label)
        summary[a, label] = (mean, sem)
    ax.plot(jc.theory.expected(plain, gm_truth, "mean_sq_error"), "k--", lw=0.9, label="no filter, exact")
    ax.set(yscale="log", xlabel="generation t", title=f"a = {a:g}, n = {n}")
axes[0].set_ylabel("‖θ̂ₜ − θ*‖²")
axes[0].legend()
plt.show()
(nf, nf_se), (fl, fl_se) = summary[0.2, "no filter"], summary[0.2, "filter"]
print(f"a = 0.2, t = {G2}: no filter {nf[-1]:.4f} ± {nf_se[-1]:.4f}, filter {fl[-1]:.4f} ± {fl_se[-1]:.4f}, "
      f"growth {summary[0.2, 'growth n(t+1)^1.5'][0][-1]:.2e}")
print(f"a = 0.2: the filter lowers the error against no filter by more than 4 SE: "
      f"{nf[-1] - fl[-1] > 4 * np.hypot(nf_se[-1], fl_se[-1])}")
(nf0, _), (fl0, fl0_se) = summary[0.0, "no filter"], summary[0.0, "filter"]
print(f"a = 0, t = {G2}: no filter {nf0[-1]:.3f}, filter {fl0[-1]:.4f} ± {fl0_se[-1]:.4f} (generation 0: {fl0[0]:.4f})")
print(f"a = 0: the filter freezes near its generation-0 error (below 3x) while no filter grows past 10x: "
      f"{fl0[-1] < 3 * fl0[0] and nf0[-1] > 10 * nf0[0]}")
print(f"notebook ran in {time.perf_counter() - START:.1f} s")"""),
    ("md", """\
Without real data ($a = 0$) no filter can pull the estimate back: the best it can do is
freeze, so the error stays near its generation-0 value and $P(\\|e_t\\| > \\delta)$ does not go
to 0 — an error floor that constant $n$ leaves, whatever the filter. With real data the
filter's shrinking weights average over generations and beat the unfiltered floor, but
superlinear growth of $n$ is better still by orders of magnitude (`jcollapse reproduce han`
measures all three families)."""),
]


if __name__ == "__main__":
    sys.exit(main(CELLS, NOTEBOOK, doc=__doc__.splitlines()[0]))
