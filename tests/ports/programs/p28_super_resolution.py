"""The official super_resolution example: Conv2d stack with orthogonal init and
calculate_gain('relu'), PixelShuffle upscaling, MSELoss, Adam, PSNR with log10."""

# ruff: noqa: B007, E721  (written as in the original examples)
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.init as init
import torch.optim as optim

COMPARE = {"losses": 1e-4, "psnr": 1e-4, "out_shape": 0, "orthogonal": 0}


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 16, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(8, upscale_factor**2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv4.weight)


def main():
    rng = np.random.default_rng(0)
    model = Net(upscale_factor=3)
    w = model.conv2.weight.view(16, -1)
    orthogonal = bool(torch.allclose(w @ w.t(), 2.0 * torch.eye(16), atol=1e-4))
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    inputs = torch.from_numpy(rng.random((4, 1, 6, 6)).astype(np.float32))
    target = torch.from_numpy(rng.random((4, 1, 18, 18)).astype(np.float32))
    losses = []
    for epoch in range(3):
        optimizer.zero_grad()
        loss = criterion(model(inputs), target)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        prediction = model(inputs)
        mse = criterion(prediction, target)
        psnr = 10 * math.log10(1 / mse.item())
        psnr_t = 10 * torch.log10(1 / mse)
    return {
        "losses": losses,
        "psnr": [psnr, psnr_t.item()],
        "out_shape": list(prediction.shape),
        "orthogonal": orthogonal,
    }
