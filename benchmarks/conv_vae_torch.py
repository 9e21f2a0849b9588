"""The conv_vae lesson's model and training in PyTorch: where a faithful replica of the TF tutorial lands.

    python -m benchmarks.conv_vae_torch --seed 0              # 10 epochs; one JSON line per epoch
    python -m benchmarks.conv_vae_torch --seed 0 --device cuda

The TensorFlow "Convolutional VAE" tutorial publishes one run's test ELBO after
10 epochs (-155.9). This script trains the same model (Keras' Glorot-uniform
weights, zero biases, Conv2DTranspose 'same' cropped as TensorFlow crops it,
Adam 1e-4 with eps 1e-7, batch 32, data reshuffled every epoch, single-sample
Monte-Carlo ELBO) in PyTorch, so the spread over seeds of an independent
implementation can be set beside minigrad's. Results: benchmarks/RESULTS.md.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lessons.conv_vae import binarise
from minigrad.data import mnist

LOG_2PI = math.log(2.0 * math.pi)


class KerasSameUp(nn.Module):
    """Keras Conv2DTranspose(kernel 3, stride 2, 'same'): the full transposed conv, first 2H rows and columns kept."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 3, stride=2)

    def forward(self, x):
        return self.conv(x)[:, :, :2 * x.shape[2], :2 * x.shape[3]]


def conv_vae():
    encoder = nn.Sequential(nn.Conv2d(1, 32, 3, 2), nn.ReLU(), nn.Conv2d(32, 64, 3, 2), nn.ReLU(), nn.Flatten(),
                            nn.Linear(64 * 6 * 6, 4))
    decoder = nn.Sequential(nn.Linear(2, 7 * 7 * 32), nn.ReLU(), nn.Unflatten(1, (32, 7, 7)),
                            KerasSameUp(32, 64), nn.ReLU(), KerasSameUp(64, 32), nn.ReLU(),
                            nn.ConvTranspose2d(32, 1, 3, padding=1))
    for layer in [*encoder.modules(), *decoder.modules()]:
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return encoder, decoder


def log_normal_pdf(z, mean, logvar):
    return (-0.5 * ((z - mean) ** 2 * torch.exp(-logvar) + logvar + LOG_2PI)).sum(1)


def elbo(encoder, decoder, x):
    mean, logvar = encoder(x).chunk(2, dim=1)
    z = torch.randn_like(mean) * torch.exp(0.5 * logvar) + mean
    log_px_z = -F.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum((1, 2, 3))
    return log_px_z + log_normal_pdf(z, torch.zeros_like(z), torch.zeros_like(z)) - log_normal_pdf(z, mean, logvar)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.conv_vae_torch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    order_rng = np.random.default_rng(args.seed)
    train = torch.from_numpy(binarise(mnist("train", root=args.data_dir)[0])).to(args.device)
    test = torch.from_numpy(binarise(mnist("test", root=args.data_dir)[0])).to(args.device)
    encoder, decoder = (m.to(args.device) for m in conv_vae())
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=1e-4, eps=1e-7)
    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        order = torch.from_numpy(order_rng.permutation(len(train))).to(args.device)
        for start in range(0, len(train), 32):
            loss = -elbo(encoder, decoder, train[order[start:start + 32]]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        with torch.no_grad():
            test_elbo = sum(elbo(encoder, decoder, test[i:i + 500]).sum().item() for i in range(0, len(test), 500))
        print(json.dumps({"seed": args.seed, "epoch": epoch, "test_elbo": test_elbo / len(test),
                          "seconds": round(time.perf_counter() - started, 1)}), flush=True)


if __name__ == "__main__":
    main()
