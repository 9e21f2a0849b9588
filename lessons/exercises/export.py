"""The student copy behind ``python -m lessons.exercises export DIR``.

DIR gets what a teacher hands out, laid out as in this project so that every
command of the guide works there unchanged::

    DIR/lessons/exercises/     the exercises (backward still open), checker, grader, both guides
    DIR/lessons/exercises/classroom/
    DIR/.github/workflows/classroom.yml   the GitHub Classroom autograding, ready to run
    DIR/docs/exercises_eps.png            the guide's figure

and no solutions: solutions/ is not copied, and files are picked one by one
(no __pycache__ comes along). The folder appears whole or not at all.
"""
import pathlib
import shutil
import tempfile

_HERE = pathlib.Path(__file__).parent
_FIGURE = _HERE.parents[1] / "docs" / "exercises_eps.png"  # the guide links it as ../../docs/
_GUIDES = ["README.md", "README.ko.md"]
_CLASSROOM_FILES = ["__init__.py", "conftest.py", "test_classroom.py", "classroom.yml"]
_LESSONS_INIT = '"""A student copy of the minigrad exercises: python -m lessons.exercises"""\n'


def export(directory):
    """Write the student copy to directory, which must not exist yet or be empty; returns its path."""
    target = pathlib.Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} exists and is not an empty folder; export writes a new one")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    staging.chmod(target.parent.stat().st_mode & 0o777)  # mkdtemp's folder is private; the copy is not
    try:
        _write_copy(staging)
        if target.exists():
            target.rmdir()
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _write_copy(root):
    package = root / "lessons" / "exercises"
    (package / "classroom").mkdir(parents=True)
    (root / "lessons" / "__init__.py").write_text(_LESSONS_INIT, encoding="utf-8")
    for name in [path.name for path in sorted(_HERE.glob("*.py"))] + _GUIDES:  # every module; solutions/ stays
        shutil.copyfile(_HERE / name, package / name)
    for name in _CLASSROOM_FILES:
        shutil.copyfile(_HERE / "classroom" / name, package / "classroom" / name)
    workflows = root / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copyfile(_HERE / "classroom" / "classroom.yml", workflows / "classroom.yml")
    (root / "docs").mkdir()
    shutil.copyfile(_FIGURE, root / "docs" / _FIGURE.name)
