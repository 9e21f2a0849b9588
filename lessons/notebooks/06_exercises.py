# %% [markdown] lang="en"
# # 6. The exercises: write a backward, let the checker prove it
#
# Sixteen exercises in `lessons/exercises/`, from the elementwise product to a VAE's loss and one step of Adam.
# Each file holds one `minigrad.Function` whose `forward` is given and whose `backward` is yours to write. The
# checker compares your backward with central differences in float64 (notebook 0, step 1) and, when it is
# wrong, says which input, which element, both numbers, and often which mistake. This notebook shows the loop
# once, inside the notebook: the list, an exercise, a wrong backward and the report on it, the report's graph,
# and the check of your own file. The full guide is `lessons/exercises/README.md` (Korean: `README.ko.md`).
#
# **Setup.** The first cell finds the project. In a fresh Colab, uncomment its two "Colab" lines first: they
# fetch the course and `pip install` minigrad (about a minute, once). No data is needed.

# %% [markdown] lang="ko"
# # 6. 연습 문제: backward를 작성하고, 검사기로 증명하기
#
# `lessons/exercises/`에는 원소별 곱부터 VAE의 손실과 Adam의 한 단계까지 연습 문제 열여섯 개가 있습니다. 파일마다
# `minigrad.Function`이 하나 있는데, `forward`는 주어져 있고 `backward`는 여러분이 작성합니다. 검사기는 여러분의 backward를
# float64 중심 차분(노트북 0의 1단계)과 비교하고, 틀렸을 때는 어느 입력의 어느 원소인지, 두 값이 각각 얼마인지, 그리고
# 많은 경우 어떤 실수인지까지 알려 줍니다. 이 노트북은 그 과정을 노트북 안에서 한 번 보여 줍니다: 목록, 연습 문제 하나,
# 틀린 backward와 그에 대한 보고서, 보고서의 그래프, 그리고 여러분 파일의 검사. 전체 안내는 `lessons/exercises/README.ko.md`
# (영어: `README.md`)에 있습니다.
#
# **준비.** 첫 셀은 프로젝트를 찾습니다. 새 Colab이라면 먼저 그 셀의 "Colab" 두 줄의 주석을 푸세요. 강의 코드를 받아 오고
# minigrad를 `pip install`합니다(처음 한 번, 1분쯤). 데이터는 필요 없습니다.

# %%
import os
import sys
from pathlib import Path

# Colab: uncomment the next two lines, run this cell once, then go on.
# !git clone -q https://github.com/YOUR-ORG/minigrad /content/minigrad && pip install -q -e /content/minigrad
# os.chdir("/content/minigrad/lessons/notebooks")
ROOT = Path.cwd().parents[1]     # this notebook sits in lessons/notebooks/ of the project
sys.path.insert(0, str(ROOT))    # so that `import lessons` finds the lesson modules

DEVICE = "cpu"                   # the checker works in float64 on the CPU
QUICK = os.environ.get("MINIGRAD_NOTEBOOK_QUICK") == "1"   # the test suite's run: the same, every check is quick

# %%
import subprocess

from IPython.display import Image

from lessons.exercises import find
from lessons.exercises.__main__ import main as exercises   # the command line, as a function
from lessons.exercises.checker import check, draw_failing_case
from lessons.exercises.report import Painter, render_check

# %% [markdown] lang="en"
# ## The list
#
# `python -m lessons.exercises` in a terminal (from the project's root); here the same command as a function. It
# checks every exercise of your copy and says what each one teaches.

# %% [markdown] lang="ko"
# ## 목록
#
# 터미널에서는 (프로젝트의 최상위 폴더에서) `python -m lessons.exercises`입니다. 여기서는 같은 명령을 함수로 부릅니다.
# 여러분 사본의 연습 문제를 모두 검사하고, 각각이 무엇을 가르치는지 알려 줍니다.

# %%
exercises(["list"])

# %% [markdown] lang="en"
# ## An exercise
#
# Exercise 1, `mul`: z = a * b. The docstring states the math to derive and every shape; `backward` raises
# `NotImplementedError` with a hint; `cases(rng)` lists the inputs the checker tries.

# %% [markdown] lang="ko"
# ## 연습 문제 하나
#
# 연습 문제 1, `mul`: z = a * b. 독스트링이 유도할 수식과 모든 모양을 알려 주고, `backward`는 힌트와 함께
# `NotImplementedError`를 내며, `cases(rng)`는 검사기가 시험할 입력을 나열합니다.

# %%
mul = find("mul")
print(mul.path.relative_to(ROOT))
print(mul.path.read_text())

# %% [markdown] lang="en"
# ## A wrong backward, and the report on it
#
# Here is a backward with a classic mistake, written in the notebook as a subclass of the exercise's Function.
# `check(exercise, function=...)` runs the checker on it; `render_check` prints the report that
# `python -m lessons.exercises check mul` prints for your file. Read it from the top: the case table, the first
# failing case input by input, the worst element with the expected (numerical) and your (analytical) value, and
# the hint.

# %% [markdown] lang="ko"
# ## 틀린 backward와 그에 대한 보고서
#
# 흔한 실수가 들어간 backward를 노트북 안에서, 연습 문제 Function의 하위 클래스로 씁니다. `check(exercise, function=...)`는
# 이것에 검사기를 실행하고, `render_check`는 `python -m lessons.exercises check mul`이 여러분 파일에 대해 출력하는 것과 같은
# 보고서를 출력합니다. 위에서부터 읽으세요: 사례 표, 첫 번째로 실패한 사례의 입력별 결과, 가장 나쁜 원소의 기댓값(수치
# 미분)과 여러분의 값(해석적 미분), 그리고 힌트입니다.

# %%
class SwappedMul(mul.function()):
    def backward(self, gy):
        a, b = self.inputs
        return gy * a, gy * b     # the mistake: each input gets the factor that belongs to the other


report = check(mul, function=SwappedMul)
print(render_check(report, Painter(False)))

# %% [markdown] lang="en"
# Why trust central differences? Their error against the step eps is a V on log axes: truncation on the right
# (it falls as eps²), rounding on the left (it grows as 1e-16 / eps). The checker's eps = 1e-6 sits near the
# bottom of the float64 curve, where a right gradient agrees to about 1e-9 and a wrong one stands out by many
# orders of magnitude. (`python -m lessons.exercises.eps_plot` draws this figure; the guide explains it.)

# %% [markdown] lang="ko"
# 중심 차분을 왜 믿을 수 있을까요? 스텝 eps에 대한 오차를 로그 축에 그리면 V자가 됩니다. 오른쪽은 절단 오차(eps²에 비례해
# 줄어듦), 왼쪽은 반올림 오차(1e-16 / eps로 커짐)입니다. 검사기의 eps = 1e-6은 float64 곡선의 바닥 근처에 있어서, 맞는
# 기울기는 1e-9 정도까지 일치하고 틀린 기울기는 몇 자릿수나 차이가 납니다. (`python -m lessons.exercises.eps_plot`이 이
# 그림을 그리며, 안내서가 설명합니다.)

# %%
Image(filename=str(ROOT / "docs" / "exercises_eps.png"))

# %% [markdown] lang="en"
# ## The graph of the failing case
#
# `draw_failing_case` draws the first failing case with `draw_graph`: the inputs, the Function, its output, and
# in each input's box the gradient this backward gave for gy = 1. (`check mul --graph mul.png` writes the same
# picture for your file.)

# %% [markdown] lang="ko"
# ## 실패한 사례의 그래프
#
# `draw_failing_case`는 첫 번째로 실패한 사례를 `draw_graph`로 그립니다. 입력, Function, 그 출력, 그리고 입력마다 상자 안에
# 이 backward가 gy = 1일 때 준 기울기가 있습니다. (`check mul --graph mul.png`는 여러분 파일에 대해 같은 그림을 씁니다.)

# %%
graph, problem = draw_failing_case(report)
graph

# %% [markdown] lang="en"
# ## Your turn
#
# Open `lessons/exercises/ex01_mul.py` (in Jupyter: File → Open), write `Mul.backward`, save, and run the next
# cell. It runs the command in a fresh Python, so that it reads the file as you saved it (this notebook's Python
# keeps the module it imported first). A pass names the next exercise. The right answer is not in this notebook.

# %% [markdown] lang="ko"
# ## 여러분 차례
#
# `lessons/exercises/ex01_mul.py`를 열고(Jupyter에서는 File → Open) `Mul.backward`를 작성해 저장한 다음, 아래 셀을
# 실행하세요. 새 파이썬에서 명령을 실행하므로 저장한 그대로의 파일을 읽습니다(이 노트북의 파이썬은 처음 가져온 모듈을 계속
# 씁니다). 통과하면 다음 연습 문제를 알려 줍니다. 정답은 이 노트북에 없습니다.

# %%
result = subprocess.run([sys.executable, "-m", "lessons.exercises", "check", "mul"], cwd=ROOT,
                        capture_output=True, text=True)
print(result.stdout + result.stderr)
print("exit status", result.returncode, "(0: passing)")

# %% [markdown] lang="en"
# ## For teachers
#
# `python -m lessons.exercises export student-copy` writes a copy without the solutions, and
# `python -m lessons.exercises grade student-copy` grades it on cases the students never saw, with points (see
# "For teachers" in the guide, and its GitHub Classroom setup).

# %% [markdown] lang="ko"
# ## 교사를 위해
#
# `python -m lessons.exercises export student-copy`는 풀이를 뺀 사본을 만들고, `python -m lessons.exercises grade
# student-copy`는 학생들이 본 적 없는 사례로 그 사본을 채점해 점수를 매깁니다(안내서의 "For teachers"와 GitHub Classroom
# 설정을 보세요).
