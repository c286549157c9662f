"""Devices: the CPU is the one device, and asking for another one is a clear error."""

import pickle

import numpy as np
import pytest

import chainrule as cr

FACTORIES = {
    "zeros": lambda d: cr.zeros(2, 3, device=d),
    "ones": lambda d: cr.ones((2,), device=d),
    "empty": lambda d: cr.empty(2, device=d),
    "full": lambda d: cr.full((2,), 1.5, device=d),
    "arange": lambda d: cr.arange(5, device=d),
    "linspace": lambda d: cr.linspace(0, 1, 5, device=d),
    "logspace": lambda d: cr.logspace(0, 1, 5, device=d),
    "eye": lambda d: cr.eye(3, device=d),
    "tensor": lambda d: cr.tensor([1.0, 2.0], device=d),
    "as_tensor": lambda d: cr.as_tensor([1.0, 2.0], device=d),
    "rand": lambda d: cr.rand(2, device=d),
    "randn": lambda d: cr.randn(2, device=d),
    "randint": lambda d: cr.randint(0, 5, (3,), device=d),
    "randperm": lambda d: cr.randperm(4, device=d),
    "zeros_like": lambda d: cr.zeros_like(cr.ones(2), device=d),
    "ones_like": lambda d: cr.ones_like(cr.ones(2), device=d),
    "empty_like": lambda d: cr.empty_like(cr.ones(2), device=d),
    "full_like": lambda d: cr.full_like(cr.ones(2), 3.0, device=d),
    "rand_like": lambda d: cr.rand_like(cr.ones(2), device=d),
    "randn_like": lambda d: cr.randn_like(cr.ones(2), device=d),
    "randint_like": lambda d: cr.randint_like(cr.ones(2), 5, device=d),
    "normal": lambda d: cr.normal(0.0, 1.0, (2,), device=d),
}


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dev", [None, "cpu", cr.device("cpu"), "cpu:0"])
def test_factories_accept_the_cpu(name, dev):
    t = FACTORIES[name](dev)
    assert isinstance(t, cr.Tensor) and t.device == cr.device("cpu")


@pytest.mark.parametrize("name", sorted(FACTORIES))
@pytest.mark.parametrize("dev", ["cuda", "cuda:0", cr.device("mps")])
def test_factories_refuse_other_devices(name, dev):
    with pytest.raises(RuntimeError, match="CPU only"):
        FACTORIES[name](dev)


def test_device_object_matches_torch():
    torch = pytest.importorskip("torch")
    for args in [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("cpu", 0), ("mps",)]:
        ours, theirs = cr.device(*args), torch.device(*args)
        assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
        assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert cr.device("cpu") == cr.device(cr.device("cpu")) and hash(cr.device("cpu")) == hash(
        cr.device("cpu")
    )
    assert cr.device("cpu") != cr.device("cuda")
    assert (cr.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")  # False in torch too
    assert pickle.loads(pickle.dumps(cr.device("cpu"))) == cr.device("cpu")
    with pytest.raises(RuntimeError, match="Expected one of cpu"):
        cr.device("gpu")
    with pytest.raises(AttributeError):
        cr.device("cpu").type = "cuda"


def test_tensor_device_and_to_variants():
    x = cr.ones(3)
    assert x.device == cr.device("cpu") and str(x.device) == "cpu" and x.device.type == "cpu"
    assert not x.is_cuda and x.get_device() == -1
    assert x.to("cpu") is x and x.to(cr.device("cpu")) is x and x.cpu() is x
    assert x.to(cr.float32) is x and x.to(x) is x
    assert x.to(cr.float64).dtype == np.float64
    assert x.to("cpu", cr.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=cr.int64).dtype == np.int64
    assert x.to(cr.zeros(1, dtype=cr.float64)).dtype == np.float64
    c = x.to(cr.float32, copy=True)
    assert c is not x and not np.shares_memory(c.numpy(), x.numpy())


def test_to_keeps_the_graph():
    w = cr.ones(2, requires_grad=True)
    w.to(cr.float64).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.to("cuda"),
        lambda x: x.to("cuda:0"),
        lambda x: x.to(cr.device("cuda")),
        lambda x: x.to("mps"),
        lambda x: x.to(device="cuda", dtype=cr.float64),
        lambda x: x.to(0),
        lambda x: x.cuda(),
    ],
)
def test_tensor_to_other_devices_raises(call):
    with pytest.raises(RuntimeError, match="CPU only"):
        call(cr.ones(2))


def test_module_to_follows_the_same_rules():
    m = cr.nn.Linear(2, 3)
    assert m.to("cpu") is m and m.to(cr.device("cpu")) is m
    assert m.to(cr.device("cpu"), cr.float64).weight.dtype == np.float64
    for bad in ("cuda", cr.device("cuda", 0), "mps"):
        with pytest.raises(RuntimeError, match="CPU only"):
            m.to(bad)
    with pytest.raises(RuntimeError, match="CPU only"):
        m.cuda()


def test_queries_say_there_is_only_the_cpu():
    torch = pytest.importorskip("torch")
    assert cr.cuda.is_available() is False and cr.cuda.device_count() == 0
    cr.cuda.manual_seed(0)
    cr.cuda.manual_seed_all(0)
    cr.cuda.synchronize()
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.cuda.current_device()
    assert cr.accelerator.is_available() is False and cr.accelerator.current_accelerator() is None
    assert cr.backends.mps.is_available() is False
    import chainrule.backends.cudnn as cudnn

    cudnn.benchmark = True
    cudnn.deterministic = True
    assert cr.backends.cudnn.benchmark is True
    # The idioms programs use to pick a device all land on the CPU, as torch's do here.
    assert torch.cuda.is_available() is False
    dev = cr.device(
        "cuda" if cr.cuda.is_available() else "mps" if cr.backends.mps.is_available() else "cpu"
    )
    assert dev == cr.device("cpu")
    acc = cr.accelerator.current_accelerator() or cr.device("cpu")
    assert acc.type == "cpu"


def test_set_default_device():
    cr.set_default_device("cpu")
    cr.set_default_device(None)
    assert cr.get_default_device() == cr.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.set_default_device("cuda")
    assert cr.get_default_device() == cr.device("cpu")


def test_generator_device():
    assert cr.Generator("cpu").device == cr.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        cr.Generator("cuda")


@pytest.mark.parametrize(
    "make",
    [
        lambda d: cr.nn.Linear(2, 3, device=d),
        lambda d: cr.nn.Conv2d(1, 2, 3, device=d),
        lambda d: cr.nn.Embedding(5, 2, device=d),
        lambda d: cr.nn.LayerNorm(4, device=d),
        lambda d: cr.nn.BatchNorm1d(4, device=d),
        lambda d: cr.nn.GroupNorm(2, 4, device=d),
        lambda d: cr.nn.LSTM(3, 4, device=d),
        lambda d: cr.nn.GRUCell(3, 4, device=d),
        lambda d: cr.nn.MultiheadAttention(4, 2, device=d),
        lambda d: cr.nn.TransformerEncoderLayer(4, 2, 8, device=d),
    ],
)
def test_layers_take_device_cpu_and_refuse_cuda(make):
    assert make("cpu") is not None and make(cr.device("cpu")) is not None
    with pytest.raises(RuntimeError, match="CPU only"):
        make("cuda")


def test_device_as_context_manager():
    with cr.device("cpu"):
        assert cr.zeros(2).device == cr.device("cpu")
    with pytest.raises(RuntimeError, match="CPU only"):
        with cr.device("cuda"):
            pass
