"""``cr.backends.cuda``: CUDA backend flags, accepted and ignored (no CUDA)."""

from types import SimpleNamespace

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True)


def is_built():
    """False: chainrule has no CUDA support."""
    return False
