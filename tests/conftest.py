"""Shared test configuration: hypothesis profiles that are deterministic per commit.

`ci` (the default, used by `make test`) explores a fixed set of examples for a given seed. `make test`
passes a seed derived from the commit (`PROPERTY_SEED`), so each commit tries new schedules while any
run can be replayed exactly: `make test PROPERTY_SEED=<the seed printed in the header and on failure>`.
Without a seed (a plain `pytest`), every test derives its examples from its own name, as before.
`soak` (used by `make soak`, see tests/soak.py) runs many more examples per property; `debug` stops at the
first failure, unshrunk.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

PROPERTY_SEED = os.environ.get("PROPERTY_SEED") or None
_COMMON = {"database": None, "deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]}

settings.register_profile("ci", derandomize=PROPERTY_SEED is None, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("soak", max_examples=2000, derandomize=False, **_COMMON)  # type: ignore[arg-type]
settings.register_profile(  # HYPOTHESIS_PROFILE=debug: the first failure at once, unshrunk
    "debug", derandomize=PROPERTY_SEED is None, phases=[Phase.explicit, Phase.generate], **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _replay_hint() -> str:
    return (f"property seed {PROPERTY_SEED}: replay with `make test PROPERTY_SEED={PROPERTY_SEED}` "
            f"(or `PROPERTY_SEED={PROPERTY_SEED} pytest ... --hypothesis-seed={PROPERTY_SEED}`)")


def pytest_report_header(config: pytest.Config) -> str:
    if PROPERTY_SEED is None:
        return "property seed: none (examples derived from each test's name)"
    return _replay_hint()


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: pytest.Config) -> None:
    if PROPERTY_SEED is not None and exitstatus not in (0, 5):
        terminalreporter.write_line(_replay_hint())  # type: ignore[attr-defined]
