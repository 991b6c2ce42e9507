"""The learned generators against the per-seed scikit-learn loops their papers' code runs.

- **Mixture** (Shumailov et al.'s loop): a 2-component full-covariance mixture refitted by EM
  to 1,000 points of its own samples each generation (one 2-D Gaussian blob at generation 0),
  with the test set's negative log-likelihood measured every generation. jcollapse runs every
  seed at once, each fit a fixed budget of EM steps (and the sample metrics of
  :class:`jcollapse.models.GaussianMixture` besides); the baseline is scikit-learn's
  ``GaussianMixture(2)`` fitted per seed and generation, stopping at its tolerance (so it
  often runs fewer EM steps than jcollapse), then ``sample`` and ``score``.
- **KDE** ("Collapse or Thrive"): a Gaussian kernel density estimate with a fixed bandwidth
  refitted to its own 1,000 samples, the test NLL of 500 points every generation; the
  baseline is scikit-learn's ``KernelDensity`` per seed and generation (``fit``, ``sample``,
  ``score_samples``).

The baselines run on a few seeds and are scaled to the full count (each seed costs the same).
Usage: ``python benchmarks/learned_generators.py [--quick]`` prints the table; ``bench.py``
calls :func:`measure`.
"""

from __future__ import annotations

import argparse
import time

import jax
import numpy as np

import jcollapse as jc

#: Targets of the vmapped loops over the per-seed scikit-learn loops.
TARGETS = {"mixture": 50.0, "kde": 20.0}


def _mixture_loop(generations: int, n: int, em_steps: int, test_size: int):
    model = jc.models.GaussianMixture(2, 2, em_steps=em_steps, test_size=test_size)
    truth = jc.truths.GaussianMixture.gaussian(mean=[0.0, 0.0], cov=np.eye(2))
    return jc.Loop(model, generations=generations, real_fraction=0.0, sample_size=n), truth


def _kde_loop(generations: int, n: int, test_size: int):
    model = jc.models.KernelDensity(dim=2, bandwidth=0.5, test_size=test_size)
    truth = jc.truths.GaussianMixture.isotropic([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]], std=1.0)
    return jc.Loop(model, generations=generations, real_fraction=0.0, sample_size=n), truth


def sklearn_mixture_seed(seed: int, generations: int, n: int, test_size: int) -> np.ndarray:
    """One seed of the scikit-learn mixture loop: the test NLL of every generation."""
    from sklearn.mixture import GaussianMixture  # noqa: PLC0415 (a benchmark dependency only)

    rng = np.random.default_rng(seed)
    test, data = rng.standard_normal((test_size, 2)), rng.standard_normal((n, 2))
    nll = np.empty(generations + 1)
    for t in range(generations + 1):
        fit = GaussianMixture(2, random_state=int(rng.integers(2**31))).fit(data)
        nll[t] = -fit.score(test)
        data = fit.sample(n)[0]
    return nll


def sklearn_kde_seed(seed: int, generations: int, n: int, test_size: int) -> np.ndarray:
    """One seed of the scikit-learn KDE loop: the test NLL of every generation."""
    from sklearn.neighbors import KernelDensity  # noqa: PLC0415 (a benchmark dependency only)

    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    test = centres[rng.integers(3, size=test_size)] + rng.standard_normal((test_size, 2))
    data = centres[rng.integers(3, size=n)] + rng.standard_normal((n, 2))
    nll = np.empty(generations + 1)
    for t in range(generations + 1):
        fit = KernelDensity(bandwidth=0.5).fit(data)
        nll[t] = -fit.score_samples(test).mean()
        data = fit.sample(n, random_state=int(rng.integers(2**31)))
    return nll


def _time(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def measure(seeds: int, generations: int, n: int, test_size: int, em_steps: int, baseline_seeds: int,
            repeats: int) -> dict:
    """Seconds of each vmapped loop (best of `repeats` after a warm-up) and of its per-seed
    scikit-learn baseline (`baseline_seeds` seeds, scaled to `seeds`), and their ratios."""
    loops = {"mixture": _mixture_loop(generations, n, em_steps, test_size), "kde": _kde_loop(generations, n, test_size)}
    baselines = {"mixture": sklearn_mixture_seed, "kde": sklearn_kde_seed}
    out = {}
    for name, (loop, truth) in loops.items():
        def run(loop=loop, truth=truth):
            return jax.device_get(jc.simulate(loop, truth, key=jax.random.key(0), seeds=seeds, progress=False).metrics)

        def baseline(seed_loop=baselines[name]):
            return [seed_loop(s, generations, n, test_size) for s in range(baseline_seeds)]

        run()
        ours = min(_time(run) for _ in range(repeats))
        theirs = _time(baseline)
        theirs *= seeds / baseline_seeds
        out[name] = dict(seeds=seeds, generations=generations, n=n, test_size=test_size, jcollapse_seconds=ours,
                         sklearn_seconds=theirs, ratio=theirs / ours, target=TARGETS[name],
                         em_steps=em_steps if name == "mixture" else None)
    return out


def markdown(results: dict) -> list[str]:
    """The table's lines."""
    lines = ["**Learned generators** against per-seed scikit-learn (baseline timed on a few seeds, scaled):", "",
             "| loop | seeds x generations | jcollapse (s) | scikit-learn (s) | ratio | target |",
             "| --- | ---: | ---: | ---: | ---: | --- |"]
    for name, r in results.items():
        label = f"mixture, EM {r['em_steps']} steps" if name == "mixture" else "KDE, h = 0.5"
        met = "met" if r["ratio"] >= r["target"] else "not met"
        lines.append(f"| {label}, n = {r['n']:,} | {r['seeds']} x {r['generations']} | {r['jcollapse_seconds']:.2f} "
                     f"| {r['sklearn_seconds']:.1f} | {r['ratio']:,.0f}x | >= {r['target']:.0f}x: {met} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = (16, 5, 200, 100, 20, 2, 1) if args.quick else (100, 100, 1000, 500, 20, 3, 2)
    print("\n".join(markdown(measure(*sizes))))


if __name__ == "__main__":
    main()
