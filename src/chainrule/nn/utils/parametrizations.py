"""Parametrizations built on ``parametrize.register_parametrization``
(``torch.nn.utils.parametrizations``): ``weight_norm`` and ``spectral_norm``.

State-dict names are PyTorch's: ``parametrizations.weight.original0`` (g) and ``original1``
(v) for weight_norm; ``parametrizations.weight.original`` with the power-iteration vectors
``parametrizations.weight.0._u`` and ``._v`` for spectral_norm.

Example::

    layer = parametrizations.weight_norm(cr.nn.Linear(20, 40))
    layer.parametrizations.weight.original0.shape    # (40, 1): g
"""

from ...autograd.grad_mode import no_grad
from ...random import normal
from ..functional import normalize
from ..module import Module
from ..modules.conv_transpose import ConvTranspose1d, ConvTranspose2d
from . import parametrize
from .spectral_norm import _as_matrix
from .weight_norm import _weight_norm, norm_except_dim

__all__ = ["weight_norm", "spectral_norm"]


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Parametrize ``module.<name>`` as ``g * v / ||v||`` (norm over every dim but ``dim``;
    ``None`` for the whole tensor). Returns ``module``.

    Example::

        conv = parametrizations.weight_norm(cr.nn.Conv1d(4, 8, 3))
        conv.weight      # recomputed from original0 (g) and original1 (v) at each read
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        ndim = weight.ndim
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = _as_matrix(weight.detach(), self.dim)
            h, w = weight_mat.shape
            u = normalize(normal(0.0, 1.0, (h,)).to(weight.dtype), dim=0, eps=eps)
            v = normalize(normal(0.0, 1.0, (w,)).to(weight.dtype), dim=0, eps=eps)
            self.register_buffer("_u", u)
            self.register_buffer("_v", v)
            self._power_method(weight_mat, 15)

    def _power_method(self, weight_mat, n_power_iterations):
        # u first, then v (the hook API does v first)
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalize(weight_mat @ self._v, dim=0, eps=self.eps))
                self._v.copy_(normalize(weight_mat.t() @ self._u, dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalize(weight, dim=0, eps=self.eps)
        weight_mat = _as_matrix(weight, self.dim)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = (u * (weight_mat @ v)).sum()
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Parametrize ``module.<name>`` as itself divided by its largest singular value, estimated
    by power iteration (``n_power_iterations`` steps per training read). ``dim`` (default 0, 1
    for ConvTranspose) is the output dim. Returns ``module``.

    Example::

        d = parametrizations.spectral_norm(cr.nn.Linear(20, 40))
        d.parametrizations.weight[0]._u.shape     # (40,)
    """
    weight = getattr(module, name, None)
    if weight is None:
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d)) else 0
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, dim, eps)
    )
    return module
