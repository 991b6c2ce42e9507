"""Experiments: one module per reproduction, each with its configuration, figures and table.

- :mod:`jcollapse.experiments.demo`: Gaussian collapse versus recovery (``jcollapse demo``).
- :mod:`jcollapse.experiments.bakshi_chakraborty`: Bakshi & Chakraborty's categorical
  next-token loop, with its Markov-chain and Gaussian counterparts
  (``jcollapse reproduce bakshi-chakraborty``).

Each module has ``run(out, seeds, generations, key, ...)`` writing figures, tables and
``summary.md`` atomically, and its defaults ``SEEDS`` and ``GENERATIONS``.

```python
>>> from jcollapse import experiments
>>> sorted(experiments.REPRODUCTIONS)
['bakshi-chakraborty']

```
"""

from . import bakshi_chakraborty, demo

#: Paper reproductions by command name: ``jcollapse reproduce NAME``.
REPRODUCTIONS = {bakshi_chakraborty.NAME: bakshi_chakraborty}

__all__ = ["REPRODUCTIONS", "bakshi_chakraborty", "demo"]
