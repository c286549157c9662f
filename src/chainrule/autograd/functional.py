"""``torch.autograd.functional``: derivatives of a function of tensors, built on :func:`grad`
(reverse mode; forward-mode products are two reverse passes).

``func(*inputs)`` returns a tensor or a tuple of tensors; ``inputs`` is a tensor or a tuple of
them. Results follow torch's nesting: a single input gives a single result, a tuple a tuple.

Example:
    >>> jacobian(lambda x: x ** 2, cr.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..backend import xp as np
from . import grad as _grad
from .grad_mode import enable_grad

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(x: Any) -> tuple[bool, tuple[Any, ...]]:
    from ..tensor import Tensor

    return (True, (x,)) if isinstance(x, Tensor) else (False, tuple(x))


def _leaves(inputs: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    """Leaves to differentiate at: the inputs themselves when the results must stay in their
    graph (``create_graph``), else detached copies of them that require grad."""
    return tuple(
        x if create_graph and x.requires_grad else x.detach().requires_grad_(True) for x in inputs
    )


def _grads(outputs: Any, inputs: tuple[Any, ...], seeds: Any, create_graph: bool) -> list[Any]:
    from ..creation import zeros_like

    found = _grad(
        outputs, inputs, seeds, retain_graph=True, create_graph=create_graph, allow_unused=True
    )
    return [zeros_like(x) if g is None else g for x, g in zip(inputs, found, strict=True)]


def _call(func: Callable[..., Any], leaves: tuple[Any, ...]) -> tuple[bool, tuple[Any, ...]]:
    with enable_grad():
        return _as_tuple(func(*leaves))


def vjp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the vector-Jacobian product (``v`` may be omitted for a
    single-element output).

    Example:
        >>> vjp(lambda x: x * 3, cr.tensor([1.0, 2.0]), cr.tensor([1.0, 1.0]))[1]
        tensor([3., 3.])
    """
    single_in, xs = _as_tuple(inputs)
    leaves = _leaves(xs, create_graph)
    single_out, outs = _call(func, leaves)
    seeds = None if v is None else _as_tuple(v)[1]
    grads = _grads(list(outs), leaves, seeds, create_graph)
    result = tuple(g if create_graph else g.detach() for g in grads)
    values = tuple(o if create_graph else o.detach() for o in outs)
    return (values[0] if single_out else values), (result[0] if single_in else result)


def jvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick:
    ``J^T u`` for a dummy cotangent u, then the gradient of ``(J^T u) . v`` with respect to u.

    Example:
        >>> jvp(lambda x: x * 3, cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0]))[1]
        tensor([3., 0.])
    """
    from ..creation import zeros_like

    single_in, xs = _as_tuple(inputs)
    leaves = _leaves(xs, True)
    single_out, outs = _call(func, leaves)
    tangents = _as_tuple(v)[1] if v is not None else tuple(x * 0 + 1 for x in xs)
    dummies = tuple(zeros_like(o).requires_grad_(True) for o in outs)
    back = _grads(list(outs), leaves, list(dummies), True)
    total = sum((b * t).sum() for b, t in zip(back, tangents, strict=True))
    forward = _grads(total, dummies, None, create_graph)
    result = tuple(f if create_graph else f.detach() for f in forward)
    values = tuple(o if create_graph else o.detach() for o in outs)
    return (values[0] if single_out else values), (result[0] if single_out else result)


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    strategy: str = "reverse-mode",
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: for output shape O and input shape I, a tensor of
    shape O + I (nested tuples for several outputs or inputs, as torch's).

    Example:
        >>> jacobian(lambda x: x.sum(), cr.tensor([1.0, 2.0]))
        tensor([1., 1.])
    """
    from ..ops import stack

    single_in, xs = _as_tuple(inputs)
    leaves = _leaves(xs, create_graph)
    single_out, outs = _call(func, leaves)
    per_output = []
    for out in outs:
        rows: list[list[Any]] = [[] for _ in leaves]
        flat = out.reshape(-1)
        for k in range(flat.numel()):  # one reverse pass per output element
            seed = np.zeros(flat.shape, dtype=out.dtype)
            seed[k] = 1
            from ..tensor import Tensor

            grads = _grads([flat], leaves, [Tensor._wrap(seed)], create_graph)
            for i, g in enumerate(grads):
                rows[i].append(g if create_graph else g.detach())
        blocks = tuple(
            (stack(r, 0) if r else leaf.new_zeros(0, *leaf.shape)).reshape(*out.shape, *leaf.shape)
            for r, leaf in zip(rows, leaves, strict=True)
        )
        per_output.append(blocks[0] if single_in else blocks)
    return per_output[0] if single_out else tuple(per_output)


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
    vectorize: bool = False,
    outer_jacobian_strategy: str = "reverse-mode",
) -> Any:
    """The Hessian of a scalar ``func`` at ``inputs``: shape I + I (nested for several inputs).

    Example:
        >>> hessian(lambda x: (x ** 3).sum(), cr.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    single_in, xs = _as_tuple(inputs)

    def gradient(*leaves: Any) -> Any:
        grads = jacobian(func, leaves if len(leaves) > 1 else leaves[0], create_graph=True)
        return grads

    return jacobian(gradient, xs[0] if single_in else xs, create_graph=create_graph)


def vhp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), v^T H)`` for a scalar ``func``.

    Example:
        >>> vhp(lambda x: (x ** 3).sum(), cr.tensor([1.0, 2.0]), cr.tensor([1.0, 0.0]))[1]
        tensor([6., 0.])
    """
    single_in, xs = _as_tuple(inputs)
    leaves = _leaves(xs, True)
    _, outs = _call(func, leaves)
    first = _grads(outs[0], leaves, None, True)
    seeds = _as_tuple(v)[1] if v is not None else tuple(x * 0 + 1 for x in xs)
    total = sum((g * s).sum() for g, s in zip(first, seeds, strict=True))
    second = _grads(total, leaves, None, create_graph)
    result = tuple(s if create_graph else s.detach() for s in second)
    value = outs[0] if create_graph else outs[0].detach()
    return value, (result[0] if single_in else result)


def hvp(
    func: Callable[..., Any],
    inputs: Any,
    v: Any = None,
    create_graph: bool = False,
    strict: bool = False,
) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` for a scalar ``func`` (the Hessian is symmetric: ``vhp``).

    Example:
        >>> hvp(lambda x: (x ** 3).sum(), cr.tensor([1.0, 2.0]), cr.tensor([0.0, 1.0]))[1]
        tensor([ 0., 12.])
    """
    return vhp(func, inputs, v, create_graph, strict)
