"""``Residual``: a skip connection around a block (chainrule's own layer, not in PyTorch)."""

from ..module import Module


class Residual(Module):
    """``x + block(x)``: the block learns a correction to the identity (He et al., 2016).

    The block is the child ``block`` (state-dict names ``block.<...>``) and must return its
    input's shape. Gradients reach ``x`` both directly and through the block, which is what
    keeps deep stacks trainable. Example::

        layer = cr.nn.Residual(cr.nn.Sequential(cr.nn.Linear(16, 16), cr.nn.ReLU()))
        y = layer(x)        # x (N, 16) -> y (N, 16)
    """

    def __init__(self, block):
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual: block must be a Module, got {type(block).__name__}")
        self.block = block

    def forward(self, x):
        out = self.block(x)
        if out.shape != x.shape:
            raise ValueError(
                f"Residual: the block maps shape {x.shape} to {out.shape}; a residual "
                "block must keep the shape"
            )
        return x + out
