"""Stateless functions behind the layers: ``chainrule.nn.functional`` (import as ``F``).

Example::

    import chainrule.nn.functional as F
    loss = F.cross_entropy(model(x), y)     # logits (N, C), labels (N,) int64 -> scalar
"""

from ._activation import (
    elu,
    gelu,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from ._activation_extra import (
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    mish,
    prelu,
    softmin,
    softshrink,
    tanhshrink,
    threshold,
)
from ._attention import scaled_dot_product_attention
from ._channel_dropout import dropout1d, dropout2d, dropout3d
from ._conv import conv1d, conv2d
from ._conv_transpose import conv_transpose1d, conv_transpose2d
from ._distance import cosine_similarity, normalize, pairwise_distance
from ._fold import fold, unfold
from ._instance_norm import instance_norm
from ._loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ._loss_extra import (
    cosine_embedding_loss,
    gaussian_nll_loss,
    margin_ranking_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
)
from ._misc import dropout, embedding, linear, one_hot, pad
from ._norm import batch_norm, layer_norm
from ._norm_extra import group_norm, rms_norm
from ._pool import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from ._upsample import interpolate, pixel_shuffle, pixel_unshuffle

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "dropout1d",
    "dropout2d",
    "elu",
    "embedding",
    "gelu",
    "hardtanh",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "one_hot",
    "pad",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
    "conv_transpose1d",
    "conv_transpose2d",
    "cosine_similarity",
    "hardsigmoid",
    "hardswish",
    "instance_norm",
    "interpolate",
    "mish",
    "normalize",
    "pairwise_distance",
    "pixel_shuffle",
    "pixel_unshuffle",
    "prelu",
    "softmin",
    "celu",
    "cosine_embedding_loss",
    "glu",
    "hardshrink",
    "margin_ranking_loss",
    "soft_margin_loss",
    "softshrink",
    "tanhshrink",
    "threshold",
    "triplet_margin_loss",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "dropout3d",
    "fold",
    "gaussian_nll_loss",
    "group_norm",
    "poisson_nll_loss",
    "rms_norm",
    "unfold",
]
