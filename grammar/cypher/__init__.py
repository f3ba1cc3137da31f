"""Printing bound segments as Cypher."""
