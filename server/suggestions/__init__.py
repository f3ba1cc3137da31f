"""Suggested segments: features written back as segment-language conditions."""
