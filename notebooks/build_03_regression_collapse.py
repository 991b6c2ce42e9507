"""Build ``03_regression_collapse.ipynb`` from the cells below (the notebook's source of truth).

    .venv/bin/python notebooks/build_03_regression_collapse.py            # write, no outputs
    .venv/bin/python notebooks/build_03_regression_collapse.py --execute  # write and run it

Edit the cells here, not in the ``.ipynb``, and rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

from notebook_builder import main

NOTEBOOK = Path(__file__).resolve().parent / "03_regression_collapse.ipynb"

CELLS = [
    ("md", """\
# Regression collapse: errors that add up

Dohmatob, Feng & Kempe, "Model Collapse Demystified: The Case of Regression"
(arXiv 2402.07712; `docs/theory.md`, section 6). Covariates $x \\sim N(0, \\Sigma)$ in $\\mathbb{R}^d$. A chain of
generators starts at the truth $\\hat w_0 = w_0$; generator $k = 1..n$ draws a fresh design
$\\bar X$ ($T_0 \\times d$), labels it $\\bar X \\hat w_{k-1} + N(0, \\sigma_0^2)$ and refits
$\\hat w_k$ by least squares. A downstream ridge model is then trained on $T$ fresh samples
labelled by $\\hat w_n$ (noise $\\sigma$, penalty $\\lambda$), and scored by
$E_{\\rm test} = \\mathbb{E}\\|\\hat w_{\\rm pred} - w_0\\|_\\Sigma^2$ (label noise excluded).

In the library a `jc.Loop` with `real_fraction=0.0` is the generator chain and
`jc.probes.DownstreamRidge` the downstream model. Library generation $t$ (generation 0 is
fitted on real data) is the paper's $\\hat w_{n}$ with $n = t + 1$.
This notebook

1. checks the exact OLS pipeline error, linear in $n$, for a non-isotropic $\\Sigma$;
2. draws ridge U-curves and the deterministic equivalent: the best $\\lambda$ moves with $n$;
3. checks the noise-free over-parametrised collapse $\\|w_0\\|^2(1-(T_0/d)^n)$;
4. compares replacing the data with accumulating it."""),
    ("code", """\
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

import jcollapse as jc

START = time.perf_counter()
SEEDS = 300   # every simulation below; SE = std / sqrt(SEEDS)"""),
    ("md", """\
## 1. OLS: the exact pipeline error

With OLS everywhere ($T, T_0 \\ge d + 2$), each generator adds an independent zero-mean
error $\\eta_k = (\\bar X_k^\\top \\bar X_k)^{-1}\\bar X_k^\\top \\varepsilon_k$ of covariance
$\\sigma_0^2\\Sigma^{-1}/(T_0-d-1)$ (the inverse-Wishart mean), so for **any** $\\Sigma$

$$E_{\\rm test}(n) = \\frac{\\sigma^2 d}{T-d-1} + n\\,\\frac{\\sigma_0^2 d}{T_0-d-1}$$

(`jc.theory.ols_pipeline_error`): the errors add up, linearly in the number of synthetic
generations. We take a rotated $\\Sigma$ with eigenvalues from 4 down to 1/4. The probe's
ridge grid starts with $\\lambda = 0$ (OLS); its other penalties are used in section 2, with
the same compiled simulation."""),
    ("code", """\
d, T0, T = 30, 120, 60          # dimension, generator and downstream sample sizes
sigma0, sigma = 0.7, 0.5        # generator and downstream label noise
G = 7                           # generations t = 0..G, i.e. n = 1..G+1
n = np.arange(1, G + 2)
ridges = (0.0,) + tuple(np.geomspace(1e-2, 10.0, 13))

model = jc.models.LinearRegression(dim=d, noise=sigma0)
loop = jc.Loop(model, generations=G, sample_size=T0, real_fraction=0.0)
probe = jc.probes.DownstreamRidge(sample_size=T, noise=sigma, ridges=ridges)

rng = np.random.default_rng(0)
basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
cov = (basis * np.geomspace(4.0, 0.25, d)) @ basis.T
w0 = rng.normal(size=d)
w0 /= np.linalg.norm(w0)
truth = model.params(weights=w0, cov=cov)

start = time.perf_counter()
run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=SEEDS, probe=probe)
print(f"{SEEDS} seeds x {G + 1} generations x {len(ridges)} ridges in "
      f"{time.perf_counter() - start:.1f} s (compilation included); path: {loop.path}")

ols = run.metrics["downstream_test_error"][:, :, 0]          # [seeds, G+1], lambda = 0
ols_mean, ols_sem = ols.mean(0), ols.std(0, ddof=1) / np.sqrt(SEEDS)
exact = jc.theory.ols_pipeline_error(d, T, sigma, T0, sigma0, n)
z = (ols_mean - exact) / ols_sem

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.errorbar(n, ols_mean, 2 * ols_sem, fmt="o", ms=4, capsize=3, label=f"simulation, mean ± 2 SE ({SEEDS} seeds)")
grid = np.arange(0, G + 2)
ax.plot(grid, jc.theory.ols_pipeline_error(d, T, sigma, T0, sigma0, grid), "k--", lw=1,
        label="σ²d/(T−d−1) + nσ₀²d/(T₀−d−1)")
ax.set(xlabel="synthetic generations n", ylabel="downstream OLS test error",
       title=f"OLS pipeline, d = {d}, T₀ = {T0}, T = {T}, non-isotropic Σ")
ax.legend()
plt.show()
for k in (0, G // 2, G):
    print(f"n = {n[k]}: {ols_mean[k]:.4f} ± {ols_sem[k]:.4f}, exact {exact[k]:.4f}")
print(f"OLS pipeline within 4 SE of the exact formula at every n: {np.abs(z).max() < 4} "
      f"(max |z| = {np.abs(z).max():.2f})")"""),
    ("md", """\
## 2. Ridge: U-curves whose sweet spot moves

With a penalty $\\lambda$ the downstream error splits exactly into bias, variance and a
generator term $n\\sigma_0^2\\rho$; `jc.theory.ridge_deterministic_equivalent` gives the
deterministic equivalent of each (`docs/theory.md`, section 6.4:
$\\kappa - \\lambda = \\kappa\\,{\\rm df}_1(\\kappa)/T$,
bias $\\simeq \\kappa^2 w_0^\\top\\Sigma(\\Sigma+\\kappa)^{-2}w_0/(1-u)$, variance
$\\simeq \\sigma^2u/(1-u)$, …). The synthetic generations act like extra label noise, so the
best $\\lambda$ grows with $n$: a penalty tuned on clean data under-regularises a model
trained on collapsed labels.

Here $\\Sigma = I$ (same $d$, $T$, $T_0$: the compiled simulation is reused). The
equivalents are asymptotic: against float64 Monte-Carlo at $d = 50$ the docstring reports
largest relative deviations of 1.9 % (bias), 0.9 % (variance) and 0.5 % ($\\rho$), and
finite-size corrections scale like $1/d$. So at $d = 30$ we allow
$1.9\\,\\% \\times 50/30 \\approx 3.2\\,\\%$ of the equivalent on top of 4 SE. The
ridgeless point is left out of this comparison: there the equivalent has $T-d$ where the
exact formula of section 1 has $T-d-1$."""),
    ("code", """\
iso = model.params(weights=np.ones(d) / np.sqrt(d), cov=np.eye(d))
start = time.perf_counter()
ridge_run = jc.simulate(loop, iso, key=jax.random.key(1), seeds=SEEDS, probe=probe)
print(f"isotropic run in {time.perf_counter() - start:.1f} s (no recompilation)")

lam = np.array(ridges[1:])
errors = ridge_run.metrics["downstream_test_error"][:, :, 1:]   # [seeds, G+1, ridges]
mean, sem = errors.mean(0), errors.std(0, ddof=1) / np.sqrt(SEEDS)
de = np.array([jc.theory.ridge_deterministic_equivalent(np.ones(d), np.ones(d) / np.sqrt(d), lam, T, sigma,
                                                        T0, sigma0, generations=k)["total"] for k in n])
ALLOWANCE = 0.019 * 50 / d
excess = np.abs(mean - de) / (4 * sem + ALLOWANCE * de)

fig, ax = plt.subplots(figsize=(6.5, 4))
fine = np.geomspace(lam[0], lam[-1], 200)
for i, k in enumerate((0, 2, G)):
    ax.errorbar(lam, mean[k], 2 * sem[k], fmt="o", ms=3, capsize=2, color=f"C{i}", label=f"n = {n[k]}")
    curve = jc.theory.ridge_deterministic_equivalent(np.ones(d), np.ones(d) / np.sqrt(d), fine, T, sigma,
                                                     T0, sigma0, generations=n[k])["total"]
    ax.plot(fine, curve, "--", color=f"C{i}", lw=1)
    ax.plot(fine[curve.argmin()], curve.min(), "v", color=f"C{i}", ms=8)
ax.plot([], [], "k--", lw=1, label="deterministic equivalent (▼ its minimum)")
ax.set(xscale="log", xlabel="ridge λ", ylabel="downstream test error",
       title=f"Ridge on collapsed labels, Σ = I, d = {d}, mean ± 2 SE")
ax.legend(fontsize=8)
plt.show()

best_sim, best_de = lam[mean.argmin(1)], lam[de.argmin(1)]
print("best lambda on the grid, simulation:", best_sim.round(3))
print("best lambda on the grid, equivalent:", best_de.round(3))
print(f"largest relative deviation |sim - DE| / DE = {np.max(np.abs(mean - de) / de):.2%}")
print(f"ridge simulation within 4 SE + {ALLOWANCE:.1%} of the deterministic equivalent at every (n, lambda): "
      f"{excess.max() < 1} (max |sim - DE| / (4 SE + {ALLOWANCE:.1%} DE) = {excess.max():.2f})")

# Keeping the n = 1 sweet spot at n = G + 1: the paired cost, per seed, against the equivalent's.
old, new = mean[0].argmin(), de[G].argmin()
cost = errors[:, G, old] - errors[:, G, new]
cost_mean, cost_sem = cost.mean(), cost.std(ddof=1) / np.sqrt(SEEDS)
print(f"at n = {n[G]}, lambda = {lam[old]:.3f} (best at n = 1) instead of {lam[new]:.3f} costs "
      f"{cost_mean:.4f} ± {cost_sem:.4f} (equivalent: {de[G, old] - de[G, new]:.4f})")
print(f"the sweet spot moves: re-tuning lambda pays by more than 4 SE: {cost_mean > 4 * cost_sem}")"""),
    ("md", """\
## 3. Over-parametrised and noise-free: exponential collapse

With fewer samples than dimensions ($T_0 < d$), no label noise and $\\Sigma = I$, the
minimum-norm fit of labels $\\bar X w$ is the projection of $w$ on the row space of
$\\bar X$, a uniformly random $T_0$-dimensional subspace. Each generation keeps on average a
share $T_0/d$ of the weights, so

$$\\mathbb{E}\\|\\hat w_n - w_0\\|^2 = \\|w_0\\|^2\\left(1 - (T_0/d)^n\\right)$$

(`jc.theory.overparametrized_collapse`): no noise at all, yet the chain collapses to the
null model $\\hat w = 0$. Library generation $t$ is $n = t + 1$ (generation 0 already
projects the real data's $w_0$)."""),
    ("code", """\
d4, T4, G4 = 20, 15, 15
free = jc.models.LinearRegression(dim=d4, noise=0.0)
w4 = np.random.default_rng(2).normal(size=d4)
loop4 = jc.Loop(free, generations=G4, sample_size=T4, real_fraction=0.0)
start = time.perf_counter()
run4 = jc.simulate(loop4, free.params(weights=w4, cov=np.eye(d4)), key=jax.random.key(2), seeds=SEEDS)
print(f"{SEEDS} seeds x {G4 + 1} generations in {time.perf_counter() - start:.1f} s; path: {loop4.path}")

n4 = np.arange(1, G4 + 2)
theory4 = jc.theory.overparametrized_collapse(w4 @ w4, d4, T4, n4)
mean4, sem4 = run4.mean("param_sq_error"), run4.sem("param_sq_error")
z4 = (mean4 - theory4) / sem4

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.errorbar(n4, mean4, 2 * sem4, fmt="o", ms=4, capsize=3, label="simulation, mean ± 2 SE")
ax.plot(n4, theory4, "k--", lw=1, label="‖w₀‖²(1 − (T₀/d)ⁿ)")
ax.axhline(w4 @ w4, color="0.5", ls=":", lw=1, label="null model ‖w₀‖²")
ax.set(xlabel="synthetic generations n", ylabel="‖ŵₙ − w₀‖²", title=f"Noise-free, d = {d4}, T₀ = {T4}")
ax.legend()
plt.show()
print(f"over-parametrised chain within 4 SE of ||w0||^2 (1 - (T0/d)^n) at every n: {np.abs(z4).max() < 4} "
      f"(max |z| = {np.abs(z4).max():.2f})")"""),
    ("md", """\
## 4. Replacing the data versus accumulating it

`pool="replace"` (above) fits each generation on its own synthetic data only: the chain's
error $\\mathbb{E}\\|\\hat w_t - w_0\\|_\\Sigma^2 = (t+1)\\,\\sigma_0^2 d/(T_0-d-1)$ grows without
bound (`jc.theory.expected`). `pool="accumulate"` fits on all data so far, real data
included. Here every generation draws a **fresh** design; for that pool we know no closed
form, so the simulation stands alone. For reference, the dotted line is Gerstgrasser et al.'s
**fixed-design** accumulate error, $\\frac{\\sigma_0^2 d}{T_0-d-1}\\sum_{i \\le t+1} 1/i^2 <
\\frac{\\pi^2}{6}\\frac{\\sigma_0^2 d}{T_0-d-1}$ (`jc.theory.replace_vs_accumulate`): a
different setting, shown for scale, not checked."""),
    ("code", """\
G5 = 20
accumulate = jc.Loop(model, generations=G5, sample_size=T0, real_fraction=0.0, pool="accumulate")
start = time.perf_counter()
acc = jc.simulate(accumulate, truth, key=jax.random.key(3), seeds=SEEDS)
print(f"accumulate: {SEEDS} seeds x {G5 + 1} generations in {time.perf_counter() - start:.1f} s; "
      f"path: {accumulate.path}")

rep_mean, rep_sem = run.mean("test_error"), run.sem("test_error")    # section 1's chain (replace)
rep_theory = jc.theory.expected(loop, truth, "test_error")
z_rep = (rep_mean - rep_theory) / rep_sem
acc_mean, acc_sem = acc.mean("test_error"), acc.sem("test_error")
t5 = np.arange(G5 + 1)
fixed = jc.theory.replace_vs_accumulate(d, T0, sigma0, t5)

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.errorbar(np.arange(G + 1), rep_mean, 2 * rep_sem, fmt="o", ms=4, capsize=3, color="C0", label="replace")
ax.plot(t5, fixed["replace"], "--", color="C0", lw=1, label="replace: (t+1)σ₀²d/(T₀−d−1)")
ax.fill_between(t5, acc_mean - 2 * acc_sem, acc_mean + 2 * acc_sem, color="C1", alpha=0.3, lw=0)
ax.plot(t5, acc_mean, color="C1", label="accumulate, fresh designs (mean ± 2 SE)")
ax.plot(t5, fixed["accumulate"], ":", color="k", lw=1, label="accumulate, fixed design (reference)")
ax.set(xlabel="generation t", ylabel="chain test error ‖ŵₜ − w₀‖² (Σ-norm)",
       title="Generator chain: replace vs accumulate")
ax.legend(fontsize=8)
plt.show()

gap = rep_mean[G] - acc_mean[G]
gap_sem = np.hypot(rep_sem[G], acc_sem[G])
print(f"t = {G}: replace {rep_mean[G]:.4f} ± {rep_sem[G]:.4f} (theory {rep_theory[G]:.4f}), "
      f"accumulate {acc_mean[G]:.4f} ± {acc_sem[G]:.4f}")
print(f"t = {G5}: accumulate {acc_mean[G5]:.4f} ± {acc_sem[G5]:.4f}, "
      f"replace theory {fixed['replace'][G5]:.4f}, fixed-design accumulate {fixed['accumulate'][G5]:.4f}")
print(f"replace chain within 4 SE of (t+1) sigma0^2 d/(T0-d-1) at every t: {np.abs(z_rep).max() < 4} "
      f"(max |z| = {np.abs(z_rep).max():.2f})")
print(f"accumulate below replace at t = {G} by more than 4 SE: {gap > 4 * gap_sem} "
      f"(gap = {gap:.4f}, {gap / gap_sem:.1f} SE)")
print(f"notebook ran in {time.perf_counter() - START:.1f} s")"""),
]


if __name__ == "__main__":
    sys.exit(main(CELLS, NOTEBOOK, doc=__doc__.splitlines()[0]))
