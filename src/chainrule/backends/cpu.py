"""``cr.backends.cpu``: the one backend chainrule has (NumPy)."""


def get_cpu_capability():
    """A description of the CPU backend: chainrule computes with NumPy."""
    return "NumPy"
