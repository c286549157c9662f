"""Gradient switches: no_grad as a decorator (also on a generator), set_grad_enabled as a
plain call, inference_mode, enable_grad inside no_grad."""

import torch

COMPARE = {
    "decorated": 0,
    "generator": 0,
    "plain_call": 0,
    "inference": 0,
    "enabled_inside": 0,
    "restored": 0,
}


@torch.no_grad()
def evaluate(w, x):
    return (w * x).requires_grad


@torch.no_grad()
def batches(w):
    for i in range(3):
        yield (w * i).requires_grad


def main():
    w = torch.ones(3, requires_grad=True)
    decorated = evaluate(w, torch.ones(3))
    generator = list(batches(w))
    torch.set_grad_enabled(False)
    plain_call = (w * 2).requires_grad
    torch.set_grad_enabled(True)
    with torch.inference_mode():
        inference = (w * 2).requires_grad
    with torch.no_grad():
        with torch.enable_grad():
            enabled_inside = (w * 2).requires_grad
    restored = (w * 2).requires_grad
    return {
        "decorated": int(decorated),
        "generator": [int(g) for g in generator],
        "plain_call": int(plain_call),
        "inference": int(inference),
        "enabled_inside": int(enabled_inside),
        "restored": int(restored),
    }
