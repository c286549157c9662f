"""The Spatial Transformer Networks tutorial (localization net, fc_loc initialised to the
identity through ``.data.zero_()`` and ``.data.copy_``, F.affine_grid + F.grid_sample, then the
classifier with Dropout2d and log_softmax/nll_loss) on 28x28 inputs, a few SGD steps; a ViT
checkpoint's positional embeddings resized with F.interpolate(mode='bicubic') to a new grid; and
the other resizing and warping modes people use: 'area' and 'nearest-exact' interpolation,
grid_sample with padding_mode='border'/'reflection', mode='nearest' and align_corners=True on a
flow field built with torch.meshgrid(indexing='ij')."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "losses": 1e-4,
    "theta": 1e-4,
    "warped": 1e-4,
    "pos_embed": 1e-5,
    "area": 1e-6,
    "nearest_exact": 0,
    "flow_border": 1e-5,
    "flow_reflect_nearest": 1e-6,
    "grid_grad": 1e-4,
}


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

        # Spatial transformer localization-network
        self.localization = nn.Sequential(
            nn.Conv2d(1, 8, kernel_size=7),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
            nn.Conv2d(8, 10, kernel_size=5),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )

        # Regressor for the 3 * 2 affine matrix
        self.fc_loc = nn.Sequential(nn.Linear(10 * 3 * 3, 32), nn.ReLU(True), nn.Linear(32, 3 * 2))

        # Initialize the weights/bias with identity transformation
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    # Spatial transformer network forward function
    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 10 * 3 * 3)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)

        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)

        return x, theta

    def forward(self, x):
        # transform the input
        x, theta = self.stn(x)

        # Perform the usual forward pass
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1), theta


def resize_pos_embed(posemb, new_hw, num_prefix_tokens=1):
    prefix, grid = posemb[:, :num_prefix_tokens], posemb[:, num_prefix_tokens:]
    old = int(math.sqrt(grid.shape[1]))
    grid = grid.reshape(1, old, old, -1).permute(0, 3, 1, 2)
    grid = F.interpolate(grid, size=new_hw, mode="bicubic", align_corners=False)
    grid = grid.permute(0, 2, 3, 1).reshape(1, new_hw[0] * new_hw[1], -1)
    return torch.cat([prefix, grid], dim=1)


def main():
    rng = np.random.default_rng(44)
    model = Net()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
            if not k.startswith("fc_loc.2")
            else v
            for k, v in model.state_dict().items()
        }
    )
    model.eval()  # dropout off, so both libraries take the same steps
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    data = torch.from_numpy(rng.standard_normal((4, 1, 28, 28)).astype(np.float32))
    target = torch.tensor([3, 1, 4, 1])
    losses = []
    for _ in range(3):
        optimizer.zero_grad()
        output, theta = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        warped, theta = model.stn(data)

    posemb = torch.from_numpy(rng.standard_normal((1, 1 + 4 * 4, 6)).astype(np.float32))
    pos_embed = resize_pos_embed(posemb, (6, 5))

    img = torch.from_numpy(rng.uniform(0, 1, (2, 3, 8, 8)).astype(np.float32))
    area = F.interpolate(img, size=(3, 5), mode="area")
    nearest_exact = F.interpolate(img, scale_factor=1.5, mode="nearest-exact")

    H, W = 8, 8
    ys, xs = torch.meshgrid(torch.arange(H), torch.arange(W), indexing="ij")
    flow = torch.from_numpy(rng.normal(0, 1.5, (2, H, W, 2)).astype(np.float32))
    flow.requires_grad_(True)
    grid_x = 2.0 * (xs.float() + flow[..., 0]) / (W - 1) - 1.0
    grid_y = 2.0 * (ys.float() + flow[..., 1]) / (H - 1) - 1.0
    grid = torch.stack((grid_x, grid_y), dim=-1)
    flow_border = F.grid_sample(img, grid, padding_mode="border", align_corners=True)
    flow_border.pow(2).sum().backward()
    with torch.no_grad():
        flow_reflect_nearest = F.grid_sample(
            img, grid, mode="nearest", padding_mode="reflection", align_corners=True
        )
    return {
        "losses": losses,
        "theta": theta.numpy().ravel().tolist(),
        "warped": warped.numpy().ravel().tolist(),
        "pos_embed": pos_embed.numpy().ravel().tolist(),
        "area": area.numpy().ravel().tolist(),
        "nearest_exact": nearest_exact.numpy().ravel().tolist(),
        "flow_border": flow_border.detach().numpy().ravel().tolist(),
        "flow_reflect_nearest": flow_reflect_nearest.numpy().ravel().tolist(),
        "grid_grad": flow.grad.numpy().ravel().tolist(),
    }
