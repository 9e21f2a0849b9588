# %% [markdown] lang="en"
# # 1. Backprop by hand: the textbook autoencoder's gradients in plain NumPy
#
# What autograd automates. The autoencoder of the "3-minute deep learning" book is
#
#     Z1 = X W1 + b1      H = sigmoid(Z1)      (the 256-unit code)
#     Z2 = H W2 + b2      Y = sigmoid(Z2)      (the reconstruction)
#     L  = mean((Y - X)^2)                     (over all N*784 numbers)
#
# Here every gradient is derived by the chain rule, one NumPy line per step, checked against minigrad's
# autograd and against central differences, and then used to train the network: the notebook form of
# `python -m lessons.manual_backprop`, whose functions (`forward`, `backward`, ...) it imports.
#
# **Setup.** The first cell finds the project and the data. In a fresh Colab, uncomment its two "Colab" lines
# first: they fetch the course and `pip install` minigrad (about a minute, once). MNIST is looked up in
# `$MINIGRAD_DATA`, then `~/.cache/minigrad`, and is otherwise downloaded; to use a folder of your own, set
# `os.environ["MINIGRAD_DATA"]` in that cell. When the data cannot be found, the error lists where it looked
# and the two ways to fix it.

# %% [markdown] lang="ko"
# # 1. 손으로 하는 역전파: 교과서 오토인코더의 기울기를 순수 NumPy로
#
# 자동 미분이 대신해 주는 일을 직접 해 봅니다. 『3분 딥러닝』 책의 오토인코더는 다음과 같습니다.
#
#     Z1 = X W1 + b1      H = sigmoid(Z1)      (256개 유닛의 코드)
#     Z2 = H W2 + b2      Y = sigmoid(Z2)      (복원된 이미지)
#     L  = mean((Y - X)^2)                     (N*784개 값 전체의 평균)
#
# 이 노트북은 모든 기울기를 연쇄 법칙으로 한 단계에 NumPy 한 줄씩 유도하고, minigrad의 자동 미분과 중심 차분으로
# 확인한 다음, 그 기울기로 신경망을 학습시킵니다. `python -m lessons.manual_backprop`의 노트북 판이며, 그 레슨의 함수
# (`forward`, `backward`, ...)를 가져와 씁니다.
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

EPOCHS = 3                       # the lesson's default; the book trains 20
QUICK = os.environ.get("MINIGRAD_NOTEBOOK_QUICK") == "1"   # the test suite's tiny run: 256 images, 1 epoch
if QUICK:
    EPOCHS = 1
OUT = Path(os.environ.get("MINIGRAD_NOTEBOOK_OUT", ROOT / "runs" / "notebooks")) / "01_backprop_by_hand"
OUT.mkdir(parents=True, exist_ok=True)  # the figures are saved here, and shown below each cell
DEVICE = "cpu"                   # the hand-written passes are NumPy: this notebook runs on the CPU

# %%
import numpy as np
from IPython.display import Image

import minigrad as mg
from lessons.manual_backprop import CHECK_BATCH, SAMPLED_ENTRIES, autograd_gradients, backward, central_differences, forward
from lessons.textbook_autoencoder import BOOK_LR, BOOK_SEED, PUBLISHED_COST, TextbookAutoencoder, textbook_images
from minigrad import optim, viz
from minigrad.data import DataLoader
from minigrad.viz import draw_graph

np.random.seed(BOOK_SEED)      # the lesson's seeds: the same draws, so the same numbers
mg.manual_seed(BOOK_SEED)

# %% [markdown] lang="en"
# ## The data
#
# The 55,000 training images TensorFlow's old MNIST reader kept, and the 10,000 test images, each flattened to
# 784 floats in [0, 1].

# %% [markdown] lang="ko"
# ## 데이터
#
# 텐서플로의 예전 MNIST 리더가 남겨 두던 학습 이미지 55,000장과 테스트 이미지 10,000장입니다. 이미지마다 [0, 1] 범위의
# 실수 784개로 펼쳐 둡니다.

# %%
x_train, x_test = textbook_images()
if QUICK:
    x_train, x_test = x_train[:256], x_test[:256]
print("x_train", x_train.shape, x_train.dtype, " x_test", x_test.shape, " pixel range", x_train.min(), x_train.max())
Image(filename=str(viz.image_grid(x_train[:16], OUT / "digits.png", title="16 training images")))

# %% [markdown] lang="en"
# ## The model
#
# `TextbookAutoencoder` holds the four parameters with the book's names, all drawn from N(0, 1) as
# `tf.random_normal` does. The hand-written passes take them as plain arrays.

# %% [markdown] lang="ko"
# ## 모델
#
# `TextbookAutoencoder`는 책의 이름을 그대로 쓴 매개변수 네 개를 가지며, `tf.random_normal`처럼 모두 N(0, 1)에서
# 뽑습니다. 손으로 쓴 순전파와 역전파는 이것을 그냥 배열로 받습니다.

# %%
model = TextbookAutoencoder()
names = ["W1", "b1", "W2", "b2"]
params = [model.W_encode, model.b_encode, model.W_decode, model.b_decode]
for name, p in zip(names, params):
    print(f"{name}: {str(p.shape):11} mean {p.numpy().mean():+.3f}  std {p.numpy().std():.3f}")

# %% [markdown] lang="en"
# ## One step taken apart
#
# ### Forward, and the loss
#
# `forward` in `lessons/manual_backprop.py` is the five formulas above, one line each. We run it on a batch of
# 100 images in float64, so that rounding stays far below the differences we are about to measure.

# %% [markdown] lang="ko"
# ## 학습 한 단계를 나누어 보기
#
# ### 순전파와 손실
#
# `lessons/manual_backprop.py`의 `forward`는 위의 다섯 식을 한 줄씩 옮긴 것입니다. 이미지 100장의 배치에 float64로
# 실행합니다. 그래야 반올림 오차가 곧 잴 차이보다 훨씬 작게 유지됩니다.

# %%
X = x_train[:CHECK_BATCH].astype(np.float64)
weights = [p.numpy().astype(np.float64) for p in params]
L, (H, Y) = forward(X, *weights)
print("X", X.shape, "-> H", H.shape, "-> Y", Y.shape, f"  L = {L:.4f}")
print(f"sigmoids saturated at the start (H below 0.01 or above 0.99): {np.mean((H < 0.01) | (H > 0.99)):.0%}")

# %% [markdown] lang="en"
# ### The graph of that step
#
# The same forward pass written with minigrad ops records a graph: this is what `loss.backward()` will walk.
# Each ellipse's backward is one of the lines of the hand-written `backward`.

# %% [markdown] lang="ko"
# ### 그 단계의 그래프
#
# 같은 순전파를 minigrad 연산으로 쓰면 그래프가 기록됩니다. `loss.backward()`가 거슬러 갈 그래프입니다. 타원 하나의
# backward가 손으로 쓴 `backward`의 한 줄에 해당합니다.

# %%
batch = mg.tensor(x_train[:CHECK_BATCH])
loss = ((batch - model(batch)) ** 2).mean()
draw_graph(loss, params=model)

# %% [markdown] lang="en"
# ### Backward by hand
#
# From the loss back to the input layer, one chain-rule step a line (read `backward` in
# `lessons/manual_backprop.py`): dL/dY, then through the sigmoid (its derivative is Y(1 - Y)), then the matrix
# product (dL/dW2 = Hᵀ dL/dZ2), the bias (summed over the batch, since b2 was broadcast), and again for the first
# layer. Each gradient has its parameter's shape.

# %% [markdown] lang="ko"
# ### 손으로 하는 역전파
#
# 손실에서 입력층 쪽으로, 한 줄에 연쇄 법칙 한 단계씩 갑니다(`lessons/manual_backprop.py`의 `backward`를 읽어 보세요).
# dL/dY, 시그모이드를 지나며(도함수는 Y(1 - Y)), 행렬 곱(dL/dW2 = Hᵀ dL/dZ2), 편향(b2는 배치 방향으로 브로드캐스트되었으므로
# 배치 방향으로 더함), 그리고 첫 번째 층에서 같은 과정을 되풀이합니다. 기울기마다 그 매개변수와 모양이 같습니다.

# %%
by_hand = backward(X, weights[2], H, Y)
for name, p, g in zip(names, weights, by_hand):
    print(f"d{name}: {str(g.shape):11} (the parameter: {p.shape})   largest |gradient| {np.abs(g).max():.2e}")

# %% [markdown] lang="en"
# ### Checked two ways
#
# Against minigrad's autograd (the same arithmetic, so they agree to float64 rounding), and against central
# differences at a few entries of each parameter (no calculus at all, only the forward pass, so it would catch a
# wrong formula in either).

# %% [markdown] lang="ko"
# ### 두 가지 방법으로 확인
#
# minigrad의 자동 미분과 비교하고(같은 산술이므로 float64 반올림 수준까지 일치), 매개변수마다 몇 개 원소에서 중심 차분과
# 비교합니다(미적분 없이 순전파만 쓰므로, 어느 쪽 식이 틀려도 잡아냅니다).

# %%
by_autograd = autograd_gradients(X, weights)
sampler = np.random.default_rng(BOOK_SEED)
print(f"{'':4}{'max |hand - autograd|':>24}{'max |hand - numerical|':>25}")
for i, (name, hand, auto) in enumerate(zip(names, by_hand, by_autograd)):
    entries = sampler.choice(hand.size, SAMPLED_ENTRIES, replace=False)
    numerical = central_differences(X, weights, i, entries)
    print(f"{name:4}{np.abs(hand - auto).max():24.3e}{np.abs(hand.reshape(-1)[entries] - numerical).max():25.3e}")

# %% [markdown] lang="en"
# ### A look at a gradient
#
# dL/dW1 has one column of 784 numbers per hidden unit: drawn as a 28x28 picture, it shows which pixels push
# that unit's weights up (light) or down (dark). The gradients are tiny (around 1e-4): most sigmoids start
# saturated with N(0, 1) weights, which is why the book trains with RMSProp, dividing each gradient by its
# running size.

# %% [markdown] lang="ko"
# ### 기울기 들여다보기
#
# dL/dW1은 은닉 유닛마다 784개 값의 열을 하나씩 가집니다. 이를 28x28 그림으로 그리면, 어느 픽셀이 그 유닛의 가중치를
# 올리는지(밝음) 내리는지(어두움) 보입니다. 기울기는 아주 작습니다(1e-4 정도). N(0, 1) 가중치에서는 대부분의 시그모이드가
# 처음부터 포화되어 있기 때문이며, 책이 각 기울기를 그 이동 평균 크기로 나누는 RMSProp으로 학습하는 이유입니다.

# %%
dW1 = by_hand[0]
scale = np.abs(dW1[:, :16]).max()
Image(filename=str(viz.image_grid(dW1[:, :16].T, OUT / "dW1.png", value_range=(-scale, scale),
                                  title=f"dL/dW1 of hidden units 0-15 (grey 0, white +{scale:.1e})")))

# %% [markdown] lang="en"
# ### The optimizer's update
#
# An optimizer needs nothing but each parameter's `.grad`: we put the hand-derived gradients there and take one
# step of TF1's RMSProp (lr 0.01, the book's). TF1 starts its running mean of g² at 1, not 0, so the first steps
# are about lr · g, tiny here; they grow as the running mean falls to the gradients' own size.

# %% [markdown] lang="ko"
# ### 옵티마이저의 갱신
#
# 옵티마이저는 매개변수마다 `.grad`만 있으면 됩니다. 손으로 구한 기울기를 거기에 넣고, TF1의 RMSProp(책과 같은 lr 0.01)으로
# 한 단계 갱신합니다. TF1은 g²의 이동 평균을 0이 아니라 1에서 시작하므로, 처음 몇 단계는 대략 lr · g로 여기서는 아주
# 작습니다. 이동 평균이 기울기 자신의 크기로 줄어들면서 갱신 폭이 커집니다.

# %%
optimizer = optim.RMSProp.tf1(params, lr=BOOK_LR)
before = [p.numpy().copy() for p in params]
cost, (H1, Y1) = forward(x_train[:CHECK_BATCH], *(p.data for p in params))
for p, gradient in zip(params, backward(x_train[:CHECK_BATCH], model.W_decode.data, H1, Y1)):
    p.grad = mg.tensor(gradient)
optimizer.step()
for name, p, old in zip(names, params, before):
    print(f"{name}: largest change {np.abs(p.numpy() - old).max():.2e}")
print(f"cost on that batch {cost:.6f} -> {forward(x_train[:CHECK_BATCH], *(p.data for p in params))[0]:.6f}")
for p, old in zip(params, before):   # undo the step, so that training below starts where the lesson does
    p.data[...] = old

# %% [markdown] lang="en"
# ## Training with the hand-derived gradients
#
# The lesson's loop: batch 100, reshuffled every epoch, TF1 RMSProp. `EPOCHS` in the first cell sets the length
# (3 by default, a few seconds each; the book trains 20).

# %% [markdown] lang="ko"
# ## 손으로 구한 기울기로 학습하기
#
# 레슨과 같은 반복문입니다: 배치 100, 에포크마다 다시 섞기, TF1 RMSProp. 길이는 첫 셀의 `EPOCHS`로 정합니다(기본 3,
# 에포크마다 몇 초; 책은 20 에포크를 학습합니다).

# %%
optimizer = optim.RMSProp.tf1(params, lr=BOOK_LR)
loader = DataLoader(x_train, batch_size=100, shuffle=True, seed=BOOK_SEED)
for epoch in range(1, EPOCHS + 1):
    costs = []
    for (batch,) in loader:
        cost, (H, Y) = forward(batch, *(p.data for p in params))
        for p, gradient in zip(params, backward(batch, model.W_decode.data, H, Y)):
            p.grad = mg.tensor(gradient)
        optimizer.step()
        costs.append(cost)
    print(f"Epoch: {epoch:04d} Avg. cost = {np.mean(costs):.4f}")
test_cost, (_, reconstructions) = forward(x_test, *(p.data for p in params))
print(f"test cost {test_cost:.4f}")

# %%
Image(filename=str(viz.image_rows({"test digit": x_test[:10], "reconstruction": reconstructions[:10]},
                                  OUT / "reconstructions.png", title=f"Hand-derived gradients, {epoch} epochs")))

# %% [markdown] lang="en"
# ## The result and the published number
#
# The book prints `Avg. cost = 0.0272` after 20 epochs (its other printed run: 0.0231). Set `EPOCHS = 20` in the
# first cell to train as long: the cost table is the one `python -m lessons.textbook_autoencoder` prints with
# autograd, since the same seed gives the same draws and the same gradients.

# %% [markdown] lang="ko"
# ## 결과와 책의 수치
#
# 책은 20 에포크 뒤 `Avg. cost = 0.0272`를 출력합니다(책에 실린 다른 실행: 0.0231). 첫 셀에서 `EPOCHS = 20`으로 두면
# 같은 길이로 학습합니다. 같은 시드는 같은 난수와 같은 기울기를 주므로, 비용 표는 `python -m lessons.textbook_autoencoder`가
# 자동 미분으로 출력하는 표와 같습니다.

# %%
print(f"after {epoch} epochs: Avg. cost {np.mean(costs):.4f}   the book, after 20: {PUBLISHED_COST}")
