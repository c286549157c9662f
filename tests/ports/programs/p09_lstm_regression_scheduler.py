"""LSTM sequence regression with Adam, StepLR and gradient clipping."""

import numpy as np
import torch
import torch.nn as nn

COMPARE = {"losses": 1e-4, "lrs": 1e-9}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=2, hidden_size=16, num_layers=2, batch_first=True)
        self.out = nn.Linear(16, 1)

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        return self.out(out[:, -1, :]).squeeze(-1)


def main():
    rng = np.random.default_rng(0)
    model = Model()
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.25, 0.25, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    x = torch.tensor(rng.uniform(0, 1, (32, 10, 2)), dtype=torch.float32)
    y = (x[:, :, 0] * x[:, :, 1]).sum(dim=1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    losses, lrs = [], []
    for _epoch in range(12):
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append(sched.get_last_lr()[0])
    return {"losses": losses, "lrs": lrs}
