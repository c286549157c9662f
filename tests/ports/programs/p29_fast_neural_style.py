"""The official fast_neural_style TransformerNet, shrunk: ReflectionPad2d convolutions,
InstanceNorm2d(affine=True), residual blocks, nearest upsampling through F.interpolate,
gram_matrix with bmm, normalize_batch with new_tensor and div_, Adam; plus ConvTranspose
deconvolution as in the older version of the net."""

# ruff: noqa: B007, E721  (written as in the original examples)
import numpy as np
import torch

COMPARE = {"losses": 1e-4, "gram": 1e-4, "out_shape": 0, "keys": 0, "deconv": 1e-4}


class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        out = self.reflection_pad(x)
        out = self.conv2d(out)
        return out


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        out = out + residual
        return out


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super().__init__()
        self.upsample = upsample
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        x_in = x
        if self.upsample:
            x_in = torch.nn.functional.interpolate(x_in, mode="nearest", scale_factor=self.upsample)
        out = self.reflection_pad(x_in)
        out = self.conv2d(out)
        return out


class TransformerNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = ConvLayer(3, 8, kernel_size=5, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(8, affine=True)
        self.conv2 = ConvLayer(8, 16, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(16, affine=True)
        self.res1 = ResidualBlock(16)
        self.deconv1 = UpsampleConvLayer(16, 8, kernel_size=3, stride=1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(8, affine=True)
        self.deconv3 = ConvLayer(8, 3, kernel_size=5, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res1(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.deconv3(y)
        return y


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


def normalize_batch(batch):
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


def main():
    rng = np.random.default_rng(0)
    transformer = TransformerNet()
    transformer.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in transformer.state_dict().items()
        }
    )
    optimizer = torch.optim.Adam(transformer.parameters(), 1e-3)
    mse_loss = torch.nn.MSELoss()
    x = torch.from_numpy(rng.uniform(0, 255, (2, 3, 12, 12)).astype(np.float32))
    style = torch.from_numpy(rng.uniform(0, 255, (1, 3, 12, 12)).astype(np.float32))
    gram_style = gram_matrix(normalize_batch(style.clone()))
    losses = []
    for step in range(2):
        optimizer.zero_grad()
        y = transformer(x)
        y = normalize_batch(y.clamp(0, 255) * 1.0 + y * 0.01)
        xc = normalize_batch(x.clone())
        content_loss = 1e5 * mse_loss(y, xc)
        style_loss = 0.0
        gm_y = gram_matrix(y)
        style_loss += mse_loss(gm_y, gram_style[:2, :, :].expand_as(gm_y))
        total_loss = content_loss + 1e10 * style_loss
        total_loss.backward()
        optimizer.step()
        losses.append(total_loss.item())
    deconv = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1),
        torch.nn.InstanceNorm2d(4),
        torch.nn.ReLU(),
    )
    deconv.load_state_dict(
        {
            k: torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(v.shape)).astype(np.float32))
            for k, v in deconv.state_dict().items()
        }
    )
    d = deconv(x / 255)
    return {
        "losses": losses,
        "gram": gram_style.flatten().tolist(),
        "out_shape": list(y.shape),
        "keys": list(transformer.state_dict().keys()),
        "deconv": d.sum().item(),
    }
