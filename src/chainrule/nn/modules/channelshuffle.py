"""``ChannelShuffle``: interleave channel groups (ShuffleNet)."""

from ..functional._misc import channel_shuffle
from ..module import Module


class ChannelShuffle(Module):
    """(N, C, *) -> (N, C, *) with the channels of ``groups`` groups interleaved; see
    ``F.channel_shuffle``.

    Example::

        y = cr.nn.ChannelShuffle(2)(cr.randn(1, 4, 2, 2))
    """

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
