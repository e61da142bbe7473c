"""Issue 17: the disk cache of the monthly matrices P = expm(Q/12) (ability.matrix_cache) gives the
computed matrices bit for bit, ignores and rewrites a damaged file, and can be turned off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from agingsim.ability import build_ability_model, intensities
from agingsim.ability.matrix_cache import MAGIC, cache_dir, cached_matrices, matrix_key
from agingsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
CHINA = ROOT / "scenarios" / "validation" / "china_2020.toml"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder of the test's own."""
    monkeypatch.setenv("AGINGSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("AGINGSIM_NO_CACHE", raising=False)
    return tmp_path / "matrices"


def _tables(model) -> list[bytes]:
    return [a.tobytes() for a in (model.monthly, model.stay, model.cumulative, model.order)]


def _q(tiny_scenario) -> np.ndarray:
    return build_ability_model(tiny_scenario).intensities


def test_a_hit_gives_the_computed_model_bit_for_bit(cache, tiny_scenario, monkeypatch):
    monkeypatch.setenv("AGINGSIM_NO_CACHE", "1")
    computed = build_ability_model(tiny_scenario)
    monkeypatch.delenv("AGINGSIM_NO_CACHE")
    miss = build_ability_model(tiny_scenario)
    assert len(list(cache.glob("*.npy"))) == 1
    hit = build_ability_model(tiny_scenario)
    assert _tables(computed) == _tables(miss) == _tables(hit)


def test_a_hit_does_not_compute(cache, tiny_scenario, monkeypatch):
    calls = []

    def monthly(q: np.ndarray) -> np.ndarray:
        calls.append(1)
        return intensities.monthly_matrices(q)

    q = _q(tiny_scenario)
    first, second = cached_matrices(q, monthly), cached_matrices(q, monthly)
    assert len(calls) == 1 and first.tobytes() == second.tobytes()
    monkeypatch.setenv("AGINGSIM_NO_CACHE", "1")
    cached_matrices(q, monthly)
    assert len(calls) == 2


def test_calendar_time_tables_hit_bit_for_bit(cache, monkeypatch):
    """The stacked path (one set of tables per run year under calendar-time mortality)."""
    scenario = load_scenario(CHINA).with_run(years=3)
    monkeypatch.setenv("AGINGSIM_NO_CACHE", "1")
    computed = build_ability_model(scenario)
    monkeypatch.delenv("AGINGSIM_NO_CACHE")
    miss, hit = build_ability_model(scenario), build_ability_model(scenario)
    assert list(cache.glob("*.npy"))
    for year in computed.by_year:
        assert _tables(computed.for_year(year)) == _tables(miss.for_year(year)) == _tables(hit.for_year(year))


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"",  # empty
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-1] + bytes([data[-1] ^ 1]),  # one bit of P flipped
        lambda data: b"not a cache file" + data[16:],  # someone else's file
    ],
    ids=["empty", "truncated", "bit-flip", "magic"],
)
def test_a_damaged_file_is_ignored_and_rewritten(cache, tiny_scenario, damage):
    q = _q(tiny_scenario)
    good = intensities.monthly_matrices(q)
    path = cache / f"{matrix_key(q, intensities.monthly_matrices)}.npy"
    assert path.is_file()
    whole = path.read_bytes()
    path.write_bytes(damage(whole))
    assert cached_matrices(q, intensities.monthly_matrices).tobytes() == good.tobytes()
    assert path.read_bytes() == whole  # rewritten


def test_a_file_of_another_shape_is_not_used(cache, tiny_scenario):
    q = _q(tiny_scenario)
    path = cache / f"{matrix_key(q, intensities.monthly_matrices)}.npy"
    other = q[:-1]  # one age fewer: written under its own key, then copied over q's
    cached_matrices(other, intensities.monthly_matrices)
    path.write_bytes((cache / f"{matrix_key(other, intensities.monthly_matrices)}.npy").read_bytes())
    assert cached_matrices(q, intensities.monthly_matrices).shape == q.shape


def test_the_key_follows_q_and_the_computation(tiny_scenario, monkeypatch):
    """Q's last bit, the function asked for, and the code of what it calls (here expm replaced)."""
    q = _q(tiny_scenario)
    nudged = q.copy()
    nudged[0, 0, 0, 1] = np.nextafter(nudged[0, 0, 0, 1], 1.0)
    key = matrix_key(q, intensities.monthly_matrices)
    assert key == matrix_key(q.copy(), intensities.monthly_matrices)
    assert key != matrix_key(nudged, intensities.monthly_matrices)
    assert key != matrix_key(q, intensities.monthly_matrices_stacked)
    monkeypatch.setattr(intensities, "expm", lambda a: a)
    assert key != matrix_key(q, intensities.monthly_matrices)


def test_off_by_environment_writes_nothing(cache, tiny_scenario, monkeypatch):
    monkeypatch.setenv("AGINGSIM_NO_CACHE", "1")
    assert cache_dir() is None
    build_ability_model(tiny_scenario)
    assert not cache.exists()


def test_an_unwritable_cache_is_skipped(tmp_path, tiny_scenario, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("AGINGSIM_CACHE_DIR", str(blocker))
    monkeypatch.setenv("AGINGSIM_NO_CACHE", "1")
    computed = build_ability_model(tiny_scenario)
    monkeypatch.delenv("AGINGSIM_NO_CACHE")
    assert _tables(build_ability_model(tiny_scenario)) == _tables(computed)


def test_the_default_folder_is_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("AGINGSIM_CACHE_DIR", raising=False)
    monkeypatch.delenv("AGINGSIM_NO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert cache_dir() == tmp_path / "agingsim" / "matrices"
    assert MAGIC.startswith(b"agingsim")


def test_a_repeat_run_does_not_import_scipy_linalg(cache):
    """What the cache is for: the second process builds the model without scipy.linalg."""
    code = (
        "import sys\n"
        "from agingsim.ability import build_ability_model\n"
        "from agingsim.scenario import load_scenario\n"
        f"build_ability_model(load_scenario({str(ROOT / 'tests' / 'data' / 'tiny.toml')!r}))\n"
        "print('scipy.linalg' in sys.modules)\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert [r.stdout.strip() for r in runs] == ["True", "False"]


def test_the_folder_is_kept_small(cache, tiny_scenario, monkeypatch):
    from agingsim.ability import matrix_cache

    monkeypatch.setattr(matrix_cache, "MAX_FILES", 3)
    q = _q(tiny_scenario)
    for k in range(6):
        cached_matrices(q * (1.0 + k / 100), intensities.monthly_matrices)
    assert 1 <= len(list(cache.glob("*.npy"))) <= 3
    assert (cache / f"{matrix_key(q * 1.05, intensities.monthly_matrices)}.npy").is_file()  # the newest
    assert not list(cache.glob(".tmp-*"))
