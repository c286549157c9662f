"""The layers of ``chainrule.nn`` (each also importable from ``chainrule.nn`` directly)."""
from .activation import (ELU, GELU, SELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, ReLU,
                         ReLU6, Sigmoid, SiLU, Softmax, Softplus, Softsign, Tanh)
from .activation_extra import (CELU, GLU, Hardshrink, Hardsigmoid, Hardswish, Mish, PReLU, Softmin,
                               Softshrink, Tanhshrink, Threshold)
from .container import ModuleDict, ModuleList, Sequential
from .conv import Conv1d, Conv2d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout, Dropout1d, Dropout2d
from .embedding import Embedding
from .instancenorm import InstanceNorm1d, InstanceNorm2d
from .flatten import Flatten, Identity, Unflatten
from .lazy import LazyConv1d, LazyConv2d, LazyLinear
from .linear import Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss,
                   MSELoss, NLLLoss, SmoothL1Loss)
from .loss_extra import CosineEmbeddingLoss, MarginRankingLoss, SoftMarginLoss, TripletMarginLoss
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .padding import (ConstantPad1d, ConstantPad2d, ReflectionPad1d, ReflectionPad2d,
                      ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d)
from .parameter_containers import ParameterDict, ParameterList
from .pooling import AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .residual import Residual
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .upsample import PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .transformer import (MultiheadAttention, Transformer, TransformerDecoder,
                          TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer)

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "Conv1d", "Conv2d", "GRU", "GRUCell", "LSTM",
    "LSTMCell", "MaxPool1d", "MaxPool2d", "RNN", "RNNCell",
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "CrossEntropyLoss", "Dropout",
    "ELU", "Embedding", "Flatten", "GELU", "Hardtanh", "HuberLoss", "Identity", "KLDivLoss",
    "L1Loss", "LayerNorm", "LeakyReLU", "Linear", "LogSigmoid", "LogSoftmax", "MSELoss",
    "ModuleDict", "ModuleList", "NLLLoss", "ReLU", "ReLU6", "Residual", "SELU", "Sequential",
    "SiLU", "Sigmoid", "SmoothL1Loss", "Softmax", "Softplus", "Softsign", "Tanh", "Unflatten",
    "Dropout1d", "Dropout2d", "GroupNorm", "LazyConv1d", "LazyConv2d", "LazyLinear",
    "MultiheadAttention", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerEncoderLayer",
    "ConstantPad1d", "ConstantPad2d", "ConvTranspose1d", "ConvTranspose2d", "CosineSimilarity",
    "Hardsigmoid", "Hardswish", "InstanceNorm1d", "InstanceNorm2d", "Mish", "PReLU",
    "PairwiseDistance", "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle",
    "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "Softmin",
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d",
    "CELU", "CosineEmbeddingLoss", "GLU", "Hardshrink", "MarginRankingLoss", "SoftMarginLoss",
    "Softshrink", "Tanhshrink", "Threshold", "TripletMarginLoss",
]
