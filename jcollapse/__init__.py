"""jcollapse: model-collapse simulation in JAX.

```python
import jax, jcollapse as jc
model = jc.models.Gaussian(dim=1)
loop = jc.Loop(model, generations=100, real_fraction=0.0, sample_size=100)
run = jc.simulate(loop, model.params(mean=0.0, cov=[[1.0]]), key=jax.random.key(0), seeds=2000)

```

On import, when JAX has not started yet, jcollapse gives JAX one CPU device per core
(``jax_num_cpu_devices``), so that seeds run on every core: the rest of the process then sees
that many CPU devices. Set ``JAX_NUM_CPU_DEVICES=1`` (or start JAX first) to opt out.
"""

from .internal.devices import default_to_cpu_cores

default_to_cpu_cores()

from . import distances, filters, models, pac, plot, probes, schedules, sweeps, theory, truths
from .executor import run_seeds
from .internal.devices import use_cpu_cores
from .internal.version import VERSION as __version__
from .loop import Loop
from .rollout import STATUS_DEGENERATE, STATUS_NONFINITE
from .simulate import Run, simulate
from .sweeps import sweep

__all__ = [
    "Loop",
    "Run",
    "distances",
    "STATUS_DEGENERATE",
    "STATUS_NONFINITE",
    "filters",
    "models",
    "pac",
    "plot",
    "run_seeds",
    "probes",
    "schedules",
    "simulate",
    "sweep",
    "sweeps",
    "theory",
    "truths",
    "use_cpu_cores",
    "__version__",
]
