# %% [markdown] lang="en"
# # 3. A convolutional denoising autoencoder
#
# The second model of TensorFlow's tutorial "Intro to Autoencoders": noisy Fashion-MNIST images in, clean ones
# out. Strided convolutions halve the image twice (28 → 14 → 7), transposed convolutions double it back:
#
#     noisy = clip(x + 0.2 * N(0, 1), 0, 1)
#     encoder  Conv2D(16, 3x3, stride 2, 'same', relu)   28x28x1  -> 14x14x16
#              Conv2D(8, 3x3, stride 2, 'same', relu)    14x14x16 -> 7x7x8
#     decoder  Conv2DTranspose(8, 3x3, stride 2, 'same', relu)   -> 14x14x8
#              Conv2DTranspose(16, 3x3, stride 2, 'same', relu)  -> 28x28x16
#              Conv2D(1, 3x3, 'same', sigmoid)                   -> 28x28x1
#
# with Keras' defaults: Glorot-uniform weights, Adam (lr 1e-3, eps 1e-7), MSE, batch 32. Images are NCHW here
# (Keras uses NHWC). The notebook form of `python -m lessons.conv_denoising_autoencoder`.
#
# **Setup.** The first cell finds the project and the data. In a fresh Colab, uncomment its two "Colab" lines
# first: they fetch the course and `pip install` minigrad (about a minute, once). Fashion-MNIST is looked up in
# `$MINIGRAD_DATA`, then `~/.cache/minigrad`, then Debian's `dataset-fashion-mnist` package, and is otherwise
# downloaded; to use a folder of your own, set `os.environ["MINIGRAD_DATA"]` in that cell. When the data cannot
# be found, the error lists where it looked and the two ways to fix it.

# %% [markdown] lang="ko"
# # 3. 합성곱 잡음 제거 오토인코더
#
# 텐서플로 튜토리얼 "Intro to Autoencoders"의 두 번째 모델입니다. 잡음이 섞인 Fashion-MNIST 이미지를 넣으면 깨끗한
# 이미지가 나옵니다. 스트라이드 합성곱이 이미지를 두 번 절반으로 줄이고(28 → 14 → 7), 전치 합성곱이 다시 두 배씩 키웁니다.
#
#     noisy = clip(x + 0.2 * N(0, 1), 0, 1)
#     인코더  Conv2D(16, 3x3, stride 2, 'same', relu)   28x28x1  -> 14x14x16
#             Conv2D(8, 3x3, stride 2, 'same', relu)    14x14x16 -> 7x7x8
#     디코더  Conv2DTranspose(8, 3x3, stride 2, 'same', relu)   -> 14x14x8
#             Conv2DTranspose(16, 3x3, stride 2, 'same', relu)  -> 28x28x16
#             Conv2D(1, 3x3, 'same', sigmoid)                   -> 28x28x1
#
# 케라스의 기본값을 씁니다: Glorot 균등 분포 가중치, Adam(lr 1e-3, eps 1e-7), MSE, 배치 32. 여기서 이미지는 NCHW입니다
# (케라스는 NHWC). `python -m lessons.conv_denoising_autoencoder`의 노트북 판입니다.
#
# **준비.** 첫 셀은 프로젝트와 데이터를 찾습니다. 새 Colab이라면 먼저 그 셀의 "Colab" 두 줄의 주석을 푸세요. 강의 코드를
# 받아 오고 minigrad를 `pip install`합니다(처음 한 번, 1분쯤). Fashion-MNIST는 `$MINIGRAD_DATA`, `~/.cache/minigrad`,
# 데비안의 `dataset-fashion-mnist` 패키지 순서로 찾고, 없으면 내려받습니다. 가지고 있는 폴더를 쓰려면 그 셀에서
# `os.environ["MINIGRAD_DATA"]`를 설정하세요. 데이터를 찾지 못하면, 오류 메시지가 어디를 찾아보았는지와 고치는 두 가지
# 방법을 알려 줍니다.

# %%
import os
import sys
from pathlib import Path

# Colab: uncomment the next two lines, run this cell once, then go on.
# !git clone -q https://github.com/YOUR-ORG/minigrad /content/minigrad && pip install -q -e /content/minigrad
# os.chdir("/content/minigrad/lessons/notebooks")
ROOT = Path.cwd().parents[1]     # this notebook sits in lessons/notebooks/ of the project
sys.path.insert(0, str(ROOT))    # so that `import lessons` finds the lesson modules
# A folder holding mnist/, fashion-mnist/, ecg5000/ (else ~/.cache/minigrad, else a download):
# os.environ["MINIGRAD_DATA"] = "/path/to/datasets"

DEVICE = "cpu"                   # or "cuda" (pip install cupy-cuda12x)
EPOCHS = 2                       # about a minute each on a laptop; the tutorial's full run: 10
QUICK = os.environ.get("MINIGRAD_NOTEBOOK_QUICK") == "1"   # the test suite's tiny run: 256 images, 1 epoch
if QUICK:
    EPOCHS = 1
OUT = Path(os.environ.get("MINIGRAD_NOTEBOOK_OUT", ROOT / "runs" / "notebooks")) / "03_conv_denoising_autoencoder"
OUT.mkdir(parents=True, exist_ok=True)  # the figures are saved here, and shown below each cell

# %%
import numpy as np
from IPython.display import Image

import minigrad as mg
import minigrad.functional as F
from lessons._models import psnr
from lessons.conv_denoising_autoencoder import EVAL_BATCH, PUBLISHED_VAL_LOSS, denoising_autoencoder, noisy_copy
from minigrad import optim, viz
from minigrad.data import DataLoader, fashion_mnist
from minigrad.viz import draw_graph

np.random.seed(0)              # the lesson's seeds: the same draws, so the same numbers
mg.manual_seed(0)

# %% [markdown] lang="en"
# ## The data
#
# 60,000 training and 10,000 test images of clothes, 28x28 grey levels. A convolution wants a channel axis:
# (N, 28, 28) uint8 becomes (N, 1, 28, 28) floats in [0, 1]. The noise is drawn once for the whole data set.

# %% [markdown] lang="ko"
# ## 데이터
#
# 옷 이미지 학습용 60,000장과 테스트용 10,000장, 28x28 회색조입니다. 합성곱에는 채널 축이 필요하므로 (N, 28, 28) uint8을
# [0, 1] 범위 실수의 (N, 1, 28, 28)로 바꿉니다. 잡음은 데이터 전체에 한 번만 뽑습니다.

# %%
x_train, _ = fashion_mnist("train")
x_test, _ = fashion_mnist("test")
print("as stored:", x_train.shape, x_train.dtype)
x_train, x_test = x_train[:, None].astype(np.float32) / 255, x_test[:, None].astype(np.float32) / 255
if QUICK:
    x_train, x_test = x_train[:256], x_test[:256]
noise = np.random.default_rng(0)
x_train_noisy, x_test_noisy = noisy_copy(x_train, noise), noisy_copy(x_test, noise)
print("NCHW:", x_train.shape, x_train.dtype, " test", x_test.shape)
loader = DataLoader(x_train_noisy, x_train, batch_size=32, shuffle=True, seed=0, device=DEVICE)
test_loader = DataLoader(x_test_noisy, x_test, batch_size=EVAL_BATCH, device=DEVICE)
Image(filename=str(viz.image_rows({"clean": x_train[:10], "noisy input": x_train_noisy[:10]}, OUT / "data.png",
                                  title="Fashion-MNIST and its noisy copy")))

# %% [markdown] lang="en"
# ## The model
#
# `denoising_autoencoder()` from the lesson: `Sequential(encoder, decoder)`. Passing one noisy image through it
# layer by layer shows each shape: channels up while the image shrinks, then back.

# %% [markdown] lang="ko"
# ## 모델
#
# 레슨의 `denoising_autoencoder()`는 `Sequential(encoder, decoder)`를 만듭니다. 잡음 섞인 이미지 한 장을 층마다 통과시키면
# 각 층의 모양이 보입니다. 이미지가 작아지는 동안 채널이 늘고, 그다음 되돌아옵니다.

# %%
autoencoder = denoising_autoencoder().to(DEVICE)
optimizer = optim.Adam(autoencoder.parameters(), lr=1e-3, eps=1e-7)   # Keras' Adam
h = mg.tensor(x_train_noisy[:1], device=DEVICE)
print(f"{'input':23} {h.shape}")
with mg.no_grad():
    for part, layers in zip(("encoder", "decoder"), autoencoder):
        for layer in layers:
            h = layer(h)
            print(f"{part} {type(layer).__name__:15} {h.shape}")
print(sum(p.numpy().size for p in autoencoder.parameters()), "parameters")
start = {name: value.numpy().copy() for name, value in autoencoder.state_dict().items()}  # to train from here

# %% [markdown] lang="en"
# ## One training step taken apart
#
# ### Forward, the loss, and its graph
#
# The parameters are named by their place in the model: `0.0.weight` is the encoder's first convolution.

# %% [markdown] lang="ko"
# ## 학습 한 단계를 나누어 보기
#
# ### 순전파, 손실, 그리고 그래프
#
# 매개변수 이름은 모델 안의 위치입니다. `0.0.weight`는 인코더의 첫 번째 합성곱입니다.

# %%
noisy, clean = mg.tensor(x_train_noisy[:32], device=DEVICE), mg.tensor(x_train[:32], device=DEVICE)
loss = F.mse_loss(autoencoder(noisy), clean)
print(f"batch {noisy.shape} -> loss {loss.item():.4f}")
draw_graph(loss, params=autoencoder)

# %% [markdown] lang="en"
# ### Backward, and a look at a gradient
#
# The first convolution's weight has shape (16, 1, 3, 3): sixteen 3x3 filters. Its gradient has the same shape;
# drawn next to the filters, it shows how the loss wants each one to change.

# %% [markdown] lang="ko"
# ### 역전파, 그리고 기울기 들여다보기
#
# 첫 번째 합성곱의 가중치는 (16, 1, 3, 3) 모양, 즉 3x3 필터 열여섯 개입니다. 기울기도 같은 모양이며, 필터 옆에 나란히
# 그리면 손실이 각 필터를 어떻게 바꾸고 싶어 하는지 보입니다.

# %%
optimizer.zero_grad()
loss.backward()
first = autoencoder[0][0]
print("weight", first.weight.shape, " grad", first.weight.grad.shape, " bias grad", first.bias.grad.shape)
w, g = first.weight.numpy()[:, 0], first.weight.grad.numpy()[:, 0]   # (16, 3, 3): one 3x3 picture each
Image(filename=str(viz.image_rows({"filter": w / np.abs(w).max(), "gradient": g / np.abs(g).max()},
                                  OUT / "first_filters.png", value_range=(-1, 1),
                                  title="First convolution: its 16 filters and their gradients (each scaled to +-1)")))

# %% [markdown] lang="en"
# ### The optimizer's update
#
# Adam's first step moves every weight by about lr = 1e-3, whatever the size of its gradient (m̂ / √v̂ is ±1 on
# the first step).

# %% [markdown] lang="ko"
# ### 옵티마이저의 갱신
#
# Adam의 첫 단계는 기울기의 크기와 상관없이 모든 가중치를 lr = 1e-3 정도씩 움직입니다(첫 단계에서 m̂ / √v̂ 는 ±1).

# %%
before = first.weight.numpy().copy()
optimizer.step()
print(f"first filters moved by up to {np.abs(first.weight.numpy() - before).max():.2e}")
with mg.no_grad():
    print(f"loss on that batch {loss.item():.5f} -> {F.mse_loss(autoencoder(noisy), clean).item():.5f}")

# %% [markdown] lang="en"
# ## Training
#
# Back to the starting weights and a fresh Adam, then the lesson's loop: noisy batches in, clean targets, and
# after each epoch the validation loss on the whole test set. `EPOCHS` in the first cell sets the length.

# %% [markdown] lang="ko"
# ## 학습
#
# 처음 가중치와 새 Adam으로 돌아가 레슨의 반복문을 실행합니다. 잡음 섞인 배치를 넣고 깨끗한 이미지를 목표로 삼으며,
# 에포크마다 테스트 세트 전체에서 검증 손실을 잽니다. 길이는 첫 셀의 `EPOCHS`로 정합니다.

# %%
autoencoder.load_state_dict(start)
optimizer = optim.Adam(autoencoder.parameters(), lr=1e-3, eps=1e-7)
history = {"loss": [], "val_loss": []}
for epoch in range(1, EPOCHS + 1):
    losses = []
    for noisy, clean in loader:
        loss = F.mse_loss(autoencoder(mg.tensor(noisy)), mg.tensor(clean))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    with mg.no_grad():
        denoised = mg.concatenate([autoencoder(mg.tensor(noisy)) for noisy, _ in test_loader]).numpy()
    history["loss"].append(np.mean(losses))
    history["val_loss"].append(float(np.mean((denoised - x_test) ** 2)))
    print(f"epoch {epoch}/{EPOCHS}  loss {history['loss'][-1]:.4f}  val_loss {history['val_loss'][-1]:.4f}")

# %% [markdown] lang="en"
# ## The figures
#
# Noisy test images, what the network makes of them, and the clean originals; then the losses per epoch.

# %% [markdown] lang="ko"
# ## 그림
#
# 잡음 섞인 테스트 이미지, 신경망이 만든 결과, 깨끗한 원본입니다. 이어서 에포크마다의 손실입니다.

# %%
psnr_noisy, psnr_denoised = psnr(x_test_noisy, x_test), psnr(denoised, x_test)
Image(filename=str(viz.denoising_triptych(x_test_noisy[:10], denoised[:10], x_test[:10], OUT / "denoising.png",
                                          title=f"PSNR {psnr_noisy:.1f} dB -> {psnr_denoised:.1f} dB")))

# %%
Image(filename=str(viz.loss_curves(history, OUT / "losses.png", title="Convolutional denoiser: MSE per epoch")))

# %% [markdown] lang="en"
# ## The result and the published number
#
# The tutorial's validation loss after its 10 epochs is 0.0076. Set `EPOCHS = 10` to train as long (the lesson,
# `python -m lessons.conv_denoising_autoencoder`, does by default).

# %% [markdown] lang="ko"
# ## 결과와 튜토리얼의 수치
#
# 튜토리얼의 10 에포크 뒤 검증 손실은 0.0076입니다. 같은 길이로 학습하려면 `EPOCHS = 10`으로 두세요(레슨
# `python -m lessons.conv_denoising_autoencoder`는 기본으로 그렇게 합니다).

# %%
print(f"after {EPOCHS} epochs: val_loss {history['val_loss'][-1]:.4f}   the tutorial, after 10: {PUBLISHED_VAL_LOSS}")
print(f"PSNR against the clean images: noisy {psnr_noisy:.2f} dB, denoised {psnr_denoised:.2f} dB")
