"""Live data: records upserted through the API reach dynamic segments within a second.

- ingest: validate records against the graph schema (`validate_records`), write them
  idempotently (`write_records`), queue them for the workers (`queue_changes`)
- affected: which profiles of which segment a changed record can move
- incremental: re-evaluate only those profiles, in dependency order, and publish who entered
  and who left (`apply_changes`)
"""
