"""``cr.backends.cudnn``: cuDNN flags, accepted and ignored (no cuDNN on the CPU)."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: no cuDNN."""
    return False


def version():
    """None: no cuDNN (as PyTorch reports without it)."""
    return None
