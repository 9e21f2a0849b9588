# %% [markdown] lang="en"
# # 0. The engine tour: what `loss.backward()` does
#
# Every lesson after this one calls `loss.backward()`. This notebook opens that call up in seven steps, each a
# few cells you can run, change and run again: a derivative by central differences, the chain rule by hand, an
# op written from scratch, the order of the backward walk, broadcasting, higher derivatives, and a small
# network with a planted bug. It is the notebook form of `python -m lessons.engine_tour`, and it needs no data.
#
# **Setup.** The first cell finds the project and says where the figures go. In a fresh Colab, uncomment its
# two "Colab" lines first: they fetch the course and `pip install` minigrad (about a minute, once). Graphs are
# drawn by Graphviz's `dot` program: Colab has it; elsewhere `apt install graphviz`, `conda install graphviz` or
# `brew install graphviz`.

# %% [markdown] lang="ko"
# # 0. 엔진 둘러보기: `loss.backward()`는 무엇을 하는가
#
# 이 다음의 모든 레슨은 `loss.backward()`를 호출합니다. 이 노트북은 그 호출을 일곱 단계로 열어 봅니다. 단계마다 직접
# 실행하고, 고쳐 보고, 다시 실행할 수 있는 셀 몇 개로 되어 있습니다: 중심 차분으로 구하는 미분, 손으로 푸는 연쇄 법칙,
# 처음부터 직접 작성하는 연산 하나, 역전파가 그래프를 도는 순서, 브로드캐스팅, 고계 도함수, 그리고 버그를 일부러 심어 둔
# 작은 신경망입니다. `python -m lessons.engine_tour`의 노트북 판이며, 데이터는 필요 없습니다.
#
# **준비.** 첫 셀은 프로젝트를 찾고 그림을 저장할 곳을 정합니다. 새 Colab이라면 먼저 그 셀의 "Colab" 두 줄의 주석을
# 푸세요. 강의 코드를 받아 오고 minigrad를 `pip install`합니다(처음 한 번, 1분쯤). 그래프는 Graphviz의 `dot` 프로그램으로
# 그립니다. Colab에는 이미 있고, 다른 곳에서는 `apt install graphviz`, `conda install graphviz`, `brew install graphviz`로
# 설치합니다.

# %%
import os
import sys
from pathlib import Path

# Colab: uncomment the next two lines, run this cell once, then go on.
# !git clone -q https://github.com/YOUR-ORG/minigrad /content/minigrad && pip install -q -e /content/minigrad
# os.chdir("/content/minigrad/lessons/notebooks")
ROOT = Path.cwd().parents[1]     # this notebook sits in lessons/notebooks/ of the project
sys.path.insert(0, str(ROOT))    # so that `import lessons` finds the lesson modules

DEVICE = "cpu"                   # "cuda" trains step 7's network on the GPU (pip install cupy-cuda12x)
QUICK = os.environ.get("MINIGRAD_NOTEBOOK_QUICK") == "1"   # the test suite's tiny run
OUT = Path(os.environ.get("MINIGRAD_NOTEBOOK_OUT", ROOT / "runs" / "notebooks")) / "00_engine_tour"
OUT.mkdir(parents=True, exist_ok=True)  # the figures are saved here, and shown below each cell

# %%
import numpy as np
from IPython.display import Image, display

import minigrad as mg
import minigrad.functional as F
from lessons.engine_tour import (STEPS, X0, backward_by_hand, plot_difference_errors, plot_tanh_derivatives,
                                 topological_order)
from minigrad import nn, optim
from minigrad.viz import draw_graph

# %% [markdown] lang="en"
# ## 1. A derivative by central differences
#
# The slope of f at x is close to `(f(x + eps) - f(x - eps)) / (2 eps)` when eps is small. How small? Too large,
# and the bend of f shows: the error falls as eps². Too small, and rounding f's values shows: the error grows as
# 1e-16 / eps in float64 (1e-7 / eps in float32). We measure both on f(x) = exp(sin(x)²) at x = 0.5, against
# the exact derivative.

# %% [markdown] lang="ko"
# ## 1. 중심 차분으로 구하는 미분
#
# eps가 작으면 x에서 f의 기울기는 `(f(x + eps) - f(x - eps)) / (2 eps)`에 가깝습니다. 얼마나 작아야 할까요? 너무 크면
# f의 굽음이 드러나 오차가 eps²에 비례해 줄어들고, 너무 작으면 f 값의 반올림이 드러나 float64에서는 1e-16 / eps로
# (float32에서는 1e-7 / eps로) 오차가 커집니다. x = 0.5에서 f(x) = exp(sin(x)²)의 정확한 도함수와 비교해 두 효과를
# 재어 봅니다.

# %%
def f(x):
    return np.exp(np.sin(x) ** 2)


def f_prime(x):  # the chain rule of step 2, here only to measure the error against
    return f(x) * 2 * np.sin(x) * np.cos(x)


exact = f_prime(X0)
errors = {}
for dtype in (np.float64, np.float32):
    x, eps = dtype(X0), STEPS.astype(dtype)
    estimate = (f(x + eps) - f(x - eps)) / (2 * eps)
    errors[dtype] = np.abs(estimate.astype(np.float64) - exact)
best = {dtype: STEPS[int(np.argmin(error))] for dtype, error in errors.items()}
print(f"f'({X0}) = {exact:.15f}")
print("    eps   error float64  error float32")
for eps, error64, error32 in zip(STEPS, errors[np.float64], errors[np.float32]):
    print(f"  {eps:6.0e}  {error64:13.1e}  {error32:13.1e}")
path = OUT / "1_central_differences.png"
plot_difference_errors(errors, best, path)
display(Image(filename=str(path)))

# %% [markdown] lang="en"
# The float64 curve is a V with its bottom near eps = 1e-5 to 1e-6: that is why `mg.gradcheck` uses eps = 1e-6
# and float64 inputs. In float32 the smallest error is about a million times larger, at a much larger eps: too
# coarse to tell a right gradient from a slightly wrong one.

# %% [markdown] lang="ko"
# float64 곡선은 eps = 1e-5에서 1e-6 근처에 바닥이 있는 V자입니다. 그래서 `mg.gradcheck`는 eps = 1e-6과 float64 입력을
# 씁니다. float32에서는 가장 작은 오차도 그보다 백만 배쯤 크고, 그것도 훨씬 큰 eps에서 나옵니다. 맞는 기울기와 조금 틀린
# 기울기를 가려내기에는 너무 거칩니다.

# %% [markdown] lang="en"
# ## 2. The chain rule by hand, then by minigrad
#
# y = exp(sin(x)²) is three functions in a row: a = sin(x), b = a², y = exp(b). The chain rule multiplies
# their local derivatives.

# %% [markdown] lang="ko"
# ## 2. 연쇄 법칙: 손으로, 그리고 minigrad로
#
# y = exp(sin(x)²)는 세 함수를 차례로 적용한 것입니다: a = sin(x), b = a², y = exp(b). 연쇄 법칙은 각 함수의 국소
# 도함수를 곱합니다.

# %%
a = np.sin(X0)        # a = sin(x)       da/dx = cos(x)
b = a ** 2            # b = a^2          db/da = 2a
y = np.exp(b)         # y = exp(b)       dy/db = exp(b) = y
by_hand = y * (2 * a) * np.cos(X0)
print(f"dy/dx = dy/db * db/da * da/dx = {y:.6f} * {2 * a:.6f} * {np.cos(X0):.6f} = {by_hand:.6f}")

# %% [markdown] lang="en"
# minigrad records each op as it runs. `draw_graph` shows the record: boxes are tensors (blue: a leaf that
# wants a gradient, gold: the output), ellipses are the ops.

# %% [markdown] lang="ko"
# minigrad는 연산이 실행될 때마다 그것을 기록합니다. `draw_graph`는 그 기록을 보여 줍니다. 상자는 텐서(파란색: 기울기를
# 받을 잎 노드, 금색: 출력)이고, 타원은 연산입니다.

# %%
x = mg.tensor(np.array(X0), requires_grad=True)   # a float64 array stays float64
y = (x.sin() ** 2).exp()
names = {"x": x, "y": y}
draw_graph(y, show_values=True, params=names)

# %% [markdown] lang="en"
# `backward()` walks that graph from y back to x; each op's backward multiplies in its own factor and the
# product lands in `x.grad`. (`retain_graph=True` keeps the graph so that we can draw it again, now with the
# gradients.)

# %% [markdown] lang="ko"
# `backward()`는 그 그래프를 y에서 x로 거슬러 갑니다. 연산마다 자기 국소 도함수를 곱해 넘기고, 그 곱이 `x.grad`에
# 남습니다. (`retain_graph=True`는 그래프를 남겨 두어, 기울기가 채워진 그래프를 한 번 더 그릴 수 있게 합니다.)

# %%
y.backward(retain_graph=True)
print(f"minigrad: x.grad = {x.grad.item():.6f}   by hand - minigrad = {by_hand - x.grad.item():.1e}")
draw_graph(y, show_values=True, show_grads=True, params=names)

# %% [markdown] lang="en"
# ## 3. One op written from scratch: Square
#
# An op is a `Function`: `forward` computes on arrays (NumPy, or CuPy on 'cuda'), `backward` turns the output's
# gradient `gy` into the input's, written with Tensor ops so that it can be differentiated again. `gradcheck`
# compares it with central differences (step 1), `gradgradcheck` does the same for the second derivative.

# %% [markdown] lang="ko"
# 연산 하나는 `Function`입니다. `forward`는 배열(NumPy, 'cuda'에서는 CuPy)로 계산하고, `backward`는 출력의 기울기 `gy`를
# 입력의 기울기로 바꿉니다. backward는 텐서 연산으로 쓰므로 그 결과를 다시 미분할 수 있습니다. `gradcheck`는 이것을
# 중심 차분(1단계)과 비교하고, `gradgradcheck`는 2계 도함수를 같은 방법으로 확인합니다.

# %%
class Square(mg.Function):
    # d/dx x^2 = 2x
    def forward(self, x):
        return x * x            # on arrays

    def backward(self, gy):
        (x,) = self.inputs      # on Tensors, so that the gradient has a graph of its own
        return gy * 2 * x


x = mg.tensor(np.array([-1.5, 0.5, 2.0]), requires_grad=True)
loss = Square()(x).sum()
loss.backward(retain_graph=True)
print(f"x = {x.numpy()}   x.grad = {x.grad.numpy()}   (2x)")
print("gradcheck:", mg.gradcheck(lambda x: Square()(x), [x]), "  gradgradcheck:", mg.gradgradcheck(lambda x: Square()(x), [x]))
draw_graph(loss, show_grads=True, params={"x": x})

# %% [markdown] lang="en"
# Try it: change `2 * x` to `3 * x` in `backward` and run the cell again. `gradcheck` raises `GradcheckError`
# and says which input, which element, and both numbers.

# %% [markdown] lang="ko"
# 해 보세요: `backward`의 `2 * x`를 `3 * x`로 바꾸고 셀을 다시 실행하면, `gradcheck`가 `GradcheckError`를 내며 어느
# 입력의 어느 원소인지, 두 값이 각각 얼마인지 알려 줍니다.

# %% [markdown] lang="en"
# ## 4. The order of the walk
#
# In y = exp(a) · tanh(a) with a = 2x, the tensor a feeds two branches. Backward must not pass a's gradient on
# to x before both branches have sent their part: it visits the tensors in reverse topological order (each tensor
# after everything that uses it). `topological_order` and `backward_by_hand` are ten lines each in
# `lessons/engine_tour.py`: read them.

# %% [markdown] lang="ko"
# a = 2x일 때 y = exp(a) · tanh(a)에서 텐서 a는 두 갈래로 쓰입니다. 역전파는 두 갈래가 모두 자기 몫을 보내기 전에 a의
# 기울기를 x로 넘겨서는 안 됩니다. 그래서 텐서를 위상 정렬의 역순(각 텐서를 그것을 쓰는 모든 텐서 다음)으로 방문합니다.
# `topological_order`와 `backward_by_hand`는 `lessons/engine_tour.py`에 있는 각각 열 줄 남짓의 함수입니다. 읽어 보세요.

# %%
x = mg.tensor(np.array(X0), requires_grad=True)
a = 2 * x
b = a.exp()          # branch 1
c = F.tanh(a)        # branch 2
y = b * c            # the branches join
names = {"x": x, "a": a, "b": b, "c": c, "y": y}
order = topological_order(y)
walk = [next(name for name, t in names.items() if t is tensor) for tensor in reversed(order)]
print("backward visits:", " ".join(walk))
grads = backward_by_hand(y, order)
y.backward(retain_graph=True)
print(f"backward_by_hand: dy/dx = {grads[id(x)].item():.6f}   y.backward(): x.grad = {x.grad.item():.6f}")
draw_graph(y, params={f"{name}: visit {step}": names[name] for step, name in enumerate(walk, 1)})

# %% [markdown] lang="en"
# ## 5. Broadcasting and `sum_to`
#
# `x + b` with x of shape (2, 3) and b of shape (3,) uses b once per row. The gradient arriving at the addition
# has the output's shape (2, 3), so b's gradient is its sum over the rows: Add's backward calls `sum_to`. With
# `create_graph=True` the gradient keeps a graph of its own, and the SumTo node shows in it.

# %% [markdown] lang="ko"
# x의 모양이 (2, 3)이고 b의 모양이 (3,)일 때 `x + b`는 b를 행마다 한 번씩 씁니다. 덧셈에 도착하는 기울기는 출력의 모양
# (2, 3)이므로, b의 기울기는 그것을 행 방향으로 더한 것입니다. Add의 backward가 `sum_to`를 부르는 이유입니다.
# `create_graph=True`로 구한 기울기는 자기 그래프를 가지므로, 그 안에 SumTo 노드가 보입니다.

# %%
x = mg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
b = mg.tensor(np.array([0.1, 0.2, 0.3]), requires_grad=True)
loss = ((x + b) ** 2).sum()
(d_loss_d_b,) = mg.grad(loss, b, create_graph=True)
print("x", x.shape, "+ b", b.shape, "-> the gradient arriving at Add:", (2 * (x.numpy() + b.numpy())).shape)
print("dloss/db =", d_loss_d_b.numpy(), "  shape", d_loss_d_b.shape)
draw_graph([loss, d_loss_d_b], params={"x": x, "b": b, "loss": loss, "dloss/db": d_loss_d_b})

# %% [markdown] lang="en"
# ## 6. Higher derivatives of tanh
#
# Each derivative made with `create_graph=True` is a graph too, so it can be differentiated again: four calls of
# `mg.grad` give the first to fourth derivatives, which we check against their closed forms.

# %% [markdown] lang="ko"
# `create_graph=True`로 만든 도함수는 그 자체로 그래프이므로 다시 미분할 수 있습니다. `mg.grad`를 네 번 부르면 1계에서
# 4계까지의 도함수가 나오고, 이를 닫힌 식과 비교합니다.

# %%
x = mg.tensor(np.linspace(-4, 4, 81 if QUICK else 401), requires_grad=True)
derivatives = [F.tanh(x)]
for _ in range(4):
    (next_one,) = mg.grad(derivatives[-1].sum(), x, create_graph=True)
    derivatives.append(next_one)
t = np.tanh(x.numpy())
d1 = 1 - t ** 2
closed_forms = [t, d1, -2 * t * d1, d1 * (6 * t ** 2 - 2), 8 * t * d1 * (2 - 3 * t ** 2)]
for n, (d, exact) in enumerate(zip(derivatives, closed_forms)):
    ops = sum(tensor.grad_fn is not None for tensor in topological_order(d))
    print(f"derivative {n}: {ops:3d} ops in its graph, largest difference from the closed form "
          f"{np.abs(d.numpy() - exact).max():.1e}")
path = OUT / "6_tanh_derivatives.png"
plot_tanh_derivatives(x.numpy(), [d.numpy() for d in derivatives], path)
display(Image(filename=str(path)))

# %% [markdown] lang="en"
# The graph of tanh''(x) at one point: the backward of the backward, built by `create_graph=True`.

# %% [markdown] lang="ko"
# 한 점에서 tanh''(x)의 그래프입니다. `create_graph=True`가 만든, backward의 backward입니다.

# %%
x = mg.tensor(np.array(1.0), requires_grad=True)
y = F.tanh(x)
(dy,) = mg.grad(y, x, create_graph=True)
(d2y,) = mg.grad(dy, x, create_graph=True)
print(f"tanh''(1) = {d2y.item():.6f}   closed form {-2 * np.tanh(1) * (1 - np.tanh(1) ** 2):.6f}")
draw_graph(d2y, show_values=True, params={"x": x, "tanh(x)": y, "tanh'(x)": dy, "tanh''(x)": d2y})

# %% [markdown] lang="en"
# ## 7. A two-layer network: one training step taken apart
#
# The step every lesson repeats thousands of times, one piece per cell: forward, the loss, its graph, backward,
# the gradients, and the optimizer's update. `params=model` writes the parameters' names in the boxes (green).

# %% [markdown] lang="ko"
# 모든 레슨이 수천 번 되풀이하는 학습 한 단계를 셀마다 한 조각씩 봅니다: 순전파, 손실, 그 그래프, 역전파, 기울기,
# 옵티마이저의 갱신. `params=model`은 상자에 매개변수의 이름을 적습니다(초록색).

# %%
mg.manual_seed(0)
model = nn.Sequential(nn.Dense(2, 3), nn.Tanh(), nn.Dense(3, 1)).to(DEVICE)
optimizer = optim.SGD(model.parameters(), lr=0.1)
inputs = mg.randn(4, 2, device=DEVICE)
targets = mg.randn(4, 1, device=DEVICE)
prediction = model(inputs)                    # forward
loss = F.mse_loss(prediction, targets)        # the loss
print("inputs", inputs.shape, "-> prediction", prediction.shape, "  loss", round(loss.item(), 4))

# %%
optimizer.zero_grad()
loss.backward(retain_graph=True)              # backward; the graph is kept to be drawn
draw_graph(loss, show_grads=True, params=model)

# %%
first = model[0]
print("first layer's weight\n", first.weight.numpy(), "\nits gradient dloss/dW\n", first.weight.grad.numpy())
before = first.weight.numpy().copy()
optimizer.step()                              # W <- W - lr * dloss/dW
print("the update, W_after - W_before = -lr * grad:\n", first.weight.numpy() - before)
print(f"loss {loss.item():.4f} -> {F.mse_loss(model(inputs), targets).item():.4f} after one SGD step")

# %% [markdown] lang="en"
# ### A planted bug
#
# `WrongTanh` forgets the square in tanh's derivative (1 - t instead of 1 - t²). The network trains anyway, a
# little worse, and nothing looks wrong. `gradcheck` catches it at once. It wants float64 (step 1), so the
# network's weights are copied into float64 tensors on the CPU.

# %% [markdown] lang="ko"
# ### 일부러 심은 버그
#
# `WrongTanh`는 tanh 도함수의 제곱을 빠뜨립니다(1 - t² 대신 1 - t). 그래도 신경망은 (조금 더 나쁘게) 학습되고, 겉으로는
# 아무 문제도 보이지 않습니다. `gradcheck`는 이것을 곧바로 잡아냅니다. gradcheck에는 float64가 필요하므로(1단계) 신경망의
# 가중치를 CPU의 float64 텐서로 복사해 씁니다.

# %%
class WrongTanh(mg.Function):
    def forward(self, x):
        return np.tanh(x)

    def backward(self, gy):
        return gy * (1 - self.output)    # the bug: d/dx tanh = 1 - t^2


weights = [mg.tensor(p.numpy().astype(np.float64), requires_grad=True) for p in model.parameters()]
x64, target64 = (mg.tensor(t.numpy().astype(np.float64)) for t in (inputs, targets))


def network_loss(activation, w1, b1, w2, b2):
    return F.mse_loss(F.linear(activation(F.linear(x64, w1, b1)), w2, b2), target64)


print("with tanh:", mg.gradcheck(lambda *w: network_loss(F.tanh, *w), weights))
try:
    mg.gradcheck(lambda *w: network_loss(lambda h: WrongTanh()(h), *w), weights)
except mg.GradcheckError as error:
    print("with WrongTanh: GradcheckError:", error)

# %% [markdown] lang="en"
# Next: `01_backprop_by_hand` derives every gradient of a real autoencoder by hand and checks them the same
# two ways; the exercises (`06_exercises`) let you write backward passes yourself.

# %% [markdown] lang="ko"
# 다음: `01_backprop_by_hand`는 실제 오토인코더의 모든 기울기를 손으로 유도하고 같은 두 가지 방법으로 확인합니다.
# 연습 문제(`06_exercises`)에서는 backward를 직접 작성해 봅니다.
