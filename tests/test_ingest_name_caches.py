"""The per-name caches of the ingest path (lifecycle phases, name outcomes) hold short names only: the name is
the client's, so a cache keyed on names of any length would keep whatever a client sends (4,096 distinct
100 KB names grew a server by ~780 MiB)."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from ingest import lifecycle, outcome
from ingest.lifecycle import CACHED_NAME_MAX, FINISHED, SUCCEEDED, phase_of
from ingest.outcome import FAILURE, SUCCESS, outcome_of


def test_a_long_name_is_judged_but_not_cached() -> None:
    long_phase = "n" * 100_000 + ".execution.fulfilled"
    long_failure = "x" * 100_000 + ".failed"
    lifecycle._cached_phase_of.cache_clear()
    outcome._cached_name_outcome.cache_clear()

    assert phase_of(long_phase) == ("N" * 100_000, SUCCEEDED, FINISHED)
    assert outcome_of(long_failure, None) == FAILURE
    assert lifecycle._cached_phase_of.cache_info().currsize == 0
    assert outcome._cached_name_outcome.cache_info().currsize == 0

    short = "n" * (CACHED_NAME_MAX - len(".execution.fulfilled")) + ".execution.fulfilled"
    assert phase_of(short) == phase_of(short)
    assert outcome_of("node.execution.fulfilled", None) == SUCCESS
    assert lifecycle._cached_phase_of.cache_info().currsize == 1
    assert lifecycle._cached_phase_of.cache_info().hits == 1
    assert outcome._cached_name_outcome.cache_info().currsize == 1


def test_many_distinct_long_names_leave_no_memory_behind() -> None:
    # Only what this file and the ingest package allocate counts: tracemalloc sees every thread, and a client
    # SDK's exporter thread left by an earlier test may allocate (and log) while the names are judged.
    here = tracemalloc.Filter(True, __file__)
    ingest = tracemalloc.Filter(True, str(Path(lifecycle.__file__).parent / "*"))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot().filter_traces([here, ingest])
        for n in range(200):  # 200 x 10 KB names: 2 MB if they were kept
            name = f"{n}{'a' * 10_000}.execution.failed"
            phase_of(name)
            outcome_of(name, None)
            del name
        gc.collect()
        after = tracemalloc.take_snapshot().filter_traces([here, ingest])
    finally:
        tracemalloc.stop()
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert kept < 200_000
