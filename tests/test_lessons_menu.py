"""``python -m lessons``: the lessons in course order, from any folder once the package is installed."""
import re
from pathlib import Path

from setuptools.config.setupcfg import read_configuration

from lessons.__main__ import COURSE, discover

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
