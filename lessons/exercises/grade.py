"""The grader behind ``python -m lessons.exercises grade [DIR] [--seed S] [--json FILE] [--junit FILE]``.

It grades every exercise of a student copy (the folder ``export`` wrote, with
the student's edits), each in a process of its own (worker.py) with a time
limit. An exercise passes when its backward passes the practice cases the
student ran (seed 0) and the grader's own: another seed, and sizes the practice
cases never draw. It scores its points then, and 0 otherwise.
"""
import json
import os
import pathlib
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from minigrad.io import atomic_file

from . import EXERCISES

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

POINTS = {"mul": 4, "sigmoid": 4, "tanh": 4, "matmul": 6, "broadcast_sum": 6, "mse": 6,
          "softmax_cross_entropy": 6, "leaky_relu": 6, "dropout": 6, "dense": 6, "conv2d": 10, "batchnorm": 10,
          "conv_transpose2d": 8, "bce_with_logits": 6, "vae_kl_reparam": 6, "adam_step": 6}  # 100 in all
TIMEOUT = 60.0  # seconds per exercise; the slowest reference solution needs about one

_ROOT = pathlib.Path(__file__).resolve().parents[2]  # holds the package lessons/ this grader belongs to


@dataclass
class Graded:
    exercise: object
    status: str                 # "passed", "failed", "not started", "timed out", "crashed"
    points: float
    max_points: float
    hint: str = None            # the checker's diagnosis, or why the exercise could not be graded
    summary: str = ""           # the same in a few words, for the table
    max_error: float = None
    practice_only: bool = False  # passes the student's cases, fails the grader's
    seconds: float = 0.0
    report: str = ""            # the checker's report of the case that decided it


@dataclass
class Grade:
    folder: pathlib.Path
    seed: int
    exercises: list = field(default_factory=list)

    @property
    def points(self):
        return sum(g.points for g in self.exercises)

    @property
    def max_points(self):
        return sum(g.max_points for g in self.exercises)

    @property
    def passed(self):
        return all(g.status == "passed" for g in self.exercises)


def exercises_folder(folder):
    """DIR/lessons/exercises, the exercises of a student copy (or of this project), or a clear error."""
    inside = pathlib.Path(folder) / "lessons" / "exercises"
    if not inside.is_dir():
        raise FileNotFoundError(f"{folder} is not a student copy: expected the exercises in {inside} "
                                f"(python -m lessons.exercises export DIR writes one)")
    return inside


def grade(folder=".", seed=None, points=None, timeout=TIMEOUT, exercises=EXERCISES):
    """Grade the exercises of the student copy in folder; seed None draws one (the report names it)."""
    inside = exercises_folder(folder).resolve()  # the worker runs elsewhere: a relative path would not hold
    seed = secrets.randbelow(2**31) if seed is None else seed
    points = dict(POINTS, **(points or {}))
    result = Grade(inside.parents[1], seed)
    for exercise in exercises:
        result.exercises.append(grade_exercise(inside, exercise, seed, points[exercise.name], timeout))
    return result


def grade_exercise(inside, exercise, seed, max_points, timeout=TIMEOUT):
    """One exercise of the folder inside (DIR/lessons/exercises), graded by worker.py in a process of its own."""
    student_file = pathlib.Path(inside) / f"{exercise.module}.py"
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ left in the student's folder
                       PYTHONPATH=os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="grade-") as scratch:  # the working directory: stray files vanish
        result_file = pathlib.Path(scratch) / "result.json"
        command = [sys.executable, "-m", f"{__package__}.worker", exercise.name, str(student_file), str(seed),
                   str(result_file)]
        try:
            finished = subprocess.run(command, cwd=scratch, env=environment, capture_output=True, text=True,
                                      timeout=timeout)
        except subprocess.TimeoutExpired:
            return Graded(exercise, "timed out", 0, max_points, seconds=time.monotonic() - started,
                          hint=f"did not finish within {timeout:g} s: an endless loop, or work far beyond what "
                               f"the cases need", summary=f"timed out after {timeout:g} s")
        seconds = time.monotonic() - started
        if not result_file.exists():
            last = (finished.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
            return Graded(exercise, "crashed", 0, max_points, seconds=seconds,
                          hint=f"the grading process ended (exit status {finished.returncode}) before the result "
                               f"was written: a sys.exit, os._exit or a crash in the file? Last line: {last}",
                          summary=f"process ended, exit status {finished.returncode}")
        result = json.loads(result_file.read_text())
    return Graded(exercise, result["status"], max_points if result["status"] == "passed" else 0, max_points,
                  result["hint"], result["summary"], result["max_error"], result["practice_only"], seconds,
                  result["report"])


def load_points(path):
    """The teacher's points, {name: points}, from a .toml or .json file such as ``conv2d = 12``."""
    path = pathlib.Path(path)
    if path.suffix == ".toml":
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    elif path.suffix == ".json":
        table = json.loads(path.read_text(encoding="utf-8"))
    else:
        raise ValueError(f"points file {path}: expected a .toml or .json file, got {path.suffix or 'no suffix'}")
    if not isinstance(table, dict):
        raise ValueError(f"points file {path}: expected a table of exercise = points, got a {type(table).__name__}")
    names = {e.name for e in EXERCISES}
    for name, value in table.items():
        if name not in names:
            raise ValueError(f"points file {path}: {name!r} is no exercise; the exercises are: "
                             f"{', '.join(e.name for e in EXERCISES)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"points file {path}: {name} needs a number of points >= 0, got {value!r}")
    return table


def to_json(result):
    return {"folder": str(result.folder), "seed": result.seed, "points": result.points,
            "max_points": result.max_points, "passed": result.passed,
            "exercises": [{"number": g.exercise.number, "name": g.exercise.name, "status": g.status,
                           "practice_only": g.practice_only, "points": g.points, "max_points": g.max_points,
                           "hint": g.hint, "max_error": g.max_error, "seconds": round(g.seconds, 3)}
                          for g in result.exercises]}


def to_junit(result):
    """JUnit XML, one testcase per exercise, its points as properties: what CI and Classroom dashboards read."""
    failures = sum(g.status != "passed" for g in result.exercises)
    total_time = f"{sum(g.seconds for g in result.exercises):.3f}"
    suites = ET.Element("testsuites", name="minigrad exercises", tests=str(len(result.exercises)),
                        failures=str(failures), errors="0", time=total_time)
    suite = ET.SubElement(suites, "testsuite", name="lessons.exercises", tests=str(len(result.exercises)),
                          failures=str(failures), errors="0", skipped="0", time=total_time)
    _properties(suite, seed=result.seed, points=result.points, max_points=result.max_points)
    for g in result.exercises:
        case = ET.SubElement(suite, "testcase", classname="lessons.exercises", name=g.exercise.name,
                             time=f"{g.seconds:.3f}")
        _properties(case, points=g.points, max_points=g.max_points)
        if g.status != "passed":
            failure = ET.SubElement(case, "failure", type=g.status, message=g.hint or g.status)
            failure.text = g.report or g.hint
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _properties(element, **values):
    properties = ET.SubElement(element, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=f"{value:g}" if isinstance(value, float) else
                      str(value))


def write_text(path, content):
    """Write a whole file (str or bytes) or nothing: a reader never sees half a report."""
    with atomic_file(path) as f:
        f.write(content.encode("utf-8") if isinstance(content, str) else content)
