"""Exercises that are exercises (lessons 07 and later; the convention is in CONTRIBUTING.md).

A learner cell holds a placeholder that does not solve the task (``answer = ...`` or a function
whose body is ``...``). The check cell calls ``check(name, answer, test)``:

- the untouched placeholder prints 「还没完成」 and what to do;
- a wrong answer prints the specific hint the test raised (``raise Hint("...")`` or a failing
  ``assert cond, "..."``), never a traceback;
- a right answer prints 「✓ 通过」.

So an untouched lesson runs top to bottom, and a test can swap in the reference solution
(``notebooks/solutions/NN_name.py``) and see every check pass.
"""
from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Callable

TODO = "还没完成"


class Hint(Exception):
    """Raised by a test to tell the learner what is wrong with their answer (in Chinese)."""


def _blank(*args: Any, **kwargs: Any) -> None:
    ...


def _blank_with_docstring(*args: Any, **kwargs: Any) -> None:
    """A docstring, then nothing."""
    ...


_BLANK_CODES = {_blank.__code__.co_code, _blank_with_docstring.__code__.co_code}


def is_placeholder(value: Any) -> bool:
    """True for ``...``, None, an empty string/list/dict, or a function whose body is ``...``."""
    if value is ... or value is None:
        return True
    if isinstance(value, (str, list, dict, tuple)) and not value:
        return True
    if isinstance(value, types.FunctionType):  # same bytecode as a body of ``...``
        code = value.__code__
        return code.co_code in _BLANK_CODES and all(
            c is None or c is ... or c == value.__doc__ for c in code.co_consts)
    if isinstance(value, (list, tuple)):
        return any(is_placeholder(v) for v in value)
    if isinstance(value, dict):
        return any(v is ... for v in value.values())
    return False


@dataclass
class Result:
    name: str
    status: str  # "todo", "wrong", "passed"
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __str__(self) -> str:
        mark = {"todo": "…", "wrong": "✗", "passed": "✓"}[self.status]
        return f"{mark} {self.name}：{self.message}"


def evaluate(name: str, answer: Any, test: Callable[[Any], Any],
             success: str = "通过") -> Result:
    """Run ``test(answer)`` and turn the outcome into a Result; never raises."""
    if is_placeholder(answer):
        return Result(name, "todo", f"{TODO}——把上面单元格里的 ... 换成你的答案，再运行本单元格。")
    try:
        extra = test(answer)
    except (Hint, AssertionError) as err:
        return Result(name, "wrong", str(err) or "结果不对，请对照上面的提示再试一次。")
    except Exception as err:  # noqa: BLE001 - a learner's bug becomes one short line
        return Result(name, "wrong", f"运行时出错（{type(err).__name__}: {err}），"
                                     "请先单独运行你的代码看看。")
    message = success + (f"。{extra}" if isinstance(extra, str) and extra else "")
    return Result(name, "passed", message)


def check(name: str, answer: Any, test: Callable[[Any], Any], success: str = "通过") -> None:
    """Print the short Chinese feedback of ``evaluate`` (one line, never a traceback)."""
    print(evaluate(name, answer, test, success))


def load_solutions(lesson: str) -> dict[str, str]:
    """The reference solutions of a lesson: exercise id → the source of the learner cell."""
    from .config import KIT_ROOT

    path = KIT_ROOT / "notebooks" / "solutions" / f"{lesson}.py"
    namespace: dict[str, Any] = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return dict(namespace["SOLUTIONS"])
