"""The hook-based ``spectral_norm`` (``torch.nn.utils.spectral_norm``, the GAN discriminator
spelling): ``weight = weight_orig / sigma``, sigma the largest singular value estimated by power
iteration, one step per training forward.

The module's ``weight`` Parameter becomes ``weight_orig`` and the iteration vectors are the
buffers ``weight_u`` and ``weight_v``, as in PyTorch's state dicts. ``u`` and ``v`` start
random, so two libraries agree once the same state dict is loaded.

Example::

    disc = spectral_norm(cr.nn.Linear(20, 40))
    sorted(disc.state_dict())   # ['bias', 'weight_orig', 'weight_u', 'weight_v']
"""

from ...autograd.grad_mode import no_grad
from ...random import normal
from ..functional import normalize
from ..modules.conv_transpose import ConvTranspose1d, ConvTranspose2d
from ..parameter import Parameter

__all__ = ["spectral_norm", "remove_spectral_norm"]


def _as_matrix(weight, dim):
    """``weight`` with ``dim`` moved first and the rest flattened: (size of dim, -1)."""
    if dim != 0:
        order = [dim] + [d for d in range(weight.ndim) if d != dim]
        weight = weight.permute(*order)
    return weight.reshape(weight.shape[0], -1)


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / sigma``."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.name, self.dim, self.eps = name, dim, eps
        self.n_power_iterations = n_power_iterations

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = _as_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    # v first, then u (this order is the hook API's; parametrizations differ)
                    v.copy_(normalize(weight_mat.t() @ u, dim=0, eps=self.eps))
                    u.copy_(normalize(weight_mat @ v, dim=0, eps=self.eps))
            u, v = u.clone(), v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        with no_grad():
            weight_mat = _as_matrix(weight, dim)
            h, w = weight_mat.shape
            u = normalize(normal(0.0, 1.0, (h,)).to(weight.dtype), dim=0, eps=eps)
            v = normalize(normal(0.0, 1.0, (w,)).to(weight.dtype), dim=0, eps=eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its spectral norm (largest singular value), estimated with
    ``n_power_iterations`` power-iteration steps per training forward. ``dim`` (default 0, 1
    for ConvTranspose) is the output dim. Returns ``module``.

    Example::

        d = spectral_norm(cr.nn.Conv2d(3, 8, 4))
        d.weight_orig.shape, d.weight_u.shape       # (8, 3, 4, 4), (8,)
    """
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Turn the spectral-normed ``module.<name>`` back into one plain Parameter."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
