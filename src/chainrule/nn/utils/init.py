"""``skip_init``: build a module without running its parameter initialisation."""

import inspect

from .. import init


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with every ``nn.init`` fill skipped: the parameters keep
    whatever their allocation held (to be overwritten, e.g. by ``load_state_dict``). As in torch,
    the class must take a ``device`` argument.

    Example:
        >>> layer = cr.nn.utils.skip_init(cr.nn.Linear, 4, 3)
        >>> layer.weight.shape
        (3, 4)
    """
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    previous, init._SKIP = init._SKIP, True
    try:
        return module_cls(*args, **kwargs)
    finally:
        init._SKIP = previous
