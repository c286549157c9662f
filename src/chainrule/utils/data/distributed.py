"""``chainrule.utils.data.distributed``: where PyTorch keeps ``DistributedSampler``."""

from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
