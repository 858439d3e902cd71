"""Shared test configuration: deterministic hypothesis profiles.

`ci` (the default, used by `make test`) derandomises hypothesis so every run explores the same
examples; `soak` (used by `make soak`) runs thousands of examples per property.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "soak", max_examples=2000, derandomize=False, database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(  # HYPOTHESIS_PROFILE=debug: the first failure at once, unshrunk
    "debug", derandomize=True, database=None, deadline=None, print_blob=True, phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
