"""The first hour with the lessons: ``python -m lessons`` in course order, from any folder once installed; quick runs
that say they are smoke tests; a missing dataset told in its own words; a failed run leaving no empty folder."""
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from setuptools.config.setupcfg import read_configuration

from lessons.__main__ import COURSE, discover
from lessons.common import Lesson

ROOT = Path(__file__).resolve().parents[1]


def lesson_table(readme):
    """The lesson names of a README's lesson table, top to bottom, each once."""
    names = re.findall(r"^\| `(\w+)[^`]*` ", (ROOT / readme).read_text(encoding="utf-8"), re.MULTILINE)
    return list(dict.fromkeys(names))


def test_the_course_is_the_order_of_the_readme_tables():
    for readme in ("README.md", "README.ko.md"):
        assert lesson_table(readme) == list(COURSE), readme


def test_python_m_lessons_lists_the_course_in_order_and_the_rest_after_it():
    listed = [name for name, _ in discover()]
    in_course = [name for name in listed if name in COURSE]
    assert in_course == [name for name in COURSE if name in listed]
    assert listed[:len(in_course)] == in_course  # lessons the README does not list yet come last


def test_the_lessons_install_with_the_package_so_python_m_lessons_runs_from_any_folder():
    packages = read_configuration(str(ROOT / "setup.cfg"))["options"]["packages"]
    assert {"minigrad", "lessons", "lessons.exercises"} <= set(packages)


# ---------------------------------------------------------------- --quick

def test_a_quick_run_says_it_is_a_smoke_test_and_puts_no_published_number_beside_its_own(tmp_path, capsys):
    run = Lesson("tiny", "Tiny.", epochs=5, batch_size=8, lr=0.1, argv=["--quick", "--out", str(tmp_path / "q")])
    run.finish(final={"test_loss": 0.25}, published={"test_loss": 0.092})
    printed = capsys.readouterr().out
    assert "--quick: a smoke test" in printed and "not what the lesson reaches" in printed
    assert "final test_loss 0.25" in printed and "published" not in printed


def test_a_full_run_puts_the_published_number_beside_its_own(tmp_path, capsys):
    run = Lesson("tiny", "Tiny.", epochs=5, batch_size=8, lr=0.1, argv=["--out", str(tmp_path / "full")])
    run.finish(final={"test_loss": 0.25}, published={"test_loss": 0.092})
    printed = capsys.readouterr().out
    assert "final test_loss 0.25   (published: 0.092)" in printed and "smoke test" not in printed


# ---------------------------------------------------------------- a failed run

FAILING_LESSON = textwrap.dedent("""
    from lessons.common import Lesson
    from minigrad.data import DatasetNotFoundError

    run = Lesson("tiny", "Tiny.", epochs=1, batch_size=8, lr=0.1)
    raise DatasetNotFoundError("MNIST file train-images-idx3-ubyte.gz was not found. Looked in: ...")
""")


def test_a_missing_dataset_is_told_without_a_traceback_and_leaves_no_empty_run_folder(tmp_path):
    (tmp_path / "lesson.py").write_text(FAILING_LESSON)
    failed = subprocess.run([sys.executable, "lesson.py"], capture_output=True, text=True, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert failed.returncode == 1
    assert failed.stderr.strip() == ("DatasetNotFoundError: MNIST file train-images-idx3-ubyte.gz was not found. "
                                     "Looked in: ...")
    assert not (tmp_path / "runs" / "tiny").exists()


def test_any_other_error_keeps_its_traceback(tmp_path):
    (tmp_path / "lesson.py").write_text(FAILING_LESSON.replace("raise DatasetNotFoundError(", "raise KeyError("))
    failed = subprocess.run([sys.executable, "lesson.py"], capture_output=True, text=True, cwd=tmp_path,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=120)
    assert failed.returncode == 1 and "Traceback" in failed.stderr and "KeyError" in failed.stderr
    assert not (tmp_path / "runs" / "tiny").exists()
