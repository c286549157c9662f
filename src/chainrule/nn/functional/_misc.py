"""Functional pieces that are not activations, losses or norms: dropout, embedding,
embedding_bag, one_hot, and a few array/Tensor helpers the other functional files share.

What a vjp computes on arrays or Tensors goes through ``chainrule.ops.dispatch``.
"""

import numpy as np

from ...autograd.engine import record
from ...ops import linear, pad  # noqa: F401  (re-exported by nn.functional)
from ...ops._util import as_tensor
from ...random import default_generator
from ...tensor import Tensor
from ._activation import _in_place

# ----------------------------------------------------------------------------------------------
# array-or-Tensor helpers
# ----------------------------------------------------------------------------------------------


def softplus_array(x):
    """log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# ----------------------------------------------------------------------------------------------
# dropout, embedding, one_hot
# ----------------------------------------------------------------------------------------------


def _scale_vjp(ctx, g):
    return (g * ctx.saved,)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Identity when ``training`` is False. Draws from ``chainrule.random.default_generator()``.
    With ``inplace=True`` the result is written into ``input``, which is returned (PyTorch's).

    Example:
        >>> y = F.dropout(cr.ones(1000), 0.2)
        >>> sorted({float(v) for v in y.numpy()})
        [0.0, 1.25]
        >>> F.dropout(cr.ones(3), 0.2, training=False)
        tensor([1., 1., 1.])
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = as_tensor(input)
    if not training or p == 0.0:
        return input
    if inplace:
        return _in_place(input, "dropout_", lambda x: dropout(x, p, training))
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=input.dtype)
    else:
        keep = default_generator().random(input.shape, dtype=np.float32) >= p
        mask = keep.astype(input.dtype) * input.dtype.type(1.0 / (1.0 - p))
    return record(
        input._data * mask,
        (input,),
        _scale_vjp,
        "Dropout",
        saved=mask,
        save_inputs=False,
        save_output=False,
    )


def _embedding_vjp(ctx, g):
    from ...ops import index_add_into_zeros

    index, padding_idx = ctx.saved
    if padding_idx is not None:
        # The padding row gets no gradient (it stays the "empty" vector).
        keep = (index != padding_idx)[..., None].astype(ctx.inputs[0].dtype)
        g = g * keep
    return (index_add_into_zeros(g, index, ctx.inputs[0].shape),)


def embedding(input, weight, padding_idx=None):
    """Rows of ``weight`` picked by integer ``input``: (*) indices, (V, D) weight -> (*, D).

    The gradient of a row is the sum over every place it was picked; ``padding_idx``'s row
    gets none.

    Example:
        >>> w = cr.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
        >>> F.embedding(cr.tensor([[0, 2]]), w)
        tensor([[[0., 0.],
                 [2., 2.]]])
    """
    weight = as_tensor(weight)
    index = np.asarray(input._data if isinstance(input, Tensor) else input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got {index.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, dim), got {weight.shape}")
    num = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= num):
        bad = index.min() if index.min() < 0 else index.max()
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += num
    return record(
        weight._data[index],
        (weight,),
        _embedding_vjp,
        "Embedding",
        saved=(index, padding_idx),
        save_inputs=False,
        save_output=False,
    )


def _bags(index, offsets, include_last_offset):
    """Flat indices, the bag of each, and the bag count for embedding_bag's two input forms."""
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "embedding_bag: with 2-D input (a batch of fixed-length bags), offsets must be None"
            )
        bags, length = index.shape
        return index.reshape(-1), np.repeat(np.arange(bags), length), bags
    if index.ndim != 1:
        raise ValueError(f"embedding_bag: input must be 1-D or 2-D, got {index.ndim}-D")
    if offsets is None:
        raise ValueError("embedding_bag: 1-D input needs offsets (a 1-D tensor), got None")
    starts = np.asarray(offsets._data if isinstance(offsets, Tensor) else offsets)
    if starts.ndim != 1 or starts.dtype.kind not in "iu":
        raise ValueError("embedding_bag: offsets must be a 1-D integer tensor")
    starts = starts.astype(np.int64)
    if starts.size and starts[0] != 0:
        raise RuntimeError(f"embedding_bag: offsets[0] has to be 0, got {starts[0]}")
    if include_last_offset:
        # The last offset closes the last bag; indices after it belong to no bag.
        if starts.size == 0:
            raise ValueError("embedding_bag: include_last_offset needs at least one offset")
        starts, ends = starts[:-1], starts[1:]
    else:
        ends = np.append(starts[1:], index.size)
    lengths = ends - starts
    if (lengths < 0).any() or (ends.size and ends[-1] > index.size):
        raise ValueError("embedding_bag: offsets must be non-decreasing and within the input")
    used = int(ends[-1]) if ends.size else 0
    return index[:used], np.repeat(np.arange(starts.size), lengths), starts.size


def embedding_bag(
    input,
    weight,
    offsets=None,
    max_norm=None,
    norm_type=2,
    scale_grad_by_freq=False,
    mode="mean",
    sparse=False,
    per_sample_weights=None,
    include_last_offset=False,
    padding_idx=None,
):
    """Sum, mean or max of the ``weight`` rows in each bag of indices, without the (*, D)
    intermediate a user would build with ``embedding(...).sum(1)``.

    Shapes: ``input`` (B, L) int is B bags of L indices (``offsets`` None); ``input`` (N,) int
    is cut into bags at ``offsets`` (B,) (or (B + 1,) with ``include_last_offset``, the last
    entry closing the last bag). Weight (V, D) -> (B, D). An empty bag gives zeros; indices equal
    to ``padding_idx`` are left out of their bag (and of a mean's count). ``per_sample_weights``
    (same shape as ``input``, mode 'sum' only) scales each row before the sum. ``sparse=True``
    is accepted but the gradient is dense; ``max_norm`` and ``scale_grad_by_freq`` are not
    supported.

    Example:
        >>> w = cr.tensor([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0]])
        >>> F.embedding_bag(cr.tensor([0, 1, 2]), w, cr.tensor([0, 2]), mode="sum")
        tensor([[3., 3.],
                [4., 4.]])
    """
    from ...ops import index_add_into_zeros, where

    if max_norm is not None or scale_grad_by_freq:
        raise NotImplementedError(
            "embedding_bag: max_norm and scale_grad_by_freq are not supported"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(
            f"embedding_bag: per_sample_weights is only supported for mode='sum' (got {mode!r})"
        )
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding_bag: weight must be (num_embeddings, dim), got {weight.shape}")
    index = np.asarray(input._data if isinstance(input, Tensor) else input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding_bag: indices must be an integer tensor, got {index.dtype}")
    if per_sample_weights is not None:
        per_sample_weights = as_tensor(per_sample_weights)
        if tuple(per_sample_weights.shape) != index.shape:
            raise ValueError(
                f"embedding_bag: per_sample_weights has shape {tuple(per_sample_weights.shape)}, "
                f"expected the input's {index.shape}"
            )
    flat, bag_of, bags = _bags(index, offsets, include_last_offset)
    keep = np.arange(flat.size)
    if padding_idx is not None:
        keep = np.flatnonzero(flat != padding_idx % weight.shape[0])
    bag_of = bag_of[keep]
    rows = embedding(flat[keep], weight)
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.reshape(-1)[keep].unsqueeze(1)
    dim = weight.shape[1]
    counts = np.bincount(bag_of, minlength=bags)
    if mode == "max" and keep.size:
        # Scatter each bag's rows into a (B, longest, D) block padded with -inf, then max over
        # the bag axis; max's gradient then reaches the chosen row only.
        first = np.cumsum(counts) - counts
        place = np.arange(keep.size) - first[bag_of]
        block = index_add_into_zeros(rows, (bag_of, place), (bags, int(counts.max()), dim))
        filled = np.zeros(block.shape[:2], dtype=bool)
        filled[bag_of, place] = True
        block = block.masked_fill(Tensor._wrap(~filled[..., None]), float("-inf"))
        best = block.max(dim=1).values
        return where(Tensor._wrap(counts[:, None] > 0), best, 0.0)
    total = index_add_into_zeros(rows, (bag_of,), (bags, dim))
    if mode == "mean":
        total = total / Tensor._wrap(np.maximum(counts, 1)[:, None].astype(weight.dtype))
    return total


def one_hot(tensor, num_classes=-1):
    """Integer class indices (*) -> int64 one-hot (*, num_classes); -1 infers max + 1.

    Example:
        >>> F.one_hot(cr.tensor([0, 2]), 3)
        tensor([[1, 0, 0],
                [0, 0, 1]])
        >>> F.one_hot(cr.tensor([1, 3])).shape
        (2, 4)
    """
    index = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if index.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {index.dtype}")
    if index.size and index.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {index.min()}")
    if num_classes == -1:
        num_classes = int(index.max()) + 1 if index.size else 0
    if index.size and index.max() >= num_classes:
        raise ValueError(
            f"one_hot: class value {index.max()} is out of range for num_classes={num_classes}"
        )
    return Tensor._wrap(np.eye(num_classes, dtype=np.int64)[index])


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = x1 @ weight[o] @ x2 + bias[o]``: (*, in1), (*, in2), weight
    (out, in1, in2), bias (out,) -> (*, out).

    Example:
        >>> F.bilinear(cr.ones(4, 2), cr.ones(4, 3), cr.ones(5, 2, 3)).shape
        (4, 5)
        >>> F.bilinear(cr.tensor([[1.0, 2.0]]), cr.tensor([[3.0]]), cr.tensor([[[1.0], [1.0]]]))
        tensor([[9.]])
    """
    x1, x2, w = as_tensor(input1), as_tensor(input2), as_tensor(weight)
    if w.ndim != 3 or x1.ndim < 1 or x2.ndim < 1:
        raise ValueError(
            f"bilinear: expected weight (out, in1, in2) and inputs (*, in1), (*, in2), got "
            f"weight {tuple(w.shape)}, input1 {tuple(x1.shape)}, input2 {tuple(x2.shape)}"
        )
    out, in1, in2 = w.shape
    if x1.shape[:-1] != x2.shape[:-1] or x1.shape[-1] != in1 or x2.shape[-1] != in2:
        raise ValueError(
            f"bilinear: input1 {tuple(x1.shape)} and input2 {tuple(x2.shape)} must be "
            f"(*, {in1}) and (*, {in2}) with the same leading dims, for weight {tuple(w.shape)}"
        )
    if bias is not None and tuple(as_tensor(bias).shape) != (out,):
        raise ValueError(f"bilinear: bias must have shape ({out},), got {tuple(bias.shape)}")
    lead = x1.shape[:-1]
    # x1 against every weight slice in one GEMM: (rows, in1) @ (in1, out*in2)
    t = x1.reshape(-1, in1) @ w.permute(1, 0, 2).reshape(in1, out * in2)
    y = (t.reshape(-1, out, in2) * x2.reshape(-1, 1, in2)).sum(-1).reshape(lead + (out,))
    return y if bias is None else y + as_tensor(bias)


def channel_shuffle(input, groups):
    """Interleave the channels of ``groups`` groups (ShuffleNet): (N, C, *) -> (N, C, *), channel
    ``g * (C // groups) + i`` moving to ``i * groups + g``.

    Example:
        >>> F.channel_shuffle(cr.arange(4.0).reshape(1, 4, 1), 2).flatten()
        tensor([0., 2., 1., 3.])
    """
    x, groups = as_tensor(input), int(groups)
    if x.ndim < 3:
        raise ValueError(
            f"channel_shuffle: expected an input of shape (N, C, *) with at least 3 dims, got "
            f"{tuple(x.shape)}"
        )
    if groups <= 0:
        raise ValueError(
            f"channel_shuffle: number of groups to divide channels in must be "
            f"positive. Value of groups:{groups}"
        )
    n, c, *rest = x.shape
    if c % groups:
        raise ValueError(
            f"channel_shuffle: Number of channels must be divisible by groups. Got {c} channels "
            f"and {groups} groups (input {tuple(x.shape)})."
        )
    x = x.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)


# Alpha dropout keeps SELU's fixed point (mean 0, variance 1): dropped units are set to SELU's
# negative saturation -alpha' and an affine map a * x + b restores mean and variance.
_SELU_NEG_SAT = 1.7580993408473766  # SELU's scale * alpha


def _alpha_dropout(x, p, training, mask_shape, name, inplace):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:  # torch: everything dropped, the output is zeros
        keep = np.zeros(mask_shape, x.dtype)
        a = b = 0.0
    else:
        keep = (default_generator().random(mask_shape) >= p).astype(x.dtype)
        a = 1.0 / np.sqrt((_SELU_NEG_SAT**2 * p + 1) * (1 - p))
        b = _SELU_NEG_SAT * a * p
    # kept: a * x + b; dropped: a * (-alpha') + b
    scale = Tensor._wrap(keep * x.dtype.type(a))
    shift = Tensor._wrap(((keep - 1) * (_SELU_NEG_SAT * a) + b).astype(x.dtype))
    if inplace:
        return _in_place(x, name + "_", lambda t: t * scale + shift)
    return x * scale + shift


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks (Klambauer et al., 2017): each element is set, with
    probability ``p``, to SELU's negative saturation, then ``a * x + b`` keeps the mean and
    variance of a standard normal input. Identity when ``training`` is False (the default,
    as in torch). Shape: unchanged.

    Example:
        >>> y = F.alpha_dropout(cr.randn(10000), 0.2, training=True)
        >>> abs(float(y.mean())) < 0.05, abs(float(y.std()) - 1) < 0.05
        (True, True)
    """
    x = as_tensor(input)
    return _alpha_dropout(x, p, training, x.shape, "alpha_dropout", inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """:func:`alpha_dropout` of whole channels: one draw per (sample, channel) of
    (N, C, *) input, shared over the other dims. Identity when ``training`` is False.

    Example:
        >>> y = F.feature_alpha_dropout(cr.ones(2, 3, 4), 0.5, training=True)
        >>> bool((y.numpy() == y.numpy()[:, :, :1]).all())  # whole channels
        True
    """
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(
            f"feature_alpha_dropout: expected an input of shape (N, C, *), got {tuple(x.shape)}"
        )
    shape = tuple(x.shape[:2]) + (1,) * (x.ndim - 2)
    return _alpha_dropout(x, p, training, shape, "feature_alpha_dropout", inplace)
