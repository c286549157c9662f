"""User-defined differentiable functions, PyTorch-style.

Example::

    class Cube(cr.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    y = Cube.apply(x)
"""

from ..tensor import Tensor
from .engine import attach
from .grad_mode import enable_grad, no_grad


class FunctionCtx:
    """What ``forward`` leaves for ``backward``."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self.saved_tensors = ()

    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grads)``; call ``.apply``.

    ``backward`` returns one gradient per argument of ``forward`` (None for non-tensors). It is
    written with chainrule ops, so when it is itself recorded (``create_graph=True``) second
    derivatives work. Single-output functions only.
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx(tuple(isinstance(a, Tensor) and a.requires_grad for a in args))
        with no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}"
            )
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        inputs = tuple(args[i] for i in positions)
        out = Tensor._wrap(out._data)
        return attach(out, inputs, _vjp_of(cls, ctx, positions), cls.__name__, save_inputs=True)


def _vjp_of(cls, ctx, positions):
    def vjp(node, g):
        with enable_grad() if node.create_graph else no_grad():
            grads = cls.backward(ctx, g if node.create_graph else Tensor._wrap(g))
        grads = grads if isinstance(grads, tuple) else (grads,)
        picked = [grads[i] if i < len(grads) else None for i in positions]
        if node.create_graph:
            return tuple(picked)
        return tuple(
            None if p is None else (p._data if isinstance(p, Tensor) else p) for p in picked
        )

    return vjp
