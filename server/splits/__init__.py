"""Splits for campaign tests: stable random groups of a segment's members (pure functions).

- buckets: `bucket_of(seed, key)`, the one assignment function, and bucket ranges
- allocation: percentages to bucket ranges, and re-allocation that moves as few profiles as can be
"""
