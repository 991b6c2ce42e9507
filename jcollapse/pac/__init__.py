"""PAC learning when labels come partly from the previous classifier (Amin et al.,
"Learning from Synthetic Data: Limitations of ERM", arXiv 2601.15468; docs/theory.md, section 5).

```python
import jax
from jcollapse import pac
c = pac.Threshold()
run = pac.simulate(c, c.params(theta=0.3), contamination=0.75, sample_size=20,
                   rounds=50, learner="disagreement", seeds=1000, key=jax.random.key(0))
run.mean()   # numpy [51]
```
"""

from ._concepts import AbstractConcept, Interval, IntervalParams, Threshold, ThresholdParams
from ._learners import disagreement, erm
from ._reference import rate_bound
from ._rounds import LEARNERS, PACRun, simulate

__all__ = [
    "AbstractConcept",
    "Interval",
    "IntervalParams",
    "LEARNERS",
    "PACRun",
    "Threshold",
    "ThresholdParams",
    "disagreement",
    "erm",
    "rate_bound",
    "simulate",
]
