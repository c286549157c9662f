"""Pick the numpy Generator a data routine draws from."""
import numpy as np

from .. import random as _random


def resolve_rng(generator=None, seed=None):
    """``generator`` if given, else a fresh one from ``seed``, else chainrule's global generator.

    The global generator is looked up at call time because ``cr.manual_seed`` replaces it.
    """
    if generator is not None and seed is not None:
        raise ValueError("pass either generator or seed, not both")
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        return generator
    if seed is not None:
        return np.random.default_rng(seed)
    return _random.default_generator()
