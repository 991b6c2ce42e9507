"""Closed forms for regression model collapse (``jcollapse.theory._regression``) against
independently computed reference values, exact identities and limits, input errors, and float64
NumPy Monte-Carlo.

Monte-Carlo checks of exact formulas: ``|mean - formula| < 4 SE`` with a fixed
``np.random.default_rng`` seed. Sample sizes are at least ``d + 5`` wherever the error
is a ``(X^T X)^{-1}`` trace, so that its variance is finite and the SE meaningful.

The deterministic equivalents are asymptotic, so their check allows ``4 SE`` plus a
relative approximation error ``DE_RELATIVE_TOLERANCE`` per term. Measured for exactly the
configuration of ``test_deterministic_equivalents_match_monte_carlo`` (d = 50,
``Sigma = diag(1/j)``, the four ``(T, lambda)`` of ``DE_POINTS``) with 20000 designs per
point, the largest relative deviations were: bias +1.7 % +- 0.16 % (T = 100,
lambda = 0.01; the equivalent underestimates at finite d), variance -0.49 % +- 0.02 %
(T = 50, lambda = 1), generator trace -0.53 % +- 0.03 % (T = 25, lambda = 0.1). The
allowances, 2.5 % for the bias and 1 % for the others, sit above these by more than
4 SE of the measurement.
"""

import numpy as np
import pytest

from jcollapse.theory import (
    ols_chain_error,
    ols_pipeline_error,
    overparametrized_collapse,
    power_law_rates,
    power_law_spectrum,
    replace_vs_accumulate,
    ridge_deterministic_equivalent,
)

Z_MAX = 4.0
SEEDS = 20000
DE_RELATIVE_TOLERANCE = {"bias": 0.025, "variance": 0.01, "generator": 0.01}


def rotated_cov(eigenvalues, seed):
    """``Q diag(eigenvalues) Q^T`` for a random rotation ``Q``."""
    d = len(eigenvalues)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return (q * np.asarray(eigenvalues)) @ q.T


def designs(rng, cov, seeds, rows):
    """``seeds`` independent ``rows x d`` designs with ``N(0, cov)`` rows."""
    chol = np.linalg.cholesky(cov)
    return rng.standard_normal((seeds, rows, cov.shape[0])) @ chol.T


def ols(x, y):
    """Batched OLS by the normal equations."""
    return np.linalg.solve(x.transpose(0, 2, 1) @ x, (x.transpose(0, 2, 1) @ y[..., None]))[..., 0]


def sq_norm(v, cov):
    return np.einsum("ni,ij,nj->n", v, cov, v)


def assert_within(samples, expected, label):
    mean = samples.mean()
    se = samples.std(ddof=1) / np.sqrt(samples.size)
    assert se > 0
    z = abs(mean - expected) / se
    print(f"{label}: mean={mean:.5g} expected={expected:.5g} z={z:.2f}")
    assert z < Z_MAX, label


# ----------------------------------------------------------------------------------------
# By-hand values, identities and limits.


def test_reference_values():
    # Reference values (docs/theory.md, section 6.1): d = 20, T_0 = 60, T = 80, sigma_0 = 0.7, sigma = 0.5.
    got = ols_pipeline_error(dim=20, sample_size=80, noise=0.5, generator_sample_size=60,
                             generator_noise=0.7, generations=np.array([0, 1, 3, 6]))
    np.testing.assert_allclose(got, [0.0847, 0.336, 0.839, 1.592], atol=5e-4)
    np.testing.assert_allclose(got, 0.25 * 20 / 59 + np.array([0, 1, 3, 6]) * 0.49 * 20 / 39,
                               rtol=1e-14)
    assert isinstance(ols_pipeline_error(20, 80, 0.5, 60, 0.7, 1), float)


def test_ols_chain_matches_pipeline_and_replace():
    chain = ols_chain_error(dim=5, sample_sizes=[40] * 4, noise=0.3)
    generator = ols_pipeline_error(5, 40, 0.0, 40, 0.3, np.arange(1, 5))
    np.testing.assert_allclose(chain, generator, rtol=1e-14)
    replace = replace_vs_accumulate(dim=5, sample_size=40, noise=0.3, generations=np.arange(4))
    np.testing.assert_allclose(chain, replace["replace"], rtol=1e-14)
    np.testing.assert_allclose(ols_chain_error(2, [5, 13], 2.0), [4.0, 4.8], rtol=1e-14)


def test_overparametrized_limits():
    n = np.arange(0, 200)
    curve = overparametrized_collapse(weights_sq_norm=3.0, dim=10, sample_size=4, generations=n)
    assert curve[0] == 0.0
    assert np.all(np.diff(curve[:30]) > 0)
    np.testing.assert_allclose(curve[-1], 3.0, rtol=1e-12)  # collapse to the null model
    np.testing.assert_allclose(curve, 3.0 * (1 - 0.4**n), rtol=1e-14)
    assert overparametrized_collapse(3.0, 10, 10, 5) == 0.0  # T_0 >= d: exact refits
    assert overparametrized_collapse(3.0, 10, 25, 5) == 0.0


def test_replace_vs_accumulate_values_and_bound():
    t = np.arange(0, 2000)
    out = replace_vs_accumulate(dim=3, sample_size=10, noise=2.0, generations=t)
    c = 4.0 * 3 / 6
    np.testing.assert_allclose(out["replace"], c * (t + 1), rtol=1e-14)
    np.testing.assert_allclose(out["accumulate"][:3], c * np.array([1, 1.25, 1.25 + 1 / 9]),
                               rtol=1e-14)
    assert out["replace"][0] == out["accumulate"][0]  # the real-data fit
    assert np.all(out["accumulate"] < c * np.pi**2 / 6)
    np.testing.assert_allclose(out["accumulate"][-1], c * np.pi**2 / 6, rtol=1e-3)
    single = replace_vs_accumulate(dim=3, sample_size=10, noise=2.0, generations=2)
    assert single == {"replace": 3 * c, "accumulate": out["accumulate"][2]}


def test_power_law_rates_and_spectrum():
    rates = power_law_rates(beta=np.array([2.0, 1.5]), r=np.array([0.5, 0.3]))
    np.testing.assert_allclose(rates["ell_crit"], [2 / 3, 1.5 / 1.9], rtol=1e-14)
    np.testing.assert_allclose(rates["error_exponent"], [2 / 3, 0.9 / 1.9], rtol=1e-14)
    eig, w0 = power_law_spectrum(dim=100, beta=1.5, r=0.3)
    j = np.arange(1, 101)
    np.testing.assert_allclose(eig, j**-1.5, rtol=1e-14)
    np.testing.assert_allclose(eig * w0**2, j ** -(1 + 2 * 1.5 * 0.3), rtol=1e-12)


def test_power_law_exponent_from_deterministic_equivalent():
    # Ridge at lambda = T^-ell_crit on the power-law problem: the deterministic
    # equivalent's error decays with the predicted exponent. Measured local slopes
    # (d = 2e5): 0.660 over T = 1e3..1e4 and 0.663 over 1e4..1e5 against 2/3.
    eig, w0 = power_law_spectrum(dim=100_000, beta=2.0, r=0.5)
    rates = power_law_rates(beta=2.0, r=0.5)
    sizes = np.array([1_000, 10_000])
    errors = [ridge_deterministic_equivalent(eig, w0, size ** -rates["ell_crit"], size,
                                             1.0)["total"] for size in sizes]
    slope = -np.diff(np.log(errors))[0] / np.log(10.0)
    assert abs(slope - rates["error_exponent"]) < 0.01


def test_ridge_kappa_solves_fixed_point():
    eig = 1.0 / np.arange(1, 31)
    w0 = np.ones(30)
    ridge = np.array([[0.0, 1e-8], [1e-3, 10.0]])
    for size in (10, 100):
        out = ridge_deterministic_equivalent(eig, w0, ridge, size, 0.5)
        kappa = out["kappa"]
        assert kappa.shape == ridge.shape
        df1 = np.sum(eig / (eig + kappa[..., None]), axis=-1)
        np.testing.assert_allclose(kappa - ridge, kappa * df1 / size, rtol=1e-12, atol=1e-300)
        assert np.all(kappa >= ridge)
    # lambda = 0, T < d: df_1(kappa) = T; the ridgeless limit is continuous.
    low = ridge_deterministic_equivalent(eig, w0, [0.0, 1e-10], 10, 0.5)
    assert low["kappa"][0] > 0
    np.testing.assert_allclose(np.sum(eig / (eig + low["kappa"][0])), 10, rtol=1e-12)
    for key in low:
        np.testing.assert_allclose(low[key][0], low[key][1], rtol=1e-7)


def test_ridge_vectorised_and_basis_free():
    eig = np.array([3.0, 1.0, 0.5, 0.1])
    w0 = np.array([0.5, -1.0, 2.0, 0.3])
    cov = rotated_cov(eig, seed=7)
    q = np.linalg.eigh(cov)[1]
    kwargs = dict(sample_size=9, noise=0.4, generator_sample_size=12, generator_noise=0.6,
                  generations=3)
    ridge = np.array([0.0, 0.01, 0.3, 2.0])
    # w0 given in cov's eigenbasis (eigh sorts eigenvalues ascending).
    order = np.argsort(eig)
    diagonal = ridge_deterministic_equivalent(eig[order], w0[order], ridge, **kwargs)
    full = ridge_deterministic_equivalent(cov, q @ w0[order], ridge, **kwargs)
    for key in diagonal:
        np.testing.assert_allclose(full[key], diagonal[key], rtol=1e-10, atol=1e-15)
        for i, lam in enumerate(ridge):
            single = ridge_deterministic_equivalent(eig[order], w0[order], lam, **kwargs)[key]
            assert isinstance(single, float)
            np.testing.assert_allclose(single, diagonal[key][i], rtol=1e-13)
    np.testing.assert_allclose(diagonal["total"],
                               diagonal["bias"] + diagonal["variance"] + diagonal["generator"],
                               rtol=1e-14)


def test_ridge_limits():
    eig = np.array([2.0, 1.0, 0.5])
    w0 = np.array([1.0, 2.0, -1.0])
    # lambda = 0, T > d: OLS with T - d where the exact value has T - d - 1; the generator
    # term is exact (df_2 = d).
    ols_de = ridge_deterministic_equivalent(eig, w0, 0.0, 23, 0.5, generator_sample_size=9,
                                            generator_noise=0.7, generations=4)
    assert ols_de["kappa"] == 0.0 and ols_de["bias"] == 0.0
    np.testing.assert_allclose(ols_de["variance"], 0.25 * 3 / 20, rtol=1e-14)
    np.testing.assert_allclose(ols_de["generator"],
                               ols_pipeline_error(3, 23, 0.0, 9, 0.7, 4), rtol=1e-14)
    # lambda -> infinity: the null model, error ||w_0||_Sigma^2.
    big = ridge_deterministic_equivalent(eig, w0, 1e9, 23, 0.5, generator_sample_size=9,
                                         generator_noise=0.7, generations=4)
    np.testing.assert_allclose(big["bias"], np.sum(eig * w0**2), rtol=1e-8)
    assert big["variance"] < 1e-15 and big["generator"] < 1e-15
    # No generations: no generator term, and T_0 is not needed.
    assert ridge_deterministic_equivalent(eig, w0, 0.1, 23, 0.5)["generator"] == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: ols_pipeline_error(20, 21, 0.5, 60, 0.7, 1), r"sample_size must be .*dim \+ 2"),
        (lambda: ols_pipeline_error(20, 80, 0.5, 21, 0.7, 1), "generator_sample_size must be"),
        (lambda: ols_pipeline_error(20, 80, -0.5, 60, 0.7, 1), "noise must be finite and >= 0"),
        (lambda: ols_pipeline_error(20, 80, 0.5, 60, 0.7, -1), "generations must be"),
        (lambda: ols_pipeline_error(20, 80, 0.5, 60, 0.7, 1.5), "generations must be"),
        (lambda: ols_pipeline_error(0, 80, 0.5, 60, 0.7, 1), "dim must be"),
        (lambda: ols_chain_error(3, [10, 4], 1.0), "sample_sizes must be"),
        (lambda: ols_chain_error(3, [[10, 10]], 1.0), "sample_sizes must be a 1-d"),
        (lambda: ols_chain_error(3, [10], [1.0, 2.0]), "noise must be a single"),
        (lambda: overparametrized_collapse(-1.0, 10, 4, 2), "weights_sq_norm must be"),
        (lambda: overparametrized_collapse(1.0, 10, 0, 2), "sample_size must be"),
        (lambda: replace_vs_accumulate(3, 4, 1.0, 2), r"sample_size must be .*dim \+ 2"),
        (lambda: replace_vs_accumulate(3, 10, 1.0, -1), "generations must be"),
        (lambda: power_law_rates(1.0, 0.5), "beta must be finite and > 1"),
        (lambda: power_law_rates(2.0, 1.5), r"r must lie in \(0, 1\]"),
        (lambda: power_law_rates(2.0, 0.0), r"r must lie in \(0, 1\]"),
        (lambda: power_law_spectrum(0, 2.0, 0.5), "dim must be"),
        (lambda: power_law_spectrum(5, -2.0, 0.5), "beta must be"),
        (lambda: power_law_spectrum(5, 2.0, 0.0), "r must be"),
        (lambda: ridge_deterministic_equivalent([1.0, 0.0], [1.0, 1.0], 0.1, 5, 1.0),
         "cov must be positive-definite"),
        (lambda: ridge_deterministic_equivalent([[1.0, 0.5], [0.0, 1.0]], [1.0, 1.0], 0.1, 5,
                                                1.0), "cov must be symmetric"),
        (lambda: ridge_deterministic_equivalent(np.eye(2), [1.0, 1.0, 1.0], 0.1, 5, 1.0),
         r"weights must be a finite vector of shape \(2,\)"),
        (lambda: ridge_deterministic_equivalent(np.ones((2, 3)), [1.0, 1.0], 0.1, 5, 1.0),
         r"cov must be a \(d, d\) matrix"),
        (lambda: ridge_deterministic_equivalent([1.0, 2.0], [1.0, 1.0], -0.1, 5, 1.0),
         "ridge must be finite and >= 0"),
        (lambda: ridge_deterministic_equivalent([1.0, 2.0], [1.0, 1.0], 0.0, 2, 1.0),
         "ridge = 0 needs sample_size != dim"),
        (lambda: ridge_deterministic_equivalent([1.0, 2.0], [1.0, 1.0], 0.1, 0, 1.0),
         "sample_size must be"),
        (lambda: ridge_deterministic_equivalent([1.0, 2.0], [1.0, 1.0], 0.1, 5, 1.0,
                                                generations=1),
         "generator_sample_size is needed"),
        (lambda: ridge_deterministic_equivalent([1.0, 2.0], [1.0, 1.0], 0.1, 5, 1.0,
                                                generator_sample_size=3, generations=1),
         r"generator_sample_size must be .*dim \+ 2"),
    ],
)
def test_input_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----------------------------------------------------------------------------------------
# Monte-Carlo checks of the exact formulas (4 SE).


def generator_chain(rng, cov, w0, rows, noise, generations, seeds):
    """``[w_hat_0 = w_0, w_hat_1, ..., w_hat_n]`` of the OLS generator chain, per seed."""
    chain = [np.broadcast_to(w0, (seeds, w0.size))]
    for _ in range(generations):
        x = designs(rng, cov, seeds, rows)
        y = np.einsum("nti,ni->nt", x, chain[-1]) + noise * rng.standard_normal((seeds, rows))
        chain.append(ols(x, y))
    return chain


def test_ols_pipeline_monte_carlo():
    rng = np.random.default_rng(0)
    cov = rotated_cov([3.0, 1.0, 0.4, 0.1], seed=1)
    w0 = np.array([1.0, -0.5, 0.25, 2.0])
    dim, rows0, rows, sigma0, sigma = 4, 10, 12, 0.7, 0.5
    chain = generator_chain(rng, cov, w0, rows0, sigma0, 3, SEEDS)
    for n, w_gen in enumerate(chain):
        x = designs(rng, cov, SEEDS, rows)
        y = np.einsum("nti,ni->nt", x, w_gen) + sigma * rng.standard_normal((SEEDS, rows))
        errors = sq_norm(ols(x, y) - w0, cov)
        expected = ols_pipeline_error(dim, rows, sigma, rows0, sigma0, n)
        assert_within(errors, expected, f"OLS pipeline n={n}")


def test_ols_chain_monte_carlo():
    rng = np.random.default_rng(1)
    cov = np.diag([2.0, 1.0, 0.2])
    w0 = np.array([0.3, 1.0, -1.0])
    sizes = [8, 11, 9, 14]
    expected = ols_chain_error(dim=3, sample_sizes=sizes, noise=0.8)
    w = np.broadcast_to(w0, (SEEDS, 3))
    for t, rows in enumerate(sizes):
        x = designs(rng, cov, SEEDS, rows)
        w = ols(x, np.einsum("nti,ni->nt", x, w) + 0.8 * rng.standard_normal((SEEDS, rows)))
        assert_within(sq_norm(w - w0, cov), expected[t], f"OLS chain t={t}")


def test_overparametrized_monte_carlo():
    rng = np.random.default_rng(2)
    dim, rows = 8, 3
    w0 = np.random.default_rng(3).standard_normal(dim)
    w = np.broadcast_to(w0, (SEEDS, dim))
    for n in range(1, 5):
        x = rng.standard_normal((SEEDS, rows, dim))
        # min-norm interpolation of the noise-free labels x w: x^T (x x^T)^{-1} x w
        coef = np.linalg.solve(x @ x.transpose(0, 2, 1), np.einsum("nti,ni->nt", x, w)[..., None])
        w = np.einsum("nti,nt->ni", x, coef[..., 0])
        expected = overparametrized_collapse(w0 @ w0, dim, rows, n)
        assert_within(np.sum((w - w0) ** 2, axis=1), expected, f"over-parametrised n={n}")


def test_replace_vs_accumulate_monte_carlo():
    # One design per seed, reused by every generation; accumulate fits OLS on the design
    # stacked t + 1 times with all labels so far (literally, not by the derived recursion).
    rng = np.random.default_rng(4)
    cov = np.diag([1.5, 1.0, 0.3])
    w0 = np.array([1.0, 2.0, -0.5])
    dim, rows, sigma, last = 3, 10, 0.6, 4
    expected = replace_vs_accumulate(dim, rows, sigma, np.arange(last + 1))
    x = designs(rng, cov, SEEDS, rows)
    w_replace = w_accumulate = np.broadcast_to(w0, (SEEDS, dim))
    labels = []
    for t in range(last + 1):
        noise = sigma * rng.standard_normal((2, SEEDS, rows))
        w_replace = ols(x, np.einsum("nti,ni->nt", x, w_replace) + noise[0])
        labels.append(np.einsum("nti,ni->nt", x, w_accumulate) + noise[1])
        w_accumulate = ols(np.concatenate([x] * (t + 1), axis=1), np.concatenate(labels, axis=1))
        assert_within(sq_norm(w_replace - w0, cov), expected["replace"][t], f"replace t={t}")
        assert_within(sq_norm(w_accumulate - w0, cov), expected["accumulate"][t],
                      f"accumulate t={t}")


@pytest.mark.parametrize("rows", [10, 4])  # downstream T > d and T < d
def test_ridge_decomposition_is_exact(rows):
    # The full pipeline's error minus the three-term formula evaluated on the same
    # downstream design has mean zero (paired, so the SE is small).
    rng = np.random.default_rng(5 + rows)
    cov = rotated_cov([2.0, 1.0, 0.5, 0.25, 0.125, 0.0625], seed=2)
    w0 = np.array([1.0, -1.0, 0.5, 0.0, 2.0, 0.3])
    dim, rows0, sigma0, sigma, ridge, n = 6, 12, 0.8, 0.5, 0.3, 2
    w_gen = generator_chain(rng, cov, w0, rows0, sigma0, n, SEEDS)[-1]
    x = designs(rng, cov, SEEDS, rows)
    y = np.einsum("nti,ni->nt", x, w_gen) + sigma * rng.standard_normal((SEEDS, rows))
    cov_hat = x.transpose(0, 2, 1) @ x / rows
    resolvent = np.linalg.inv(cov_hat + ridge * np.eye(dim))
    w_pred = np.einsum("nij,ntj,nt->ni", resolvent, x, y) / rows
    errors = sq_norm(w_pred - w0, cov)
    bias = ridge**2 * sq_norm(resolvent @ w0, cov)
    variance = sigma**2 / rows * np.einsum("ij,njk,nkl,nli->n", cov, resolvent, cov_hat,
                                           resolvent)
    a = np.eye(dim) - ridge * resolvent
    trace = np.einsum("ij,njk,kl,nli->n", np.linalg.inv(cov), a, cov, a)
    formula = bias + variance + n * sigma0**2 * trace / (rows0 - dim - 1)
    assert_within(errors - formula, 0.0, f"ridge decomposition T={rows}")


# ----------------------------------------------------------------------------------------
# Deterministic equivalents against Monte-Carlo (4 SE + DE_RELATIVE_TOLERANCE).

DE_DIM = 50
DE_EIG = 1.0 / np.arange(1, DE_DIM + 1)  # Sigma = diag(1/j)
DE_W0 = np.random.default_rng(0).standard_normal(DE_DIM) / np.sqrt(DE_DIM)
DE_POINTS = [(25, 0.1), (50, 1.0), (100, 0.01), (200, 0.1)]  # (T, lambda)


def ridge_expectations(rng, rows, ridge, designs_total, batch=500):
    """Per-design ``lambda^2 w_0^T R Sigma R w_0``, ``tr(Sigma R Sigma_hat R) / T`` and
    ``tr(Sigma^{-1} A Sigma A)`` for ``Sigma = diag(DE_EIG)``, ``A = I - lambda R``."""
    out = []
    for _ in range(designs_total // batch):
        x = rng.standard_normal((batch, rows, DE_DIM)) * np.sqrt(DE_EIG)
        cov_hat = x.transpose(0, 2, 1) @ x / rows
        resolvent = np.linalg.inv(cov_hat + ridge * np.eye(DE_DIM))
        bias = ridge**2 * np.sum(DE_EIG * (resolvent @ DE_W0) ** 2, axis=1)
        variance = np.einsum("i,nii->n", DE_EIG, resolvent @ cov_hat @ resolvent) / rows
        a = np.eye(DE_DIM) - ridge * resolvent
        trace = np.einsum("nij,nij,i,j->n", a, a, 1.0 / DE_EIG, DE_EIG)
        out.append(np.stack([bias, variance, trace]))
    return np.concatenate(out, axis=1)


@pytest.mark.parametrize("rows, ridge", DE_POINTS)
def test_deterministic_equivalents_match_monte_carlo(rows, ridge):
    # noise = sigma_0 = 1, one generation and T_0 = d + 2 make the three entries equal to
    # the three expectations themselves.
    designs_total = 2000
    de = ridge_deterministic_equivalent(DE_EIG, DE_W0, ridge, rows, 1.0,
                                        generator_sample_size=DE_DIM + 2, generator_noise=1.0,
                                        generations=1)
    samples = ridge_expectations(np.random.default_rng(rows), rows, ridge, designs_total)
    for name, draws in zip(("bias", "variance", "generator"), samples):
        mean = draws.mean()
        se = draws.std(ddof=1) / np.sqrt(designs_total)
        deviation = abs(mean - de[name])
        print(f"T={rows} lambda={ridge} {name}: MC={mean:.5g}±{se:.2g} DE={de[name]:.5g} "
              f"relative deviation {deviation / de[name]:.4f}")
        assert deviation < Z_MAX * se + DE_RELATIVE_TOLERANCE[name] * de[name], name
