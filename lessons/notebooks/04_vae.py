# %% [markdown] lang="en"
# # 4. The variational autoencoder
#
# An encoder that outputs a distribution, not a point: a mean and a log-variance per latent dimension. A sample
# z = mu + exp(logvar / 2) · eps (the reparameterisation trick, so that gradients flow through the sample), a
# decoder back to pixels, and a loss of two parts: the reconstruction (binary cross-entropy) plus the KL
# divergence from the prior N(0, 1). The VAE of the PyTorch examples (examples/vae/main.py):
#
#     encoder 784 -> 400 (ReLU) -> 20 mean, 20 log-variance
#     decoder 20 -> 400 (ReLU) -> 784 (sigmoid)
#     loss    BCE summed over pixels + KL(q(z|x) || N(0, 1)), per image
#     Adam lr 1e-3, batch 128
#
# The notebook form of `python -m lessons.vae`: the model, its loss and the data helpers come from that lesson.
#
# **Setup.** The first cell finds the project and the data. In a fresh Colab, uncomment its two "Colab" lines
# first: they fetch the course and `pip install` minigrad (about a minute, once). MNIST is looked up in
# `$MINIGRAD_DATA`, then `~/.cache/minigrad`, and is otherwise downloaded; to use a folder of your own, set
# `os.environ["MINIGRAD_DATA"]` in that cell. When the data cannot be found, the error lists where it looked
# and the two ways to fix it.

# %% [markdown] lang="ko"
# # 4. 변이형 오토인코더(VAE)
#
# 인코더가 점 하나가 아니라 분포를 내놓습니다. 잠재 차원마다 평균과 로그 분산입니다. 표본은
# z = mu + exp(logvar / 2) · eps로 뽑고(재매개변수화 기법: 기울기가 표본을 지나 흐르게 합니다), 디코더가 이를 다시 픽셀로
# 바꿉니다. 손실은 두 부분, 복원(이진 교차 엔트로피)과 사전 분포 N(0, 1)로부터의 KL 발산의 합입니다. PyTorch 예제
# (examples/vae/main.py)의 VAE입니다.
#
#     인코더  784 -> 400 (ReLU) -> 평균 20개, 로그 분산 20개
#     디코더  20 -> 400 (ReLU) -> 784 (sigmoid)
#     손실    픽셀에 대해 합한 BCE + KL(q(z|x) || N(0, 1)), 이미지마다
#     Adam lr 1e-3, 배치 128
#
# `python -m lessons.vae`의 노트북 판입니다. 모델, 손실, 데이터 도우미 함수는 그 레슨에서 가져옵니다.
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
EPOCHS = 2                       # the example's full run: 10
LATENT = 20                      # the example's; 2 adds the latent-space figures at the end
QUICK = os.environ.get("MINIGRAD_NOTEBOOK_QUICK") == "1"   # the test suite's tiny run: 256 images, 1 epoch
if QUICK:
    EPOCHS = 1
OUT = Path(os.environ.get("MINIGRAD_NOTEBOOK_OUT", ROOT / "runs" / "notebooks")) / "04_vae"
OUT.mkdir(parents=True, exist_ok=True)  # the figures are saved here, and shown below each cell

# %%
import numpy as np
from IPython.display import Image, display

import minigrad as mg
import minigrad.functional as F
from lessons.vae import VAE, as_pixels, loss_function, mean_test_loss, print_table
from minigrad import optim, viz
from minigrad.data import DataLoader, mnist
from minigrad.viz import draw_graph

np.random.seed(0)              # the lesson's seeds
mg.manual_seed(0)

# %% [markdown] lang="en"
# ## The data
#
# MNIST as stored: uint8 images (N, 28, 28). `as_pixels` turns a batch into (N, 784) floats in [0, 1], each
# pixel the probability of a coin that comes up "ink": the reason the reconstruction loss is a binary
# cross-entropy.

# %% [markdown] lang="ko"
# ## 데이터
#
# 저장된 그대로의 MNIST는 uint8 이미지 (N, 28, 28)입니다. `as_pixels`는 배치를 [0, 1] 범위 실수의 (N, 784)로 바꿉니다.
# 픽셀 하나하나를 "잉크"가 나올 확률로 보는 것이며, 복원 손실이 이진 교차 엔트로피인 이유입니다.

# %%
x_train, _ = mnist("train")
x_test, y_test = mnist("test")
if QUICK:
    x_train, x_test, y_test = x_train[:256], x_test[:256], y_test[:256]
loader = DataLoader(x_train, batch_size=128, shuffle=True, seed=0)
print("x_train", x_train.shape, x_train.dtype, " x_test", x_test.shape, f" {len(loader)} batches of 128 per epoch")
print("as_pixels(one batch):", as_pixels(x_train[:128]).shape, as_pixels(x_train[:128]).dtype)
Image(filename=str(viz.image_grid(x_train[:16], OUT / "digits.png", title="16 training images")))

# %% [markdown] lang="en"
# ## The model
#
# Five dense layers: `fc1` shared by the encoder's two heads `fc_mu` and `fc_logvar`, then `fc3` and `fc4`
# decoding. `nn.Dense` starts as PyTorch's `nn.Linear` does.

# %% [markdown] lang="ko"
# ## 모델
#
# 완전 연결층 다섯 개입니다. 인코더의 두 머리 `fc_mu`와 `fc_logvar`가 `fc1`을 함께 쓰고, `fc3`과 `fc4`가 복호화합니다.
# `nn.Dense`는 PyTorch의 `nn.Linear`와 같은 방식으로 초기화됩니다.

# %%
model = VAE(latent=LATENT).to(DEVICE)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
for name, p in model.named_parameters():
    print(f"{name:16} {p.shape}")
start = {name: value.numpy().copy() for name, value in model.state_dict().items()}  # to train from here,
random_state = mg.get_rng_state()                                                    # with the lesson's draws

# %% [markdown] lang="en"
# ## One training step taken apart
#
# ### Forward: encode, sample, decode

# %% [markdown] lang="ko"
# ## 학습 한 단계를 나누어 보기
#
# ### 순전파: 부호화, 표본 추출, 복호화

# %%
x = mg.tensor(as_pixels(x_train[:128]), device=DEVICE)
mu, logvar = model.encode(x)
z = model.reparameterize(mu, logvar)        # z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1)
recon = model.decode(z)
print("x", x.shape, "-> mu", mu.shape, "logvar", logvar.shape, "-> z", z.shape, "-> recon", recon.shape)
print(f"at the start: sigma = exp(logvar / 2) averages {(0.5 * logvar).exp().numpy().mean():.3f}")

# %% [markdown] lang="en"
# ### The loss, in its two parts
#
# Both are summed over the batch (`loss_function` in the lesson is exactly this sum); the example reports the
# total divided by the number of images.

# %% [markdown] lang="ko"
# ### 손실의 두 부분
#
# 두 항 모두 배치 전체에 대해 합합니다(레슨의 `loss_function`이 바로 이 합입니다). 예제는 그 합을 이미지 수로 나누어
# 보고합니다.

# %%
reconstruction = F.binary_cross_entropy(recon, x, reduction="sum")
kl = F.gaussian_kl(mu, logvar, reduction="sum")
loss = reconstruction + kl
print(f"per image: reconstruction {reconstruction.item() / len(x):.2f} + KL {kl.item() / len(x):.2f} "
      f"= {loss.item() / len(x):.2f}   (loss_function: {loss_function(recon, x, mu, logvar).item() / len(x):.2f})")

# %% [markdown] lang="en"
# ### The graph of that step
#
# Follow the two paths from the loss back to `fc_mu` and `fc_logvar`: one through the KL term, one through z and
# the decoder. The grey (128, 20) box that multiplies sigma on the way to z is eps: a constant, which is what lets
# the gradient pass through the sampling. `params` names the parameters (the model's) and a few tensors of ours.

# %% [markdown] lang="ko"
# ### 그 단계의 그래프
#
# 손실에서 `fc_mu`와 `fc_logvar`로 돌아가는 두 경로를 따라가 보세요. 하나는 KL 항을, 다른 하나는 z와 디코더를 지납니다.
# z로 가는 길에 sigma와 곱해지는 회색 (128, 20) 상자가 eps입니다. 상수이므로, 기울기가 표본 추출을 지나 흐를 수 있습니다.
# `params`는 매개변수(모델의 것)와 우리가 만든 텐서 몇 개에 이름을 붙입니다.

# %%
names = {**dict(model.named_parameters()), "x": x, "mu": mu, "logvar": logvar, "z": z, "recon": recon,
         "reconstruction": reconstruction, "kl": kl, "loss": loss}
draw_graph(loss, params=names)

# %% [markdown] lang="en"
# ### Backward, and a look at a gradient
#
# Each column of `fc1.weight` (784 x 400) is the picture one hidden unit looks for in the input; its gradient,
# drawn the same way, is how the loss wants that picture to change.

# %% [markdown] lang="ko"
# ### 역전파, 그리고 기울기 들여다보기
#
# `fc1.weight`(784 x 400)의 각 열은 은닉 유닛 하나가 입력에서 찾는 그림입니다. 같은 방식으로 그린 기울기는 손실이 그
# 그림을 어떻게 바꾸고 싶어 하는지를 보여 줍니다.

# %%
optimizer.zero_grad()
loss.backward()
for name, p in model.named_parameters():
    print(f"{name:16} grad {str(p.grad.shape):11} largest |grad| {np.abs(p.grad.numpy()).max():.3g}")
g = model.fc1.weight.grad.numpy()[:, :16].T
scale = np.abs(g).max()
Image(filename=str(viz.image_grid(g, OUT / "fc1_grad.png", value_range=(-scale, scale),
                                  title="dloss/dfc1.weight of hidden units 0-15 (grey 0)")))

# %% [markdown] lang="en"
# ### The optimizer's update

# %% [markdown] lang="ko"
# ### 옵티마이저의 갱신

# %%
before = model.fc1.weight.numpy().copy()
optimizer.step()
print(f"fc1.weight moved by up to {np.abs(model.fc1.weight.numpy() - before).max():.2e} (Adam's first step: about lr)")
with mg.no_grad():
    recon, mu, logvar = model(x)             # with a new eps: the loss moves with the sample too
    after = loss_function(recon, x, mu, logvar).item()
print(f"loss on that batch {loss.item() / len(x):.2f} -> {after / len(x):.2f} per image")

# %% [markdown] lang="en"
# ## Training
#
# Back to the starting weights, a fresh Adam and the same random draws, then the lesson's loop. After each epoch,
# the test loss as the example reports it: the summed loss over the test set divided by its size.

# %% [markdown] lang="ko"
# ## 학습
#
# 처음 가중치, 새 Adam, 같은 난수 상태로 돌아가 레슨의 반복문을 실행합니다. 에포크마다 예제가 보고하는 방식의 테스트
# 손실, 즉 테스트 세트 전체에 대해 합한 손실을 그 크기로 나눈 값을 잽니다.

# %%
model.load_state_dict(start)
mg.set_rng_state(random_state)
optimizer = optim.Adam(model.parameters(), lr=1e-3)
history = []
for epoch in range(1, EPOCHS + 1):
    train_loss = 0.0
    for (xb,) in loader:
        x = mg.tensor(as_pixels(xb), device=DEVICE)
        recon, mu, logvar = model(x)
        loss = loss_function(recon, x, mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        train_loss += loss.item()
    history.append({"epoch": epoch, "train_loss": train_loss / len(x_train),
                    "test_loss": mean_test_loss(model, x_test, DEVICE, 128)})
    print(f"epoch {epoch}/{EPOCHS}  train_loss {history[-1]['train_loss']:.2f}  test_loss {history[-1]['test_loss']:.2f}")

# %% [markdown] lang="en"
# ## The figures
#
# Test digits and their reconstructions; then 64 new digits, decoded from z drawn from the prior N(0, I).

# %% [markdown] lang="ko"
# ## 그림
#
# 테스트 숫자와 그 복원입니다. 이어서 사전 분포 N(0, I)에서 뽑은 z를 복호화한 새 숫자 64개입니다.

# %%
originals = as_pixels(x_test[:10])
with mg.no_grad():
    reconstructions = model(mg.tensor(originals, device=DEVICE))[0].numpy()
Image(filename=str(viz.image_rows({"test digit": originals, "reconstruction": reconstructions},
                                  OUT / "reconstructions.png", title="VAE: test digits and their reconstructions")))

# %%
with mg.no_grad():
    samples = model.decode(mg.randn(64, LATENT, device=DEVICE)).numpy()
Image(filename=str(viz.image_grid(samples, OUT / "samples.png", title=f"64 digits decoded from z ~ N(0, I), latent {LATENT}")))

# %% [markdown] lang="en"
# With `LATENT = 2` the latent space is a plane, and two more figures show it: the digits decoded over a grid of
# z, and the test digits' means coloured by their label.

# %% [markdown] lang="ko"
# `LATENT = 2`로 두면 잠재 공간이 평면이 되고, 그림 두 개가 더 그것을 보여 줍니다. 격자 위의 z를 복호화한 숫자들, 그리고
# 레이블별로 색을 칠한 테스트 숫자들의 평균입니다.

# %%
if LATENT == 2:
    def decode_images(z):
        with mg.no_grad():
            return model.decode(mg.tensor(z, device=DEVICE)).numpy()

    with mg.no_grad():
        means = model.encode(mg.tensor(as_pixels(x_test), device=DEVICE))[0].numpy()
    display(Image(filename=str(viz.latent_manifold(decode_images, OUT / "manifold.png"))))
    display(Image(filename=str(viz.latent_scatter(means, y_test, OUT / "latent.png"))))

# %% [markdown] lang="en"
# ## The result and the published number
#
# The example's published test losses: 127.30 after epoch 1, 115.79 after epoch 2, 105.56 after epoch 10. Set
# `EPOCHS = 10` for the full run. The lesson (`python -m lessons.vae`) also judges the samples: the FID of 10,000
# of them against the test set, and the histogram of the digits they show.

# %% [markdown] lang="ko"
# ## 결과와 예제의 수치
#
# 예제가 공개한 테스트 손실은 1 에포크 뒤 127.30, 2 에포크 뒤 115.79, 10 에포크 뒤 105.56입니다. 전체 실행은
# `EPOCHS = 10`으로 하세요. 레슨(`python -m lessons.vae`)은 표본도 평가합니다. 표본 10,000개의 테스트 세트 대비 FID, 그리고
# 표본이 보여 주는 숫자의 히스토그램입니다.

# %%
print_table(history, LATENT)
