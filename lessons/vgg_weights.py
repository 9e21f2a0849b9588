"""Convert torchvision's VGG-16 weights into the .npz file ``python -m lessons.style_transfer --weights`` reads.

    python -m lessons.vgg_weights vgg16-397923af.pth vgg16.npz

The input is a state dict saved by PyTorch: torchvision's download of ``vgg16(weights="IMAGENET1K_V1")``
(``~/.cache/torch/hub/checkpoints/vgg16-397923af.pth``) or any ``torch.save(model.state_dict(), path)`` of
torchvision's ``vgg16``. Only its convolutional part is kept: ``features.N.weight`` and ``features.N.bias``,
where N counts the entries of ``vgg16().features`` (conv, ReLU, ..., max-pool).

The .npz file holds 26 float32 arrays named after the layers, in PyTorch's (and nn.Conv2D's) layout:

    conv1_1.weight (64, 3, 3, 3)    conv1_1.bias (64,)
    conv1_2.weight (64, 64, 3, 3)   conv1_2.bias (64,)
    conv2_1.weight (128, 64, 3, 3)  ...
    ...
    conv5_3.weight (512, 512, 3, 3) conv5_3.bias (512,)

The weights expect RGB images in [0, 1] standardised with ImageNet's mean and standard deviation, which
``lessons.style_transfer`` does. Reading a .pth file needs PyTorch; ``convert`` itself takes any mapping of
names to arrays or tensors.
"""
import sys

import numpy as np

from lessons.style_transfer import LAYERS, conv_channels


def vgg16_shapes():
    """{'conv1_1.weight': (64, 3, 3, 3), 'conv1_1.bias': (64,), ...}: every array the .npz file holds."""
    shapes, channels = {}, 3
    for name in LAYERS:
        if name.startswith("conv"):
            shapes[f"{name}.weight"] = (conv_channels(name), channels, 3, 3)
            shapes[f"{name}.bias"] = (conv_channels(name),)
            channels = conv_channels(name)
    return shapes


def convert(state_dict):
    """torchvision's vgg16 state dict (features.N.weight / .bias) -> {'conv1_1.weight': float32 array, ...}.

    The classifier's arrays are left out; a missing array or a wrong shape is an error that names it.
    """
    shapes = vgg16_shapes()
    arrays, problems = {}, []
    for index, name in enumerate(LAYERS):
        if not name.startswith("conv"):
            continue
        for part in ("weight", "bias"):
            key, ours = f"features.{index}.{part}", f"{name}.{part}"
            if key not in state_dict:
                problems.append(f"{key} ({ours}) is missing")
                continue
            value = state_dict[key]
            array = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float32)
            if array.shape != shapes[ours]:
                problems.append(f"{key} ({ours}) has shape {array.shape}, expected {shapes[ours]}")
            arrays[ours] = array
    if problems:
        raise ValueError("not a torchvision vgg16 state dict: " + "; ".join(problems))
    return arrays


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        raise SystemExit("usage: python -m lessons.vgg_weights VGG16.pth OUT.npz")
    import torch  # only reading the .pth file needs PyTorch

    source, target = argv
    arrays = convert(torch.load(source, map_location="cpu", weights_only=True))
    np.savez(target, **arrays)
    print(f"wrote {target}: {len(arrays)} arrays, conv1_1 .. conv5_3")


if __name__ == "__main__":
    main()
