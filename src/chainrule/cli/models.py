"""The model of a run, built from ``--model --depth --width --activation --init --norm --residual``.

* mlp: ``depth`` hidden layers ``Linear -> norm -> activation (-> dropout)`` of ``width`` units,
  then a linear head. With ``--residual`` hidden layers 2..depth become pre-activation residual
  blocks ``x + Linear(activation(norm(x)))`` (He et al. 2016), and the norm and activation
  follow the last block.
* cnn: ``depth`` 3x3 convolutions of ``width`` channels (padding 1), a 2x2 max-pool after the
  first, then a linear head on the flattened maps. ``--residual`` as for the mlp.
* rnn / lstm / gru: ``depth`` stacked recurrent layers of hidden size ``width`` read the
  sequence; a linear head reads the last step's output.

Example::

    model = build_model(TrainConfig(depth=3, activation="tanh", init="xavier"), (64,), 10)
"""

import math

from .. import nn

ACTIVATION_MODULES = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "linear": nn.Identity,
}
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceModel(nn.Module):
    """Stacked recurrent layers over ``(N, T, F)`` inputs; a linear head on the last step.

    Example::

        model = SequenceModel("lstm", 8, 64, 10)
        model(cr.randn(32, 8, 8)).shape      # (32, 10)
    """

    def __init__(
        self, kind, n_features, hidden, n_outputs, layers=1, nonlinearity="tanh", dropout=0.0
    ):
        super().__init__()
        extra = {"nonlinearity": nonlinearity} if kind == "rnn" else {}
        self.rnn = CELLS[kind](
            n_features, hidden, num_layers=layers, batch_first=True, dropout=dropout, **extra
        )
        self.head = nn.Linear(hidden, n_outputs)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def activation_name(config):
    """The activation in use: the option, or the model's default."""
    if config.activation is not None:
        return config.activation
    return {"rnn": "tanh", "lstm": None, "gru": None}.get(config.model, "relu")


def init_name(config):
    """The initialisation in use: ``auto`` resolved (He for ReLU-like activations, Xavier for
    tanh/sigmoid/linear: Glorot & Bengio 2010, He et al. 2015; the layers' own for recurrent
    models)."""
    if config.init != "auto":
        return config.init
    if config.recurrent:
        return "default"
    return "xavier" if activation_name(config) in ("tanh", "sigmoid", "linear") else "he"


def _norm(kind, shape):
    if kind == "batch":
        return nn.BatchNorm1d(shape[0]) if len(shape) == 1 else nn.BatchNorm2d(shape[0])
    return nn.LayerNorm(list(shape))


def _after(shape, config, act):
    """``norm -> activation -> dropout``: what follows a hidden layer."""
    mods = [_norm(config.norm, shape)] if config.norm != "none" else []
    mods.append(ACTIVATION_MODULES[act]())
    if config.dropout:
        mods.append(nn.Dropout(config.dropout))
    return mods


def _block(layer, shape, config, act):
    return [layer] + _after(shape, config, act)


def _preactivation(layer, shape, config, act):
    """``norm -> activation -> dropout -> layer``: the inside of a residual block (He et al.
    2016, "Identity mappings in deep residual networks"): the sum ``x + f(x)`` is never squashed,
    so the identity path carries the gradient unchanged."""
    return [nn.Residual(nn.Sequential(*_after(shape, config, act), layer))]


def _mlp(config, sample_shape, n_out, act):
    n_in = math.prod(sample_shape)
    w = config.width
    flatten = [nn.Flatten()] if len(sample_shape) > 1 else []
    if not config.residual:
        body = _block(nn.Linear(n_in, w), (w,), config, act)
        for _ in range(config.depth - 1):
            body += _block(nn.Linear(w, w), (w,), config, act)
        return nn.Sequential(*flatten, *body, nn.Linear(w, n_out))
    body = [nn.Linear(n_in, w)]
    for _ in range(config.depth - 1):
        body += _preactivation(nn.Linear(w, w), (w,), config, act)
    return nn.Sequential(*flatten, *body, *_after((w,), config, act), nn.Linear(w, n_out))


def _cnn(config, sample_shape, n_out, act):
    channels, height, width = sample_shape
    c = config.width
    h, w = height // 2, width // 2
    first = _block(nn.Conv2d(channels, c, 3, padding=1), (c, height, width), config, act)
    body = first + [nn.MaxPool2d(2)]
    for _ in range(config.depth - 1):
        conv = nn.Conv2d(c, c, 3, padding=1)
        body += (
            _preactivation(conv, (c, h, w), config, act)
            if config.residual
            else _block(conv, (c, h, w), config, act)
        )
    if config.residual:
        body += _after((c, h, w), config, act)
    return nn.Sequential(*body, nn.Flatten(), nn.Linear(c * h * w, n_out))


def build_model(config, sample_shape, n_outputs):
    """The model for ``config``, initialised (draws from the global generator).

    ``sample_shape`` is one example's shape as the model receives it: ``(F,)`` for an mlp,
    ``(C, H, W)`` for a cnn, ``(T, F)`` for a recurrent model.
    """
    act = activation_name(config)
    if config.model == "mlp":
        model = _mlp(config, sample_shape, n_outputs, act)
    elif config.model == "cnn":
        model = _cnn(config, sample_shape, n_outputs, act)
    else:
        model = SequenceModel(
            config.model,
            sample_shape[-1],
            config.width,
            n_outputs,
            config.depth,
            act or "tanh",
            config.dropout,
        )
    initialise(model, init_name(config), act)
    if config.recurrent_gain is not None:
        scale_recurrent(model, config.recurrent_gain)
    return model


def _weights(model):
    """(weight, bias or None) of every Linear/Conv layer and recurrent layer, in order."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            yield module.weight, module.bias
        elif isinstance(module, tuple(CELLS.values())):
            for name, p in module.named_parameters(recurse=False):
                yield (p, None) if name.startswith("weight") else (None, p)


def initialise(model, scheme, activation=None):
    """Re-initialise every weight matrix with ``scheme`` and zero the biases.

    ``default`` (and ``auto``, resolved by :func:`init_name`) keeps the layers' own. ``normal`` is N(0, 1), ``xavier`` Glorot's
    uniform, ``he`` Kaiming's normal for ReLU (fan_in), ``lecun`` N(0, 1/fan_in),
    ``orthogonal`` an orthogonal matrix scaled by the activation's gain.
    """
    if scheme in ("default", "auto"):
        return
    gain = nn.init.calculate_gain(
        activation if activation in ("tanh", "relu", "sigmoid", "leaky_relu") else "linear"
    )
    for weight, bias in _weights(model):
        if weight is not None:
            _init_weight(weight, scheme, gain)
        if bias is not None:
            nn.init.zeros_(bias)


def _init_weight(w, scheme, gain):
    if scheme == "normal":
        nn.init.normal_(w, 0.0, 1.0)
    elif scheme == "xavier":
        nn.init.xavier_uniform_(w)
    elif scheme == "he":
        nn.init.kaiming_normal_(w, nonlinearity="relu")
    elif scheme == "lecun":
        nn.init.normal_(w, 0.0, 1 / math.sqrt(math.prod(w.shape[1:])))
    elif scheme == "orthogonal":
        nn.init.orthogonal_(w, gain=gain)
    else:
        raise ValueError(f"unknown init {scheme!r}")


def scale_recurrent(model, gain):
    """Each recurrent matrix ``weight_hh_l*`` becomes orthogonal times ``gain`` (Pascanu et al.
    2013: its largest singular value decides whether gradients can explode through time)."""
    for module in model.modules():
        if isinstance(module, tuple(CELLS.values())):
            for name, p in module.named_parameters(recurse=False):
                if name.startswith("weight_hh"):
                    nn.init.orthogonal_(p, gain=gain)


def describe(config):
    """One line: 'mlp, 2 hidden layers of 128, relu, default init'."""
    act = activation_name(config)
    if config.recurrent:
        what = f"{config.model}, {config.depth} layer(s) of hidden size {config.width}"
        what += f", {act}" if act else ""
    else:
        unit = "hidden layers" if config.model == "mlp" else "conv layers"
        what = f"{config.model}, {config.depth} {unit} of {config.width}, {act}"
    what += f", {init_name(config)} init"
    if config.recurrent_gain is not None:
        what += f", recurrent matrices orthogonal x{config.recurrent_gain:g}"
    if config.norm != "none":
        what += f", {config.norm} norm"
    if config.residual:
        what += ", residual"
    if config.dropout:
        what += f", dropout {config.dropout:g}"
    return what
