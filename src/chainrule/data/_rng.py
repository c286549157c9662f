"""Pick the numpy Generator a data routine draws from."""

import numpy as np

from .. import random as _random


def resolve_rng(generator=None, seed=None):
    """``generator`` if given, else a fresh one from ``seed``, else chainrule's global generator.

    The default generator is reseeded in place by ``cr.manual_seed``.
    """
    if generator is not None and seed is not None:
        raise ValueError("pass either generator or seed, not both")
    if generator is not None:
        return _random.resolve(generator, "data")
    if seed is not None:
        return np.random.default_rng(seed)
    return _random.default_generator()
