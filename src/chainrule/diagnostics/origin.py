"""Where the first NaN/Inf of a monitored step came from: the op (walking the graph back to the
first op whose inputs were finite and output was not), its cause from the one classifier
(:func:`chainrule.diagnostics.nonfinite.classify_op`), and for a loss whose graph is gone, what
its value says.

Example::

    event = trace_op(bad_tensor, param_ids=set())   # {'op': 'Log', 'cause': 'log of zero', ...}
"""

import math

import numpy as np

from ..autograd.engine import input_values
from ..tensor import Tensor
from .nonfinite import classify_op


def _all_finite(values, loss):
    """Loss, weights and gradients all finite (the usual case: nothing to trace)."""
    return (
        (loss is None or math.isfinite(loss))
        and not np.any(values["nonfinite_frac"] > 0)
        and bool(np.isfinite(values["weight_norm"]).all())
        and not np.any(np.isinf(values["grad_norm"]))
    )


def _loss_origin(loss, value, past, output):
    """Event for a non-finite loss from finite layer outputs: traced when the graph is still
    there; otherwise an overflow if the loss had been growing, else read from the value: a
    log of 0 gives +-Inf, an invalid operation (log or sqrt of a negative number) gives NaN."""
    past = past[np.isfinite(past)]
    if isinstance(loss, Tensor) and loss._node is not None and loss._node.inputs is not None:
        event = trace_op(loss, set())
    elif past.size >= 2 and abs(past[-1]) > 1e6 * max(abs(past[0]), 1e-12):
        event = {
            "cause": "overflow",
            "diverged": True,
            "explanation": f"the loss grew from {past[0]:.3g} to {past[-1]:.3g} over "
            f"{past.size} steps and overflowed: training diverged",
        }
    elif math.isinf(value):
        probs = (output or {}).get("kind") in ("softmax", "sigmoid")
        event = {
            "cause": "log of zero",
            "explanation": "every layer's output was finite and "
            "the loss is Inf: the loss function took the log of 0"
            + (" (of a probability from the model's softmax/sigmoid output)" if probs else ""),
        }
    else:
        event = {
            "cause": "invalid operation",
            "explanation": "every layer's output was finite "
            "and the loss is NaN: the loss function made an invalid operation (log or "
            "sqrt of a negative number, 0 * Inf, Inf - Inf)",
        }
    event.update(phase="loss", layer=None)
    return event


# Ops whose output is finite wherever their input is: a NaN/Inf after one came from its input.
# (Of the ops that may drop an input's values, all but Add, Sub, Sum and Mean, which overflow.)
_FINITE_IN_FINITE_OUT = frozenset({"Relu", "Tanh", "Sigmoid", "Reshape", "Expand", "Index"})


def trace_op(t, param_ids, limit=100000, with_node=False):
    """Walk back from non-finite ``t`` to the op whose inputs were finite but output was not.

    Needs the graph (call before ``backward``). Returns ``{'op', 'cause', 'explanation'}``
    (and the op's node too with ``with_node=True``). The cause comes from the one classifier,
    :func:`chainrule.diagnostics.nonfinite.classify_op`.
    """
    node = t._node
    after = None  # a later op that may have made the NaN/Inf instead (see below)
    for _ in range(limit):
        if node is None or node.inputs is None:
            break
        # follow node.next (the producer when the op was recorded), not x._node: an in-place
        # op may have given the input a new node since. An intermediate value the graph did not
        # keep (its op does not read it) is unknown: followed, so the walk reaches its maker.
        values = [(x, nxt, input_values(x)) for x, nxt in zip(node.inputs, node.next, strict=True)]
        bad = [
            (x, nxt)
            for x, nxt, v in values
            if v is not None and v.dtype.kind in "fc" and not np.isfinite(v).all()
        ]
        unknown = [(x, nxt) for x, nxt, v in values if v is None]
        if bad:
            after = None  # this op's input was already bad: it did not make the NaN/Inf
        elif unknown:
            # An input whose values the graph did not keep: it is followed (it is where the
            # NaN/Inf most often comes from), but if this op can make NaN/Inf of finite values
            # (an Add that overflows) the origin found upstream may instead be this op.
            if node.name not in _FINITE_IN_FINITE_OUT:
                after = node.name
            bad = unknown
        if not bad:
            cause, detail = classify_op(node.name, node.inputs, {})
            event = {
                "op": node.name,
                "cause": cause,
                "explanation": f"{cause} ({detail})" if detail else cause,
            }
            if after is not None:
                event["or_op_after"] = after
                event["explanation"] += (
                    f"; or the {after} after it: the values between them were not kept "
                    "(GradientMonitor's recorded steps and cr.autograd.detect_anomaly() keep them)"
                )
            return (event, node) if with_node else event
        leaf, producer = bad[0]
        if producer is None:
            cause = "non-finite weights" if id(leaf) in param_ids else "non-finite input"
            what = "weights" if id(leaf) in param_ids else "input"
            event = {
                "op": node.name,
                "cause": cause,
                "explanation": f"its {what} (shape {tuple(leaf.shape)}) already held NaN/Inf",
            }
            return (event, node) if with_node else event
        node = producer
    event = {"op": None, "cause": None, "explanation": None}
    return (event, None) if with_node else event
