"""The per-key nonce: never reused, never backwards -- across threads, processes, restarts and clock steps.

A "venue" here is the rule Kraken applies with a nonce window of 0: a request is accepted only if its
nonce is above the last accepted one. Requests sent inside a `lease` must always be accepted.
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import threading
from pathlib import Path

import attrs
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.kraken import constants
from brokers.kraken.nonce import DURABLE_RESERVE, FileNonce, default_directory, key_id
from protocol.errors import BrokerError

KEY = "public-api-key-for-tests"


@attrs.define
class FakeClock:
    now: int = 1_700_000_000_000_000

    def __call__(self) -> int:
        return self.now


@attrs.define
class ModelVenue:
    """Kraken's nonce check with the key's nonce window at 0."""

    last: int = 0
    refused: int = 0

    def receive(self, nonce: int) -> bool:
        if nonce <= self.last:
            self.refused += 1
            return False
        self.last = nonce
        return True


def test_first_nonce_is_the_clock_and_then_strictly_increasing(tmp_path: Path) -> None:
    clock = FakeClock()
    source = FileNonce.for_key(KEY, tmp_path, clock=clock)
    assert source.next_nonce() == clock.now
    assert source.next_nonce() == clock.now + 1  # same microsecond: last + 1
    clock.now += 1_000
    assert source.next_nonce() == clock.now
    clock.now -= 10_000_000  # an NTP step back
    assert source.next_nonce() == source.last() == clock.now + 10_000_000 + 1


def test_a_restart_continues_above_the_last_nonce_even_with_the_clock_behind(tmp_path: Path) -> None:
    clock = FakeClock()
    first = FileNonce.for_key(KEY, tmp_path, clock=clock)
    issued = [first.next_nonce() for _ in range(5)]
    clock.now -= 3_600_000_000  # restarted an hour "earlier"
    restarted = FileNonce.for_key(KEY, tmp_path, clock=clock)
    assert restarted.next_nonce() == issued[0] + DURABLE_RESERVE > issued[-1]  # from the durable ceiling
    assert restarted.next_nonce() == issued[0] + DURABLE_RESERVE + 1


def test_keys_are_independent_and_the_key_is_not_written(tmp_path: Path) -> None:
    clock = FakeClock()
    one = FileNonce.for_key(KEY, tmp_path, clock=clock)
    other = FileNonce.for_key("another-key", tmp_path, clock=clock)
    assert one.next_nonce() == other.next_nonce() == clock.now
    assert one.path != other.path and key_id(KEY) in one.path.name
    assert all(KEY not in path.name and KEY not in path.read_text() for path in tmp_path.iterdir())


def test_raise_floor_moves_past_nonces_used_elsewhere(tmp_path: Path) -> None:
    clock = FakeClock()
    source = FileNonce.for_key(KEY, tmp_path, clock=clock)
    sdk_scale = clock.now * 100  # python-kraken-sdk counts in 1e-8 s
    source.raise_floor(sdk_scale)
    assert source.next_nonce() == sdk_scale + 1
    source.raise_floor(5)  # never lowers
    assert source.next_nonce() == sdk_scale + 2


def test_a_corrupt_state_file_is_refused_loudly(tmp_path: Path) -> None:
    source = FileNonce.for_key(KEY, tmp_path)
    source.path.write_text("12ab")
    with pytest.raises(BrokerError, match="corrupt"):
        source.next_nonce()


def test_the_nonce_cannot_pass_uint64(tmp_path: Path) -> None:
    source = FileNonce.for_key(KEY, tmp_path, clock=FakeClock(constants.NONCE_MAX))
    assert source.next_nonce() == constants.NONCE_MAX
    with pytest.raises(BrokerError, match="2\\*\\*64"):
        source.next_nonce()
    assert source.last() == constants.NONCE_MAX


def test_default_directory_follows_algotrendy_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALGOTRENDY_HOME", str(tmp_path))
    assert default_directory() == tmp_path / "nonce"
    monkeypatch.delenv("ALGOTRENDY_HOME")
    assert default_directory() == Path.home() / ".algotrendy" / "nonce"


def test_the_state_file_is_durable_by_default(tmp_path: Path) -> None:
    source = FileNonce.for_key(KEY, tmp_path, clock=FakeClock())
    assert source.fsync
    nonce = source.next_nonce()
    assert source.path.read_text() == f"{nonce} {nonce + DURABLE_RESERVE}"  # the last nonce, the durable ceiling
    assert not list(tmp_path.glob("*.tmp"))  # the temporary file was renamed over the state
    source.path.write_text(str(nonce + 5))  # a state written by an older version: one number
    assert source.next_nonce() == nonce + 6


@attrs.define
class Recording(FileNonce):
    """Remembers what a power cut would leave: the state as last written with an fsync."""

    durable: list[str] = attrs.field(factory=list)

    def _write(self, value: int, ceiling: int, *, durable: bool) -> None:
        super()._write(value, ceiling, durable=durable)
        if durable:
            self.durable.append(f"{value} {ceiling}")


def recording(directory: Path, clock: FakeClock, durable: list[str], *, fsync: bool = True) -> Recording:
    return Recording(FileNonce.for_key(KEY, directory).path, clock=clock, fsync=fsync, durable=durable)


def test_one_fsync_per_ten_seconds_of_traffic_and_a_power_cut_reuses_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    source = recording(tmp_path, clock, [])
    issued = []
    for _ in range(100):  # 100 calls over 9.9 s: the first moved the ceiling, the others were page-cache writes
        issued.append(source.next_nonce())
        clock.now += 99_000
    assert len(source.durable) == 1
    source.path.write_text(source.durable[-1])  # the power cut: the un-synced last value is lost
    clock.now -= 60_000_000  # and the clock came back a minute behind
    after = FileNonce.for_key(KEY, tmp_path, clock=clock)
    assert after.next_nonce() > max(issued)


_OPERATIONS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.integers(1, 5)),
    st.tuples(st.just("clock"), st.integers(-10**9, 10**9)),  # jumps either way, up to 1000 s
    st.tuples(st.just("restart"), st.just(0)),
    st.tuples(st.just("power_cut"), st.just(0)),  # the file reverts to its last durable state, then a restart
    st.tuples(st.just("floor"), st.integers(0, 10**9)),
), max_size=40)


@given(operations=_OPERATIONS)
@settings(max_examples=60)
def test_property_never_reused_never_backwards(tmp_path_factory: pytest.TempPathFactory,
                                               operations: list[tuple[str, int]]) -> None:
    directory = tmp_path_factory.mktemp("nonce")
    clock = FakeClock()
    durable: list[str] = []
    source = recording(directory, clock, durable, fsync=False)
    venue = ModelVenue()
    issued: list[int] = []
    for operation, argument in operations:
        if operation == "issue":
            for _ in range(argument):
                with source.lease() as nonce:
                    assert venue.receive(nonce)
                    issued.append(nonce)
                    assert nonce >= clock.now
        elif operation == "clock":
            clock.now = max(1, clock.now + argument)
        elif operation == "restart":
            source = recording(directory, clock, durable, fsync=False)
        elif operation == "power_cut":
            if durable:
                source.path.write_text(durable[-1])
            source = recording(directory, clock, durable, fsync=False)
        else:
            source.raise_floor(venue.last + argument)
    assert issued == sorted(set(issued))
    assert venue.refused == 0


def test_threads_sharing_a_key_never_collide(tmp_path: Path) -> None:
    venue = ModelVenue()
    venue_lock = threading.Lock()
    results: list[list[int]] = [[] for _ in range(8)]

    def worker(index: int) -> None:
        source = FileNonce.for_key(KEY, tmp_path, fsync=False)  # each thread its own object, one key
        for _ in range(100):
            with source.lease() as nonce:
                with venue_lock:
                    assert venue.receive(nonce)
                results[index].append(nonce)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [nonce for result in results for nonce in result]
    assert len(set(everything)) == len(everything) == 800
    assert all(result == sorted(result) for result in results)
    assert venue.refused == 0


def _process_worker(directory: str, log: str, count: int, seed: int) -> None:
    """Run in a child process: issue nonces and "send" each (append to the shared log) under the lease."""
    rng = random.Random(seed)
    source = FileNonce.for_key(KEY, Path(directory), fsync=False)
    for _ in range(count):
        with source.lease() as nonce, open(log, "a") as handle:
            handle.write(f"{nonce}\n")
            handle.flush()
        if rng.random() < 0.3:
            source = FileNonce.for_key(KEY, Path(directory), fsync=False)  # a "restart" mid-run


def test_processes_sharing_a_key_never_collide_and_arrive_in_order(tmp_path: Path) -> None:
    log = tmp_path / "venue.log"
    context = multiprocessing.get_context("fork")  # no re-import per child (spawn costs seconds each)
    processes = [context.Process(target=_process_worker, args=(str(tmp_path), str(log), 150, seed))
                 for seed in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    arrived = [int(line) for line in log.read_text().split()]
    assert len(arrived) == 450
    assert all(earlier < later for earlier, later in itertools.pairwise(arrived))  # the venue's view
    assert FileNonce.for_key(KEY, tmp_path).last() == arrived[-1]


async def test_async_leases_keep_venue_order_across_awaits(tmp_path: Path) -> None:
    venue = ModelVenue()
    rng = random.Random(7)

    async def client(source: FileNonce) -> None:
        for _ in range(20):
            async with source.lease_async() as nonce:
                await trio.sleep(rng.random() / 1000)  # the request in flight
                assert venue.receive(nonce)

    async with trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(client, FileNonce.for_key(KEY, tmp_path, fsync=False))
    assert venue.refused == 0 and venue.last == FileNonce.for_key(KEY, tmp_path).last()
