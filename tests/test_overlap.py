"""AgingModel.run's overlap (each month's care stage on a second thread while the next month's
population step runs) gives the plain month-by-month run's results exactly.

The path is forced with ``overlap=`` (by default only runs large enough for the compiled kernels
take it); outputs are compared with ``==``, as same scenario + seed must give identical bytes.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from agingsim.model import AgingModel
from agingsim.population.people import FIELDS, People
from agingsim.scenario import load_scenario
from tests.conftest import ROOT
from tests.test_behaviour import BEHAVIOUR

SCHEMES = ROOT / "scenarios" / "zhumadian_basic_services.toml"


def _outputs(model: AgingModel) -> dict[str, object]:
    p = model.people
    out: dict[str, object] = {f: getattr(p, f).copy() for f in FIELDS}
    out["ledger"] = model.ledger.frame()
    out["collector"] = model.collector.population_frame()
    out["demography"] = model.collector.demography_frame()
    out["datacollector"] = model.datacollector.get_model_vars_dataframe()
    if model.care is not None:
        out.update({f"care.{k}": v for k, v in model.care.frames().items()})
    if model.person_schemes is not None:
        out["served"] = model.person_schemes.served_frame()
    if model.payment_bins is not None:
        out["bins"] = model.payment_bins
    return out


def _run(scenario, overlap: bool, **kw) -> dict[str, object]:
    model = AgingModel(scenario, overlap=overlap, **kw)
    assert model.overlap is overlap
    model.run()
    return _outputs(model)


def _assert_same(a: dict[str, object], b: dict[str, object]) -> None:
    assert a.keys() == b.keys()
    for k, x in a.items():
        y = b[k]
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), k
        elif hasattr(x, "equals"):
            assert x.equals(y), k
        else:  # the payment bins: (occupied, weight) per month
            assert len(x) == len(y), k
            for (o1, w1), (o2, w2) in zip(x, y, strict=True):
                assert np.array_equal(o1, o2) and np.array_equal(w1, w2), k


@pytest.mark.parametrize("compiled", [False, True])
def test_the_overlapped_run_is_the_plain_run(tiny_copy, compiled, monkeypatch):
    """The behaviour model's care stage, numpy or compiled (services.kernels), both ways."""
    from agingsim.services import care_system, kernels

    monkeypatch.setattr(care_system, "compiled_kernels", lambda model: kernels if compiled else None)
    tiny_copy("tiny.toml", 'ability_model = "', f'behaviour = "{BEHAVIOUR}"\nability_model = "')
    scenario = load_scenario(tiny_copy.scenario).with_run(years=3)
    plain, overlapped = _run(scenario, False), _run(scenario, True)
    _assert_same(plain, overlapped)
    assert plain["care.waiting"]["admissions"].sum() > 0  # queues and admissions were exercised


def test_the_overlapped_run_with_person_schemes_is_the_plain_run():
    """Person schemes count and pay from the care stage's output: the ledger rows, in order, the
    payment bins and the one-off payments are the same."""
    scenario = load_scenario(SCHEMES).with_run(simulated_people=6000, years=2)
    plain = _run(scenario, False, record_payments=True)
    overlapped = _run(scenario, True, record_payments=True)
    _assert_same(plain, overlapped)
    assert len(plain["ledger"]) > 0 and plain["ledger"]["amount_cny"].abs().sum() > 0


def test_no_overlap_without_a_care_stage_or_schemes(tiny_scenario):
    assert not AgingModel(tiny_scenario, overlap=True).overlap  # nothing to overlap with
    behaviour = load_scenario(SCHEMES).with_run(simulated_people=2000, years=1)
    assert not AgingModel(behaviour).overlap  # small runs stay sequential by default
    assert not AgingModel(replace(behaviour, behaviour=None), overlap=False).overlap


def test_a_view_of_the_rows_keeps_its_rows_and_copies():
    people = People(capacity=10)
    cols = {f: np.zeros(4, dt) for f, dt in FIELDS.items() if f != "pid"}
    people.add(cols)
    frozen = np.full(10, 3, np.int8)
    view = people.at(4, {"ability": frozen}, hidden=("code",))
    people.add({f: np.ones(2, dt) for f, dt in FIELDS.items() if f != "pid"})
    people.ability[:] = 1
    assert view.n == 4 and len(view.county) == 4  # the rows added since are not in the view
    assert (view.ability == 3).all()  # the copy, not the live levels
    view.care_setting[:] = 2  # other fields are the live arrays
    assert (people.care_setting[:4] == 2).all() and (people.care_setting[4:] == 1).all()
    with pytest.raises(AttributeError):
        _ = view.code
