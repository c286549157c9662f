"""The official siamese_network example (a small CNN in place of resnet18): twin towers, features
concatenated into a sigmoid head trained with BCELoss, Adadelta + StepLR; plus the contrastive
variant with CosineSimilarity / PairwiseDistance and F.normalize, and xavier init through apply."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR

COMPARE = {
    "losses": 1e-4,
    "cos": 1e-5,
    "dist": 1e-5,
    "contrastive": 1e-4,
    "lr": 1e-7,
    "normalized_norms": 1e-5,
}


class SiameseNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.cnn = nn.Sequential(
            nn.Conv2d(1, 4, 3),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(4 * 4 * 4, 16),
        )
        self.fc_in_features = 16
        self.fc = nn.Sequential(
            nn.Linear(self.fc_in_features * 2, 16),
            nn.ReLU(inplace=True),
            nn.Linear(16, 1),
        )
        self.sigmoid = nn.Sigmoid()
        self.cnn.apply(self.init_weights)
        self.fc.apply(self.init_weights)

    def init_weights(self, m):
        if isinstance(m, nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            m.bias.data.fill_(0.01)

    def forward_once(self, x):
        output = self.cnn(x)
        output = output.view(output.size()[0], -1)
        return output

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        output = torch.cat((output1, output2), 1)
        output = self.fc(output)
        output = self.sigmoid(output)
        return output


def main():
    rng = np.random.default_rng(0)
    model = SiameseNetwork()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    optimizer = optim.Adadelta(model.parameters(), lr=1.0)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
    criterion = nn.BCELoss()
    images_1 = torch.from_numpy(rng.random((6, 1, 10, 10)).astype(np.float32))
    images_2 = torch.from_numpy(rng.random((6, 1, 10, 10)).astype(np.float32))
    targets = torch.from_numpy(rng.integers(0, 2, 6).astype(np.float32))
    losses = []
    for epoch in range(2):
        model.train()
        optimizer.zero_grad()
        outputs = model(images_1, images_2).squeeze()
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    with torch.no_grad():
        f1, f2 = model.forward_once(images_1), model.forward_once(images_2)
    cos = nn.CosineSimilarity(dim=1, eps=1e-6)(f1, f2)
    dist = nn.PairwiseDistance(p=2)(f1, f2)
    margin = 1.0
    contrastive = torch.mean(
        (1 - targets) * torch.pow(dist, 2)
        + targets * torch.pow(torch.clamp(margin - dist, min=0.0), 2)
    )
    contrastive = contrastive + (1 - F.cosine_similarity(f1, f2)).mean()
    normalized = F.normalize(f1, p=2, dim=1)
    return {
        "losses": losses,
        "cos": cos.tolist(),
        "dist": dist.tolist(),
        "contrastive": contrastive.item(),
        "lr": optimizer.param_groups[0]["lr"],
        "normalized_norms": normalized.norm(dim=1).tolist(),
    }
