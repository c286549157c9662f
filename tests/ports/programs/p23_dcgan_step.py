"""The official dcgan example's models (ConvTranspose2d generator, strided-conv discriminator,
BatchNorm2d, weights_init through apply and .data.normal_), shrunk to 16x16, one training
iteration of both networks with BCELoss and Adam(betas=(0.5, 0.999))."""

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

COMPARE = {
    "errD": 1e-4,
    "errG": 1e-4,
    "D_x": 1e-4,
    "D_G_z1": 1e-4,
    "D_G_z2": 1e-4,
    "fake_shape": 0,
    "fake_sum": 1e-3,
    "init_std_ok": 0,
    "keys": 0,
}

nz, ngf, ndf, nc = 8, 8, 8, 1


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


def shared(net, rng, scale):
    params = dict(net.named_parameters())
    new = {}
    for k, v in net.state_dict().items():
        if k not in params:
            new[k] = v
            continue
        centre = 1.0 if (k.endswith("weight") and v.dim() == 1) else 0.0
        new[k] = torch.from_numpy(rng.normal(centre, scale, tuple(v.shape)).astype(np.float32))
    net.load_state_dict(new)


def main():
    device = torch.device("cpu")
    rng = np.random.default_rng(0)
    netG = Generator().to(device)
    netG.apply(weights_init)
    init_std_ok = bool(abs(netG.main[0].weight.std().item() - 0.02) < 0.005)
    shared(netG, rng, 0.1)
    netD = Discriminator().to(device)
    netD.apply(weights_init)
    shared(netD, rng, 0.1)
    criterion = nn.BCELoss()
    real_label, fake_label = 1, 0
    optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))

    real_cpu = torch.tensor(rng.uniform(-1, 1, (4, nc, 16, 16)), dtype=torch.float32).to(device)
    batch_size = real_cpu.size(0)
    netD.zero_grad()
    label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)
    output = netD(real_cpu)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    noise = torch.from_numpy(rng.standard_normal((batch_size, nz, 1, 1)).astype(np.float32))
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()

    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    return {
        "errD": errD.item(),
        "errG": errG.item(),
        "D_x": D_x,
        "D_G_z1": D_G_z1,
        "D_G_z2": D_G_z2,
        "fake_shape": list(fake.shape),
        "fake_sum": netG(noise).sum().item(),
        "init_std_ok": init_std_ok,
        "keys": list(netG.state_dict().keys()),
    }
