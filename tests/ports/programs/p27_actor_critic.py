"""The official reinforcement_learning examples (actor_critic and reinforce), on a tiny bundled
environment: a policy with action and value heads, Categorical sampling, returns normalized with
the float32 eps, smooth_l1_loss for the critic, Adam. Sampled episodes differ between libraries
(different random streams), so the update compared uses a fixed action sequence."""

# ruff: noqa: B007, E721  (written as in the original examples)
from collections import namedtuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.distributions import Categorical

COMPARE = {
    "loss": 1e-4,
    "grad_norm": 1e-4,
    "entropy": 1e-5,
    "returns": 1e-5,
    "episode_len": 0,
    "reinforce_loss": 1e-4,
    "action_type": 0,
}

SavedAction = namedtuple("SavedAction", ["log_prob", "value"])
eps = np.finfo(np.float32).eps.item()
gamma = 0.99


class LineWorld:
    """Walk left/right on 0..6; reward 1 at the right end."""

    def reset(self):
        self.pos = 3
        return self.state()

    def state(self):
        s = np.zeros(4)
        s[0], s[1], s[2], s[3] = self.pos / 6.0, 1.0, (self.pos % 2), -self.pos / 6.0
        return s

    def step(self, action):
        self.pos = max(0, min(6, self.pos + (1 if action == 1 else -1)))
        done = self.pos in (0, 6)
        return self.state(), float(self.pos == 6), done, {}


class Policy(nn.Module):
    def __init__(self):
        super().__init__()
        self.affine1 = nn.Linear(4, 16)
        self.action_head = nn.Linear(16, 2)
        self.value_head = nn.Linear(16, 1)
        self.saved_actions = []
        self.rewards = []

    def forward(self, x):
        x = F.relu(self.affine1(x))
        action_prob = F.softmax(self.action_head(x), dim=-1)
        state_values = self.value_head(x)
        return action_prob, state_values


def select_action(model, state, fixed=None):
    state = torch.from_numpy(state).float()
    probs, state_value = model(state)
    m = Categorical(probs)
    action = m.sample() if fixed is None else torch.tensor(fixed)
    model.saved_actions.append(SavedAction(m.log_prob(action), state_value))
    return action.item(), m.entropy()


def finish_episode(model, optimizer):
    R = 0
    saved_actions = model.saved_actions
    policy_losses = []
    value_losses = []
    returns = []
    for r in model.rewards[::-1]:
        R = r + gamma * R
        returns.insert(0, R)
    returns = torch.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + eps)
    for (log_prob, value), R in zip(saved_actions, returns, strict=True):
        advantage = R - value.item()
        policy_losses.append(-log_prob * advantage)
        value_losses.append(F.smooth_l1_loss(value, torch.tensor([R])))
    optimizer.zero_grad()
    loss = torch.stack(policy_losses).sum() + torch.stack(value_losses).sum()
    loss.backward()
    grad_norm = torch.sqrt(sum((p.grad**2).sum() for p in model.parameters())).item()
    optimizer.step()
    del model.rewards[:]
    del model.saved_actions[:]
    return loss.item(), grad_norm, returns.tolist()


def main():
    torch.manual_seed(543)
    env = LineWorld()
    model = Policy()
    rng = np.random.default_rng(0)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    optimizer = optim.Adam(model.parameters(), lr=3e-2)
    state = env.reset()
    for t in range(1, 50):  # a sampled episode: it must run
        action, _ = select_action(model, state)
        state, reward, done, _ = env.step(action)
        model.rewards.append(reward)
        if done:
            break
    del model.rewards[:]
    del model.saved_actions[:]
    action_type = type(action).__name__

    state = env.reset()
    entropy = 0.0
    for t, a in enumerate([1, 0, 1, 1, 1, 1]):
        action, ent = select_action(model, state, fixed=a)
        entropy += ent.item()
        state, reward, done, _ = env.step(action)
        model.rewards.append(reward)
        if done:
            break
    episode_len = len(model.rewards)
    loss, grad_norm, returns = finish_episode(model, optimizer)

    # reinforce: log_probs saved directly, policy loss with torch.cat
    probs, _ = model(torch.from_numpy(np.stack([env.reset(), env.state()])).float())
    m = Categorical(probs)
    log_probs = m.log_prob(torch.tensor([1, 0]))
    rewards = torch.tensor([1.0, -0.5])
    policy_loss = [(-lp * r).unsqueeze(0) for lp, r in zip(log_probs, rewards, strict=True)]
    reinforce_loss = torch.cat(policy_loss).sum()
    return {
        "loss": loss,
        "grad_norm": grad_norm,
        "entropy": entropy,
        "returns": returns,
        "episode_len": episode_len,
        "reinforce_loss": reinforce_loss.item(),
        "action_type": action_type,
    }
