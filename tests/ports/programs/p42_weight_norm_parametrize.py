"""Reparametrized layers as real code has them: a TCN residual block with the hook-based
nn.utils.weight_norm (weight_g/weight_v) and a Chomp1d, an SN-GAN discriminator with
nn.utils.spectral_norm (power iteration in train mode, fixed u/v in eval), the newer
torch.nn.utils.parametrizations.weight_norm/spectral_norm, the tutorial's Symmetric
parametrization with register_parametrization, parametrize.cached() and
remove_parametrizations; plus module bookkeeping: a forward-hook feature extractor, ModuleDict
heads, extra_repr in repr(), named_modules filtering, trainable-parameter counts,
load_state_dict(strict=False) results and replacing a layer by nn.Identity."""

import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils import parametrizations, spectral_norm, weight_norm

COMPARE = {
    "tcn_keys": 0,
    "tcn_out": 1e-5,
    "tcn_grads": 1e-4,
    "disc_keys": 0,
    "disc_train": 1e-5,
    "disc_u": 1e-5,
    "disc_eval": 1e-5,
    "param_keys": 0,
    "param_out": 1e-5,
    "param_losses": 1e-5,
    "symmetric": 1e-6,
    "is_symmetric": 0,
    "removed_keys": 0,
    "removed_weight": 1e-5,
    "repr": 0,
    "features": 1e-5,
    "n_convs": 0,
    "n_trainable": 0,
    "missing": 0,
    "unexpected": 0,
    "identity_out": 1e-5,
}


def fill(module, rng):
    module.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            if v.is_floating_point()
            else v
            for k, v in module.state_dict().items()
        }
    )


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super().__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, : -self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_inputs, n_outputs, kernel_size, stride, dilation, padding, dropout=0.2):
        super().__init__()
        self.conv1 = weight_norm(
            nn.Conv1d(
                n_inputs, n_outputs, kernel_size, stride=stride, padding=padding, dilation=dilation
            )
        )
        self.chomp1 = Chomp1d(padding)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(dropout)
        self.conv2 = weight_norm(
            nn.Conv1d(
                n_outputs, n_outputs, kernel_size, stride=stride, padding=padding, dilation=dilation
            )
        )
        self.chomp2 = Chomp1d(padding)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)
        self.net = nn.Sequential(
            self.conv1,
            self.chomp1,
            self.relu1,
            self.dropout1,
            self.conv2,
            self.chomp2,
            self.relu2,
            self.dropout2,
        )
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.net(x)
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            spectral_norm(nn.Conv2d(1, 4, 3, stride=2, padding=1)),
            nn.LeakyReLU(0.1),
            spectral_norm(nn.Conv2d(4, 8, 3, stride=2, padding=1)),
            nn.LeakyReLU(0.1),
        )
        self.fc = spectral_norm(nn.Linear(8 * 2 * 2, 1))

    def forward(self, x):
        return self.fc(self.main(x).flatten(1))


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class ScaledHead(nn.Module):
    def __init__(self, in_features, out_features, scale=1.0):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x):
        return self.linear(x) * self.scale

    def extra_repr(self):
        return f"scale={self.scale}"


class MultiHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 3, 3), nn.ReLU(), nn.Flatten()
        )
        self.heads = nn.ModuleDict({"cls": ScaledHead(12, 3, scale=0.5), "reg": nn.Linear(12, 1)})

    def forward(self, x):
        h = self.backbone(x)
        return {name: head(h) for name, head in self.heads.items()}


def main():
    rng = np.random.default_rng(42)

    # TCN block with the hook-based weight_norm
    block = TemporalBlock(2, 3, kernel_size=2, stride=1, dilation=2, padding=2)
    fill(block, rng)
    block.eval()
    x = torch.from_numpy(rng.standard_normal((2, 2, 7)).astype(np.float32))
    tcn_out = block(x)
    tcn_out.pow(2).sum().backward()
    tcn_grads = [block.conv1.weight_g.grad, block.conv1.weight_v.grad, block.conv2.weight_g.grad]

    # SN-GAN discriminator with the hook-based spectral_norm
    disc = Discriminator()
    fill(disc, rng)
    for buf in disc.buffers():
        buf.copy_(F.normalize(buf, dim=0))
    img = torch.from_numpy(rng.standard_normal((3, 1, 8, 8)).astype(np.float32))
    disc.train()
    disc_train = [disc(img).detach().flatten().tolist() for _ in range(2)]
    disc.eval()
    with torch.no_grad():
        disc_eval = disc(img)

    # The parametrizations API on a small MLP, trained a few steps.
    mlp = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    parametrizations.weight_norm(mlp[0])
    parametrizations.spectral_norm(mlp[2])
    fill(mlp, rng)
    mlp[2].parametrizations.weight[0]._u.copy_(
        F.normalize(mlp[2].parametrizations.weight[0]._u, dim=0)
    )
    mlp[2].parametrizations.weight[0]._v.copy_(
        F.normalize(mlp[2].parametrizations.weight[0]._v, dim=0)
    )
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    xs = torch.from_numpy(rng.standard_normal((5, 4)).astype(np.float32))
    ys = torch.from_numpy(rng.standard_normal((5, 2)).astype(np.float32))
    param_losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.mse_loss(mlp(xs), ys)
        loss.backward()
        opt.step()
        param_losses.append(loss.item())
    mlp.eval()
    with parametrize.cached():
        param_out = mlp(xs) + mlp(xs)

    layer = nn.Linear(3, 3)
    fill(layer, rng)
    parametrize.register_parametrization(layer, "weight", Symmetric())
    symmetric = layer.weight
    is_symmetric = bool(torch.allclose(symmetric, symmetric.T))
    parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)

    # Module bookkeeping
    model = MultiHead()
    fill(model, rng)
    features = {}

    def get_features(name):
        def hook(model, input, output):
            features[name] = output.detach()

        return hook

    model.backbone[1].register_forward_hook(get_features("relu1"))
    image = torch.from_numpy(rng.standard_normal((2, 1, 4, 4)).astype(np.float32))
    model(image)
    n_convs = len([m for _, m in model.named_modules() if isinstance(m, nn.Conv2d)])
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    partial = {k: v for k, v in model.state_dict().items() if not k.startswith("heads.reg")}
    partial["heads.extra.weight"] = torch.zeros(1)
    fresh = copy.deepcopy(model)
    result = fresh.load_state_dict(partial, strict=False)
    fresh.heads["cls"] = nn.Identity()
    identity_out = fresh(image)["cls"]
    return {
        "tcn_keys": list(block.state_dict().keys()),
        "tcn_out": tcn_out.detach().numpy().ravel().tolist(),
        "tcn_grads": torch.cat([g.flatten() for g in tcn_grads]).tolist(),
        "disc_keys": list(disc.state_dict().keys()),
        "disc_train": disc_train,
        "disc_u": disc.fc.weight_u.tolist(),
        "disc_eval": disc_eval.flatten().tolist(),
        "param_keys": list(mlp.state_dict().keys()),
        "param_out": param_out.detach().numpy().ravel().tolist(),
        "param_losses": param_losses,
        "symmetric": symmetric.detach().numpy().ravel().tolist(),
        "is_symmetric": is_symmetric,
        "removed_keys": list(layer.state_dict().keys()),
        "removed_weight": layer.weight.detach().numpy().ravel().tolist(),
        "repr": [repr(model.heads), repr(mlp[0]), type(layer).__name__],
        "features": features["relu1"].numpy().ravel().tolist(),
        "n_convs": n_convs,
        "n_trainable": n_trainable,
        "missing": result.missing_keys,
        "unexpected": result.unexpected_keys,
        "identity_out": identity_out.detach().numpy().ravel().tolist(),
    }
