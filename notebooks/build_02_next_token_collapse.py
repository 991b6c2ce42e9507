"""Build ``02_next_token_collapse.ipynb`` from the cells below (the notebook's source of truth).

    .venv/bin/python notebooks/build_02_next_token_collapse.py            # write, no outputs
    .venv/bin/python notebooks/build_02_next_token_collapse.py --execute  # write and run it

Edit the cells here, not in the ``.ipynb``, and rebuild.
"""

from __future__ import annotations

import sys
from pathlib import Path

from notebook_builder import main

NOTEBOOK = Path(__file__).resolve().parent / "02_next_token_collapse.ipynb"

CELLS = [
    ("md", """\
# Next-token collapse: from collapse to improvement

Bakshi & Chakraborty's setting (arXiv 2602.10531; `docs/theory.md`, section 2): a next-token
model with a fixed context is a categorical distribution $\\theta$ over $K$ tokens, fitted by frequencies.
Generation $t$ draws $n_t$ tokens from $q_t = a_t\\,\\theta^* + (1-a_t)\\,\\hat\\theta_{t-1}$
— a share $a_t$ of real tokens, the rest from the previous model — and the learner does not
know which is which. Theorem 3.1 gives $R_t = \\mathbb{E}\\|\\hat\\theta_t-\\theta^*\\|^2$
exactly. This notebook

1. checks Theorem 3.1 against simulation;
2. compares real-fraction and sample-size schedules, and reads the phase diagram of
   decaying $a_t$ against growing $n_t$ off the theory;
3. looks at what collapse does to the support and the KL divergence;
4. compares aggregating data with replacing it;
5. runs the Markov-chain counterpart.

The full reproduction, with figures and a table, is one command:
`jcollapse reproduce bakshi-chakraborty --out out/bc` (add `--seeds 10000` for the large
version)."""),
    ("code", """\
import time

import jax
import matplotlib.pyplot as plt
import numpy as np

import jcollapse as jc

K = 50
model = jc.models.Categorical(num_categories=K)
truth = model.params(probs=np.random.default_rng(0).dirichlet(np.ones(K)))   # theta* ~ Dirichlet(1)
c = jc.theory.collapse_limit(truth)                                        # 1 - ||theta*||^2
print(f"K = {K}, 1 - ||theta*||^2 = {c:.4f}")"""),
    ("md", """\
## 1. Theorem 3.1 against simulation

Constant $a = 0.1$ and $n = 100$: the paper's recursion
$R_t = (n_0/n_t)R_0 + ((n_t-1)/n_t)(1-a_t)^2R_{t-1}$ settles at the fixed point
$R_\\infty = R_0\\,n/(n-(n-1)(1-a)^2)$ — bounded (no collapse), but never better than $R_0$.
The exact-statistics path draws each generation's counts as one multinomial, so it costs
$O(K)$ whatever $n$ is."""),
    ("code", """\
SEEDS, G = 300, 100
loop = jc.Loop(model, generations=G, real_fraction=0.1, sample_size=100)
start = time.perf_counter()
run = jc.simulate(loop, truth, key=jax.random.key(0), seeds=SEEDS)
print(f"{SEEDS} seeds x {G + 1} generations in {time.perf_counter() - start:.1f} s (compilation included)")

theory = jc.theory.expected(loop, truth, "param_sq_error")        # Theorem 3.1
paper = jc.theory.theorem_3_1(loop, truth, form="paper")           # the paper's form, same numbers
z = (run.mean("param_sq_error") - theory) / run.sem("param_sq_error")
print(f"R_G = {run.mean('param_sq_error')[-1]:.5f} ± {run.sem('param_sq_error')[-1]:.5f}, "
      f"theory {theory[-1]:.5f}, fixed point {jc.theory.fixed_point(truth, 0.1, 100):.5f}")
print(f"paper's form equals the derived form: {np.allclose(paper, theory, rtol=1e-12)}")
print(f"max |z| over {G + 1} generations = {np.abs(z).max():.2f}; within 4 SE: {np.abs(z).max() < 4}")"""),
    ("md", """\
## 2. Schedules: constant versus decaying real data, fixed versus growing samples

Schedules are data to the compiled loop, so every variant below with $0 < a_t < 1$ reuses
one compilation. Without real data ($a = 0$) every seed drifts to a point mass and $R_t$
climbs to $1-\\|\\theta^*\\|^2$; a constant share holds it; growing $n_t$ with real data
drives it to zero; a decaying $a_t = 1/(t+1)$ with fixed $n$ loses slowly."""),
    ("code", """\
variants = {
    "a = 0": loop.replace(real_fraction=0.0),
    "a = 0.1": loop,
    "a_t = 1/(t+1)": loop.replace(real_fraction=jc.schedules.power(1.0, -1.0)),
    "a = 0.1, n_t = 100(t+1)": loop.replace(sample_size=jc.schedules.power(100, 1.0)),
    "a_t = (t+1)^-1/2, n_t = 100(t+1)^1.5": loop.replace(real_fraction=jc.schedules.power(1.0, -0.5),
                                                         sample_size=jc.schedules.power(100, 1.5)),
}
runs = {"a = 0.1": run}
t = np.arange(G + 1)
fig, ax = plt.subplots(figsize=(7, 4))
worst = 0.0
for i, (label, variant) in enumerate(variants.items()):
    result = runs.get(label) or jc.simulate(variant, truth, key=jax.random.key(i + 1), seeds=SEEDS)
    runs[label] = result
    mean, sem = result.mean("param_sq_error"), result.sem("param_sq_error")
    expected = jc.theory.expected(variant, truth, "param_sq_error")
    worst = max(worst, float(np.max(np.abs(mean - expected) / sem)))
    ax.fill_between(t, np.maximum(mean - 2 * sem, 1e-9), mean + 2 * sem, color=f"C{i}", alpha=0.25, lw=0)
    ax.plot(t, mean, color=f"C{i}", label=label)
    ax.plot(t, expected, "k--", lw=1)
ax.plot([], [], "k--", lw=1, label="Theorem 3.1")
ax.axhline(c, color="0.5", lw=0.8, ls=":")
ax.set(yscale="log", xlabel="generation t", ylabel="R_t", title=f"Categorical K = {K}, mean ± 2 SE over {SEEDS} seeds")
ax.legend(fontsize=8)
plt.show()
print(f"every schedule within 4 SE of Theorem 3.1 at every generation: {worst < 4} (max |z| = {worst:.2f})")"""),
    ("md", """\
### The phase diagram, from the theory alone

For $a_t = 0.5\\,(t+1)^{-\\mathrm{decay}}$ and $n_t = 100\\,(t+1)^{\\mathrm{growth}}$, our
derivation (`jc.theory.power_schedule_regime`) says $R_t \\to 0$ iff growth > decay and
decay ≤ 1 ($a_t n_t \\to \\infty$ and $\\sum a_t = \\infty$); $R_t \\to 1-\\|\\theta^*\\|^2$ when
growth < decay (and growth ≤ 1); a limit in between otherwise. The recursion is cheap, so the
finite-$G$ picture is instant; the reproduction adds the simulated panel."""),
    ("code", """\
exponents = np.linspace(0, 2, 17)
ratio = np.empty((exponents.size, exponents.size))
for i, growth in enumerate(exponents):
    for j, decay in enumerate(exponents):
        lp = jc.Loop(model, generations=200, real_fraction=jc.schedules.power(0.5, -decay),
                     sample_size=jc.schedules.power(100, growth))
        r = jc.theory.expected(lp, truth, "param_sq_error")
        ratio[i, j] = r[-1] / r[0]
fig, ax = plt.subplots(figsize=(5.5, 4.5))
image = ax.imshow(np.log10(ratio), origin="lower", extent=(-0.0625, 2.0625) * 2, cmap="RdBu_r", vmin=-2.5, vmax=2.5)
ax.plot([0, 1], [0, 1], "k-", [1, 2], [1, 1], "k--", [1, 1], [1, 2], "k:")
ax.set(xlabel="decay exponent of a_t", ylabel="growth exponent of n_t", title="log10(R_200 / R_0), Theorem 3.1")
fig.colorbar(image, ax=ax)
plt.show()
print("regimes:", {(d, g): jc.theory.power_schedule_regime(d, g) for d, g in [(0.5, 1.0), (1.0, 0.5), (1.5, 2.0)]})"""),
    ("md", """\
## 3. What collapse does to the support

With $a = 0$ a token that draws no sample is gone for good: `support` (tokens still alive)
falls, and `kl` $= \\mathrm{KL}(P^*\\|\\hat P)$ becomes $+\\infty$ as soon as one true token is
lost. That is the honest value, not a failure: those seeds keep status 0. With
$\\theta^* \\sim \\mathrm{Dirichlet}(1)$ some tokens are so rare that $n_0 = 100$ real draws
already miss one in most seeds: the KL is infinite from generation 0, while the support
shows the collapse itself."""),
    ("code", """\
collapse = runs["a = 0"]
for s in (0, 10, G):
    print(f"t = {s:3d}: tokens alive {collapse.mean('support')[s]:5.1f} of {K}, "
          f"seeds with KL = +inf {np.mean(np.isinf(collapse.metrics['kl'][:, s])):.0%}")
print("failed seeds:", int(collapse.failed.sum()))
fig, ax = plt.subplots(figsize=(6, 3.5))
for label in ("a = 0", "a = 0.1"):
    ax.plot(t, runs[label].mean("support"), label=label)
ax.set(xlabel="generation t", ylabel="tokens alive (mean)", title="support")
ax.legend()
plt.show()"""),
    ("md", """\
## 4. Aggregating data versus replacing it

With `pool="accumulate"` each generation is fitted on all data so far. Our exact recursion
for that pool (`jc.theory.expected`, derived in `jcollapse/theory/_categorical.py`) shows the
error grows by $O(1/t^2)$ per generation: bounded even with no real data."""),
    ("code", """\
accumulate = loop.replace(real_fraction=0.0, pool="accumulate")
result = jc.simulate(accumulate, truth, key=jax.random.key(10), seeds=SEEDS)
expected = jc.theory.expected(accumulate, truth, "param_sq_error")
z = (result.mean("param_sq_error") - expected) / result.sem("param_sq_error")
print(f"accumulate, a = 0: R_G = {result.mean('param_sq_error')[-1]:.5f} (theory {expected[-1]:.5f}), "
      f"replace: {runs['a = 0'].mean('param_sq_error')[-1]:.4f}; R_0 = {expected[0]:.5f}")
print(f"accumulate within 4 SE of its recursion: {np.abs(z).max() < 4} (max |z| = {np.abs(z).max():.2f})")"""),
    ("md", """\
## 5. A Markov chain: context length 1

`MarkovChain(num_states, sequence_length)` learns a transition matrix from sequences; a
whole sequence is real or synthetic. No closed form is known to us; the row-by-row
Theorem 3.1 with each row's expected number of visits is a useful reference line
(`jc.theory.markov_row_heuristic`, a heuristic: it ignores the randomness of the visit
counts). With real data the chain holds near its fresh-data error; without it, rows
collapse one by one. For a few sequences per generation the raw path (drawing every token)
is faster than the exact transition counts; both are exact in distribution."""),
    ("code", """\
S = 4
chain = jc.models.MarkovChain(num_states=S, sequence_length=20)
chain_truth = chain.params(transition=np.random.default_rng(1).dirichlet(np.ones(S), size=S),
                           initial=np.full(S, 1 / S))
chain_loop = jc.Loop(chain, generations=G, real_fraction=0.1, sample_size=30)  # auto picks raw here
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for i, a in enumerate((0.0, 0.1)):
    lp = chain_loop.replace(real_fraction=a)
    result = jc.simulate(lp, chain_truth, key=jax.random.key(20 + i), seeds=SEEDS)
    axes[0].plot(t, result.mean("param_sq_error"), color=f"C{i}", label=f"a = {a}")
    axes[0].plot(t, jc.theory.markov_row_heuristic(lp, chain_truth), "--", color=f"C{i}", lw=1)
    axes[1].plot(t, result.mean("stationary_tv"), color=f"C{i}", label=f"a = {a}")
axes[0].set(yscale="log", xlabel="generation t", title="||P_hat - P*||_F^2 (dashed: row-by-row heuristic)")
axes[1].set(xlabel="generation t", title="TV of the long-run distributions")
axes[0].legend()
plt.show()"""),
]


if __name__ == "__main__":
    sys.exit(main(CELLS, NOTEBOOK, doc=__doc__.splitlines()[0]))
