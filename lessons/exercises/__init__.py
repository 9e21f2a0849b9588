"""Gradient-check exercises: write a backward pass, let the checker prove it.

    python -m lessons.exercises                  # the list, with each exercise's status
    python -m lessons.exercises check matmul     # check one, with a report of what is wrong

Each exercise is a file ``exNN_name.py`` holding one ``minigrad.Function``
whose ``backward`` is left for the learner, and ``cases(rng)``, the inputs the
checker tries. Reference solutions live in ``solutions/`` under the same file
names. README.md explains the method and how to read the report.
"""
import importlib
import pathlib
import re
from dataclasses import dataclass

from minigrad import Function

_HERE = pathlib.Path(__file__).parent


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str       # "matmul"
    module: str     # "ex04_matmul"

    @property
    def path(self):
        return _HERE / f"{self.module}.py"

    def function(self, solution=False):
        """The exercise's Function class, or the reference solution's."""
        package = f"{__name__}.solutions" if solution else __name__
        module = importlib.import_module(f"{package}.{self.module}")
        found = [value for value in vars(module).values()
                 if isinstance(value, type) and issubclass(value, Function) and value.__module__ == module.__name__]
        if len(found) != 1:
            raise LookupError(f"{module.__name__} should define exactly one Function subclass, found {len(found)}")
        return found[0]

    def cases(self, rng):
        """The inputs the checker tries, drawn from rng."""
        return list(importlib.import_module(f"{__name__}.{self.module}").cases(rng))


def _discover():
    found = []
    for path in sorted(_HERE.glob("ex[0-9][0-9]_*.py")):
        match = re.fullmatch(r"ex(\d\d)_(\w+)", path.stem)
        found.append(Exercise(int(match[1]), match[2], path.stem))
    return tuple(found)


EXERCISES = _discover()  # ordered by difficulty


def find(name):
    """An exercise by name ("matmul"), number ("4"), module ("ex04_matmul") or file name."""
    key = pathlib.Path(str(name)).stem
    for exercise in EXERCISES:
        if key in (exercise.name, exercise.module) or (key.isdigit() and int(key) == exercise.number):
            return exercise
    names = ", ".join(e.name for e in EXERCISES)
    raise LookupError(f"no exercise called {name!r}; the exercises are: {names}")
