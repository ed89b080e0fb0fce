"""A campaign or experiment definition file that is not JSON names the line and column of its
syntax error (one reader, tillit.errors.json_document, for both)."""

from __future__ import annotations

import pytest

from tillit.campaigns.definitions import parse_definition_json as campaign
from tillit.errors import InvalidInput
from tillit.experiments.definitions import parse_definition_json as experiment


@pytest.mark.parametrize("parse", [campaign, experiment])
def test_a_file_that_is_not_json_names_where(parse) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(b'{\n  "key": "spring",\n  "name": oops\n}')
    [error] = refused.value.errors
    assert error.field == "file"
    assert error.message.startswith("not JSON:") and "at line 3, column 11" in error.message
