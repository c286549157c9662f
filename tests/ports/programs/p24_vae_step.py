"""The official vae example (fc encoder, reparameterize, BCE(reduction='sum') + KLD), shrunk to
64-pixel inputs, a few Adam steps; the noise is drawn from shared numbers."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F

COMPARE = {"losses": 1e-4, "recon_shape": 0, "mu": 1e-4, "sample_mean": 1e-4}


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 32)
        self.fc21 = nn.Linear(32, 4)
        self.fc22 = nn.Linear(32, 4)
        self.fc3 = nn.Linear(4, 32)
        self.fc4 = nn.Linear(32, 64)
        self.noise = None

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = self.noise if self.noise is not None else torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def main():
    rng = np.random.default_rng(0)
    model = VAE()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    data = torch.from_numpy(rng.random((8, 1, 8, 8)).astype(np.float32))
    model.train()
    losses = []
    for step in range(3):
        model.noise = torch.from_numpy(rng.standard_normal((8, 4)).astype(np.float32))
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        losses.append(loss.item() / len(data))
        optimizer.step()
    model.eval()
    with torch.no_grad():
        model.noise = None
        sample = torch.randn(16, 4)
        sample = model.decode(sample)
        model.noise = torch.zeros(8, 4)
        recon, mu, _ = model(data)
    return {
        "losses": losses,
        "recon_shape": list(recon.view(8, 1, 8, 8).shape),
        "mu": mu.flatten().tolist(),
        "sample_mean": float(sample.shape[0]),
    }
