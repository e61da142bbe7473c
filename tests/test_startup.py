"""Issue 17 (fast start): startup.shallow_inspect answers mesa's and salabim's stack look-ups from the
frames alone, with the same frames, files, lines, functions and modules as inspect itself."""

from __future__ import annotations

import inspect
import sys

import agingsim.model  # noqa: F401  (imports mesa under shallow_inspect, before anything else does)
from agingsim.startup import shallow_inspect


def _caller_view(stack):
    return [(f.frame, f.filename, f.lineno, f.function) for f in stack]


def test_stack_lists_the_same_frames_files_lines_and_functions():
    full = inspect.stack()[1:]  # [0] is this line in the real call, below is the shallow one's
    with shallow_inspect():
        shallow = inspect.stack()[1:]
        assert all(f.code_context is None for f in shallow)
    assert _caller_view(shallow) == _caller_view(full)


def test_getouterframes_and_getmodule_of_a_frame_agree_with_inspect():
    frame = inspect.currentframe()
    full = inspect.getouterframes(frame)
    with shallow_inspect():
        shallow = inspect.getouterframes(frame)
        module = inspect.getmodule(frame)
        assert inspect.getmodule(inspect) is inspect  # not a frame: inspect's own answer
    assert _caller_view(shallow[1:]) == _caller_view(full[1:])  # [0] is this frame, still running
    assert (shallow[0].frame, shallow[0].function) == (full[0].frame, full[0].function)
    assert module is sys.modules[__name__] is inspect.getmodule(frame)


def test_inspect_is_restored_after_the_block_even_on_error():
    before = inspect.stack, inspect.getouterframes, inspect.getmodule
    try:
        with shallow_inspect():
            assert inspect.stack is not before[0]
            with shallow_inspect():  # nested blocks re-enter
                pass
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert (inspect.stack, inspect.getouterframes, inspect.getmodule) == before


def test_mesa_names_its_module_logger_after_its_module():
    from mesa import mesa_logging

    assert "mesa.model" in mesa_logging._module_loggers
    assert mesa_logging._module_loggers["mesa.model"].name == f"{mesa_logging.LOGGER_NAME}.mesa.model"


def test_a_run_does_not_load_scipy_spatial_that_only_mesa_experimental_imports():
    """Issue 17: ``import mesa`` would load mesa.experimental → scipy.spatial (0.3–0.5 s of a city
    run's start) for classes agingsim never uses; they stay importable on first use."""
    import subprocess

    code = (
        "import sys, agingsim.model, agingsim.simulate, mesa\n"
        "assert 'scipy.spatial' not in sys.modules, 'scipy.spatial loaded'\n"
        "from mesa.experimental.continuous_space import ContinuousSpace\n"
        "assert 'scipy.spatial' in sys.modules and mesa.experimental.devs.ABMSimulator\n"
        "assert mesa.discrete_space.OrthogonalMooreGrid and mesa.space.MultiGrid\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_run_loads_neither_numpy_f2py_nor_mesa_batchrunner_and_both_still_work():
    """Issue 17: scipy.linalg's import copies every numpy submodule object (loading numpy.f2py) and
    mesa's __init__ imports its batch runner (tqdm.auto → asyncio); neither is used by a run. The
    placeholders run their module on first use: numpy.testing's functions, mesa.batch_run itself."""
    import subprocess

    code = (
        "import sys, agingsim.model, agingsim.simulate, mesa, numpy\n"
        "from agingsim.ability.intensities import expm\n"
        "assert expm(numpy.zeros((2, 2)))[0, 0] == 1.0 and 'scipy.linalg' in sys.modules\n"
        "unused = [m for m in ('numpy.f2py', 'mesa.batchrunner', 'tqdm.auto', 'asyncio')\n"
        "          if hasattr(sys.modules.get(m), '__file__') and not hasattr(sys.modules[m], '__getattr__')]\n"
        "assert not unused, unused\n"
        "assert callable(numpy.f2py.run_main) and 'numpy.f2py.f2py2e' in sys.modules\n"
        "from numpy.testing import assert_array_equal\n"
        "assert_array_equal(numpy.ones(2), numpy.ones(2))\n"
        "class M(mesa.Model):\n"
        "    def __init__(self, rng=None):\n"
        "        super().__init__(rng=rng)\n"
        "        self.datacollector = mesa.DataCollector(model_reporters={'steps': 'steps'})\n"
        "    def step(self):\n"
        "        self.datacollector.collect(self)\n"
        "out = mesa.batch_run(M, {}, iterations=1, max_steps=1, display_progress=False)\n"
        "assert len(out) == 1 and 'tqdm.auto' in sys.modules\n"
        "from mesa.batchrunner import batch_run\n"
        "assert batch_run is sys.modules['mesa.batchrunner'].batch_run and batch_run is not mesa.batch_run\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _run_as_the_process_command(args: list[str], shown: str) -> str:
    """``agingsim run ARGS`` as a fresh process's own command (cli.main() without an argv, as the
    ``agingsim`` script calls it), then the value of the expression ``shown`` in that process."""
    import subprocess

    code = (
        "import sys\n"
        "from agingsim.cli import main\n"
        f"sys.argv = ['agingsim', 'run', *{args!r}]\n"
        "assert main() == 0\n"
        f"print(repr(({shown})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_agingsim_run_freezes_its_start_up_objects_only_as_the_process_command(tmp_path):
    """Issue 17: ``agingsim run`` as the process's command collects nothing while it loads, then
    gc.freeze()s what it loaded (startup.frozen_start); called with an argv (tests, other code) it
    leaves the collector be, so a long-lived caller's garbage of earlier runs is never frozen."""
    import gc
    from pathlib import Path

    from agingsim.cli import main

    tiny = Path(__file__).parent / "data" / "tiny.toml"
    shown = _run_as_the_process_command(
        [str(tiny), "--years", "1", "--out", str(tmp_path / "a")],
        "__import__('gc').get_freeze_count() > 0 and __import__('gc').isenabled()",
    )
    assert shown == "True"
    before = gc.get_freeze_count()
    assert main(["run", str(tiny), "--years", "1", "--out", str(tmp_path / "b")]) == 0
    assert gc.get_freeze_count() == before


def test_frozen_start_restores_the_collector_even_on_error():
    import gc

    from agingsim.startup import frozen_start

    assert gc.isenabled()
    try:
        with frozen_start():
            assert not gc.isenabled()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()
    gc.disable()
    try:
        with frozen_start():
            pass
        assert not gc.isenabled()  # as it was
    finally:
        gc.enable()
    gc.unfreeze()  # this process is the test session: let the frozen objects be collected again


def test_agingsim_run_as_the_process_command_loads_pandas_without_pyarrow_and_writes_the_same(tmp_path):
    """Issue 17 (fast start): the one-shot ``agingsim run`` imports pandas with pyarrow hidden
    (startup.pandas_without_pyarrow: 0.06–0.1 s of a city run); its tables are byte-identical to
    those of the same run in a process where pandas has pyarrow (this test session's)."""
    from pathlib import Path

    import pandas as pd

    from agingsim.cli import main

    assert pd.options.mode.string_storage in ("auto", "pyarrow") and "pyarrow" in sys.modules
    scenario = Path(__file__).parents[1] / "scenarios" / "zhumadian_basic_services.toml"
    shown = _run_as_the_process_command(
        [str(scenario), "--years", "2", "--out", str(tmp_path / "a")],
        "'pyarrow' in sys.modules, 'pandas' in sys.modules",
    )
    assert shown == "(False, True)"
    assert main(["run", str(scenario), "--years", "2", "--out", str(tmp_path / "b")]) == 0
    tables = sorted(p.name for p in (tmp_path / "a").glob("*.csv"))
    assert len(tables) > 8 and tables == sorted(p.name for p in (tmp_path / "b").glob("*.csv"))
    for name in tables:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
