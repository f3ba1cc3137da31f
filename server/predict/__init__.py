"""Stored predictive lead models (issue 6): the marketer's definition, training runs that store
each version's skops artifact and holdout metrics in Neo4j, and scoring runs that write a
calibrated probability, a 0-100 score and the top factors onto the profiles.

- `spec`: a model's definition (audience, outcome, excluded attributes) and its JSON;
- `compile`: a definition against the schema, or diagnostics with field paths;
- `store`: `:_LeadModel` / `:_LeadModelVersion` (artifact bytes included) in Neo4j;
- `artifacts`: trained models loaded once per process, cached by version id;
- `features`: feature rows and outcomes read through the async driver;
- `train`, `score`: the two runs; `jobs`: their arq requests, progress and schedule tick.
"""
