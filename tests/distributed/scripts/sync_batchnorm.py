"""SyncBatchNorm on N ranks equals BatchNorm (chainrule's and torch's) on the concatenated batch;
DDP + SyncBatchNorm training equals single-process training on the global batch."""

import copy

import numpy as np
import torch

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
SIZES = [5, 7, 4, 6][:world]  # uneven shares: the counts must be summed, not assumed equal
START = np.cumsum([0] + SIZES)
mine = slice(START[rank], START[rank + 1])
rng = np.random.default_rng(0)  # the same draws on every rank


def close(a, b, what, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"rank {rank}: {what}")


def summed(array):
    t = cr.tensor(np.ascontiguousarray(array))
    dist.all_reduce(t)
    return t.numpy()


# 1. one layer, three layouts, both momentum rules: forward, backward and running statistics
for layout, shape, momentum in [
    (nn.BatchNorm1d, (3,), 0.1),
    (nn.BatchNorm1d, (3, 4), None),
    (nn.BatchNorm2d, (3, 4, 5), 0.3),
]:
    total = START[-1]
    weight = rng.standard_normal(shape[0]).astype(np.float32)
    bias = rng.standard_normal(shape[0]).astype(np.float32)
    sync = nn.SyncBatchNorm(shape[0], momentum=momentum)
    ref = layout(shape[0], momentum=momentum)  # one process, the whole batch
    torch_layout = torch.nn.BatchNorm2d if len(shape) == 3 else torch.nn.BatchNorm1d
    ref_t = torch_layout(shape[0], momentum=momentum)
    for m in (sync, ref):
        m.weight.numpy()[:] = weight
        m.bias.numpy()[:] = bias
    with torch.no_grad():
        ref_t.weight[:] = torch.tensor(weight)
        ref_t.bias[:] = torch.tensor(bias)
    for step in range(3):
        X = (rng.standard_normal((total, *shape)) * 2 + 3 + step).astype(np.float32)
        C = rng.standard_normal((total, *shape)).astype(np.float32)  # dL/dy
        x = cr.tensor(X[mine], requires_grad=True)
        out = sync(x)
        (out * cr.tensor(C[mine])).sum().backward()
        xr = cr.tensor(X, requires_grad=True)
        out_r = ref(xr)
        (out_r * cr.tensor(C)).sum().backward()
        xt = torch.tensor(X, requires_grad=True)
        out_t = ref_t(xt)
        (out_t * torch.tensor(C)).sum().backward()
        what = f"{layout.__name__}{shape} step {step}"
        close(out.numpy(), out_r.numpy()[mine], f"{what}: output")
        close(out.numpy(), out_t.detach().numpy()[mine], f"{what}: output vs torch")
        close(x.grad.numpy(), xr.grad.numpy()[mine], f"{what}: input gradient", atol=1e-5)
        close(x.grad.numpy(), xt.grad.numpy()[mine], f"{what}: input gradient vs torch", atol=1e-5)
        # each rank holds its share of the parameter gradients: they add up to the whole
        for name in ("weight", "bias"):
            g = summed(getattr(sync, name).grad.numpy())
            close(g, getattr(ref, name).grad.numpy(), f"{what}: {name} gradient", atol=1e-5)
            close(g, getattr(ref_t, name).grad.numpy(), f"{what}: {name} grad vs torch", atol=1e-5)
        for m in (sync, ref):
            m.zero_grad()
        ref_t.zero_grad()
        for name in ("running_mean", "running_var"):
            close(getattr(sync, name).numpy(), getattr(ref, name).numpy(), f"{what}: {name}")
            close(getattr(sync, name).numpy(), getattr(ref_t, name).numpy(), f"{what}: {name} t")
        assert int(sync.num_batches_tracked.item()) == step + 1
    assert dist.replicas_agree(sync)  # the global statistics: the same buffers everywhere
    # eval: the running statistics, no communication (rank 1 alone would not hang)
    sync.eval(), ref.eval()
    X = rng.standard_normal((total, *shape)).astype(np.float32)
    close(sync(cr.tensor(X[mine])).numpy(), ref(cr.tensor(X)).numpy()[mine], f"{what}: eval")

# 2. DDP + convert_sync_batchnorm: five SGD steps equal one process on the global batch
PER = 6  # equal shares: the mean of the ranks' mean losses is the global mean loss
Xg = rng.standard_normal((5, PER * world, 2, 6, 6)).astype(np.float32)
Yg = rng.integers(0, 3, (5, PER * world))
own = slice(rank * PER, (rank + 1) * PER)


def convnet():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 8),
        nn.BatchNorm1d(8, momentum=None),
        nn.Tanh(),
        nn.Linear(8, 3),
    )


cr.manual_seed(3)
model = convnet()
reference = copy.deepcopy(model)
model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
assert isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[5], nn.SyncBatchNorm)
ddp = DDP(model, bucket_cap_mb=0.001)
opt = cr.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
ref_opt = cr.optim.SGD(reference.parameters(), lr=0.1, momentum=0.9)
F = nn.functional
for step in range(5):
    opt.zero_grad()
    F.cross_entropy(ddp(cr.tensor(Xg[step][own])), cr.tensor(Yg[step][own])).backward()
    opt.step()
    ref_opt.zero_grad()
    F.cross_entropy(reference(cr.tensor(Xg[step])), cr.tensor(Yg[step])).backward()
    ref_opt.step()
assert dist.replicas_agree(ddp)
ours, theirs = model.state_dict(), reference.state_dict()
for (name, a), b in zip(ours.items(), theirs.values(), strict=True):
    close(a.numpy(), b.numpy(), f"after 5 DDP steps: {name}", rtol=1e-4, atol=1e-5)

dist.destroy_process_group()
print(f"<OK rank {rank}>", flush=True)
