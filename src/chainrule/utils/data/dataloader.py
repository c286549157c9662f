"""``chainrule.utils.data.dataloader``: torch's module path for the DataLoader and collation."""

from ...data import DataLoader, default_collate, default_convert, get_worker_info

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info"]
