"""Higher-order autograd as research code writes it: a physics-informed network (Burgers'
equation) whose residual takes u_t, u_x and u_xx with torch.autograd.grad(u, x,
grad_outputs=torch.ones_like(u), create_graph=True); a Hessian-vector product by double backward
over model.parameters(); torch.autograd.functional.jacobian / hessian / hvp / vjp / jvp; and an
optimizer written from scratch by subclassing torch.optim.Optimizer (defaults dict,
``self.state[p]``, ``@torch.no_grad()`` step with a closure, ``exp_avg.mul_(beta1).add_(grad,
alpha=1 - beta1)``, ``addcmul_``, ``addcdiv_``) as in blog posts and papers' code."""

# ruff: noqa: B905  (written as in the original posts)
import math

import numpy as np
import torch
import torch.nn as nn
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vjp

COMPARE = {
    "pinn_losses": 1e-4,
    "residual": 1e-4,
    "u_xx": 1e-4,
    "hv": 1e-4,
    "unused_is_none": 0,
    "jac": 1e-5,
    "jac_tuple": 1e-5,
    "hess": 1e-5,
    "hvp": 1e-5,
    "vjp": 1e-5,
    "jvp": 1e-5,
    "custom_losses": 1e-5,
    "custom_state_steps": 0,
    "custom_params": 1e-5,
}


class PINN(nn.Module):
    def __init__(self, hidden=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x, t):
        return self.net(torch.cat([x, t], dim=1))


def residual(model, x, t, nu=0.01 / math.pi):
    u = model(x, t)
    u_t = torch.autograd.grad(u, t, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
    u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), create_graph=True)[0]
    return u_t + u * u_x - nu * u_xx, u_xx


class MyAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                if group["weight_decay"] != 0:
                    grad = grad.add(p, alpha=group["weight_decay"])
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                denom = (exp_avg_sq.sqrt() / math.sqrt(bias_correction2)).add_(group["eps"])
                step_size = group["lr"] / bias_correction1
                p.addcdiv_(exp_avg, denom, value=-step_size)
        return loss


def main():
    rng = np.random.default_rng(43)
    model = PINN()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.normal(0, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    x = torch.from_numpy(rng.uniform(-1, 1, (20, 1)).astype(np.float32)).requires_grad_(True)
    t = torch.from_numpy(rng.uniform(0, 1, (20, 1)).astype(np.float32)).requires_grad_(True)
    x0 = torch.linspace(-1, 1, 8).reshape(-1, 1)
    t0 = torch.zeros_like(x0)
    u0 = -torch.sin(math.pi * x0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    mse = nn.MSELoss()
    pinn_losses = []
    for _ in range(3):
        optimizer.zero_grad()
        f, u_xx = residual(model, x, t)
        loss = mse(f, torch.zeros_like(f)) + mse(model(x0, t0), u0)
        loss.backward()
        optimizer.step()
        pinn_losses.append(loss.item())

    # Hessian-vector product with respect to the parameters
    params = [p for p in model.parameters() if p.requires_grad]
    f, _ = residual(model, x, t)
    loss = f.pow(2).mean()
    grads = torch.autograd.grad(loss, params, create_graph=True)
    vs = [torch.ones_like(p) * 0.01 for p in params]
    dot = sum((g * v).sum() for g, v in zip(grads, vs))
    hv = torch.autograd.grad(dot, params)
    extra = torch.zeros(3, requires_grad=True)
    unused = torch.autograd.grad(model(x0, t0).sum(), [params[0], extra], allow_unused=True)

    def f1(a):
        return torch.stack([a[0] * a[1], torch.sin(a[1]), a.pow(2).sum()])

    def f2(a, b):
        return (a * b).sum(), a.exp() * b

    def energy(a):
        return (a.pow(3) + a[0] * a[2]).sum()

    a = torch.tensor([0.5, -1.0, 2.0])
    b = torch.tensor([1.5, 0.3, -0.2])
    jac = jacobian(f1, a)
    jac_tuple = jacobian(f2, (a, b))
    hess = hessian(energy, a)
    _, hvp_out = hvp(energy, a, b)
    _, vjp_out = vjp(f1, a, torch.tensor([1.0, 2.0, 3.0]))
    _, jvp_out = jvp(f1, a, b)

    # The hand-written Adam with a closure
    lin = nn.Linear(3, 2)
    lin.load_state_dict(
        {
            k: torch.from_numpy(rng.normal(0, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in lin.state_dict().items()
        }
    )
    opt = MyAdam(lin.parameters(), lr=0.05, weight_decay=0.01)
    X = torch.from_numpy(rng.standard_normal((6, 3)).astype(np.float32))
    Y = torch.from_numpy(rng.standard_normal((6, 2)).astype(np.float32))

    def closure():
        opt.zero_grad()
        loss = nn.functional.mse_loss(lin(X), Y)
        loss.backward()
        return loss

    custom_losses = [opt.step(closure).item() for _ in range(4)]
    return {
        "pinn_losses": pinn_losses,
        "residual": f.detach().numpy().ravel().tolist(),
        "u_xx": u_xx.detach().numpy().ravel().tolist(),
        "hv": torch.cat([h.flatten() for h in hv]).tolist(),
        "unused_is_none": [u is None for u in unused],
        "jac": jac.flatten().tolist(),
        "jac_tuple": torch.cat([j.flatten() for pair in jac_tuple for j in pair]).tolist(),
        "hess": hess.flatten().tolist(),
        "hvp": hvp_out.tolist(),
        "vjp": vjp_out.tolist(),
        "jvp": jvp_out.tolist(),
        "custom_losses": custom_losses,
        "custom_state_steps": [s["step"] for s in opt.state.values()],
        "custom_params": torch.cat([p.detach().flatten() for p in lin.parameters()]).tolist(),
    }
