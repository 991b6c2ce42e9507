"""Families as plug-ins: every exported family is registered, listed by ``jcollapse list``,
parsed from a TOML configuration, and has its closed forms found by ``jc.theory``; a family
defined outside the library (here, in this module) is all of that without editing it."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import jcollapse as jc
from jcollapse import cli
from jcollapse.sweeps import parse_config


@jc.models.register_family(theory="toy_theory")
class ToyMean(jc.models.GaussianMean):
    """A toy family: the known-covariance Gaussian under another name."""


#: For each family: settings and truth arguments of a valid configuration.
EXAMPLES = {
    "Bernoulli": ({"dim": 1}, {"probs": [0.3]}),
    "Categorical": ({"num_categories": 3}, {"probs": [0.2, 0.3, 0.5]}),
    "Gaussian": ({"dim": 1}, {"mean": [0.0], "cov": [[1.0]]}),
    "GaussianMean": ({"dim": 1}, {"mean": [0.0], "cov": [[1.0]]}),
    "GaussianMixture": ({"num_components": 2, "dim": 2, "em_steps": 10, "test_size": 16},
                        {"law": "ring", "num_modes": 4, "radius": 2.0}),
    "KernelDensity": ({"dim": 2, "bandwidth": 0.3, "test_size": 16}, {"law": "TwoMoons", "noise": 0.1}),
    "LinearRegression": ({"dim": 2, "noise": 0.5}, {"weights": [1.0, 0.0], "cov": [[1.0, 0.0], [0.0, 1.0]]}),
    "MarkovChain": ({"num_states": 2, "sequence_length": 3},
                    {"transition": [[0.9, 0.1], [0.2, 0.8]], "initial": [0.5, 0.5]}),
    "Poisson": ({"dim": 1}, {"rate": [2.0]}),
    "ToyMean": ({"dim": 1}, {"mean": [0.0], "cov": [[1.0]]}),
}
#: Families without any closed form for jc.theory.expected.
WITHOUT_THEORY = {"MarkovChain"}


def _exported_families() -> set[str]:
    return {name for name in jc.models.__all__ if inspect.isclass(getattr(jc.models, name))
            and issubclass(getattr(jc.models, name), jc.models.AbstractModel) and not inspect.isabstract(
                getattr(jc.models, name)) and not name.startswith("Abstract")}


def test_every_exported_family_is_registered_and_has_an_example_here():
    registered = set(jc.models.families())
    assert _exported_families() <= registered
    assert registered <= set(EXAMPLES), "add the new family's example configuration to EXAMPLES"


def test_jcollapse_list_names_every_family_and_its_closed_forms(capsys):
    assert cli.main(["list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  ")}
    for name, family in jc.models.families().items():
        assert name in lines
        for _, pool, _, metrics in jc.theory.available(family):
            assert f"(pool {pool})" in lines[name] and metrics[0] in lines[name]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_family_parses_from_a_configuration(name):
    settings, truth = EXAMPLES[name]
    config = parse_config({"seeds": 4, "model": {"family": name, **settings}, "truth": truth,
                           "loop": {"generations": 2, "sample_size": 5}})
    assert type(config.loop.model) is jc.models.family(name)
    assert jc.models.families()[name] is jc.models.family(name)


def test_every_family_with_theory_has_its_closed_forms_available():
    everything = set(jc.theory.available())
    for name, family in jc.models.families().items():
        rows = set(jc.theory.available(family))
        assert rows <= everything
        assert bool(rows) == (name not in WITHOUT_THEORY), name


def test_a_family_defined_outside_the_library_is_discovered():
    assert jc.models.family("ToyMean") is ToyMean
    rows = jc.theory.available(ToyMean)
    assert ("ToyMean", "accumulate-subsample", "split", ("mean_sq_error",)) in rows
    assert ("GaussianMean", "replace", "iid", ("mean_sq_error",)) in rows  # inherited from its parent
    model = ToyMean(dim=1)
    loop = jc.Loop(model, generations=3, sample_size=4, pool="accumulate-subsample", mixing="split")
    np.testing.assert_array_equal(jc.theory.expected(loop, model.params(mean=0.0, cov=[[1.0]]), "mean_sq_error"),
                                  np.zeros(4))


@pytest.mark.subprocess
def test_a_family_s_theory_module_is_loaded_when_the_family_is_asked_about():
    script = ("import sys, jcollapse as jc, test_families as t; assert 'toy_theory' not in sys.modules; "
              "print(len(jc.theory.available(t.ToyMean)), 'toy_theory' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent, capture_output=True, text=True,
                          env={**os.environ, "JAX_PLATFORMS": "cpu"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["5", "True"]  # GaussianMean's four, and the toy's own


def test_registering_another_class_under_a_taken_name_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        jc.models.register_family(type("Gaussian", (jc.models.GaussianMean,), {"__module__": "elsewhere"}))
    with pytest.raises(TypeError, match="model class"):
        jc.models.register_family(int)
