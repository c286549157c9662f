"""``cr.cuda``: PyTorch's CUDA queries, answered honestly -- chainrule has no GPU support.

Queries (``is_available``, ``device_count``) return False / 0; seeding calls are accepted and do
nothing because there is no CUDA generator to seed (``cr.manual_seed`` seeds everything chainrule
draws from); anything that would need a GPU raises RuntimeError.

Example::

    device = "cuda" if cr.cuda.is_available() else "cpu"     # "cpu"
"""


def _no_cuda(what):
    raise RuntimeError(
        f"cr.cuda.{what}: chainrule runs on the CPU only; there is no CUDA device "
        "(cr.cuda.is_available() is False)"
    )


def is_available():
    """False: chainrule computes on the CPU only."""
    return False


def device_count():
    """0: no CUDA devices."""
    return 0


def is_initialized():
    return False


def manual_seed(seed):
    """No-op (there is no CUDA generator); ``cr.manual_seed`` seeds chainrule's draws."""
    int(seed)


def manual_seed_all(seed):
    """No-op (there is no CUDA generator); ``cr.manual_seed`` seeds chainrule's draws."""
    int(seed)


def seed():
    """No-op: no CUDA generator."""


def seed_all():
    """No-op: no CUDA generator."""


def synchronize(device=None):
    """No-op: CPU work is already finished when a call returns."""


def empty_cache():
    """No-op: there is no CUDA memory cache."""


def current_device():
    _no_cuda("current_device()")


def set_device(device):
    _no_cuda(f"set_device({device!r})")


def get_device_name(device=None):
    _no_cuda("get_device_name()")


def get_device_properties(device=None):
    _no_cuda("get_device_properties()")


def __getattr__(name):
    # cr.cuda.amp: torch.cuda.amp's GradScaler and autocast, disabled as torch's are without CUDA
    if name == "amp":
        from .amp import _cuda_amp

        module = globals()["amp"] = _cuda_amp()
        return module
    raise AttributeError(f"module 'chainrule.cuda' has no attribute {name!r}")
