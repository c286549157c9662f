"""The official word_language_model example, shrunk: Corpus/Dictionary from a bundled text,
batchify with narrow/view/t/contiguous, an LSTM model with tied encoder/decoder weights,
repackage_hidden, clip_grad_norm_ and the manual SGD update ``p.data.add_(p.grad, alpha=-lr)``;
plus its TransformerModel's positional encoding buffers and square subsequent mask."""

# ruff: noqa: B007, E721  (written as in the original examples)
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

COMPARE = {
    "losses": 1e-4,
    "val_ppl": 1e-3,
    "ntokens": 0,
    "tied": 0,
    "mask": 0,
    "pe": 1e-6,
    "transformer_loss": 1e-4,
}

TEXT = """the quick brown fox jumps over the lazy dog
a lazy dog sleeps in the sun and the fox runs
the sun is warm and the dog is lazy
"""


class Dictionary:
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


class Corpus:
    def __init__(self, text):
        self.dictionary = Dictionary()
        self.train = self.tokenize(text)

    def tokenize(self, text):
        idss = []
        for line in text.splitlines():
            words = line.split() + ["<eos>"]
            ids = []
            for word in words:
                ids.append(self.dictionary.add_word(word))
            idss.append(torch.tensor(ids).type(torch.int64))
        return torch.cat(idss)


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == "LSTM":
            return (
                weight.new_zeros(self.nlayers, bsz, self.nhid),
                weight.new_zeros(self.nlayers, bsz, self.nhid),
            )
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer("pe", pe)

    def forward(self, x):
        x = x + self.pe[: x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super().__init__(
            d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers
        )
        self.model_type = "Transformer"
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)

    def _generate_square_subsequent_mask(self, sz):
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def forward(self, src, has_mask=True):
        if has_mask:
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                self.src_mask = self._generate_square_subsequent_mask(len(src))
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def get_batch(source, i, bptt=5):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].view(-1)
    return data, target


def main():
    torch.manual_seed(1111)
    rng = np.random.default_rng(0)
    corpus = Corpus(TEXT)
    train_data = batchify(corpus.train, 4)
    ntokens = len(corpus.dictionary)
    model = RNNModel("LSTM", ntokens, 8, 8, 2, dropout=0.0, tie_weights=True)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    tied = model.decoder.weight is model.encoder.weight
    criterion = nn.NLLLoss()
    lr, clip, bptt = 5.0, 0.25, 5
    model.train()
    hidden = model.init_hidden(4)
    losses = []
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i, bptt)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        losses.append(loss.item())
    model.eval()
    total_loss = 0.0
    hidden = model.init_hidden(4)
    with torch.no_grad():
        for i in range(0, train_data.size(0) - 1, bptt):
            data, targets = get_batch(train_data, i, bptt)
            output, hidden = model(data, hidden)
            hidden = repackage_hidden(hidden)
            total_loss += len(data) * criterion(output, targets).item()
    val_ppl = math.exp(total_loss / (len(train_data) - 1))

    tmodel = TransformerModel(ntokens, 8, 2, 16, 1, dropout=0.0)
    tmodel.load_state_dict(
        {
            k: (
                torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(v.shape)).astype(np.float32))
                if k != "pos_encoder.pe"
                else v
            )
            for k, v in tmodel.state_dict().items()
        }
    )
    tmodel.eval()
    data, targets = get_batch(train_data, 0, bptt)
    out = tmodel(data)
    tloss = criterion(out.view(-1, ntokens), targets)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    return {
        "losses": losses,
        "val_ppl": val_ppl,
        "ntokens": ntokens,
        "tied": tied,
        "mask": mask.tolist(),
        "pe": tmodel.pos_encoder.pe[:6].flatten().tolist(),
        "transformer_loss": tloss.item(),
    }
