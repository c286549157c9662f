"""Layers of classic architectures that the earlier programs do not use: AlexNet's
LocalResponseNorm, SegNet's MaxPool2d(return_indices=True) with MaxUnpool2d, ShuffleNet's
ChannelShuffle (and the hand-written view/transpose version), a self-normalizing SELU network
with AlphaDropout and lecun-normal init, nn.Bilinear, LPPool2d, Softmax2d, CircularPad2d,
nn.Unflatten; then the deployment helpers people call: fuse_conv_bn_eval, and swapping every
ReLU for a GELU by walking named_modules and setattr on the parent."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

COMPARE = {
    "lrn": 1e-5,
    "segnet": 1e-5,
    "unpool_indices": 0,
    "shuffle": 0,
    "selu_out": 1e-5,
    "bilinear": 1e-5,
    "bilinear_grad": 1e-4,
    "lppool": 1e-5,
    "softmax2d": 1e-6,
    "circular": 0,
    "unflatten_shape": 0,
    "fused": 1e-5,
    "swapped": 0,
    "swapped_out": 1e-5,
}


def channel_shuffle(x, groups):
    batchsize, num_channels, height, width = x.size()
    channels_per_group = num_channels // groups
    x = x.view(batchsize, groups, channels_per_group, height, width)
    x = torch.transpose(x, 1, 2).contiguous()
    x = x.view(batchsize, -1, height, width)
    return x


class SegNetBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(2, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)
        self.dec = nn.Conv2d(4, 2, 3, padding=1)

    def forward(self, x):
        size = x.size()
        x = F.relu(self.enc(x))
        x, indices = self.pool(x)
        x = self.unpool(x, indices, output_size=size[:1] + (4,) + size[2:])
        return self.dec(x), indices


def fill(module, rng, scale=0.4):
    module.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-scale, scale, tuple(v.shape)).astype(np.float32))
            if v.is_floating_point()
            else v
            for k, v in module.state_dict().items()
        }
    )


def main():
    rng = np.random.default_rng(46)
    img = torch.from_numpy(rng.standard_normal((2, 6, 5, 5)).astype(np.float32))
    lrn = nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(img * 10)

    seg = SegNetBlock()
    fill(seg, rng)
    seg_out, indices = seg(img[:, :2])

    shuffled = channel_shuffle(img, 3)
    shuffled_layer = nn.ChannelShuffle(3)(img)

    selu_net = nn.Sequential(nn.Linear(6, 16), nn.SELU(), nn.AlphaDropout(0.1), nn.Linear(16, 3))
    for m in selu_net.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, nonlinearity="linear")
    fill(selu_net, rng)
    selu_net.eval()
    selu_out = selu_net(img[:, :, 0, 0])

    bil = nn.Bilinear(3, 4, 2)
    fill(bil, rng)
    a = torch.from_numpy(rng.standard_normal((5, 3)).astype(np.float32))
    b = torch.from_numpy(rng.standard_normal((5, 4)).astype(np.float32))
    bil_out = bil(a, b)
    bil_out.sum().backward()

    lppool = nn.LPPool2d(2, kernel_size=2, stride=1)(img.abs())
    softmax2d = nn.Softmax2d()(img)
    circular = nn.CircularPad2d((1, 2, 0, 1))(torch.arange(12.0).reshape(1, 1, 3, 4))
    unflat = nn.Unflatten(1, (2, 3))(img)

    conv = nn.Conv2d(6, 4, 3, padding=1)
    bn = nn.BatchNorm2d(4)
    fill(conv, rng)
    fill(bn, rng)
    bn.running_var.abs_().add_(0.5)
    conv.eval()
    bn.eval()
    fused = fuse_conv_bn_eval(conv, bn)
    fused_diff = fused(img) - bn(conv(img))

    model = nn.Sequential(
        nn.Conv2d(6, 4, 1), nn.ReLU(), nn.Sequential(nn.Conv2d(4, 4, 1), nn.ReLU(inplace=True))
    )
    fill(model, rng)
    for name, module in list(model.named_modules()):
        if isinstance(module, nn.ReLU):
            parent_name, _, child = name.rpartition(".")
            parent = model.get_submodule(parent_name) if parent_name else model
            setattr(parent, child, nn.GELU())
    swapped = [type(m).__name__ for m in model.modules()]
    return {
        "lrn": lrn.numpy().ravel().tolist(),
        "segnet": seg_out.detach().numpy().ravel().tolist(),
        "unpool_indices": indices.numpy().ravel().tolist(),
        "shuffle": (shuffled == shuffled_layer).all().item(),
        "selu_out": selu_out.detach().numpy().ravel().tolist(),
        "bilinear": bil_out.detach().numpy().ravel().tolist(),
        "bilinear_grad": bil.weight.grad.numpy().ravel().tolist(),
        "lppool": lppool.numpy().ravel().tolist(),
        "softmax2d": softmax2d.numpy().ravel().tolist(),
        "circular": circular.numpy().ravel().tolist(),
        "unflatten_shape": list(unflat.shape),
        "fused": fused_diff.detach().abs().max().item(),
        "swapped": swapped,
        "swapped_out": model(img).detach().numpy().ravel().tolist(),
    }
