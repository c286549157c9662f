"""``ParameterList`` and ``ParameterDict``: parameters held by position or by key, registered on
the module (so ``parameters()``, optimizers and ``state_dict()`` see them as "0", "1", ... or by
key, as in PyTorch)."""

import operator

from ..module import Module
from ..parameter import Parameter


def _as_parameter(value):
    return value if isinstance(value, Parameter) or value is None else Parameter(value)


class ParameterList(Module):
    """A list of parameters. Example::

    self.ws = cr.nn.ParameterList([cr.nn.Parameter(cr.randn(4, 4)) for _ in range(3)])
    for w in self.ws:
        x = x @ w
    """

    def __init__(self, values=None):
        super().__init__()
        for v in values or ():
            self.append(v)

    def _key(self, idx):
        n = len(self._parameters)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ParameterList of length {n}")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(list(self)[idx])
        return self._parameters[self._key(idx)]

    def __setitem__(self, idx, value):
        self.register_parameter(self._key(idx), _as_parameter(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters[str(i)] for i in range(len(self)))

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return "\n".join(
            f"({i}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]"
            for i, p in enumerate(self)
        )

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterList is a container: index it, do not call it")


class ParameterDict(Module):
    """A dict of parameters. Example::

    self.scales = cr.nn.ParameterDict({"a": cr.nn.Parameter(cr.ones(3))})
    y = x * self.scales["a"]
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        return self._parameters.pop(key)

    def update(self, parameters):
        items = parameters.items() if hasattr(parameters, "items") else parameters
        for key, value in items:
            self[key] = value

    def forward(self, *args, **kwargs):
        raise RuntimeError("ParameterDict is a container: index it, do not call it")
