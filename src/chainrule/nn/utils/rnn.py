"""Variable-length sequences: ``pad_sequence``, ``pack_padded_sequence``, ``pad_packed_sequence``,
``pack_sequence``, ``unpad_sequence`` and the ``PackedSequence`` that RNN/LSTM/GRU accept.

A ``PackedSequence`` holds the steps of a batch of sequences sorted by decreasing length, time
major: ``data`` (sum(lengths), *) has, for step t, the ``batch_sizes[t]`` sequences still running.
``sorted_indices[k]`` is the original batch position of sorted position k (None when the batch
was already sorted), ``unsorted_indices`` its inverse. All functions are made of recorded ops, so
gradients flow through packing and unpacking.
"""

from typing import NamedTuple

import numpy as np

from ...creation import full, tensor
from ...ops import cat, stack
from ...tensor import Tensor


class PackedSequence(NamedTuple):
    """Packed steps of variable-length sequences (see the module docstring).

    Example::

        packed = pack_padded_sequence(x, lengths=[5, 3, 2])     # x (5, 3, F)
        out, h = lstm(packed)
        padded, lengths = pad_packed_sequence(out)
    """

    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None = None
    unsorted_indices: Tensor | None = None

    def to(self, *args, **kwargs):
        return self._replace(data=self.data.to(*args, **kwargs))

    def float(self):
        return self._replace(data=self.data.float())

    def double(self):
        return self._replace(data=self.data.double())

    def detach(self):
        return self._replace(data=self.data.detach())

    @property
    def is_cuda(self):
        return False


def _lengths_array(lengths, op):
    arr = (
        np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
        .astype(np.int64)
        .ravel()
    )
    if arr.size == 0 or arr.min() < 1:
        raise ValueError(f"{op}: every length must be at least 1, got {arr.tolist()}")
    return arr


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with ``batch_first``) of sequences of ``lengths``.

    With ``enforce_sorted`` the lengths must be decreasing; otherwise the batch is sorted here and
    the order kept in ``sorted_indices``.

    Example::

        packed = pack_padded_sequence(cr.randn(4, 3, 2), [4, 2, 1])
        packed.batch_sizes          # tensor([3, 2, 1, 1])
    """
    op = "pack_padded_sequence"
    x = input.transpose(0, 1) if batch_first else input
    lens = _lengths_array(lengths, op)
    if lens.size != x.shape[1]:
        raise ValueError(
            f"{op}: {lens.size} lengths for a batch of {x.shape[1]} (input {tuple(input.shape)})"
        )
    if lens.max() > x.shape[0]:
        raise ValueError(
            f"{op}: a length {lens.max()} is longer than the padded input ({x.shape[0]} steps)"
        )
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError(
                f"{op}: lengths {lens.tolist()} must be sorted in decreasing order "
                "when enforce_sorted=True (or pass enforce_sorted=False)"
            )
        order = None
    else:
        order = np.argsort(-lens, kind="stable")
    return _pack(x, lens, order)


def _pack(x, lens, order):
    """Pack time-major ``x`` (T, B, *) in original batch order; ``order`` is the sorting (or None)."""
    if order is not None:
        x = x.index_select(1, tensor(order))
        lens = lens[order]
    batch_sizes = np.array([(lens > t).sum() for t in range(int(lens.max()))], dtype=np.int64)
    data = cat([x[t, : int(b)] for t, b in enumerate(batch_sizes)], 0)
    if order is None:
        return PackedSequence(data, tensor(batch_sizes))
    return PackedSequence(data, tensor(batch_sizes), tensor(order), tensor(np.argsort(order)))


def packed_lengths(sequence):
    """Lengths of a PackedSequence's members in sorted order (int64 array)."""
    sizes = sequence.batch_sizes.numpy()
    return np.array([(sizes > k).sum() for k in range(int(sizes[0]))], dtype=np.int64)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: returns ``(padded, lengths)``, padded (T, B, *) (or (B, T, *))
    in the original batch order, lengths int64 (B,).

    Example::

        padded, lengths = pad_packed_sequence(packed, batch_first=True)
    """
    data, sizes = sequence.data, sequence.batch_sizes.numpy()
    batch, steps = int(sizes[0]), len(sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"pad_packed_sequence: total_length={total_length} is shorter than the "
                f"longest sequence ({steps})"
            )
        steps = int(total_length)
    rows, start = [], 0
    feature = tuple(data.shape[1:])
    for t in range(steps):
        b = int(sizes[t]) if t < len(sizes) else 0
        part = data[start : start + b]
        start += b
        if b < batch:
            part = cat([part, full((batch - b,) + feature, padding_value, dtype=data.dtype)], 0)
        rows.append(part)
    padded = stack(rows, 0)
    lens = packed_lengths(sequence)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lens = lens[sequence.unsorted_indices.numpy()]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lens)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padding the ends.

    Example::

        padded = pad_sequence([cr.ones(3, 2), cr.ones(1, 2)], batch_first=True)    # (2, 3, 2)
    """
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}"
        )
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: got no sequences")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = full((missing,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of (L_i, *) tensors: ``pack_padded_sequence(pad_sequence(seqs), lengths)``.

    Example::

        packed = pack_sequence([cr.randn(3, 2), cr.randn(2, 2)])
    """
    sequences = list(sequences)
    return pack_padded_sequence(
        pad_sequence(sequences), [s.shape[0] for s in sequences], enforce_sorted=enforce_sorted
    )


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of (L_i, *) tensors.

    Example::

        seqs = unpad_sequence(padded, cr.tensor([3, 1]), batch_first=True)
    """
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [x[i, : int(n)] for i, n in enumerate(_lengths_array(lengths, "unpad_sequence"))]


def unpack_sequence(packed_sequences):
    """Split a PackedSequence into a list of (L_i, *) tensors in the original order.

    Example::

        seqs = unpack_sequence(pack_sequence([a, b], enforce_sorted=False))
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
