"""Experiments: one module per reproduction, each with its configuration, figures and table.

- :mod:`jcollapse.experiments.demo`: Gaussian collapse versus recovery (``jcollapse demo``).

```python
>>> from jcollapse import experiments
>>> sorted(experiments.EXPERIMENTS)
['demo']

```
"""

from . import demo

#: Registry of experiments by command name; each module has ``run(out, seeds, ...)``.
EXPERIMENTS = {"demo": demo}

__all__ = ["EXPERIMENTS", "demo"]
