"""Shared test helpers: compare chainrule with PyTorch, and gradcheck in float64.

``compare_with_torch(cr_fn, torch_fn, inputs)`` runs both libraries on the same NumPy arrays
and checks the forward outputs (values and dtypes) and the gradients of a random-weighted sum
of the outputs w.r.t. every floating input. ``compare_modules`` does the same for a layer and
its PyTorch twin, copying the weights across first. ``check_grad`` gradchecks in float64.
"""

import numpy as np

import chainrule as cr


def _torch():
    import torch

    return torch


def _flat(out):
    """A function's output as a list of tensors (tuples and lists flattened, others dropped)."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _is_float(array):
    return isinstance(array, np.ndarray) and array.dtype.kind == "f"


def _to_numpy(t):
    torch = _torch()
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.numpy() if isinstance(t, cr.Tensor) else np.asarray(t)


def _weighted_sum(outs, weights, lib_tensor):
    total = 0
    for o, w in zip(outs, weights, strict=True):
        if w is not None:
            total = total + (o * lib_tensor(w)).sum()
    return total


def _out_weights(outs, seed):
    rng = np.random.default_rng(seed)
    return [
        rng.standard_normal(_to_numpy(o).shape).astype(_to_numpy(o).dtype)
        if _to_numpy(o).dtype.kind == "f"
        else None
        for o in outs
    ]


def compare_with_torch(
    cr_fn, torch_fn, inputs, grad=True, atol=1e-5, rtol=1e-4, seed=0, check_dtype=True
):
    """Run ``cr_fn`` and ``torch_fn`` on tensors built from the same ``inputs`` and compare.

    ``inputs``: NumPy arrays (float arrays become tensors requiring grad when ``grad``; other
    arrays become plain tensors) or other objects passed through unchanged. Checks every
    output's values (and dtype), then backpropagates ``sum_i <out_i, v_i>`` with random
    ``v_i`` on both sides and checks the gradient of every float input. Returns
    ``(cr_outputs, torch_outputs, cr_inputs, torch_inputs)`` for further checks.
    """
    torch = _torch()
    cr_in = [
        cr.tensor(a.copy(), requires_grad=grad and _is_float(a)) if isinstance(a, np.ndarray) else a
        for a in inputs
    ]
    t_in = [
        torch.tensor(a.copy(), requires_grad=grad and _is_float(a))
        if isinstance(a, np.ndarray)
        else a
        for a in inputs
    ]
    cr_out, t_out = _flat(cr_fn(*cr_in)), _flat(torch_fn(*t_in))
    assert len(cr_out) == len(t_out), f"{len(cr_out)} chainrule outputs vs {len(t_out)} torch"
    for i, (c, t) in enumerate(zip(cr_out, t_out, strict=True)):
        c_np, t_np = _to_numpy(c), _to_numpy(t)
        assert c_np.shape == t_np.shape, f"output {i}: shape {c_np.shape} vs torch {t_np.shape}"
        if check_dtype:
            assert c_np.dtype == t_np.dtype, f"output {i}: dtype {c_np.dtype} vs torch {t_np.dtype}"
        np.testing.assert_allclose(c_np, t_np, atol=atol, rtol=rtol, err_msg=f"output {i}")
    if grad:
        _compare_input_grads(cr_in, t_in, cr_out, t_out, seed, atol, rtol)
    return cr_out, t_out, cr_in, t_in


def _backward_both(cr_out, t_out, seed):
    torch = _torch()
    weights = _out_weights(t_out, seed)
    cr_total = _weighted_sum(cr_out, weights, cr.tensor)
    t_total = _weighted_sum(t_out, weights, torch.tensor)
    if isinstance(t_total, torch.Tensor) and t_total.requires_grad:
        t_total.backward()
    if isinstance(cr_total, cr.Tensor) and cr_total.requires_grad:
        cr_total.backward()


def _compare_input_grads(cr_in, t_in, cr_out, t_out, seed, atol, rtol):
    _backward_both(cr_out, t_out, seed)
    for k, (c, t) in enumerate(zip(cr_in, t_in, strict=True)):
        if not isinstance(c, cr.Tensor) or not c.requires_grad:
            continue
        assert_grads_close(c.grad, t.grad, f"input {k}", atol, rtol)


def assert_grads_close(cr_grad, torch_grad, what, atol=1e-5, rtol=1e-4):
    """Gradients equal in value, shape and dtype; a missing gradient (None) means zeros."""
    if torch_grad is None and cr_grad is None:
        return
    ref = np.zeros_like(_to_numpy(cr_grad)) if torch_grad is None else _to_numpy(torch_grad)
    got = np.zeros_like(ref) if cr_grad is None else _to_numpy(cr_grad)
    assert got.shape == ref.shape, f"gradient of {what}: shape {got.shape} vs torch {ref.shape}"
    assert got.dtype == ref.dtype, f"gradient of {what}: dtype {got.dtype} vs torch {ref.dtype}"
    np.testing.assert_allclose(got, ref, atol=atol, rtol=rtol, err_msg=f"gradient of {what}")


def assert_state_dicts_match(cr_module, torch_module):
    """Same state-dict keys, in the same order, with the same shapes."""
    ours = {k: tuple(v.shape) for k, v in cr_module.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in torch_module.state_dict().items()}
    assert list(ours) == list(theirs), f"state_dict keys {list(ours)} vs torch {list(theirs)}"
    assert ours == theirs, f"state_dict shapes {ours} vs torch {theirs}"


def copy_torch_to_cr(torch_module, cr_module):
    """Load the PyTorch module's state (as NumPy arrays) into the chainrule module."""
    cr_module.load_state_dict(
        {k: v.detach().numpy().copy() for k, v in torch_module.state_dict().items()}
    )


def copy_cr_to_torch(cr_module, torch_module):
    torch = _torch()
    torch_module.load_state_dict(
        {k: torch.tensor(v.numpy().copy()) for k, v in cr_module.state_dict().items()}
    )


def compare_modules(
    cr_module, torch_module, inputs, grad=True, atol=1e-5, rtol=1e-4, seed=0, copy="torch_to_cr"
):
    """Check a layer against its PyTorch twin: state-dict names/shapes, outputs, gradients.

    The weights are copied across first (``copy``: "torch_to_cr", "cr_to_torch" or None).
    Gradients of the float inputs and of every parameter (by name) are compared.
    """
    assert_state_dicts_match(cr_module, torch_module)
    if copy == "torch_to_cr":
        copy_torch_to_cr(torch_module, cr_module)
    elif copy == "cr_to_torch":
        copy_cr_to_torch(cr_module, torch_module)
    result = compare_with_torch(cr_module, torch_module, inputs, grad, atol, rtol, seed)
    if grad:
        theirs = dict(torch_module.named_parameters())
        for name, p in cr_module.named_parameters():
            assert_grads_close(p.grad, theirs[name].grad, f"parameter {name}", atol, rtol)
    return result


def check_grad(fn, *arrays, eps=1e-6, atol=1e-5, rtol=1e-3, gradgrad=False):
    """Gradcheck ``fn`` in float64: float arrays become float64 tensors requiring grad.

    Other arrays (e.g. integer targets) become plain tensors; other objects pass unchanged.
    With ``gradgrad`` second derivatives are checked too.
    """
    inputs = []
    for a in arrays:
        if _is_float(a):
            inputs.append(cr.tensor(a.astype(np.float64), requires_grad=True))
        elif isinstance(a, np.ndarray):
            inputs.append(cr.tensor(a))
        else:
            inputs.append(a)
    assert cr.autograd.gradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    if gradgrad:
        assert cr.autograd.gradgradcheck(fn, inputs, eps=eps, atol=atol, rtol=rtol)
    return True
