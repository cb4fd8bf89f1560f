"""Argument types shared by the project's commands, so every one of them refuses bad numbers the same way:
at once, in one line, naming the value and the allowed range (argparse then exits with code 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def number(kind: type[int] | type[float], *, above: float | None = None, minimum: float | None = None,
           maximum: float | None = None) -> Callable[[str], int | float]:
    """An argparse `type`: `kind(text)`, greater than `above`, within [minimum, maximum] when given."""
    bounds = []
    if above is not None:
        bounds.append(f"greater than {above:g}")
    if minimum is not None:
        bounds.append(f"at least {minimum:g}")
    if maximum is not None:
        bounds.append(f"at most {maximum:g}")
    wanted = f"{'a whole number' if kind is int else 'a number'}{' ' + ' and '.join(bounds) if bounds else ''}"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}") from None
        if ((above is not None and value <= above) or (minimum is not None and value < minimum)
                or (maximum is not None and value > maximum)):
            raise argparse.ArgumentTypeError(f"{text!r} is out of range: give {wanted}")
        return value

    return parse
