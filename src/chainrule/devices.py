"""Devices: chainrule computes on the CPU only, and says so when asked for anything else.

``cr.device("cuda")`` can be built (as in PyTorch, where building one needs no GPU), but using
it -- ``t.to("cuda")``, ``cr.zeros(3, device="cuda")``, ``model.to("mps")`` -- raises a clear
``RuntimeError`` instead of silently computing somewhere else.
"""

# Device types PyTorch knows; anything else is a typo and is refused when the device is built.
_KNOWN_TYPES = (
    "cpu",
    "cuda",
    "mps",
    "xpu",
    "meta",
    "hip",
    "xla",
    "mtia",
    "hpu",
    "ipu",
    "mkldnn",
    "vulkan",
    "lazy",
    "ve",
    "fpga",
    "maia",
    "opengl",
    "opencl",
    "ideep",
    "privateuseone",
)


class device:
    """A device description, as ``torch.device``: ``device("cpu")``, ``device("cuda", 0)``,
    ``device("cuda:1")``.

    Attributes:
        type: ``"cpu"``, ``"cuda"``, ...
        index: the device number, or None.

    Example:
        >>> cr.device("cpu")
        device(type='cpu')
        >>> cr.device("cuda:1").index
        1
        >>> cr.zeros(2, device=cr.device("cpu")).device
        device(type='cpu')
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): index given with a device object")
            type, index = type.type, type.index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise RuntimeError(
                f"device({type}): a bare index means a CUDA device; chainrule runs on the CPU only"
            )
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a string or device, got {type.__class__.__name__}")
        else:
            name, sep, num = type.partition(":")
            if sep:
                if index is not None:
                    raise RuntimeError(
                        f"device(): type (string) {type!r} must not include an index "
                        "because index was passed explicitly"
                    )
                if not num.isdigit():
                    raise RuntimeError(f"Invalid device string: {type!r}")
                index = int(num)
            if name not in _KNOWN_TYPES:
                raise RuntimeError(
                    f"Expected one of {', '.join(_KNOWN_TYPES)} device type at start "
                    f"of device string: {type}"
                )
            type = name
        if index is not None and (
            isinstance(index, bool) or not isinstance(index, int) or index < 0
        ):
            raise RuntimeError(f"device(): index must be a non-negative integer, got {index!r}")
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("device objects are immutable")

    def __eq__(self, other):
        # As torch: equal to another device with the same type and index (not to a string).
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """``with cr.device("cpu"):`` works (the CPU is already the default); others raise."""
        self._check_cpu("with device(...)")
        return self

    def __exit__(self, *exc):
        return False

    def _check_cpu(self, what):
        if self.type != "cpu":
            raise RuntimeError(
                f"{what}: device {str(self)!r} is not available: chainrule runs on the "
                "CPU only (cr.cuda.is_available() is False); use 'cpu'"
            )
        return self


CPU = device("cpu")


def check_device(dev, what):
    """Raise a clear RuntimeError unless ``dev`` is None or names the CPU; returns cpu."""
    if dev is None:
        return CPU
    return device(dev)._check_cpu(what)


def is_device(arg):
    """True for a device object or a string naming a device (``"cpu"``, ``"cuda:0"``)."""
    if isinstance(arg, device):
        return True
    if isinstance(arg, str):
        return arg.partition(":")[0] in _KNOWN_TYPES
    return False


_default_device = [CPU]


def set_default_device(dev):
    """Accepts ``"cpu"`` (or None), the only device; anything else raises RuntimeError.

    Example:
        >>> cr.set_default_device("cpu")
        >>> cr.zeros(1).device
        device(type='cpu')
    """
    _default_device[0] = check_device(dev, "set_default_device")


def get_default_device():
    """The device new tensors are made on: always ``cpu`` here.

    Example:
        >>> cr.get_default_device()
        device(type='cpu')
    """
    return _default_device[0]


def parse_to(args, kwargs, where):
    """``(dtype or None, copy)`` from the arguments of ``Tensor.to`` / ``Module.to``:
    ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``, keywords
    ``device=``, ``dtype=``, ``non_blocking=``, ``copy=``. A device other than the CPU raises."""
    from .tensor import Tensor

    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    dev = kwargs.pop("device", None)
    copy = bool(kwargs.pop("copy", False))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{where}() got unexpected keyword arguments {sorted(kwargs)}")
    flags = []
    for arg in args:
        if isinstance(arg, bool):
            flags.append(arg)  # positional non_blocking, copy
        elif isinstance(arg, Tensor):
            dtype = arg.dtype
        elif isinstance(arg, (device, str, int)):  # a bare int is a CUDA index: refused below
            dev = arg
        elif arg is not None:
            dtype = arg
    if len(flags) > 1:
        copy = copy or flags[1]
    check_device(dev, where)
    return dtype, copy
