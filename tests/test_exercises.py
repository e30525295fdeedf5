"""Exercises that are exercises: the helper's feedback, and every exercise of every lesson both ways
(the shipped placeholder reports 「还没完成」, the reference solution passes)."""
from __future__ import annotations

import inspect
import json

import pytest

from helpers import exercises
from helpers.exercises import Hint, check, evaluate, is_placeholder
from lesson_run import NOTEBOOKS, check_cells, run_lesson
import test_varied_replay as varied_run  # a module, so its tests are not collected twice
from helpers.replay.rebuild import lesson_notebooks

LESSONS = [p.stem for p in lesson_notebooks()]  # every lesson has exercises (test below)


def blank(x):
    ...


def blank_doc(x):
    """Docstring only."""
    ...


def solved(x):
    return x * 2


def test_placeholders_recognised():
    for value in (..., None, "", [], {}, blank, blank_doc, [1, ...], {"a": ...}):
        assert is_placeholder(value), value
    for value in (0, "答案", [1], solved, {"a": 1}, False, lambda x: 3, lambda: "咨询"):
        assert not is_placeholder(value), value


def test_feedback_todo_wrong_error_passed(capsys):
    def test(fn):
        if fn(2) != 4:
            raise Hint("2 的两倍应是 4")
        assert fn(0) == 0, "0 的两倍应是 0"
        return "很好"

    assert evaluate("练习", blank, test).status == "todo"
    assert "还没完成" in str(evaluate("练习", ..., test))
    wrong = evaluate("练习", lambda x: x + 2, test)
    assert wrong.status == "wrong" and "0 的两倍" in wrong.message
    hinted = evaluate("练习", lambda x: 3, test)
    assert hinted.message == "2 的两倍应是 4"
    crashed = evaluate("练习", lambda x: x / 0, test)
    assert crashed.status == "wrong" and "ZeroDivisionError" in crashed.message
    assert "Traceback" not in crashed.message
    check("练习", solved, test)
    assert capsys.readouterr().out == "✓ 练习：通过。很好\n"


@pytest.mark.parametrize("lesson", LESSONS)
def test_shipped_exercises_are_unsolved_and_say_so(lesson):
    nb = json.loads((NOTEBOOKS / f"{lesson}.ipynb").read_text(encoding="utf-8"))
    learner = [c for c in nb["cells"] if "exercise" in c["metadata"]]
    assert learner and len(learner) == len(exercises.load_solutions(lesson))
    for cell in learner:
        source = "".join(cell["source"])
        assert "..." in source and "在这里写你的代码" in source
    printed = {c["metadata"]["exercise_check"]: "".join("".join(o.get("text", ""))
                                                        for o in c["outputs"])
               for c in nb["cells"] if "exercise_check" in c["metadata"]}
    assert sorted(printed) == sorted(c["metadata"]["exercise"] for c in learner)
    for exercise, text in printed.items():  # nbval keeps these stored outputs honest
        assert "还没完成" in text and "Traceback" not in text, exercise


# tests/test_varied_replay.py runs its lessons with these same solutions in place and asserts
# the same thing (every check prints ✓; checks never depend on what a model answered), so a
# lesson listed there is executed once for it, not twice (make test's time, issue 9).
REPLAYED = [lesson for lesson in LESSONS if lesson not in varied_run.VARIED_LESSONS]


def test_every_exercise_lesson_runs_with_its_solutions_somewhere():
    assert set(LESSONS) <= set(REPLAYED) | set(varied_run.VARIED_LESSONS)
    varied = inspect.getsource(varied_run.test_lesson_runs_under_varied_replay_with_solutions)
    assert "solutions=True" in varied and 'text.startswith("✓")' in varied


@pytest.mark.parametrize("lesson", REPLAYED)
def test_reference_solutions_pass_every_check(lesson):
    printed = check_cells(run_lesson(lesson, solutions=True))
    assert printed and all(text.startswith("✓") for text in printed.values()), printed
