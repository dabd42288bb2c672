"""The adaptive broker wait (worker.transport.FetchWait): pure policy."""

import pytest

from worker.settings import ConfigError, Settings
from worker.transport import FetchWait


def test_starts_at_the_floor_and_stays_there_while_fetches_return_records():
    w = FetchWait(10, 1500)
    assert w.wait_ms == 10
    assert [w.observe(True, True) for _ in range(50)] == [10] * 50


def test_empty_fetch_with_records_pending_doubles_up_to_the_ceiling():
    w = FetchWait(10, 1500)
    assert [w.observe(False, True) for _ in range(9)] == [20, 40, 80, 160, 320, 640, 1280, 1500, 1500]


def test_a_zero_floor_still_rises():
    w = FetchWait(0, 100)
    assert [w.observe(False, True) for _ in range(3)] == [1, 2, 4]


def test_raised_wait_is_kept_while_fetches_return_records():
    w = FetchWait(10, 1500)
    w.observe(False, True)
    w.observe(False, True)
    assert [w.observe(True, False) for _ in range(100)] == [40] * 100


def test_idle_fetches_lower_it_back_to_the_floor_after_a_run():
    w = FetchWait(10, 1500, idle_fetches_to_lower=4)
    for _ in range(3):
        w.observe(False, True)          # 80
    seen = [w.observe(False, False) for _ in range(12)]
    assert seen == [80, 80, 80, 40, 40, 40, 40, 20, 20, 20, 20, 10]
    assert [w.observe(False, False) for _ in range(8)] == [10] * 8


def test_records_or_pending_break_the_idle_run():
    w = FetchWait(10, 1500, idle_fetches_to_lower=3)
    w.observe(False, True)              # 20
    w.observe(False, False)
    w.observe(False, False)
    w.observe(True, False)              # a fetch with records: the run starts again
    assert [w.observe(False, False) for _ in range(3)] == [20, 20, 10]


@pytest.mark.parametrize("floor,ceiling", [(-1, 10), (20, 10)])
def test_invalid_bounds_are_refused(floor, ceiling):
    with pytest.raises(ValueError):
        FetchWait(floor, ceiling)


def test_settings_refuse_a_ceiling_below_the_floor():
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"GBV_FETCH_MAX_WAIT_MS": "200", "GBV_FETCH_WAIT_CEILING_MS": "100"})
    assert "GBV_FETCH_WAIT_CEILING_MS" in str(info.value)
    s = Settings.from_env({"GBV_FETCH_MAX_WAIT_MS": "5", "GBV_FETCH_WAIT_CEILING_MS": "900"})
    assert (s.fetch_max_wait_ms, s.fetch_wait_ceiling_ms) == (5, 900)
