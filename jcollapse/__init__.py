"""jcollapse: model-collapse simulation in JAX.

```python
import jax, jcollapse as jc
model = jc.models.Gaussian(dim=1)
loop = jc.Loop(model, generations=100, real_fraction=0.0, sample_size=100)
run = jc.simulate(loop, model.params(mean=0.0, cov=[[1.0]]), key=jax.random.key(0), seeds=2000)

```
"""

from importlib.metadata import PackageNotFoundError, version

from . import filters, models, pac, plot, probes, schedules, sweeps, theory
from ._devices import use_cpu_cores
from .loop import Loop
from .rollout import STATUS_DEGENERATE, STATUS_NONFINITE
from .simulate import Run, simulate
from .sweeps import sweep

try:
    __version__ = version("jcollapse")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "Loop",
    "Run",
    "STATUS_DEGENERATE",
    "STATUS_NONFINITE",
    "filters",
    "models",
    "pac",
    "plot",
    "probes",
    "schedules",
    "simulate",
    "sweep",
    "sweeps",
    "theory",
    "use_cpu_cores",
    "__version__",
]
