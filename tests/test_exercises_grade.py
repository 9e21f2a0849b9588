"""The exercises in a classroom: export writes a student copy without solutions, grade scores it (each exercise
in its own process, on hidden cases), the JSON and JUnit outputs parse, the Classroom workflow has one test per
exercise with its points, and pytest --exercise NAME grades one exercise."""
import ast
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lessons.exercises import EXERCISES, find, worker
from lessons.exercises.__main__ import main
from lessons.exercises.export import export
from lessons.exercises.grade import POINTS, grade, load_points

SOURCE = Path(__file__).resolve().parents[1] / "lessons" / "exercises"


# --- a student at work: the reference solutions written into the exercise files ---------------------------

def solved(exercise):
    """The exercise file as a student who wrote the reference solution would leave it."""
    text = exercise.path.read_text(encoding="utf-8")
    solution_text = (SOURCE / "solutions" / exercise.path.name).read_text(encoding="utf-8")
    lines, solution_lines = text.splitlines(keepends=True), solution_text.splitlines(keepends=True)
    tree, solution = ast.parse(text), ast.parse(solution_text)
    defined = {node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}

    def source(node):
        return "".join(solution_lines[node.lineno - 1:node.end_lineno])

    imports, helpers, edits = [], [], []  # edits: (first line, last line, new text), 0-based, end exclusive
    for node in solution.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "level", 0) < 2:  # not "from .. import"
            imports.append(source(node))
        elif isinstance(node, ast.FunctionDef) and node.name in defined:  # col2im: the exercise's stub replaced
            edits.append((defined[node.name].lineno - 1, defined[node.name].end_lineno, source(node)))
        elif isinstance(node, ast.FunctionDef):
            helpers.append(source(node) + "\n\n")
        elif isinstance(node, ast.ClassDef):
            own = {m.name: m for m in defined[node.name].body if isinstance(m, ast.FunctionDef)}
            for method in (m for m in node.body if isinstance(m, ast.FunctionDef)):
                edits.append((own[method.name].lineno - 1, own[method.name].end_lineno, source(method)))
            edits.append((defined[node.name].lineno - 1, defined[node.name].lineno - 1, "".join(helpers)))
    for first, last, new in sorted(edits, reverse=True):
        lines[first:last] = [new]
    return "".join(imports) + "".join(lines)


def write_solution(copy, name, *replacements):
    """Write the solved exercise into the copy, each (old, new) replacement planted in it."""
    exercise = find(name)
    text = solved(exercise)
    for old, new in replacements:
        assert old in text, (name, old)
        text = text.replace(old, new)
    (copy / "lessons" / "exercises" / exercise.path.name).write_text(text, encoding="utf-8")


def distinctive_lines(exercise):
    """The solution's own code lines (in no exercise file): what would give it away in a student copy."""
    own = {line.strip() for other in EXERCISES for line in other.path.read_text(encoding="utf-8").splitlines()}
    found = []
    for line in (SOURCE / "solutions" / exercise.path.name).read_text(encoding="utf-8").splitlines():
        code = line.strip()
        if len(code) >= 12 and code not in own and not code.startswith(("import ", "from ", "class ", "def ", "#",
                                                                          '"""')):
            found.append(code)
    return found


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    return export(tmp_path_factory.mktemp("export") / "student-copy")


@pytest.fixture
def copy(exported, tmp_path):
    """A fresh student copy for one test to edit."""
    return Path(shutil.copytree(exported, tmp_path / "copy"))


# --- export ------------------------------------------------------------------------------------------------

def test_export_holds_what_a_student_needs(exported):
    inside = exported / "lessons" / "exercises"
    for exercise in EXERCISES:
        assert (inside / exercise.path.name).read_text() == exercise.path.read_text()
    for name in ("README.md", "README.ko.md", "checker.py", "report.py", "grade.py", "worker.py", "__main__.py",
                 "classroom/conftest.py", "classroom/test_classroom.py"):
        assert (inside / name).is_file(), name
    assert (exported / ".github" / "workflows" / "classroom.yml").read_text() == \
        (SOURCE / "classroom" / "classroom.yml").read_text()
    assert (exported / "docs" / "exercises_eps.png").read_bytes()[:4] == b"\x89PNG"  # the guide's ../../docs/


def test_export_holds_no_solution_in_any_form(exported):
    names = [path.relative_to(exported).as_posix() for path in exported.rglob("*")]
    assert not [n for n in names if "solution" in n or "__pycache__" in n or n.endswith(".pyc")], names
    text = "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in exported.rglob("*")
                     if path.is_file())
    teacher = "\n".join(path.read_text(encoding="utf-8") for path in SOURCE.rglob("*.py"))
    for exercise in EXERCISES:
        lines = distinctive_lines(exercise)
        assert lines and all(line in teacher for line in lines), exercise.name  # the search can find them
        leaked = [line for line in lines if line in text]
        assert not leaked, (exercise.name, leaked)


def test_export_refuses_a_folder_in_use_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not an empty folder"):
        export(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_the_copy_checks_itself_and_has_no_solutions_to_show(copy):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "lessons.exercises", *args], cwd=copy, capture_output=True,
                              text=True, timeout=60)

    listing = run()
    assert listing.returncode == 0 and "0 of 16 passing" in listing.stdout, listing.stderr
    checked = run("check", "mul")
    assert checked.returncode == 1 and "NOT STARTED" in checked.stdout
    assert "Write Mul.backward in lessons/exercises/ex01_mul.py" in checked.stdout  # the copy's own file
    refused = run("--solutions")
    assert refused.returncode == 2 and "the reference solutions stay with the teacher" in refused.stderr


# --- grade -------------------------------------------------------------------------------------------------

def test_all_reference_solutions_grade_100_and_the_outputs_parse(copy, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)  # the grader itself must keep the folder clean
    for exercise in EXERCISES:
        write_solution(copy, exercise.name)
    report, junit = tmp_path / "grade.json", tmp_path / "grade.xml"
    assert main(["grade", str(copy), "--seed", "11", "--json", str(report), "--junit", str(junit)]) == 0
    assert "Total: 100 of 100 points; 16 of 16 exercises pass." in capsys.readouterr().out
    result = json.loads(report.read_text())
    assert result["points"] == result["max_points"] == 100 and result["seed"] == 11 and result["passed"]
    assert [e["status"] for e in result["exercises"]] == ["passed"] * 16
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "16" and suite.get("failures") == "0"
    assert [c.get("name") for c in suite.iter("testcase")] == [e.name for e in EXERCISES]
    assert not list(copy.rglob("__pycache__"))  # grading leaves the student's folder as it was


def test_planted_mistakes_an_endless_loop_and_sys_exit_score_zero_and_the_grade_completes(copy, tmp_path):
    write_solution(copy, "mse", ("(2 / p.size)", "(1 / p.size)"))
    write_solution(copy, "matmul", ("return gy @ b.T, a.T @ gy", "return gy @ b.T, gy.T @ a"))
    write_solution(copy, "tanh", ("        y = self.output\n", "        while True:\n            pass\n"))
    write_solution(copy, "sigmoid", ("        y = self.output\n", "        raise SystemExit(3)\n"))
    write_solution(copy, "mul")
    points = tmp_path / "points.toml"
    points.write_text("mse = 10\n")
    chosen = [find(name) for name in ("mul", "sigmoid", "tanh", "matmul", "mse")]
    result = grade(copy, seed=4, points=load_points(points), timeout=4, exercises=chosen)
    graded = {g.exercise.name: g for g in result.exercises}
    assert [graded[n].status for n in graded] == ["passed", "crashed", "timed out", "failed", "failed"]
    assert {n: g.points for n, g in graded.items()} == {"mul": 4, "sigmoid": 0, "tanh": 0, "matmul": 0, "mse": 0}
    assert result.max_points == 4 + 4 + 4 + 6 + 10 and not result.passed
    assert "exit status 3" in graded["sigmoid"].hint and "sys.exit" in graded["sigmoid"].hint
    assert "endless loop" in graded["tanh"].hint
    assert "divided by 2" in graded["mse"].hint and "transposed" in graded["matmul"].hint
    assert "case 1, p:" in graded["mse"].summary and "Exercise 6: mse" in graded["mse"].report


PLANTED = [  # (exercise, replacements in its solution, words of the hint)
    ("mul", [("return gy * b, gy * a", "return gy * a, gy * b")], "operands are swapped"),
    ("sigmoid", [("return gy * y * (1 - y)", "return y * (1 - y)")], "gy is missing"),
    ("tanh", [("return gy * (1 - y * y)", "return gy * (y * y - 1)")], "sign flipped"),
    ("broadcast_sum", [("return unbroadcast(gy, a.shape), unbroadcast(gy, b.shape)", "return gy, gy")],
     "missing sum over a broadcast axis"),
    ("softmax_cross_entropy", [("* (gy / n)", "* gy")], "batch size N"),
    ("conv_transpose2d", [("F.conv2d(gy, weight, stride=self.stride, padding", "F.conv2d(gy, weight, padding")],
     "the forward's stride and padding"),
    ("bce_with_logits", [(" / self.probs.size)", ")")], "a mean over all elements"),
    ("vae_kl_reparam", [("(mg.Tensor(self.z) - mu) * 0.5", "(mg.Tensor(self.z) - mu)")],
     "the path through the reconstruction (through z) is 2 times"),
    ("adam_step", [("m_hat = self.m / (1 - self.beta1 ** self.t)", "m_hat = self.m"),
                   ("v_hat = self.v / (1 - self.beta2 ** self.t)", "v_hat = self.v")], "bias correction"),
]


@pytest.mark.parametrize("name, replacements, words", PLANTED, ids=[name for name, _, _ in PLANTED])
def test_each_kind_of_planted_mistake_fails_with_its_hint(copy, name, replacements, words):
    """The grader's verdict on one student file, as its worker process computes it (here in-process: fast)."""
    write_solution(copy, name, *replacements)
    exercise = find(name)
    result = worker.grade(exercise, copy / "lessons" / "exercises" / exercise.path.name, seed=9)
    assert result["status"] == "failed" and not result["practice_only"]
    assert words in result["hint"], result["hint"]


def test_a_backward_fitted_to_the_practice_shapes_is_flagged(copy):
    write_solution(copy, "mul", ("        return gy * b, gy * a",
                                 "        if max(a.shape, default=0) > 6:  # never happens in the practice cases\n"
                                 "            return gy * a, gy * b\n"
                                 "        return gy * b, gy * a"))
    path = copy / "lessons" / "exercises" / "ex01_mul.py"
    result = worker.grade(find("mul"), path, seed=9)
    assert result["status"] == "failed" and result["practice_only"]
    assert result["hint"].startswith("passes the practice cases only: check the shapes you assume")


def test_the_student_cannot_change_the_forward_or_reach_the_solutions(copy):
    write_solution(copy, "mul", ("        return a * b", "        return a * 0"), ("return gy * b, gy * a",
                                                                                "return gy * 0, gy * 0"))
    cheat = copy / "lessons" / "exercises" / "ex01_mul.py"
    assert worker.grade(find("mul"), cheat, seed=9)["status"] == "failed"  # graded against the real forward
    cheat.write_text("from lessons.exercises.solutions.ex01_mul import Mul\n")
    result = grade(copy, seed=1, exercises=[find("mul")]).exercises[0]
    assert result.status == "failed" and "solutions" in result.hint


def test_points_files_are_checked(tmp_path):
    good = tmp_path / "points.json"
    good.write_text('{"conv2d": 12, "mul": 2.5}')
    assert load_points(good) == {"conv2d": 12, "mul": 2.5}
    for name, text, words in [("p.toml", "conv2dd = 3\n", "'conv2dd' is no exercise; the exercises are: mul"),
                              ("p.json", '{"mul": -1}', "mul needs a number of points >= 0, got -1"),
                              ("p.json", '{"mul": true}', "got True"),
                              ("p.json", "[1, 2]", "expected a table"),
                              ("p.yaml", "mul: 3", "expected a .toml or .json file, got .yaml")]:
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=re.escape(words)):
            load_points(tmp_path / name)


def test_grade_command_errors_name_what_was_expected(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["grade", str(tmp_path)])
    assert f"{tmp_path} is not a student copy: expected the exercises in {tmp_path}/lessons/exercises" in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "mul", "--json", "out.json"])
    assert "--json goes with grade, not with check" in capsys.readouterr().err


# --- Classroom ---------------------------------------------------------------------------------------------

def test_the_classroom_workflow_has_one_test_per_exercise_with_its_points():
    text = (SOURCE / "classroom" / "classroom.yml").read_text()
    steps = re.findall(r"id: (\w+)\n.*?command: (.+?)\n.*?max-score: (\d+)\n", text, re.DOTALL)
    assert [(name, int(points)) for name, _, points in steps] == [(e.name, POINTS[e.name]) for e in EXERCISES]
    for name, command, _ in steps:
        assert command == f"python -m pytest -q lessons/exercises/classroom --exercise {name}"
        assert f'{name.upper()}_RESULTS: "${{{{ steps.{name}.outputs.result }}}}"' in text
    assert f"runners: {','.join(e.name for e in EXERCISES)}\n" in text
    assert sum(POINTS.values()) == 100


def test_pytest_exercise_grades_one_exercise_in_the_copy(copy):
    write_solution(copy, "mul")
    write_solution(copy, "mse", ("(2 / p.size)", "(1 / p.size)"))

    def pytest_in_copy(*names):
        options = [option for name in names for option in ("--exercise", name)]
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               "lessons/exercises/classroom", *options], cwd=copy, capture_output=True, text=True,
                              timeout=120)

    run = pytest_in_copy("mul", "mse")
    assert run.returncode == 1 and "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    assert "test_exercise[mse]" in run.stdout and "divided by 2" in run.stdout
    unknown = pytest_in_copy("nonsense")
    assert unknown.returncode == 4 and "no exercise called 'nonsense'" in unknown.stderr
