"""The verdict of one `check`: passed or not, and a message for the student."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CheckResult"]


@dataclass(frozen=True)
class CheckResult:
    """Outcome of `cnnlab.grading.check`.

    Attributes:
        name: the exercise checked, e.g. ``"conv2d"``.
        passed: True when every case matched the reference.
        message: what was tried, what differed and the likely cause.
        cases_run: how many cases the student's function was called on.
        mistake: the stable key of the diagnosed mistake (``"stride-ignored"``,
            ``"exception"``, ``"helper-fails"``, ...; see `cnnlab.grading.mistake`),
            or None when the check passed or named no cause.
    """

    name: str
    passed: bool
    message: str
    cases_run: int = 0
    mistake: str | None = None

    def raise_if_failed(self) -> None:
        """Raise ``AssertionError(self.message)`` unless the check passed."""
        if not self.passed:
            raise AssertionError(self.message)

    def __bool__(self) -> bool:  # note: lets `assert check(...)` work as expected
        return self.passed

    def __str__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:  # how a notebook shows a bare result
        head = "**passed**" if self.passed else "**failed**"
        return f"{head}\n\n```\n{self.message}\n```"
