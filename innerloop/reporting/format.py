"""Numbers as the report prints them: percentages, percentage points, intervals, p-values.

Two families, for the two places a number appears:

- ``format_*`` make table cells (:mod:`.tables`, :mod:`.stats_report`, the section
  tables): a missing value (None, NaN) is :data:`MISSING`, an em dash; the ASCII minus
  stays until :func:`~innerloop.reporting.tables.to_html` shows it as a typographic one
  (:func:`typographic_minus`).
- ``text_*`` make the numbers in the report's sentences (:mod:`.render`'s findings and the
  template's filters ``num``, ``pct``, ``pp``, ``pval``, ``intcomma``): NaN is "n/a", a
  negative sign is the typographic minus, and None is an error (a context value is missing).

Accuracies and their differences are fractions in the data: ``percent=True``,
:func:`text_percent` and :func:`text_pp` multiply by 100.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = [
    "MISSING",
    "is_missing",
    "format_number",
    "format_p",
    "format_pp",
    "format_interval",
    "format_bounds",
    "typographic_minus",
    "text_number",
    "text_percent",
    "text_pp",
    "text_p",
    "text_int",
]

#: A table cell without a value.
MISSING = "—"

_MINUS_RE = re.compile(r"(?<![\w.])-(?=[\d.])")  # a sign, not a hyphen inside a word


# --------------------------------------------------------------------------
# Table cells
# --------------------------------------------------------------------------

def is_missing(x: object) -> bool:
    """Whether ``x`` is no value: None, NaN, ``pd.NA`` (anything else, a string included, is one)."""
    try:
        return x is None or (isinstance(x, float) and math.isnan(x)) or bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def format_number(x: object, digits: int = 3, *, percent: bool = False, signed: bool = False) -> str:
    """One number as display text: ``0.4612 -> "46.1%"`` with ``percent=True, digits=1``.

    NaN/None become an em dash. ``signed`` forces a leading ``+``.
    """
    if is_missing(x):
        return MISSING
    v = float(x) * (100 if percent else 1)
    s = f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    if s.lstrip("+-").strip("0.") == "":  # "-0.000" / "+0.000" -> "0.000"
        s = s.lstrip("+-")
    return s + ("%" if percent else "")


def format_p(x: object) -> str:
    """A p-value as display text: two significant digits, scientific below 1e-4."""
    if is_missing(x):
        return MISSING
    v = float(x)
    if v >= 0.001:
        return f"{v:.2g}" if v < 0.01 else f"{v:.3f}".rstrip("0").rstrip(".")
    if v >= 1e-4:
        return f"{v:.2g}"
    return f"{v:.1e}".replace("e-0", "e-")


def format_pp(x: object) -> str:
    """A difference of fractions as signed percentage points, two decimals, no unit: ``0.0123 -> "+1.23"``."""
    return format_number(x * 100, 2, signed=True) if not pd.isna(x) else MISSING


def format_interval(mean, low, high, *, scale: float = 100, digits: int = 2, unit: str = "%",
                    signed: bool = False) -> str:
    """``"46.12% [45.90, 46.34]"``; the interval is left out when it is NaN."""
    if is_missing(mean):
        return MISSING
    text = format_number(mean * scale, digits, signed=signed) + unit
    if not (is_missing(low) or is_missing(high)):
        text += (f" [{format_number(low * scale, digits, signed=signed)}, "
                 f"{format_number(high * scale, digits, signed=signed)}]")
    return text


def format_bounds(low, high, fmt: Callable[[Any], str]) -> str:
    """An interval's bounds, each written by ``fmt``, as ``"[low, high]"``; :data:`MISSING` without both."""
    return MISSING if pd.isna(low) or pd.isna(high) else f"[{fmt(low)}, {fmt(high)}]"


def typographic_minus(text: str) -> str:
    """Every sign in ``text`` (a ``-`` before a digit, not inside a word) as the minus ``−``."""
    return _MINUS_RE.sub("\u2212", text)


# --------------------------------------------------------------------------
# Numbers in sentences and the template
# --------------------------------------------------------------------------

def _number(x: Any) -> float:
    if x is None:
        raise ValueError("a number in the report is None")
    return float(x)  # StrictUndefined raises here for a missing key


def text_number(x: Any, digits: int = 3, signed: bool = False) -> str:
    """``digits`` decimals (``signed``: with a ``+``), "n/a" for NaN: the template's ``num``."""
    v = _number(x)
    return "n/a" if math.isnan(v) else format_number(v, digits, signed=signed).replace("-", "−")


def text_percent(x: Any, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.4612 -> "46.1%"``; the template's ``pct``."""
    v = _number(x)
    return "n/a" if math.isnan(v) else text_number(v * 100, digits) + "%"


def text_pp(x: Any, digits: int = 2) -> str:
    """A difference of fractions as signed percentage points: ``-0.003 -> "−0.30 pp"``; the template's ``pp``."""
    v = _number(x)
    return "n/a" if math.isnan(v) else text_number(v * 100, digits, signed=True) + " pp"


def text_p(x: Any) -> str:
    """A p-value as :func:`format_p` writes it, with a typographic minus; the template's ``pval``."""
    v = _number(x)
    return "n/a" if math.isnan(v) else format_p(v).replace("-", "−")


def text_int(x: Any) -> str:
    """A whole number with thousands separators: ``8000 -> "8,000"``; the template's ``intcomma``."""
    v = _number(x)
    return f"{int(round(v)):,}"
