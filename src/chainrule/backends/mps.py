"""``cr.backends.mps``: Apple's Metal backend, which chainrule does not have."""


def is_available():
    """False: chainrule runs on the CPU only."""
    return False


def is_built():
    """False: chainrule runs on the CPU only."""
    return False
