"""The one place where names become Cypher text.

Labels, relationship types and property keys reach Cypher only through `quote_identifier`, and
only after the schema loader has checked them against `IDENTIFIER`; values are always parameters.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """Backtick-quote a label, relationship type or property key (backticks doubled).

    Quoting always, even for plain names, keeps keywords such as `Order` or `count` safe.
    Raises ValueError for an empty name or one holding NUL, which no quoting can make safe.
    """
    if not name or "\x00" in name:
        raise ValueError(f"not a usable Cypher identifier: {name!r}")
    return "`" + name.replace("`", "``") + "`"
