"""A small YAML writer for JSON data (the ``kettle openapi --yaml`` output).

JSON values only (dicts with string keys, lists, strings, numbers, booleans, None), in
block style. A string is written plain when YAML would read it back as the same string,
and double-quoted otherwise (YAML's double-quoted style accepts JSON's escapes).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

# Plain scalars that a YAML 1.1 or 1.2 reader would take for something else.
_SPECIAL = re.compile(
    r"^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO|"
    r"on|On|ON|off|Off|OFF|y|Y|n|N|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|<<)$"
)
_NUMBERISH = re.compile(r"^[-+.0-9]")
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_ ./()$'-]*$")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = json.dumps(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 readers want a dot: 1e+300 -> 1.0e+300
            text = f"{mantissa}.0e{exponent}"
        return text
    text = str(value)
    if (
        text
        and _PLAIN.match(text)
        and not _SPECIAL.match(text)
        and not _NUMBERISH.match(text)
        and not text.endswith(" ")
        and " #" not in text
        and ": " not in text
    ):
        return text
    return json.dumps(text, ensure_ascii=False)


def _lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, Mapping):
        if not value:
            return [pad + "{}"]
        out: list[str] = []
        for key, item in value.items():
            label = pad + _scalar(str(key)) + ":"
            if isinstance(item, Mapping | list | tuple) and item:
                out.append(label)
                out.extend(_lines(item, indent + 2))
            else:
                out.append(f"{label} {_inline(item)}")
        return out
    if isinstance(value, Sequence) and not isinstance(value, str):
        if not value:
            return [pad + "[]"]
        out = []
        for item in value:
            if isinstance(item, Mapping | list | tuple) and item:
                nested = _lines(item, indent + 2)
                out.append(pad + "- " + nested[0][indent + 2 :])
                out.extend(nested[1:])
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + _scalar(value)]


def _inline(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, list | tuple):
        return "[]"
    return _scalar(value)


def to_yaml(value: Any) -> str:
    """``value`` (JSON data) as a YAML document.

    Example:
        >>> print(to_yaml({"openapi": "3.1.0", "paths": {"/": {"get": {"tags": ["a"]}}}}))
        openapi: "3.1.0"
        paths:
          /:
            get:
              tags:
                - a
        <BLANKLINE>
    """
    return "\n".join(_lines(value, 0)) + "\n"
