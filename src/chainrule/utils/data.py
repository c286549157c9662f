"""``chainrule.utils.data``: torch's import path for the datasets, the DataLoader and the
DistributedSampler (all defined in :mod:`chainrule.data`)."""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401
from ..data.distributed import DistributedSampler  # noqa: F401
