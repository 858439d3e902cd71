"""Every registered venue package has the same module set (brokers/README.md, "adding a venue")."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

from brokers import BROKER_FACTORIES
from brokers.base import Broker
from protocol.messages import StreamChannel

MODULE_SET = ("auth.py", "constants.py", "schemas.py", "mapping.py", "errors.py", "stream.py", "client.py",
              "README.md")
DEPTH_MODULE = "book.py"  # required where the venue streams an L2 book


def package_dir(venue: str) -> Path:
    module = importlib.import_module(BROKER_FACTORIES[venue])
    assert module.__file__ is not None
    return Path(module.__file__).parent


def broker_classes(venue: str) -> list[type[Broker]]:
    client = importlib.import_module(f"{BROKER_FACTORIES[venue]}.client")
    return [cls for _, cls in inspect.getmembers(client, inspect.isclass)
            if issubclass(cls, Broker) and cls.__module__ == client.__name__]


@pytest.mark.parametrize("venue", sorted(BROKER_FACTORIES))
def test_every_venue_has_the_module_set(venue: str) -> None:
    folder = package_dir(venue)
    wanted = list(MODULE_SET)
    if any(StreamChannel.BOOK in cls.stream_channels for cls in broker_classes(venue)):
        wanted.append(DEPTH_MODULE)
    missing = [name for name in wanted if not (folder / name).is_file()]
    assert not missing, f"brokers/{folder.name} lacks {', '.join(missing)} (see brokers/README.md)"


@pytest.mark.parametrize("venue", sorted(BROKER_FACTORIES))
def test_the_venue_name_is_defined_once_in_constants(venue: str) -> None:
    folder = package_dir(venue)
    defining = sorted(path.name for path in folder.glob("*.py")
                      if re.search(r"^VENUE\b.*=", path.read_text(), flags=re.MULTILINE))
    assert defining == ["constants.py"], f"brokers/{folder.name}: VENUE is defined in {defining}"
    assert importlib.import_module(f"{BROKER_FACTORIES[venue]}.constants").VENUE == venue


@pytest.mark.parametrize("venue", sorted(BROKER_FACTORIES))
def test_the_client_defines_exactly_one_broker(venue: str) -> None:
    assert len(broker_classes(venue)) == 1
