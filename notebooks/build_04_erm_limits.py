"""Build ``04_erm_limits.ipynb`` from the cells below (the notebook's source of truth).

    .venv/bin/python notebooks/build_04_erm_limits.py            # write, no outputs
    .venv/bin/python notebooks/build_04_erm_limits.py --execute  # write and run it

Edit the cells here, not in the ``.ipynb``, and rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

from notebook_builder import main

NOTEBOOK = Path(__file__).resolve().parent / "04_erm_limits.ipynb"

CELLS = [
    ("md", """\
# The limits of ERM on self-generated data

Amin, Bie, Kong, Syed & Vassilvitskii, "Learning from Synthetic Data: Limitations of ERM"
(arXiv 2601.15468; `docs/theory.md`, section 5). Each round adds $n$ fresh examples, a share $\\alpha$ of which
(the *contamination*) comes from the previous model; the learner pools every round so far
and does not know which examples are synthetic. In the library: `real_fraction = 1 - α`,
`pool="accumulate"`, and round $t$ (counted from 1) is generation $t - 1$.

This notebook

1. checks Amin et al.'s Theorem 1 (the variance of uniform weighting, i.e. ERM) against
   simulation below, at and above the phase transition $\\alpha = 1/2$, and at $\\alpha = 1$;
2. shows that per-generation weights beat ERM, and by how much;
3. shows ERM stalling on a PAC problem where a disagreement-based learner keeps learning."""),
    ("code", """\
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

import jcollapse as jc

START = time.perf_counter()
SEEDS = 2000   # every mean-estimation simulation below; SE = std / sqrt(SEEDS)
n, G = 100, 299  # per-round sample size; rounds t = 1..G+1"""),
    ("md", """\
## 1. Theorem 1 and the phase transition at α = 1/2

With uniform weights the error follows $e_t = \\frac{t-1+\\alpha}{t}e_{t-1} + U_t/t$, whose
variance is Theorem 1:
$\\mathrm{Var}(Y_t) = \\big(\\tfrac{1}{t^2} + (\\tfrac{\\Gamma(t+\\alpha)}{\\Gamma(t+1)})^2
\\sum_{k<t}(\\tfrac{\\Gamma(k+1)}{k\\Gamma(k+\\alpha)})^2\\big)\\Sigma$ (`jc.theory.amin_theorem_1`,
in units of one round's $\\Sigma/n$). Its leading term (`jc.theory.amin_asymptote`) has four
regimes: $1/((1-2\\alpha)t)$ below ½, $\\log t/t$ at ½, $C_\\alpha t^{-2(1-\\alpha)}$ above, and
$\\pi^2/6$ at $\\alpha = 1$: no convergence at all. One compiled loop serves all four
contaminations (the real fraction is a traced input)."""),
    ("code", """\
model = jc.models.GaussianMean(dim=1)
truth = model.params(mean=0.0, cov=[[1.0]])
rounds = np.arange(1, G + 2)

def mean_loop(alpha, weights=None):
    return jc.Loop(model, generations=G, real_fraction=1 - alpha, sample_size=n, pool="accumulate",
                   mixing="split", pool_weights=weights)

fig, ax = plt.subplots(figsize=(6.5, 4.3))
worst = 0.0
for i, alpha in enumerate((0.25, 0.5, 0.75, 1.0)):
    run = jc.simulate(mean_loop(alpha), truth, key=jax.random.key(i), seeds=SEEDS)
    mean, sem = n * run.mean("mean_sq_error"), n * run.sem("mean_sq_error")
    theorem = jc.theory.amin_theorem_1(alpha, G + 1)
    worst = max(worst, np.abs((mean - theorem) / sem).max())
    ax.fill_between(rounds, mean - 2 * sem, mean + 2 * sem, color=f"C{i}", alpha=0.25, lw=0)
    ax.plot(rounds, mean, color=f"C{i}", label=f"α = {alpha:g}")
    ax.plot(rounds, theorem, "k--", lw=0.9)
    late = rounds >= 10
    ax.plot(rounds[late], jc.theory.amin_asymptote(alpha, rounds[late]), ":", color=f"C{i}", lw=1.4)
ax.set(xscale="log", yscale="log", xlabel="round t", ylabel="Var(Y_t) in units of Σ/n",
       title="ERM on accumulated data: simulation (bands ± 2 SE), Theorem 1 (dashed), asymptotes (dotted)")
ax.legend()
plt.show()
print(f"Theorem 1 within 4 SE at every round for alpha in (0.25, 0.5, 0.75, 1): {worst < 4} "
      f"(max |z| = {worst:.2f} over {4 * (G + 1)} points)")"""),
    ("md", """\
## 2. A weighted estimator beats ERM

Uniform weighting is not the best unbiased combination. The pool weighs generation $s$ by
$w_s$; given the error variance $m$ of the pool so far, the new generation's share of the
pool $c = b\\,m/(b^2 m + 1/n)$ ($b = 1 - \\alpha$) minimises the next variance, and choosing
it greedily is optimal at every round (a Kalman gain, our derivation;
`jc.theory.optimal_pool_weights`). Each generation is then worth $b^2 n$ real samples:
$\\mathrm{Var} = \\Sigma/(1 + (t-1)(1-\\alpha)^2)$, the variance of the debiased
estimator $Z_s = (X_s - \\alpha Y_{s-1})/(1-\\alpha)$, reached by weighting alone. The weights need $\\alpha$."""),
    ("code", """\
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
report = []
for ax, alpha in zip(axes, (0.5, 0.75)):
    erm = mean_loop(alpha)
    best = mean_loop(alpha, jc.theory.optimal_pool_weights(erm))
    for j, (label, loop) in enumerate((("ERM (uniform weights)", erm), ("optimal weights", best))):
        run = jc.simulate(loop, truth, key=jax.random.key(10 + j), seeds=SEEDS)
        mean, sem = n * run.mean("mean_sq_error"), n * run.sem("mean_sq_error")
        exact = n * jc.theory.expected(loop, truth, "mean_sq_error")
        ax.fill_between(rounds, mean - 2 * sem, mean + 2 * sem, color=f"C{j}", alpha=0.25, lw=0)
        ax.plot(rounds, mean, color=f"C{j}", label=label)
        ax.plot(rounds, exact, "k--", lw=0.9)
        report.append((alpha, label, mean[-1], sem[-1], exact[-1], np.abs((mean - exact) / sem).max()))
    ax.set(xscale="log", yscale="log", xlabel="round t", title=f"α = {alpha:g}")
axes[0].set_ylabel("Var in units of Σ/n")
axes[0].legend()
plt.show()
for alpha, label, m, s, e, z in report:
    print(f"alpha = {alpha:g}, {label:22s}: {m:.4f} ± {s:.4f} at t = {G + 1} (exact {e:.4f}, max |z| {z:.2f})")
erm_last, best_last = report[2], report[3]
gap, gap_se = erm_last[2] - best_last[2], np.hypot(erm_last[3], best_last[3])
print(f"both estimators within 4 SE of their exact variance at every round: {max(r[5] for r in report) < 4}")
print(f"optimal weights beat ERM at alpha = 0.75, t = {G + 1}, by more than 4 SE: {gap > 4 * gap_se} "
      f"(ratio {erm_last[2] / best_last[2]:.2f}, {gap / gap_se:.0f} SE)")"""),
    ("md", """\
## 3. PAC learning: ERM stalls, learning the disagreement does not

Thresholds $f_\\theta(x) = 1[x \\ge \\theta]$ on $[0, 1]$, $x$ uniform, $\\theta^* = 0.3$. In
round $t \\ge 1$ each label comes from the previous classifier with probability $\\alpha$.
Repeated ERM on all data: for $\\alpha > 1/2$ the previous classifier's labels outvote the
truth's where the two disagree, and the error stops falling. The disagreement learner uses
the one certain fact: a label that disagrees with $f_{t-1}$ was drawn from $f^*$, so it is
a positive example of $f^* \\oplus f_{t-1}$; it flips $f_{t-1}$ on the smallest such region
(`jc.pac`). Both learners see the same data (same key)."""),
    ("code", """\
concept = jc.pac.Threshold()
target = concept.params(theta=0.3)
R, points = 60, 20
fig, ax = plt.subplots(figsize=(6.5, 4.3))
t_pac = np.arange(1, R + 2)
final = {}
for i, alpha in enumerate((0.25, 0.75, 0.9)):
    for learner, style in (("erm", "-"), ("disagreement", "--")):
        run = jc.pac.simulate(concept, target, contamination=alpha, sample_size=points, rounds=R,
                              learner=learner, seeds=1000, key=jax.random.key(20 + i))
        ax.plot(t_pac, run.mean(), style, color=f"C{i}", label=f"{learner}, α = {alpha:g}")
        final[alpha, learner] = (run.mean(), run.sem())
    ax.plot(t_pac, jc.pac.rate_bound(concept.vc_dim, alpha, points, R), ":", color=f"C{i}", lw=1)
ax.set(xscale="log", yscale="log", xlabel="round t", ylabel="error |θ_t − θ*|",
       title="Thresholds: ERM (solid), disagreement (dashed), √(d/((1−α)nt)) (dotted)")
ax.legend(fontsize=8, ncol=2)
plt.show()
for alpha in (0.75, 0.9):
    (erm_mean, erm_sem), (dis_mean, dis_sem) = final[alpha, "erm"], final[alpha, "disagreement"]
    stalled = erm_mean[-1] - 4 * erm_sem[-1] > 0.5 * erm_mean[4]
    learns = dis_mean[-1] + 4 * dis_sem[-1] < erm_mean[-1] - 4 * erm_sem[-1]
    print(f"alpha = {alpha:g}: ERM {erm_mean[4]:.4f} at t = 5 -> {erm_mean[-1]:.4f} at t = {R + 1}; "
          f"disagreement {dis_mean[-1]:.4f}")
    print(f"alpha = {alpha:g}: ERM keeps over half its round-5 error and the disagreement learner ends "
          f"below it (4 SE): {stalled and learns}")
print(f"notebook ran in {time.perf_counter() - START:.1f} s")"""),
]


if __name__ == "__main__":
    sys.exit(main(CELLS, NOTEBOOK, doc=__doc__.splitlines()[0]))
