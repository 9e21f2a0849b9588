"""``python -m lessons``: list every lesson with its one-line description."""
import ast
from pathlib import Path

# Modules of this package that are not lessons.
NOT_LESSONS = {"common", "__main__", "__init__"}
FIRST = "engine_tour"  # lesson 0: how the engine every other lesson calls works


def discover(folder=Path(__file__).parent):
    """(name, first docstring line) of each lesson module in ``folder``: FIRST, then the others by name.

    The docstring is read from the source: importing every lesson would load
    minigrad, matplotlib and each lesson's models only to print one line
    apiece (seconds, where reading the files takes milliseconds). Private
    modules (``_*.py``) and subpackages (``exercises``) are not lessons.
    """
    lessons = []
    for path in sorted(Path(folder).glob("*.py"), key=lambda path: (path.stem != FIRST, path.stem)):
        if path.stem in NOT_LESSONS or path.stem.startswith("_"):
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        lessons.append((path.stem, doc.strip().splitlines()[0] if doc and doc.strip() else "(no description)"))
    return lessons


def main():
    lessons = discover()
    if not lessons:
        print("No lessons yet.")
        return
    width = max(len(name) for name, _ in lessons)
    print("Lessons (run one with: python -m lessons.NAME, see its flags with --help):\n")
    for name, description in lessons:
        print(f"  {name:<{width}}  {description}")


if __name__ == "__main__":
    main()
