"""Are the replicas still the same model? Cheap checksums compared across ranks.

Under DistributedDataParallel every rank applies the same averaged gradients to the same
weights, so the replicas stay bit-identical. When they drift (a buffer that is not
synchronised, a rank-dependent seed, a gradient changed after the all-reduce) training silently
becomes N different models: these helpers catch it, e.g. every k steps.
"""

import numpy as np

from .collectives import all_gather_object
from .group import _comm


def parameters_checksum(model):
    """One float64 number per parameter and buffer of ``model``: its sum, weighted by position.

    Shape ``(len(state),)``; equal on two replicas exactly when (up to a checksum collision) the
    tensors are equal. The position weights make a permutation of values change the checksum.

    Example::

        dist.parameters_checksum(model)     # array([ 3.1, -0.4, ...]) float64
    """
    sums = []
    for t in _tensors(model):
        flat = np.asarray(t._data, dtype=np.float64).ravel()
        weights = 1.0 + (np.arange(flat.size) % 997) / 997.0
        sums.append(float(flat @ weights) if flat.size else 0.0)
    return np.asarray(sums, dtype=np.float64)


def rank_divergence(model, rtol=0.0, atol=0.0):
    """Names of the parameters / buffers whose checksum differs between ranks (empty: all agree).

    A collective: every rank must call it; every rank gets the same answer.
    """
    _comm()
    names = [name for name, _ in _named(model)]
    mine = parameters_checksum(model)
    everyone = [None] * _comm().Get_size()
    all_gather_object(everyone, mine)
    reference = everyone[0]
    bad = set()
    for other in everyone[1:]:
        if other.shape != reference.shape:
            return list(names)
        close = np.isclose(other, reference, rtol=rtol, atol=atol) | (other == reference)
        bad.update(i for i in np.flatnonzero(~close))
    return [names[i] for i in sorted(bad)]


def replicas_agree(model, rtol=0.0, atol=0.0):
    """True when every rank holds the same parameters and buffers (a collective: call on all)."""
    return not rank_divergence(model, rtol=rtol, atol=atol)


def _named(model):
    module = getattr(model, "module", model)  # a DDP wrapper: compare what it wraps
    return list(module.named_parameters()) + [
        (n, b) for n, b in module.named_buffers() if b is not None
    ]


def _tensors(model):
    return [t for _, t in _named(model)]
