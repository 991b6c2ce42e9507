"""Experiments: one module per reproduction, each with its configuration, figures and table.

- :mod:`jcollapse.experiments.demo`: Gaussian collapse versus recovery (``jcollapse demo``).
- :mod:`jcollapse.experiments.bakshi_chakraborty`: Bakshi & Chakraborty's categorical
  next-token loop, with its Markov-chain and Gaussian counterparts
  (``jcollapse reproduce bakshi-chakraborty``).
- :mod:`jcollapse.experiments.amin`: Amin et al.'s mean estimation (Theorem 1, weighted
  estimators) and PAC learning on self-labelled rounds (``jcollapse reproduce amin``).
- :mod:`jcollapse.experiments.han`: Han et al.'s contraction-conditioned neural filters on
  Gaussian, Poisson and Bernoulli loops with constant n (``jcollapse reproduce han``).
- :mod:`jcollapse.experiments.xu`: Xu, He & Cheng's sample growth: the collapse dichotomy
  (sum 1/n_t infinite or not) for Gaussian, Poisson and Bernoulli (``jcollapse reproduce xu``).
- :mod:`jcollapse.experiments.dohmatob`: Dohmatob, Feng & Kempe's regression pipeline, and
  replace versus accumulate (``jcollapse reproduce dohmatob``).

Each module has ``run(out, seeds, generations, key, ...)`` writing figures, tables and
``summary.md`` atomically, and its defaults ``SEEDS`` and ``GENERATIONS``.

```python
>>> from jcollapse import experiments
>>> sorted(experiments.REPRODUCTIONS)
['amin', 'bakshi-chakraborty', 'dohmatob', 'han', 'xu']

```
"""

from . import amin, bakshi_chakraborty, demo, dohmatob, han, xu

#: Paper reproductions by command name: ``jcollapse reproduce NAME``.
REPRODUCTIONS = {module.NAME: module for module in (amin, bakshi_chakraborty, dohmatob, han, xu)}

__all__ = ["REPRODUCTIONS", "amin", "bakshi_chakraborty", "demo", "dohmatob", "han", "xu"]
