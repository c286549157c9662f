"""dtype promotion and integer corner cases that preprocessing and metric code meets:
torch.div with rounding_mode 'floor'/'trunc', uint8 wrap-around, bool sums and cumsums,
0-d tensors not promoting a dimensioned one (float32 + float64 scalar tensor stays float32),
int tensors with float 0-d tensors, result_type / promote_types / can_cast, casts that
truncate, round half to even, integer clamp, argmax ties, sum(dtype=...), arange with float
steps, full() dtype inference, shifts and bitwise ops on ints and bools, remainder vs fmod on
negatives."""

import torch

COMPARE = {
    "div_floor": 0,
    "div_trunc": 0,
    "div_true": 1e-7,
    "uint8_wrap": 0,
    "bool_sum": 0,
    "bool_cumsum": 0,
    "dtypes": 0,
    "promote": 0,
    "casts": 0,
    "round": 0,
    "int_clamp": 0,
    "clamp_dtype": 0,
    "argmax_ties": 0,
    "sum_dtype": 0,
    "sum_value": 0,
    "arange": 1e-7,
    "bits": 0,
    "rem_fmod": 1e-6,
    "int_pow": 0,
    "pow_dtypes": 0,
    "python_types": 0,
}


def name(dtype):
    return str(dtype).split(".")[-1]


def main():
    a = torch.tensor([7, -7, 8, -9])
    b = torch.tensor([2, 2, -3, 4])
    img = torch.tensor([250, 3, 128], dtype=torch.uint8)
    mask = torch.tensor([True, False, True, True])
    f32 = torch.tensor([1.5, 2.5])
    f64_scalar = torch.tensor(2.0, dtype=torch.float64)
    int_t = torch.tensor([1, 2, 3])
    dtypes = [
        name((f32 + f64_scalar).dtype),
        name((int_t + torch.tensor(0.5)).dtype),
        name((int_t * 1.5).dtype),
        name((int_t / int_t).dtype),
        name(mask.sum().dtype),
        name((img + 1).dtype),
        name((img.float() / 255).dtype),
        name(torch.full((2,), 7).dtype),
        name(torch.full((2,), 7.0).dtype),
        name(torch.arange(5).dtype),
        name(torch.arange(0, 1, 0.25).dtype),
        name(torch.tensor([1, 2], dtype=torch.int32).sum().dtype),
        name((torch.tensor([1], dtype=torch.int32) + torch.tensor([1], dtype=torch.int64)).dtype),
        name((torch.tensor([1], dtype=torch.int8) + 1000).dtype),
        name(torch.where(mask, 1, 0).dtype),
        name(torch.where(mask, 1.0, 0).dtype),
    ]
    promote = [
        name(torch.result_type(int_t, 1.0)),
        name(torch.promote_types(torch.int32, torch.float16)),
        name(torch.promote_types(torch.uint8, torch.int8)),
        torch.can_cast(torch.float64, torch.int32),
        torch.can_cast(torch.int32, torch.float64),
    ]
    casts = torch.tensor([-1.7, -0.5, 0.5, 2.9]).to(torch.int64).tolist()
    casts += torch.tensor([300.0, -1.0]).to(torch.uint8).tolist()[:1]
    return {
        "div_floor": torch.div(a, b, rounding_mode="floor").tolist(),
        "div_trunc": torch.div(a, b, rounding_mode="trunc").tolist(),
        "div_true": torch.div(a, b).tolist(),
        "uint8_wrap": (img + 10).tolist() + (img * 2).tolist() + (img - 5).tolist(),
        "bool_sum": [mask.sum().item(), mask.float().mean().item(), (~mask).sum().item()],
        "bool_cumsum": mask.cumsum(0).tolist() + [name(mask.cumsum(0).dtype) == "int64"],
        "dtypes": dtypes,
        "promote": [str(p) for p in promote],
        "casts": casts,
        "round": torch.round(torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5])).tolist()
        + torch.round(torch.tensor([1.2345, 2.5678]), decimals=2).tolist(),
        "int_clamp": a.clamp(min=-8, max=7).tolist(),
        "clamp_dtype": [name(a.clamp(min=0.5).dtype)],
        "argmax_ties": [torch.tensor([1, 3, 3, 2]).argmax().item()]
        + torch.tensor([[2, 2], [1, 1]]).argmax(dim=1).tolist(),
        "sum_dtype": [name(int_t.sum(dtype=torch.float64).dtype)],
        "sum_value": int_t.sum(dtype=torch.float64).item(),
        "arange": torch.arange(0, 1, 0.1).tolist() + [len(torch.arange(0, 1, 0.1))],
        "bits": (a << 1).tolist()
        + (a >> 1).tolist()
        + (a & 3).tolist()
        + (a | 1).tolist()
        + (a ^ 5).tolist()
        + (~a).tolist()
        + (mask & ~mask).tolist()
        + (mask ^ True).tolist(),
        "rem_fmod": torch.remainder(torch.tensor([-3.5, 3.5]), 2).tolist()
        + torch.fmod(torch.tensor([-3.5, 3.5]), 2).tolist()
        + torch.remainder(torch.tensor([-7, 7]), -3).tolist(),
        "int_pow": (int_t**2).tolist(),
        "pow_dtypes": [name((int_t**2).dtype), name((int_t**0.5).dtype)],
        "python_types": [
            type(torch.tensor(3.5).item()).__name__,
            type(torch.tensor(3).item()).__name__,
            type(mask.any().item()).__name__,
            type(int_t.tolist()[0]).__name__,
        ],
    }
