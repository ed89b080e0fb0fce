"""What an experiment definition must say, checked field by field: one shape for the API's
body and the CLI's JSON file, so both refuse the same things with the same words."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from tillit.errors import FieldError, InvalidInput, invalid_fields, json_document

# Keys are what code and URLs use: lowercase letters, digits, '_' and '-'.
KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Key = Annotated[str, Field(pattern=KEY_PATTERN, description="a-z, 0-9, '_' and '-'; 1-64")]
MAX_VARIANTS = 10
MAX_GOALS = 20


def _no_nul(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise PydanticCustomError("nul", "must not contain the NUL character (U+0000)")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


class VariantDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    weight: float = Field(
        gt=0,
        le=1_000_000,
        description="Relative share of units; shares are weight / sum of weights.",
    )
    description: Text | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _finite(self) -> VariantDefinition:
        if not math.isfinite(self.weight):
            raise PydanticCustomError("finite", "weight must be a finite number")
        return self


def _unique(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("unique", "each key may appear only once")
    return values


class ExperimentDefinition(BaseModel):
    """A draft experiment. The unit is the resolved customer (the person after identity
    resolution); ``segment`` and the goal keys name analytics definitions."""

    model_config = ConfigDict(extra="forbid")

    key: Key
    name: Text | None = Field(None, min_length=1, max_length=200, description="Default: the key")
    hypothesis: Text = Field(min_length=1, max_length=2000)
    unit: Literal["customer"] = "customer"
    variants: list[VariantDefinition] = Field(min_length=2, max_length=MAX_VARIANTS)
    control: Key = Field("control", description="The variant the others are compared with")
    segment: Key | None = Field(None, description="The audience: a segment key (analytics)")
    primary_goal: Key
    secondary_goals: Annotated[list[Key], AfterValidator(_unique)] = Field(
        default_factory=list, max_length=MAX_GOALS
    )
    guardrails: Annotated[list[Key], AfterValidator(_unique)] = Field(
        default_factory=list,
        max_length=MAX_GOALS,
        description="Goal keys besides the customer's own guardrails, which are always on",
    )
    auto_stop: bool = Field(
        True, description="A guardrail showing harm (or a broken split) stops it by itself"
    )
    stop_on_decision: bool = Field(
        False, description="A decisive primary result (always-valid) stops it by itself"
    )
    salt: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]{1,32}$",
        description="Part of the assignment hash; default: random",
    )


def check_definition(definition: ExperimentDefinition) -> ExperimentDefinition:
    """The rules across fields, each error naming its field (pydantic's own model checks could
    only name the whole body)."""
    errors = []
    keys = [variant.key for variant in definition.variants]
    for index, key in enumerate(keys):
        if key in keys[:index]:
            errors.append(FieldError(f"variants[{index}].key", f"{key!r} is already a variant"))
    if definition.control not in keys:
        errors.append(FieldError("control", f"{definition.control!r} is not one of the variants"))
    if definition.primary_goal in definition.secondary_goals:
        errors.append(
            FieldError("secondary_goals", "holds the primary goal, which is counted once")
        )
    if errors:
        raise InvalidInput(errors)
    return definition


def parse_definition(data: Any) -> ExperimentDefinition:
    """``data`` as a definition, or InvalidInput naming each bad field."""
    try:
        definition = ExperimentDefinition.model_validate(data)
    except ValidationError as error:
        raise invalid_fields(error.errors()) from error
    return check_definition(definition)


def parse_definition_json(text: bytes | str) -> ExperimentDefinition:
    """A definition file: JSON syntax errors name their line and column."""
    return parse_definition(json_document(text))
