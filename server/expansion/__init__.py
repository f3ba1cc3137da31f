"""Similar customers: expansion segments filled from a source segment by a positive-unlabelled
classifier (scoring.similarity), refreshed by the refresh engine through `ExpansionSource`.

- `features`: which feature columns an expansion reads (named features or attributes);
- `graph`: the one module here that talks to Neo4j (members, profile keys, feature rows, the
  stored model summary `:_ExpansionModel`);
- `expand`: one run: read, hold out, train, score, pick, summarise;
- `source`: the refresh engine's `MemberSource` for expansion segments.
"""
