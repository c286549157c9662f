"""The one random generator behind every draw in chainrule (init, dropout, shuffling, rand*)."""
import numpy as np

_generator = np.random.default_rng(0)


def manual_seed(seed):
    """Reseed the global generator so every later random draw is reproducible."""
    global _generator
    _generator = np.random.default_rng(int(seed))
    return _generator


def default_generator():
    """The global ``numpy.random.Generator`` that chainrule draws from."""
    return _generator


def get_rng_state():
    """A JSON-friendly snapshot of the global generator (for checkpoints)."""
    return _generator.bit_generator.state


def set_rng_state(state):
    """Restore a snapshot taken by :func:`get_rng_state`."""
    _generator.bit_generator.state = state
