"""jcollapse's internal layer: what every other layer may use, and nothing else uses it.

Import from the modules themselves (``from jcollapse.internal.reduce import pairwise_sum``);
they are shared by jcollapse's layers and by code extending them, but they are not part of
the library's stable interface.

- :mod:`~jcollapse.internal.validation`: host-side checks that raise a ``ValueError``
  naming the field before anything is compiled.
- :mod:`~jcollapse.internal.keys`: the keys every entry point accepts.
- :mod:`~jcollapse.internal.reduce`: sums and small matrix products whose result does not
  depend on the vmap batch size.
- :mod:`~jcollapse.internal.linalg`: symmetric factorizations with the 1x1 case in closed form.
- :mod:`~jcollapse.internal.fusion`: a buffer XLA CPU reads instead of recomputing its producer.
- :mod:`~jcollapse.internal.special`, :mod:`~jcollapse.internal.gamma`,
  :mod:`~jcollapse.internal.samplers`: exact samplers (gamma, binomial, multinomial, Poisson,
  Wishart) that JAX lacks or gets wrong at the sizes jcollapse needs.
- :mod:`~jcollapse.internal.settings`: a module's traced settings against its structure.
- :mod:`~jcollapse.internal.devices`: CPU devices, lanes over devices, chunks over processes.
- :mod:`~jcollapse.internal.atomic`: output directories and files written atomically.
- :mod:`~jcollapse.internal.version`: the installed version.
"""
