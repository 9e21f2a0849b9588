"""One exercise of a student copy, graded in a process of its own (grade.py starts one per exercise).

    python -m lessons.exercises.worker NAME STUDENT_FILE SEED RESULT_FILE

The student's file is imported here, never in the grader's process: an endless
loop or a sys.exit in it ends this process only, and the grader scores that
exercise 0. Only the student's backward (or step) is graded: the forward, the
constructor and the cases are this package's own, so editing them in the
student's file changes nothing. The result goes to RESULT_FILE as JSON, not to
stdout, where the student's prints go.

This keeps exercises apart; it is no sandbox: code that sets out to cheat (by
patching NumPy, say) can fool the check of its own exercise. Read what you grade.
"""
import dataclasses
import importlib.util
import json
import pathlib
import sys

from minigrad.io import atomic_file

from . import defined_class, find
from .checker import Report, check, describe_load_error, written_method
from .report import Painter, render_check, summary

HIDDEN_SIZE_SHIFT = 3  # every size of the grader's cases is this much larger than the practice cases draw

PRACTICE_ONLY = ("passes the practice cases only: check the shapes you assume (the grader's cases have other "
                 "sizes and another seed)")


def submitted_class(exercise, path):
    """The student's class, with this package's forward, constructor and helpers around the student's method."""
    module_name = f"{__package__}.submitted_{exercise.module}"  # inside the package: its relative imports work
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    student, own = defined_class(module), exercise.function()
    method = written_method(own)
    kept = {key: value for key, value in vars(own).items() if key not in (method, "__dict__", "__weakref__")}
    return type(own.__name__, (student,), kept)


def grade(exercise, path, seed):
    """The JSON-ready result of one exercise: its status, the diagnosis and the report that decided it."""
    located = dataclasses.replace(exercise, folder=pathlib.Path(path).parent)  # reports name the student's file
    try:
        function = submitted_class(exercise, path)
    except Exception as error:  # a file that does not import fails; the grade goes on
        return _result(Report(located, None, load_error=describe_load_error(error)))
    practice = check(located, function, seed=0)
    if practice.status != "passing":
        return _result(practice)
    hidden = check(located, function, seed=seed, size_shift=HIDDEN_SIZE_SHIFT)
    return _result(hidden, practice_only=hidden.status != "passing")


def _result(report, practice_only=False):
    status = {"passing": "passed", "failing": "failed", "not started": "not started"}[report.status]
    return {"status": status, "practice_only": practice_only, "hint": _diagnosis(report, practice_only),
            "summary": summary(report), "max_error": report.max_error,
            "report": render_check(report, Painter(False))}


def _diagnosis(report, practice_only):
    """The checker's hint for the first wrong input, or what else went wrong, in one text."""
    if report.load_error is not None:
        return report.load_error
    if report.status == "not started":
        return f"not started: {report.not_started}"
    case = report.first_failure
    if case is None:
        return None
    if case.error is not None:
        words = case.error
    else:
        wrong = next(r for r in case.inputs if not r.ok)
        said = [text for text in (wrong.problem, wrong.hint and wrong.hint.text) if text]
        words = f"case {case.number}, {wrong.name}: " + ("; ".join(said) or f"{wrong.wrong_count} elements disagree "
                                                         f"and no common mistake fits")
    return f"{PRACTICE_ONLY}. {words}" if practice_only else words


def main(argv):
    name, path, seed, result_path = argv
    sys.modules[f"{__package__}.solutions"] = None  # the student's file cannot import the reference solutions
    result = grade(find(name), path, int(seed))
    with atomic_file(result_path) as f:
        f.write(json.dumps(result).encode())


if __name__ == "__main__":
    main(sys.argv[1:])
