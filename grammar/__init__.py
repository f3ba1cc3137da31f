"""The segment language: parse, validate against a graph schema, and compile to Cypher."""
