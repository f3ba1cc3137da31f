"""The GraphQL API: a strawberry schema composed per domain (segments, graph schema).

Resolvers are thin: they decode ids and inputs, call domain functions (`segments.domain`,
`segments.actions`, `segments.reading`), which call `server.store`.
"""

from server.api.schema import build_schema, export_sdl

__all__ = ["build_schema", "export_sdl"]
