"""Where did the first NaN/Inf come from? The op, the layer, the pass, and the likely cause.

The tracer runs the user's code under ``cr.autograd.detect_anomaly()``, which stops at the first
op whose forward result or backward gradient is not finite. Forward hooks keep track of the
module being run (for the forward pass) and of which module created each op (for the backward
pass). A small set of rules then names the cause from the op and its inputs:

============================  =============================================================
cause                         rule
============================  =============================================================
``log of zero``               Log (or Log1p at -1, BinaryCrossEntropy) of an exact 0
``log of a negative number``  Log of a value < 0 (NaN)
``overflow in exp``           Exp/Expm1 of a value above log(max float): ~88.7 in float32
``near-zero variance``        Sqrt/Rsqrt/Norm at ~0 (infinite derivative), or a division by
                              the result of Sqrt/Rsqrt/Std/Var/Norm that is ~0
``division by zero``          Div by an exact 0 (or an infinite derivative of Pow at 0)
``sqrt of a negative number`` Sqrt/Rsqrt of a value < 0
``power of a negative``       Pow of a negative base with a fractional exponent
``non-finite input``          an input or parameter already held NaN/Inf (data, earlier step)
``non-finite gradient``       the gradient arriving at the op was already NaN/Inf (a hook)
``overflow``                  anything else producing Inf from finite values (too large)
``unknown``                   none of the above
============================  =============================================================

Example::

    origin = cr.diagnostics.trace_nonfinite(lambda: loss_fn(model(x), y), model=model)
    print(origin)     # 'Log' in layer 'head' (forward pass): log of zero ... remedy ...

    with cr.diagnostics.NonfiniteTracer(model) as t:
        loss_fn(model(x), y).backward()
    t.origin          # None when everything stayed finite
"""

import linecache
import os
import re
import weakref
from dataclasses import dataclass

import numpy as np

from ..autograd import detect_anomaly
from ..tensor import Tensor

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_REMEDIES = {
    "log of zero": "add a small epsilon (log(x + 1e-8) or x.clamp(min=1e-8)); for probabilities "
    "use log_softmax / cross_entropy on logits instead of log(softmax)",
    "log of a negative number": "the argument of log must be positive: check its sign, or "
    "clamp(min=1e-8)",
    "overflow in exp": "exp overflows above ~88 in float32: use the stable forms (logsumexp, "
    "log_softmax, sigmoid), clamp the argument, or lower the learning rate "
    "if the values grew during training",
    "near-zero variance": "add an epsilon inside the square root (sqrt(var + 1e-5)), as "
    "BatchNorm/LayerNorm do",
    "division by zero": "add an epsilon to the denominator, or mask the zero entries",
    "sqrt of a negative number": "clamp the argument at 0 (or a small epsilon) before sqrt",
    "power of a negative": "a fractional power needs a non-negative base: clamp or use abs()",
    "non-finite input": "the NaN/Inf was already there: check the input data with np.isfinite "
    "and the previous optimizer step (lower the learning rate, clip the "
    "gradient norm)",
    "non-finite gradient": "a backward hook or the initial gradient passed NaN/Inf: check them",
    "overflow": "values exceed the floating range: lower the learning rate, clip the gradient "
    "norm (clip_grad_norm_), normalise the inputs and activations",
    "unknown": "inspect the op's inputs at the line shown",
}


@dataclass
class NonfiniteOrigin:
    """Where the first NaN/Inf appeared.

    Attributes:
        op (str | None): the op's name ('Log', 'Exp', 'Sqrt', ...); None if found by a module
            hook only (a value changed outside recorded ops).
        layer (str | None): the module (name in ``model.named_modules()``) that ran the op.
        phase (str): 'forward' or 'backward'.
        cause (str): one of the causes of the module docstring's table.
        created_at (str | None): 'file:line in function: code' of the user line that made the op.
        detail (str): the numbers behind the cause.
        remedy (str): what to try.
    """

    op: object
    layer: object
    phase: str
    cause: str
    created_at: object = None
    detail: str = ""
    remedy: str = ""

    def __str__(self):
        where = f"'{self.op}'" if self.op else "a value"
        layer = f" in layer '{self.layer}'" if self.layer else ""
        lines = [f"first NaN/Inf: {where}{layer}, {self.phase} pass: {self.cause}"]
        if self.detail:
            lines.append(f"  evidence: {self.detail}")
        if self.created_at:
            lines.append(f"  created at {self.created_at}")
        if self.remedy:
            lines.append(f"  remedy: {self.remedy}")
        return "\n".join(lines)


class NonfiniteTracer:
    """Context manager: run code under anomaly detection and catch where NaN/Inf first appeared.

    The first non-finite value stops the block (its ``FloatingPointError`` is swallowed unless
    ``reraise=True``); ``tracer.origin`` is then a :class:`NonfiniteOrigin`, or None when all
    values stayed finite. Give ``model`` (a Module) to name layers.

    Example::

        with NonfiniteTracer(model) as t:
            loss = loss_fn(model(x), y)
            loss.backward()
        print(t.origin)
    """

    def __init__(self, model=None, reraise=False):
        if model is not None and not hasattr(model, "named_modules"):
            raise TypeError(f"NonfiniteTracer: model must be a Module, got {type(model).__name__}")
        self.model = model
        self.reraise = reraise
        self.origin = None

    def __enter__(self):
        self.origin = None
        self._stack = []  # (module name, inputs finite, input nodes)
        self._labels = weakref.WeakKeyDictionary()  # node -> name of the module that made it
        self._handles = []
        self._params = {}
        if self.model is not None:
            self._params = {id(p): n for n, p in self.model.named_parameters()}
            for name, module in self.model.named_modules():
                name = name or type(module).__name__
                self._handles.append(module.register_forward_pre_hook(self._pre_hook(name)))
                self._handles.append(module.register_forward_hook(self._post_hook(name)))
        self._anomaly = detect_anomaly()
        self._anomaly.__enter__()
        self._quiet = np.errstate(all="ignore")  # the origin report replaces NumPy's warnings
        self._quiet.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._quiet.__exit__(exc_type, exc, tb)
        self._anomaly.__exit__(exc_type, exc, tb)
        for h in self._handles:
            h.remove()
        if isinstance(exc, FloatingPointError) and str(exc).startswith("detect_anomaly"):
            # A module hook may have seen the NaN first (made outside any recorded op).
            self.origin = self.origin or self._origin_from_error(exc)
            self._stack.clear()
            return not self.reraise
        return False

    # ---- module hooks ----
    def _pre_hook(self, name):
        def hook(module, args):
            tensors = _tensors(args)
            self._stack.append(
                (
                    name,
                    all(_finite(t) for t in tensors),
                    {t._node for t in tensors if t._node is not None},
                )
            )

        return hook

    def _post_hook(self, name):
        def hook(module, args, output):
            if not self._stack:
                return
            _, inputs_finite, stop = self._stack.pop()
            outputs = _tensors(output)
            self._label(outputs, stop, name)
            if self.origin is None and inputs_finite and not all(_finite(t) for t in outputs):
                self.origin = NonfiniteOrigin(
                    None,
                    name,
                    "forward",
                    "unknown",
                    detail="the module's inputs were finite and its output was not, without any "
                    "recorded op failing (was ._data changed in place?)",
                    remedy=_REMEDIES["unknown"],
                )

        return hook

    def _label(self, outputs, stop, name):
        """Mark every op between this module's inputs and outputs as made by ``name``.

        Inner modules finish first, so the innermost module keeps the label.
        """
        todo = [t._node for t in outputs if t._node is not None]
        seen = set()
        while todo:
            node = todo.pop()
            if node in seen or node in stop or node.inputs is None:
                continue
            seen.add(node)
            self._labels.setdefault(node, name)
            # node.next: the producers when the op ran (an in-place op may have moved x._node)
            todo.extend(n for n in node.next if n is not None)

    # ---- the error ----
    def _origin_from_error(self, exc):
        info = _anomaly_info(exc)
        node = info.get("node")
        if info["phase"] == "forward":
            layer = self._stack[-1][0] if self._stack else None
            cause, detail = _forward_cause(info["op"], info.get("inputs"), self._params)
        else:
            layer = self._labels.get(node) if node is not None else None
            cause, detail = _backward_cause(info["op"], node, info.get("grad"), info.get("slot"))
        created = (
            (node.created_at if node is not None else None)
            or info.get("at")
            or _user_line(exc.__traceback__)
        )
        return NonfiniteOrigin(
            info["op"], layer, info["phase"], cause, created, detail, _REMEDIES[cause]
        )


def trace_nonfinite(fn, *args, model=None, backward=True, **kwargs):
    """Run ``fn(*args, **kwargs)`` and return where the first NaN/Inf appeared (or None).

    ``fn`` is the user's step: it may call ``backward()`` itself, or return the loss, which is
    then back-propagated here (``backward=True``, when it is a scalar whose graph is intact).
    Layers are named from ``model`` (default: ``fn`` itself if it is a Module, else the first
    Module among ``args``). Gradients accumulate into ``.grad`` as in a normal step.

    Example::

        origin = trace_nonfinite(lambda: cr.nn.functional.cross_entropy(model(x), y),
                                 model=model)
        if origin:
            print(origin.op, origin.layer, origin.cause)
    """
    if not callable(fn):
        raise TypeError(f"trace_nonfinite: fn must be callable, got {type(fn).__name__}")
    if model is None:
        model = next((m for m in (fn, *args) if hasattr(m, "named_modules")), None)
    with NonfiniteTracer(model) as tracer:
        out = fn(*args, **kwargs)
        if (
            backward
            and isinstance(out, Tensor)
            and out.requires_grad
            and out._data.size == 1
            and out._node is not None
            and out._node.inputs is not None
        ):
            out.backward()
    return tracer.origin


# ---- reading the anomaly error ----

_MESSAGE = re.compile(
    r"'(?P<op>[^']+)' produced (?:NaN|Inf) in its (?P<phase>forward|backward) "
    r"pass(?:, created at (?P<at>.*))?",
    re.S,
)


def _anomaly_info(exc):
    """op, phase, node, op inputs (forward) or arriving gradient and input slot (backward).

    Read from the frames of the engine's check when they are there, else from the message.
    """
    match = _MESSAGE.search(str(exc))
    info = {
        "op": match["op"] if match else None,
        "phase": match["phase"] if match else "forward",
        "at": match["at"] if match else None,
    }
    frames = _frames(exc.__traceback__)
    for i, frame in enumerate(frames):
        if frame.f_code.co_name == "_check_finite" and "node" in frame.f_locals:
            info["node"] = frame.f_locals["node"]
            caller = frames[i - 1].f_locals if i > 0 else {}
            if info["phase"] == "forward":
                info["inputs"] = caller.get("inputs")
            elif info["node"] is not None and "t" in caller:
                info["grad"] = caller.get("g")
                info["slot"] = _slot_of(info["node"], caller["t"])
    return info


def _frames(tb):
    out = []
    while tb is not None:
        out.append(tb.tb_frame)
        tb = tb.tb_next
    return out


def _slot_of(node, t):
    return next((k for k, x in enumerate(node.inputs or ()) if x is t), None)


def _user_line(tb):
    """'file:line in function: code' of the innermost frame outside chainrule (or in its nn)."""
    for frame in reversed(_frames(tb)):
        path = os.path.abspath(frame.f_code.co_filename)
        inside = path.startswith(_PACKAGE_DIR + os.sep)
        if not inside or path.startswith(os.path.join(_PACKAGE_DIR, "nn") + os.sep):
            line = frame.f_lineno
            code = linecache.getline(frame.f_code.co_filename, line).strip()
            return f"{frame.f_code.co_filename}:{line} in {frame.f_code.co_name}: {code}"
    return None


# ---- the rules ----


def _forward_cause(op, inputs, params):
    arrays = [t._data if isinstance(t, Tensor) else np.asarray(t) for t in (inputs or ())]
    for t, a in zip(inputs or (), arrays, strict=True):
        if a.dtype.kind in "fc" and not np.isfinite(a).all():
            name = params.get(id(t))
            what = f"parameter '{name}'" if name else "an input"
            return "non-finite input", f"{what} of {op} already held NaN/Inf"
    if not arrays:
        return "unknown", ""
    x = arrays[0].astype(np.float64)
    rule = _FORWARD_RULES.get(op)
    found = rule(x, arrays, inputs) if rule else None
    return found or (
        "overflow",
        f"{op} produced Inf from finite inputs (largest |input| "
        f"{max(_absmax(a) for a in arrays):.3g})",
    )


def classify_op(op, inputs, params):
    """(cause, detail) of an op whose inputs were finite and whose output was not: the one
    NaN/Inf classifier of the diagnostics (the tracer and the GradientMonitor both use it).
    ``params`` maps id(parameter) -> name, to name a parameter that already held NaN/Inf."""
    return _forward_cause(op, inputs, params)


def _log_rule(x, arrays, inputs):
    if (x == 0).any():
        return "log of zero", f"{int((x == 0).sum())} input value(s) were exactly 0"
    if (x < 0).any():
        return "log of a negative number", f"{int((x < 0).sum())} input value(s) were < 0"
    return None


def _log1p_rule(x, arrays, inputs):
    return _log_rule(x + 1, arrays, inputs)


def _exp_rule(x, arrays, inputs):
    limit = np.log(np.finfo(arrays[0].dtype).max) if arrays[0].dtype.kind == "f" else 709.0
    return "overflow in exp", (
        f"largest input {x.max():.4g} > {limit:.4g}, the largest "
        f"argument exp can take in {arrays[0].dtype}"
    )


def _sqrt_rule(x, arrays, inputs):
    if (x < 0).any():
        return "sqrt of a negative number", f"{int((x < 0).sum())} input value(s) were < 0"
    if (x == 0).any():
        return "near-zero variance", f"{int((x == 0).sum())} input value(s) were 0 (1/sqrt(0))"
    return None


def _div_rule(x, arrays, inputs):
    b = arrays[1].astype(np.float64)
    if not (b == 0).any():
        return None
    zeros = f"{int((b == 0).sum())} denominator value(s) were 0"
    if _made_by_sqrt(inputs[1]):
        return "near-zero variance", f"{zeros}, and the denominator is a {inputs[1]._node.name}"
    return "division by zero", zeros


def _pow_rule(x, arrays, inputs):
    p = arrays[1].astype(np.float64)
    if ((x < 0) & (p != np.round(p))).any():
        return "power of a negative", "a negative base was raised to a fractional power"
    if ((x == 0) & (p < 0)).any():
        return "division by zero", "0 was raised to a negative power"
    return None


_FORWARD_RULES = {
    "Log": _log_rule,
    "BinaryCrossEntropy": _log_rule,
    "Log1p": _log1p_rule,
    "Exp": _exp_rule,
    "Expm1": _exp_rule,
    "Sqrt": _sqrt_rule,
    "Rsqrt": _sqrt_rule,
    "Div": _div_rule,
    "Pow": _pow_rule,
}


def _made_by_sqrt(t):
    return (
        isinstance(t, Tensor)
        and t._node is not None
        and t._node.name in ("Sqrt", "Rsqrt", "Std", "Var", "Norm")
    )


def _backward_cause(op, node, grad, slot):
    if grad is not None and not np.isfinite(np.asarray(grad)).all():
        return "non-finite gradient", f"the gradient arriving at {op} already held NaN/Inf"
    if node is None or node.inputs is None:
        return "unknown", ""
    x = node.inputs[0]._data.astype(np.float64)
    near_zero = np.abs(x) < 1e-12
    if op in ("Sqrt", "Norm") and (near_zero.any() or (np.asarray(node.out_data) == 0).any()):
        return "near-zero variance", (
            f"{op} of 0 has an infinite derivative (e.g. the norm or std of identical values)"
        )
    if op == "Rsqrt" and near_zero.any():
        return "near-zero variance", "Rsqrt of ~0 has an infinite derivative"
    if op in ("Log", "BinaryCrossEntropy") and (x == 0).any():
        return "log of zero", f"{op}'s derivative 1/x is infinite at the zero input(s)"
    if op == "Div" and (node.inputs[1]._data == 0).any():
        if _made_by_sqrt(node.inputs[1]):
            return "near-zero variance", "the denominator (a square root) was 0"
        return "division by zero", "the derivative of a/b is infinite where b = 0"
    if op == "Pow" and slot == 0 and (x == 0).any():
        return "division by zero", "x**p with p < 1 has an infinite derivative at x = 0"
    return "overflow", (
        f"the gradient through {op} exceeded the floating range (exploding gradients)"
    )


# ---- small helpers ----


def _tensors(obj):
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _finite(t):
    return t._data.dtype.kind not in "fc" or bool(np.isfinite(t._data).all())


def _absmax(a):
    a = np.asarray(a, dtype=np.float64)
    return float(np.abs(a).max()) if a.size else 0.0
