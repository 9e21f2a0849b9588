"""``--exercise NAME``: run the autograding test of one exercise (repeat it for several; none: all of them)."""
import pytest

from lessons.exercises import EXERCISES, find


def pytest_addoption(parser):
    parser.addoption("--exercise", action="append", default=[], metavar="NAME",
                     help="grade only this exercise (name, number or file); repeat for more")


def pytest_configure(config):
    try:
        config.chosen_exercises = [find(name) for name in config.getoption("exercise")] or list(EXERCISES)
    except LookupError as error:
        raise pytest.UsageError(str(error)) from None


def pytest_generate_tests(metafunc):
    if "exercise" in metafunc.fixturenames:
        chosen = metafunc.config.chosen_exercises
        metafunc.parametrize("exercise", chosen, ids=[e.name for e in chosen])
