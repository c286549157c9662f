"""The text classification tutorial (torchtext-free): a vocabulary built with Counter, a
collate_fn that concatenates token ids and builds offsets with ``cumsum``, nn.EmbeddingBag(text,
offsets) into a Linear, init_weights through ``.data.uniform_``, SGD(lr=5) with StepLR(gamma=0.1)
and clip_grad_norm_(0.1), accuracy summed with ``.item()``; random_split by fractions; a padded
variant with pad_sequence, EmbeddingBag(mode='max') and padding_idx, per_sample_weights, and
CrossEntropyLoss(label_smoothing=0.1)."""

# ruff: noqa: B007, UP008  (written as in the tutorial)
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader, random_split

COMPARE = {
    "losses": 1e-4,
    "accs": 0,
    "lrs": 1e-9,
    "split_sizes": 0,
    "split_union": 0,
    "offsets": 0,
    "padded_shape": 0,
    "max_bag": 1e-6,
    "weighted_bag": 1e-5,
    "smooth_loss": 1e-5,
    "predicted": 0,
}

TRAIN = [
    (1, "the team won the match in the final minute"),
    (2, "stocks fell as the market reacted to the bank news"),
    (3, "the new phone has a faster chip and a better screen"),
    (1, "the coach praised the players after the game"),
    (2, "the bank raised interest rates again this year"),
    (3, "researchers built a chip that runs the model faster"),
    (1, "fans cheered as the team scored twice"),
    (2, "investors sold shares after the market opened lower"),
    (3, "the screen and battery of the laptop were improved"),
    (1, "the match ended in a draw after extra time"),
    (2, "the company reported higher profits and rates"),
    (3, "a software update made the phone faster"),
]


def tokenizer(line):
    return line.lower().split()


def build_vocab(data):
    counter = Counter()
    for _, line in data:
        counter.update(tokenizer(line))
    itos = ["<pad>", "<unk>"] + sorted(counter, key=lambda w: (-counter[w], w))
    return {w: i for i, w in enumerate(itos)}


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


def main():
    rng = np.random.default_rng(38)
    vocab = build_vocab(TRAIN)

    def text_pipeline(x):
        return [vocab.get(t, vocab["<unk>"]) for t in tokenizer(x)]

    def label_pipeline(x):
        return int(x) - 1

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(label_pipeline(_label))
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list, text_list, offsets

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = TextClassificationModel(len(vocab), 16, 3).to(device)
    model.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(v.shape)).astype(np.float32))
            for k, v in model.state_dict().items()
        }
    )
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    dataloader = DataLoader(TRAIN, batch_size=4, shuffle=False, collate_fn=collate_batch)
    losses, accs, lrs = [], [], []
    offsets_seen = None
    for epoch in range(1, 4):
        model.train()
        total_acc, total_count = 0, 0
        for idx, (label, text, offsets) in enumerate(dataloader):
            if offsets_seen is None:
                offsets_seen = offsets.tolist()
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
            losses.append(loss.item())
        accs.append(total_acc / total_count)
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])

    train_split, valid_split = random_split(
        TRAIN, [0.75, 0.25], generator=torch.Generator().manual_seed(42)
    )
    union = sorted(list(train_split.indices) + list(valid_split.indices))

    # The padded variant: sequences padded to a rectangle, bags reduced by max.
    seqs = [torch.tensor(text_pipeline(t)) for _, t in TRAIN[:4]]
    padded = pad_sequence(seqs, batch_first=True, padding_value=vocab["<pad>"])
    bag = nn.EmbeddingBag(len(vocab), 5, mode="max", padding_idx=vocab["<pad>"])
    bag.weight.data.copy_(torch.from_numpy(rng.standard_normal((len(vocab), 5))))
    max_bag = bag(padded)
    summed = nn.EmbeddingBag.from_pretrained(bag.weight.detach(), mode="sum")
    text = torch.cat(seqs[:2])
    offsets = torch.tensor([0, len(seqs[0])])
    weights = torch.linspace(0.1, 1.0, text.numel())
    weighted_bag = summed(text, offsets, per_sample_weights=weights)
    smooth = nn.CrossEntropyLoss(label_smoothing=0.1)
    labels = torch.tensor([label_pipeline(lab) for lab, _ in TRAIN])
    all_text, all_offsets = collate_batch(TRAIN)[1:]
    model.eval()
    with torch.no_grad():
        logits = model(all_text, all_offsets)
        smooth_loss = smooth(logits, labels)
    return {
        "losses": losses,
        "accs": accs,
        "lrs": lrs,
        "split_sizes": [len(train_split), len(valid_split)],
        "split_union": union,
        "offsets": offsets_seen,
        "padded_shape": list(padded.shape),
        "max_bag": max_bag.detach().numpy().ravel().tolist(),
        "weighted_bag": weighted_bag.detach().numpy().ravel().tolist(),
        "smooth_loss": smooth_loss.item(),
        "predicted": logits.argmax(1).tolist(),
    }
