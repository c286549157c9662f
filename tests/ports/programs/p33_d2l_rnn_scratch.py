"""d2l.ai, RNN (and GRU) from scratch: parameters as plain tensors with requires_grad_,
F.one_hot(X.T, vocab), state tuples, grad_clipping with ``param.grad[:] *= theta / norm``,
``state.detach_()``, predict with argmax, perplexity with math.exp; then nn.RNN through the
concise RNNModel."""

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

COMPARE = {"ppl": 1e-4, "prediction": 0, "gru_ppl": 1e-4, "concise_ppl": 1e-4}

TEXT = (
    "the time machine by h g wells the time traveller for so it will be convenient to speak of him "
)


def get_params(vocab_size, num_hiddens, rng, gates=1):
    num_inputs = num_outputs = vocab_size

    def normal(shape):
        return torch.tensor(rng.standard_normal(shape) * 0.1, dtype=torch.float32)

    def three():
        return (
            normal((num_inputs, num_hiddens)),
            normal((num_hiddens, num_hiddens)),
            torch.zeros(num_hiddens),
        )

    params = []
    for _ in range(gates):
        params.extend(three())
    params.extend([normal((num_hiddens, num_outputs)), torch.zeros(num_outputs)])
    for param in params:
        param.requires_grad_(True)
    return params


def init_rnn_state(batch_size, num_hiddens):
    return (torch.zeros((batch_size, num_hiddens)),)


def rnn(inputs, state, params):
    W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        H = torch.tanh(torch.mm(X, W_xh) + torch.mm(H, W_hh) + b_h)
        Y = torch.mm(H, W_hq) + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


def gru(inputs, state, params):
    W_xz, W_hz, b_z, W_xr, W_hr, b_r, W_xh, W_hh, b_h, W_hq, b_q = params
    (H,) = state
    outputs = []
    for X in inputs:
        Z = torch.sigmoid((X @ W_xz) + (H @ W_hz) + b_z)
        R = torch.sigmoid((X @ W_xr) + (H @ W_hr) + b_r)
        H_tilda = torch.tanh((X @ W_xh) + ((R * H) @ W_hh) + b_h)
        H = Z * H + (1 - Z) * H_tilda
        Y = H @ W_hq + b_q
        outputs.append(Y)
    return torch.cat(outputs, dim=0), (H,)


class RNNModelScratch:
    def __init__(self, vocab_size, num_hiddens, params, init_state, forward_fn):
        self.vocab_size, self.num_hiddens = vocab_size, num_hiddens
        self.params = params
        self.init_state, self.forward_fn = init_state, forward_fn

    def __call__(self, X, state):
        X = F.one_hot(X.T, self.vocab_size).type(torch.float32)
        return self.forward_fn(X, state, self.params)

    def begin_state(self, batch_size):
        return self.init_state(batch_size, self.num_hiddens)


class RNNModel(nn.Module):
    def __init__(self, rnn_layer, vocab_size):
        super().__init__()
        self.rnn = rnn_layer
        self.vocab_size = vocab_size
        self.num_hiddens = self.rnn.hidden_size
        self.linear = nn.Linear(self.num_hiddens, self.vocab_size)

    def forward(self, inputs, state):
        X = F.one_hot(inputs.T.long(), self.vocab_size)
        X = X.to(torch.float32)
        Y, state = self.rnn(X, state)
        output = self.linear(Y.reshape((-1, Y.shape[-1])))
        return output, state

    def begin_state(self, batch_size=1):
        return torch.zeros((self.rnn.num_layers, batch_size, self.num_hiddens))

    @property
    def params(self):
        return [p for p in self.parameters() if p.requires_grad]


def grad_clipping(net, theta):
    params = net.params
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > theta:
        for param in params:
            param.grad[:] *= theta / norm


def train_epoch(net, corpus, lr, batch_size=4, num_steps=5):
    state = None
    total, count = 0.0, 0
    loss = nn.CrossEntropyLoss()
    updater = torch.optim.SGD(net.parameters(), lr) if isinstance(net, nn.Module) else None
    for i in range(0, len(corpus) - num_steps * batch_size - 1, num_steps * batch_size):
        block = corpus[i : i + num_steps * batch_size + 1]
        X = torch.tensor(block[:-1]).reshape(batch_size, num_steps)
        Y = torch.tensor(block[1:]).reshape(batch_size, num_steps)
        if state is None:
            state = net.begin_state(batch_size=X.shape[0])
        else:
            if isinstance(net, nn.Module) and not isinstance(state, tuple):
                state.detach_()
            else:
                for s in state:
                    s.detach_()
        y = Y.T.reshape(-1)
        y_hat, state = net(X, state)
        l = loss(y_hat, y.long()).mean()
        if updater is not None:
            updater.zero_grad()
            l.backward()
            grad_clipping(net, 1)
            updater.step()
        else:
            l.backward()
            grad_clipping(net, 1)
            with torch.no_grad():
                for param in net.params:
                    param -= lr * param.grad
                    param.grad.zero_()
        total += l.item() * y.numel()
        count += y.numel()
    return math.exp(total / count)


def predict(prefix, num_preds, net, vocab, idx_to_char):
    state = net.begin_state(batch_size=1)
    outputs = [vocab[prefix[0]]]

    def get_input():
        return torch.tensor([outputs[-1]]).reshape((1, 1))

    for y in prefix[1:]:
        _, state = net(get_input(), state)
        outputs.append(vocab[y])
    for _ in range(num_preds):
        y, state = net(get_input(), state)
        outputs.append(int(y.argmax(dim=1).reshape(1)))
    return "".join([idx_to_char[i] for i in outputs])


def main():
    rng = np.random.default_rng(0)
    idx_to_char = sorted(set(TEXT))
    vocab = {c: i for i, c in enumerate(idx_to_char)}
    corpus = [vocab[c] for c in TEXT]
    V, H = len(vocab), 16
    net = RNNModelScratch(V, H, get_params(V, H, rng), init_rnn_state, rnn)
    ppl = [train_epoch(net, corpus, 1.0) for _ in range(2)]
    prediction = predict("the ", 8, net, vocab, idx_to_char)
    gnet = RNNModelScratch(V, H, get_params(V, H, rng, gates=3), init_rnn_state, gru)
    gru_ppl = train_epoch(gnet, corpus, 1.0)
    concise = RNNModel(nn.RNN(V, H), V)
    concise.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.25, 0.25, tuple(v.shape)).astype(np.float32))
            for k, v in concise.state_dict().items()
        }
    )
    concise_ppl = train_epoch(concise, corpus, 1.0)
    return {"ppl": ppl, "prediction": prediction, "gru_ppl": gru_ppl, "concise_ppl": concise_ppl}
