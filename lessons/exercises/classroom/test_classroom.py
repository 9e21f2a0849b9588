"""One autograding test per exercise of this copy:

    python -m pytest lessons/exercises/classroom --exercise NAME

Each grades its exercise as ``python -m lessons.exercises grade`` does: in a
process of its own, with a time limit, on the practice cases and on the
grader's (a new seed each run, and larger sizes). The failure message is the
checker's report of the case that failed.
"""
import pathlib
import secrets

from lessons.exercises.grade import POINTS, grade_exercise

EXERCISES_FOLDER = pathlib.Path(__file__).resolve().parents[1]


def test_exercise(exercise):
    seed = secrets.randbelow(2**31)
    graded = grade_exercise(EXERCISES_FOLDER, exercise, seed, POINTS[exercise.name])
    assert graded.status == "passed", (f"{exercise.name}: {graded.status} (seed {seed}; python -m lessons.exercises "
                                       f"grade --seed {seed} grades every exercise on these cases)\n"
                                       f"{graded.hint}\n\n{graded.report}")
