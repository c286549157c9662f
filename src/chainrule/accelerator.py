"""``cr.accelerator``: PyTorch's accelerator queries; chainrule has none (the CPU is not one).

Example::

    dev = cr.accelerator.current_accelerator() or cr.device("cpu")   # device(type='cpu')
"""


def is_available():
    """False: no accelerator."""
    return False


def device_count():
    """0: no accelerator devices."""
    return 0


def current_accelerator(check_available=False):
    """None: no accelerator (as PyTorch returns on a CPU-only machine)."""
    return None


def synchronize(device=None):
    """No-op: nothing runs asynchronously."""
