"""Errors a user can act on, each with the exit code of DESIGN §4.

Anything that is not an :class:`HkError` is a bug: the CLI prints one line and writes the
traceback to a log file. An :class:`HkError` is printed as it is, with its hint, and never with
a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3


@dataclass
class Problem:
    """One thing wrong with one file or one input, located as precisely as we can."""

    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    field: str | None = None
    hint: str | None = None
    source_line: str | None = None

    def location(self) -> str:
        """``file:line:col`` (as much of it as is known)."""
        parts = [self.path or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """The beancount-style text: location, field, message, the line with a caret, a hint."""
        head = f"{self.location()}: "
        if self.field:
            head += f"{self.field}: "
        lines = [head + self.message]
        if self.source_line is not None:
            lines.append("    " + self.source_line.rstrip("\n"))
            if self.column is not None:
                from rich.cells import cell_len

                pad = cell_len(self.source_line[: max(self.column - 1, 0)])
                lines.append("    " + " " * pad + "^")
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


class HkError(Exception):
    """An error the user can fix; carries the exit code and an optional hint."""

    exit_code = EXIT_USER

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class UsageError(HkError):
    """The command line itself is wrong (unknown option value, missing argument)."""

    exit_code = EXIT_USAGE


class FieldError(UsageError):
    """A value given for one input field that cannot be read (``--gender x``, a bad skill).

    ``field`` is the input's own name for it: the option without its dashes, which is also
    the key of an ``hk batch`` line.
    """

    def __init__(self, field: str, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.field = field

    def render(self) -> str:
        text = f"error: --{self.field.replace('_', '-')}: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class NotFound(HkError):
    """No record matches the given ID, code or name."""


class ConflictError(HkError):
    """Someone else got there first: a stale edit, a held lock, a sync conflict."""

    exit_code = EXIT_CONFLICT


class InvalidData(HkError):
    """One or more problems with a record, a file or an input row; all of them, not the first."""

    def __init__(self, problems: list[Problem], summary: str | None = None) -> None:
        self.problems = problems
        n = len(problems)
        super().__init__(summary or (f"{n} problem" + ("s" if n != 1 else "")))

    def render(self) -> str:
        return "\n".join(p.render() for p in self.problems) or f"error: {self.message}"
