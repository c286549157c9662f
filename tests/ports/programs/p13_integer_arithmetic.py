"""Integer tensors as real programs use them: accuracy by true division, uint8 images / 255,
floor division and remainder, mixed int/float, formatting."""

import numpy as np
import torch

COMPARE = {
    "acc": 1e-7,
    "img": 1e-7,
    "img_dtype": 0,
    "div": 1e-7,
    "floordiv": 0,
    "mod": 0,
    "fmod_float": 1e-6,
    "mixed": 1e-6,
    "mixed_dtype": 0,
    "mean_int": 1e-6,
    "text": 0,
    "sigmoid": 1e-6,
    "exp_dtype": 0,
}


def main():
    pred = torch.tensor([1, 2, 0, 1])
    y = torch.tensor([1, 2, 1, 1])
    acc = (pred == y).sum() / len(y)
    img = torch.tensor(np.arange(0, 256, 51, dtype=np.uint8))
    scaled = img / 255
    t = torch.tensor([3, -3, 7, -8])
    mixed = t * 0.5 + 1
    mean_int = t.float().mean()
    text = f"{acc:.2f} {mean_int:.3f} {torch.tensor(3)}"
    return {
        "acc": acc.item(),
        "img": scaled.tolist(),
        "img_dtype": str(scaled.dtype).split(".")[-1],
        "div": (t / 2).tolist(),
        "floordiv": (t // 2).tolist(),
        "mod": (t % 3).tolist(),
        "fmod_float": (torch.tensor([5.5, -5.5]) % 2).tolist(),
        "mixed": mixed.tolist(),
        "mixed_dtype": str(mixed.dtype).split(".")[-1],
        "mean_int": mean_int.item(),
        "text": text.replace("tensor(3)", "3"),
        "sigmoid": torch.sigmoid(torch.tensor([0, 1, 2])).tolist(),
        "exp_dtype": str(torch.exp(torch.tensor([1, 2])).dtype).split(".")[-1],
    }
