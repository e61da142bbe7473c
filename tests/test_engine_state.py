"""Issue 17: the packed engine state. Each person carries at most 32 bytes, and the packed state
code that the monthly transition looks up stays equal to (sex, level, months past 60) through
entry, transitions, ageing and the yearly compaction."""

from __future__ import annotations

import numpy as np
import pytest

from agingsim.ability.transitions import state_code
from agingsim.model import AgingModel
from agingsim.population.attributes import DEAD
from agingsim.population.people import People


def test_state_is_at_most_32_bytes_per_person():
    assert People.bytes_per_person() <= 32


def test_packed_codes_follow_age_sex_and_level_through_a_run(tiny_scenario):
    model = AgingModel(tiny_scenario.with_run(years=2))
    seen_dead = False
    for _ in range(model.n_months):
        model.step()
        p = model.people
        np.testing.assert_array_equal(p.code, state_code(model.code_span, p.age_m, p.sex, p.ability))
        seen_dead |= bool((p.ability == DEAD).any())
    assert seen_dead and model.people.layout >= 1  # deaths happened and rows were compacted


def test_the_dead_do_not_age_and_the_living_do(tiny_scenario):
    model = AgingModel(tiny_scenario.with_run(years=1))
    model.step()
    p = model.people
    pid, age, dead = p.pid.copy(), p.age_m.copy(), p.ability == DEAD
    model.step()
    q = model.people
    same = q.pid[: len(pid)] == pid
    assert same.all()
    after = q.age_m[: len(pid)]
    still_dead = dead & (q.ability[: len(pid)] == DEAD)
    np.testing.assert_array_equal(after[still_dead], age[still_dead])
    alive = q.ability[: len(pid)] != DEAD
    np.testing.assert_array_equal(after[alive], age[alive] + 1)


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_compaction_keeps_the_live_rows_in_order_with_all_their_fields(threads, monkeypatch):
    """Issue 17: People.compact moves only the rows after the first one dropped, its fields split
    between threads; every field of every row kept must equal a plain boolean mask of the arrays,
    whatever the number of threads, with and without leading kept rows."""
    import agingsim.population.people as people_mod

    monkeypatch.setenv("AGINGSIM_THREADS", threads)
    monkeypatch.setattr(people_mod, "MIN_CHUNK", 50)  # small tables split between threads too
    rng = np.random.default_rng(3)
    for n, lead in ((0, 0), (5, 0), (40, 4), (1000, 100), (1000, 0)):
        people = People(capacity=n)
        cols = {
            name: rng.integers(0, 100, n).astype(dt)
            for name, dt in people_mod.FIELDS.items()
            if name != "pid"
        }
        people.add(cols)
        keep = rng.random(n) < 0.8
        keep[:lead] = True  # a leading run that must stay where it is
        expected = {name: people._data[name][:n][keep].copy() for name in people_mod.FIELDS}
        # a later stage's arrays by row move with them (the care stage's packed columns)
        also = rng.integers(0, 2**63, n, dtype=np.int64).view(np.uint64), rng.random(n).astype(np.float32)
        want_also = [a[keep].copy() for a in also]
        layout = people.layout
        people.compact(keep, also=also)
        assert people.n == int(keep.sum()) and people.layout == layout + 1
        for name, want in expected.items():
            np.testing.assert_array_equal(getattr(people, name), want, err_msg=name)
        for a, want in zip(also, want_also, strict=True):
            np.testing.assert_array_equal(a[: people.n], want)
