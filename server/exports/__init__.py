"""Exports ("manage exports"): named exports that carry segments, with chosen columns, to a
folder (CSV or Parquet files) or an HTTP endpoint (JSON lines), run by the arq workers.

Modules: `records` (values), `store` (exports in Neo4j), `runs` (run history), `jobs`
(request, schedule tick, after refresh), `runner` (one run), `writers` (files, HTTP),
`paths` (folders confined under the export root). The GraphQL side is `server/api/exports`.
"""
