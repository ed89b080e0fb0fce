"""Analysing an experiment run elsewhere, from a CSV file of units: ``unit, variant, value`` and
optionally ``pre`` (the unit's pre-exposure value, for CUPED). The control is the variant named
``control``; every other variant is compared with it (Welch, or its always-valid sequence),
and the split is checked against equal shares or the weights given.

Bad input stops the analysis before anything is computed, each problem with its line number.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tillit.errors import FieldError, InvalidInput
from tillit.experiments.statistics import (
    Comparison,
    CovariateSample,
    Sample,
    SampleRatio,
    compare_cuped,
    compare_means,
    sample_ratio_mismatch,
    sequential,
)

CONTROL = "control"
REQUIRED = ("unit", "variant", "value")
MAX_ERRORS = 20  # said before stopping; a file with more is broken in some systematic way
Method = Literal["fixed", "sequential"]


@dataclass
class Units:
    values: dict[str, list[float]] = field(default_factory=dict)
    pre: dict[str, list[float]] | None = None


def read_units(path: Path) -> Units:
    """The file's values per variant; InvalidInput naming each bad line (at most MAX_ERRORS)."""
    errors: list[FieldError] = []
    units = Units()
    seen: dict[str, int] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [name for name in REQUIRED if name not in columns]
        if missing:
            raise InvalidInput(FieldError("line 1", f"missing column(s): {', '.join(missing)}"))
        with_pre = "pre" in columns
        units.pre = {} if with_pre else None
        for row in reader:
            line = reader.line_num
            unit, variant = (row.get("unit") or "").strip(), (row.get("variant") or "").strip()
            problem = None
            if not unit or not variant:
                problem = "unit and variant must not be empty"
            elif unit in seen:
                problem = f"unit {unit!r} already appeared on line {seen[unit]}"
            value, problem = _number(row.get("value"), "value", problem)
            pre = None
            if with_pre:
                pre, problem = _number(row.get("pre"), "pre", problem)
            if problem:
                errors.append(FieldError(f"line {line}", problem))
                if len(errors) >= MAX_ERRORS:
                    break
                continue
            seen[unit] = line
            units.values.setdefault(variant, []).append(value)  # type: ignore[arg-type]
            if units.pre is not None:
                units.pre.setdefault(variant, []).append(pre)  # type: ignore[arg-type]
    if errors:
        raise InvalidInput(errors)
    if CONTROL not in units.values:
        raise InvalidInput(FieldError("variant", f"no unit is in the variant named {CONTROL!r}"))
    if len(units.values) < 2:
        raise InvalidInput(FieldError("variant", "the file holds only the control"))
    small = [name for name, values in units.values.items() if len(values) < 2]
    if small:
        raise InvalidInput(
            FieldError("variant", f"fewer than 2 units in: {', '.join(sorted(small))}")
        )
    return units


def _number(raw: str | None, name: str, problem: str | None) -> tuple[float | None, str | None]:
    try:
        value = float((raw or "").strip())
    except ValueError:
        return None, problem or f"{name} {raw!r} is not a number"
    if not math.isfinite(value):
        return None, problem or f"{name} must be a finite number"
    return value, problem


@dataclass(frozen=True)
class FileAnalysis:
    method: Method
    control: dict[str, Any]
    variants: dict[str, Any]
    split: SampleRatio


def _fields(comparison: Comparison) -> dict[str, Any]:
    return {
        "n": comparison.n_variant,
        "mean": comparison.mean_variant,
        "difference": comparison.difference,
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "p_value": comparison.p_value,
        "relative_lift": comparison.relative_lift,
    }


def analyse_units(
    units: Units, *, method: Method = "fixed", weights: Mapping[str, float] | None = None
) -> FileAnalysis:
    names = [CONTROL, *sorted(name for name in units.values if name != CONTROL)]
    shares = dict(weights) if weights else {name: 1.0 for name in names}
    unknown = set(shares) ^ set(names)
    if unknown:
        raise InvalidInput(
            FieldError("weights", f"name exactly the file's variants ({', '.join(names)})")
        )
    arrays = {name: np.asarray(units.values[name]) for name in names}
    control = Sample.of(arrays[CONTROL])
    results: dict[str, Any] = {}
    for name in names[1:]:
        found = compare_means(control, Sample.of(arrays[name]), names=(CONTROL, name))
        if method == "sequential":
            found = sequential(found)
        result = _fields(found)
        if units.pre is not None:
            cuped = compare_cuped(
                CovariateSample.of(arrays[CONTROL], units.pre[CONTROL]),
                CovariateSample.of(arrays[name], units.pre[name]),
                names=(CONTROL, name),
            )
            if method == "sequential":
                cuped = sequential(cuped)
            result["cuped"] = _fields(cuped)
        results[name] = result
    counts = {name: len(values) for name, values in units.values.items()}
    return FileAnalysis(
        method=method,
        control={"n": control.n, "mean": control.mean},
        variants=results,
        split=sample_ratio_mismatch(counts, shares),
    )
