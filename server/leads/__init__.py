"""Stored points models and their scoring runs (issue 6, the served part).

- `spec`: a model's definition as plain values and its JSON storage form;
- `compile`: a definition -> compiled rules (segment language) + `scoring.PointsModel`, or
  diagnostics with field paths and line:column;
- `count_form`: the per-profile match count of a PER_MATCH rule;
- `store`: `:_ScoreModel` / `:_ScoreModelVersion` in Neo4j (lifecycle, versions);
- `run`: one scoring run (evaluate, combine, write back, history); `jobs`: arq requests and
  the schedule tick; `reads`: leads by score, one lead with breakdown and history;
- `schema_attributes`: the engine-owned score attributes profile entities gain.
"""
