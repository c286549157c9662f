"""A custom autograd Function (straight-through clamp) and a gradient check by hand."""

import numpy as np
import torch


class StraightThroughClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        inside = ((x > ctx.lo - 1) & (x < ctx.hi + 1)).to(grad_output.dtype)
        return grad_output * inside, None, None


class MySquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * x * g


COMPARE = {"y": 1e-6, "grad": 1e-6, "sq_grad": 1e-6}


def main():
    x = torch.tensor(np.linspace(-3, 3, 13), dtype=torch.float32, requires_grad=True)
    y = StraightThroughClamp.apply(x, -1.0, 1.0)
    (y * torch.arange(13, dtype=torch.float32)).sum().backward()
    z = torch.tensor([1.5, -2.0], requires_grad=True)
    MySquare.apply(z).sum().backward()
    return {"y": y.detach().tolist(), "grad": x.grad.tolist(), "sq_grad": z.grad.tolist()}
