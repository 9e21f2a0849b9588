# %% [markdown] lang="en"
# # 5. DCGAN: a convolutional generator against a convolutional discriminator
#
# Two networks in a game. The generator G grows an image from 100 random numbers: a dense layer makes a 7x7 map
# of 128 channels, two transposed convolutions double it to 14x14 and 28x28. The discriminator D mirrors it with
# two strided convolutions and says "real" or "fake" as a logit. Batch normalisation keeps both trainable; the
# DCGAN recipe (Radford et al. 2016) adds weights from N(0, 0.02), Adam with beta1 = 0.5 and LeakyReLU in D:
#
#     G: z (100) -> Dense 128*7*7 + BatchNorm1D + ReLU -> reshape (128, 7, 7)
#        -> ConvT(128->64, 4, s2, p1) + BatchNorm2D + ReLU -> ConvT(64->1, 4, s2, p1) + tanh
#     D: x (1, 28, 28) -> Conv(1->64, 4, s2, p1) + LeakyReLU 0.2
#        -> Conv(64->128, 4, s2, p1) + BatchNorm2D + LeakyReLU 0.2 -> Flatten -> Dense 1 (logit)
#     Adam lr 2e-4, betas (0.5, 0.999); batch 64; MNIST scaled to [-1, 1]
#
# The notebook form of `python -m lessons.dcgan`: the networks and their initialisation come from that lesson.
#
# **Setup.** The first cell finds the project and the data. In a fresh Colab, uncomment its two "Colab" lines
# first: they fetch the course and `pip install` minigrad (about a minute, once). MNIST is looked up in
# `$MINIGRAD_DATA`, then `~/.cache/minigrad`, and is otherwise downloaded; to use a folder of your own, set
# `os.environ["MINIGRAD_DATA"]` in that cell. When the data cannot be found, the error lists where it looked
# and the two ways to fix it.

# %% [markdown] lang="ko"
# # 5. DCGAN: 합성곱 생성자와 합성곱 판별자의 대결
#
# 두 신경망이 겨루는 게임입니다. 생성자 G는 난수 100개로부터 이미지를 키워 냅니다. 완전 연결층이 채널 128개의 7x7 지도를
# 만들고, 전치 합성곱 두 개가 그것을 14x14, 28x28로 두 배씩 키웁니다. 판별자 D는 이를 거울처럼 뒤집어 스트라이드 합성곱 두
# 개로 줄이고, "진짜" 또는 "가짜"를 로짓 하나로 말합니다. 배치 정규화가 둘 다 학습 가능하게 해 주고, DCGAN의 처방(Radford
# 외, 2016)은 N(0, 0.02) 가중치, beta1 = 0.5인 Adam, D의 LeakyReLU를 더합니다.
#
#     G: z (100) -> Dense 128*7*7 + BatchNorm1D + ReLU -> reshape (128, 7, 7)
#        -> ConvT(128->64, 4, s2, p1) + BatchNorm2D + ReLU -> ConvT(64->1, 4, s2, p1) + tanh
#     D: x (1, 28, 28) -> Conv(1->64, 4, s2, p1) + LeakyReLU 0.2
#        -> Conv(64->128, 4, s2, p1) + BatchNorm2D + LeakyReLU 0.2 -> Flatten -> Dense 1 (로짓)
#     Adam lr 2e-4, betas (0.5, 0.999); 배치 64; [-1, 1]로 조정한 MNIST
#
# `python -m lessons.dcgan`의 노트북 판입니다. 두 신경망과 그 초기화는 그 레슨에서 가져옵니다.
#
# **준비.** 첫 셀은 프로젝트와 데이터를 찾습니다. 새 Colab이라면 먼저 그 셀의 "Colab" 두 줄의 주석을 푸세요. 강의 코드를
# 받아 오고 minigrad를 `pip install`합니다(처음 한 번, 1분쯤). MNIST는 `$MINIGRAD_DATA`, 그다음 `~/.cache/minigrad`에서
# 찾고, 없으면 내려받습니다. 가지고 있는 폴더를 쓰려면 그 셀에서 `os.environ["MINIGRAD_DATA"]`를 설정하세요. 데이터를
# 찾지 못하면, 오류 메시지가 어디를 찾아보았는지와 고치는 두 가지 방법을 알려 줍니다.

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
EPOCHS = 1                       # a few minutes on a laptop, rough digits by its end; the lesson's full run: 5
QUICK = os.environ.get("MINIGRAD_NOTEBOOK_QUICK") == "1"   # the test suite's tiny run: 128 images, 1 epoch
if QUICK:
    EPOCHS = 1
OUT = Path(os.environ.get("MINIGRAD_NOTEBOOK_OUT", ROOT / "runs" / "notebooks")) / "05_dcgan"
OUT.mkdir(parents=True, exist_ok=True)  # the figures are saved here, and shown below each cell

# %%
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image

import minigrad as mg
import minigrad.functional as F
from lessons._gan import EpochMeans, decode, to_tanh_range
from lessons.dcgan import INTERPOLATION_STEPS, LATENT, dcgan_init, discriminator, generator
from minigrad import optim, viz
from minigrad.data import DataLoader, mnist
from minigrad.viz import draw_graph

np.random.seed(0)              # the lesson's seeds
mg.manual_seed(0)

# %% [markdown] lang="en"
# ## The data
#
# MNIST's training images, scaled to [-1, 1] (the range of G's tanh) and shaped (N, 1, 28, 28) for the
# convolutions. Only images: a GAN needs no labels.

# %% [markdown] lang="ko"
# ## 데이터
#
# MNIST 학습 이미지를 G의 tanh 범위인 [-1, 1]로 조정하고, 합성곱에 맞게 (N, 1, 28, 28) 모양으로 둡니다. 이미지만
# 씁니다. GAN에는 레이블이 필요 없습니다.

# %%
x_train, _ = mnist("train")
if QUICK:
    x_train = x_train[:128]
images = to_tanh_range(x_train).reshape(-1, 1, 28, 28)
loader = DataLoader(images, batch_size=64, shuffle=True, seed=0)
print("images", images.shape, images.dtype, f" range [{images.min()}, {images.max()}]", f" {len(loader)} batches of 64")
Image(filename=str(viz.image_grid(images[:16], OUT / "digits.png", value_range=(-1, 1), title="16 training images")))

# %% [markdown] lang="en"
# ## The two networks
#
# One sample through each, layer by layer (in evaluation mode, so that BatchNorm uses its running statistics and
# this look changes nothing): G turns noise into an image, D turns an image into one number.

# %% [markdown] lang="ko"
# ## 두 신경망
#
# 표본 하나를 층마다 통과시켜 봅니다(평가 모드에서 하므로 배치 정규화는 이동 통계를 쓰고, 이렇게 들여다보아도 아무것도
# 바뀌지 않습니다). G는 잡음을 이미지로, D는 이미지를 숫자 하나로 바꿉니다.

# %%
G = dcgan_init(generator()).to(DEVICE)
D = dcgan_init(discriminator()).to(DEVICE)
g_optimizer = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
d_optimizer = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
fixed_z = mg.tensor(np.random.default_rng(1).standard_normal((64, LATENT), np.float32), device=DEVICE)  # the grids'

for name, network, h in (("G", G, fixed_z[:1]), ("D", D, mg.tensor(images[:1], device=DEVICE))):
    network.eval()
    print(f"{name}: {'input':16} {h.shape}")
    with mg.no_grad():
        for layer in network:
            h = layer(h)
            print(f"   {type(layer).__name__:16} {h.shape}")
    network.train()
    print(f"   {sum(p.numpy().size for p in network.parameters()):,} parameters")
start = {"G": {k: v.numpy().copy() for k, v in G.state_dict().items()},   # to train from here,
         "D": {k: v.numpy().copy() for k, v in D.state_dict().items()}}
random_state = mg.get_rng_state()                                         # with the lesson's draws

# %% [markdown] lang="en"
# ## One training step taken apart
#
# ### The discriminator's step
#
# D sees a batch of real images (target 1) and a batch of G's fakes (target 0). `fake.detach()` cuts the graph
# at the fakes: D's loss must not reach into G.

# %% [markdown] lang="ko"
# ## 학습 한 단계를 나누어 보기
#
# ### 판별자의 단계
#
# D는 진짜 이미지 배치(목표 1)와 G가 만든 가짜 배치(목표 0)를 봅니다. `fake.detach()`는 가짜에서 그래프를 끊습니다. D의
# 손실이 G까지 거슬러 가서는 안 되기 때문입니다.

# %%
real = mg.tensor(images[:64], device=DEVICE)
n = len(real)
ones, zeros = mg.ones(n, 1, device=DEVICE), mg.zeros(n, 1, device=DEVICE)
fake = G(mg.randn(n, LATENT, device=DEVICE))
detached = fake.detach()                         # the same images, without the graph that made them
real_logit, fake_logit = D(real), D(detached)    # two batches: BatchNorm sees each apart
d_loss = (F.binary_cross_entropy_with_logits(real_logit, ones)
          + F.binary_cross_entropy_with_logits(fake_logit, zeros))
print(f"D(real) = {F.sigmoid(real_logit).mean().item():.3f}  D(fake) = {F.sigmoid(fake_logit).mean().item():.3f}"
      f"  d_loss {d_loss.item():.4f} (2 ln 2 = {2 * np.log(2):.4f} when D cannot tell)")
draw_graph(d_loss, params={**{f"D.{k}": v for k, v in D.named_parameters()}, "real": real, "fake.detach()": detached,
                      "ones (target)": ones, "zeros (target)": zeros})

# %% [markdown] lang="en"
# Backward fills the gradients of D's parameters only; the step moves them.

# %% [markdown] lang="ko"
# 역전파는 D의 매개변수에만 기울기를 채우고, 한 단계 갱신이 그것을 움직입니다.

# %%
d_optimizer.zero_grad()
d_loss.backward()
print("G has gradients:", any(p.grad is not None for p in G.parameters()),
      "  D's first convolution:", D[0].weight.shape, "grad", D[0].weight.grad.shape)
w, g = D[0].weight.numpy()[:16, 0], D[0].weight.grad.numpy()[:16, 0]
Image(filename=str(viz.image_rows({"filter": w / np.abs(w).max(), "gradient": g / np.abs(g).max()},
                                  OUT / "d_first_filters.png", value_range=(-1, 1),
                                  title="D's first 16 filters (4x4) and their gradients (each scaled to +-1)")))

# %%
d_optimizer.step()

# %% [markdown] lang="en"
# ### The generator's step
#
# G wants D to call its fakes real: its loss is D's binary cross-entropy on the fakes with target 1. This graph
# runs through D and on into G, so it is large: `max_nodes=40` draws the 40 nodes nearest the loss and counts the
# rest in one dashed box. After `backward()`, D's parameters hold gradients too (D was in the graph): that is why
# every D step starts with `d_optimizer.zero_grad()`.

# %% [markdown] lang="ko"
# ### 생성자의 단계
#
# G는 D가 자기 가짜를 진짜라고 부르기를 원합니다. 그래서 G의 손실은 가짜에 대한 D의 이진 교차 엔트로피이되 목표가
# 1입니다. 이 그래프는 D를 지나 G까지 이어지므로 큽니다. `max_nodes=40`은 손실에 가까운 노드 40개만 그리고 나머지는 점선
# 상자 하나에 개수로 적습니다. `backward()` 뒤에는 D의 매개변수에도 기울기가 생깁니다(D도 그래프 안에 있었으니까요). D의
# 단계가 늘 `d_optimizer.zero_grad()`로 시작하는 이유입니다.

# %%
g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
names = {**{f"G.{k}": v for k, v in G.named_parameters()}, **{f"D.{k}": v for k, v in D.named_parameters()},
         "fake": fake, "ones (target)": ones}
draw_graph(g_loss, params=names, max_nodes=40)

# %%
g_optimizer.zero_grad()
g_loss.backward()
last = G[-2]   # the last transposed convolution: 64 channels -> the image
print(f"g_loss {g_loss.item():.4f}   G's last layer", last.weight.shape, "grad", last.weight.grad.shape,
      f"  D got gradients too: {D[0].weight.grad is not None}")
before = last.weight.numpy().copy()
g_optimizer.step()
print(f"G's last layer moved by up to {np.abs(last.weight.numpy() - before).max():.2e} (Adam's first step: about lr)")

# %% [markdown] lang="en"
# ## Training
#
# Back to the starting weights and the same random draws, fresh optimizers, then the lesson's loop: one D step,
# one G step per batch. Besides the losses, D(x) (D's mean verdict on real images) and D(G(z)) (on fakes) show
# the game: D(x) near 1 and D(G(z)) near 0 mean D is winning; a G that fools D pulls both towards 0.5. `EPOCHS`
# in the first cell sets the length.

# %% [markdown] lang="ko"
# ## 학습
#
# 처음 가중치와 같은 난수 상태, 새 옵티마이저로 돌아가 레슨의 반복문을 실행합니다. 배치마다 D 한 단계, G 한 단계입니다.
# 손실 말고도 D(x)(진짜 이미지에 대한 D의 평균 판정)와 D(G(z))(가짜에 대한 판정)가 게임을 보여 줍니다. D(x)가 1에,
# D(G(z))가 0에 가까우면 D가 이기고 있는 것이고, G가 D를 속일수록 둘 다 0.5 쪽으로 끌려옵니다. 길이는 첫 셀의 `EPOCHS`로
# 정합니다.

# %%
G.load_state_dict(start["G"])
D.load_state_dict(start["D"])
mg.set_rng_state(random_state)
g_optimizer = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
d_optimizer = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
steps = {"d_loss": [], "g_loss": []}
for epoch in range(1, EPOCHS + 1):
    meter = EpochMeans()
    for step, (xb,) in enumerate(loader, 1):
        real = mg.tensor(xb, device=DEVICE)
        n = len(xb)
        ones, zeros = mg.ones(n, 1, device=DEVICE), mg.zeros(n, 1, device=DEVICE)

        fake = G(mg.randn(n, LATENT, device=DEVICE))
        real_logit, fake_logit = D(real), D(fake.detach())
        d_loss = (F.binary_cross_entropy_with_logits(real_logit, ones)
                  + F.binary_cross_entropy_with_logits(fake_logit, zeros))
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()

        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()

        meter.add(d_loss=d_loss, g_loss=g_loss, D_x=F.sigmoid(real_logit).mean(), D_G_z=F.sigmoid(fake_logit).mean())
        steps["d_loss"].append(d_loss.item())
        steps["g_loss"].append(g_loss.item())
        if step % 200 == 0:
            print(f"  step {step}/{len(loader)}  d_loss {d_loss.item():.3f}  g_loss {g_loss.item():.3f}")
    print(f"epoch {epoch}/{EPOCHS}  " + "  ".join(f"{name} {value:.4f}" for name, value in meter.means().items()))

# %% [markdown] lang="en"
# ## The figures
#
# 64 samples from the fixed noise (G in evaluation mode, so that a sample does not depend on the others in its
# batch), the images along the straight line from the first sample's noise to the second's, and the two losses
# step by step.

# %% [markdown] lang="ko"
# ## 그림
#
# 고정된 잡음에서 만든 표본 64개(G를 평가 모드로 두어, 표본이 같은 배치의 다른 표본에 좌우되지 않게 합니다), 첫 번째
# 표본의 잡음에서 두 번째 표본의 잡음까지 직선을 따라간 이미지들, 그리고 단계마다의 두 손실입니다.

# %%
Image(filename=str(viz.image_grid(decode(G, fixed_z), OUT / "samples.png", value_range=(-1, 1),
                                  title=f"DCGAN on MNIST: samples after {EPOCHS} epoch(s)")))

# %%
weights = mg.tensor(np.linspace(0, 1, INTERPOLATION_STEPS, dtype=np.float32).reshape(-1, 1), device=DEVICE)
z_path = (1 - weights) * fixed_z[0:1] + weights * fixed_z[1:2]
Image(filename=str(viz.interpolation_strip(decode(G, z_path), OUT / "interpolation.png", value_range=(-1, 1),
                                           start_label="sample 1", end_label="sample 2")))

# %%
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for name, values in steps.items():
    ax.plot(values, label=name, linewidth=0.8)
ax.set_xlabel("step")
ax.set_ylabel("binary cross-entropy")
ax.set_title("DCGAN: the two losses, step by step")
ax.legend()
plt.show()

# %% [markdown] lang="en"
# ## The result
#
# A GAN has no published loss to reach: its losses say who is winning, not how good the images are. The lesson
# (`python -m lessons.dcgan`, 5 epochs) judges 10,000 samples instead: the FID in the feature space of a trained
# MNIST classifier (its full run: 13.4, against a floor of 0.16 for real images) and the histogram of the digits
# the samples show, which must cover all ten.

# %% [markdown] lang="ko"
# ## 결과
#
# GAN에는 도달해야 할 공개된 손실 값이 없습니다. 손실은 누가 이기고 있는지를 말할 뿐, 이미지가 얼마나 좋은지는 말해 주지
# 않습니다. 그래서 레슨(`python -m lessons.dcgan`, 5 에포크)은 표본 10,000개를 평가합니다. 학습된 MNIST 분류기의 특징
# 공간에서 잰 FID(전체 실행: 13.4, 진짜 이미지의 하한 0.16)와, 표본이 보여 주는 숫자의 히스토그램입니다. 히스토그램은 열 개
# 숫자를 모두 담아야 합니다.

# %%
print(f"after {EPOCHS} epoch(s): " + "  ".join(f"{name} {value:.4f}" for name, value in meter.means().items()))
