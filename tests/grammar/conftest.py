"""Hypothesis profiles for the grammar's property tests: `ci` (default, short) and `thorough`.
Pick one with HYPOTHESIS_PROFILE=thorough."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

# CI skips shrinking: a failure prints its (unshrunk) example and the seed to replay it.
settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.register_profile(
    "thorough", max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def scaled(ci: int) -> int:
    """An example count for `ci`, ten times more in the thorough profile."""
    return ci * 10 if PROFILE == "thorough" else ci
