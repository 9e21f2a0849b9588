"""Gradient-check exercises: write a backward pass, let the checker prove it.

    python -m lessons.exercises                  # the list, with each exercise's status
    python -m lessons.exercises check matmul     # check one, with a report of what is wrong
    python -m lessons.exercises export DIR       # a student copy, without the solutions
    python -m lessons.exercises grade [DIR]      # points for a student copy, on cases the student never saw

Each exercise is a file ``exNN_name.py`` holding one ``minigrad.Function``
whose ``backward`` is left for the learner (or, for an update rule such as
Adam, a class whose ``step`` is), and ``cases(rng)``, the inputs the checker
tries. Reference solutions live in ``solutions/`` under the same file names,
in the teacher's copy only: ``export`` writes a student copy without them, and
``grade`` scores a student copy. README.md explains the method and how to read
the report.
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
    folder: pathlib.Path = _HERE  # where its file is: a student copy's, when the grader reports on one

    @property
    def path(self):
        return self.folder / f"{self.module}.py"

    def function(self, solution=False):
        """The exercise's class (a Function, or an update rule with a step), or the reference solution's."""
        package = f"{__name__}.solutions" if solution else __name__
        return defined_class(importlib.import_module(f"{package}.{self.module}"))

    def cases(self, rng):
        """The inputs the checker tries, drawn from rng."""
        return list(self._own_module().cases(rng))

    def expected_steps(self, case):
        """An update exercise: the parameter after each step of the case."""
        return self._own_module().expected_steps(case)

    def step_factors(self, case):
        """An update exercise: (factor, kinds, text) for the first update of each typical mistake."""
        return self._own_module().step_factors(case)

    def _own_module(self):
        return importlib.import_module(f"{__name__}.{self.module}")


def defined_class(module):
    """The one class a module defines that is a Function or has a step method: what the learner completes."""
    found = [value for value in vars(module).values()
             if isinstance(value, type) and value.__module__ == module.__name__
             and (issubclass(value, Function) or callable(getattr(value, "step", None)))]
    if len(found) != 1:
        raise LookupError(f"{module.__name__} should define exactly one Function subclass (or one class with a "
                          f"step method), found {len(found)}")
    return found[0]


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
