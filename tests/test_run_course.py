"""`make course` shows where it is: notebook, cells, the training bar, time so far and left.

The fast tests drive :class:`CourseProgress` with a clock of their own; the slow one runs
``scripts/run_course.py`` without a terminal (its output is a pipe, as in a log or CI) on a
small notebook that trains with the course's progress bar, and reads the status lines it
prints during that cell.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


course_progress = _load_script("course_progress")
run_course = _load_script("run_course")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_training_bar_is_read_from_the_notebook_output():
    read = course_progress.read_bar
    assert read("training:  45%|████▌     | 1350/3000 [00:14<00:17, 95.12it/s]") == \
        ("training", 1350, 3000)
    assert read("\r 10%|█         | 1/10 [00:01<00:09]\r 20%|██        | 2/10 [00:02<00:08]") \
        == ("progress", 2, 10)
    assert read("Iteration: 500. Loss: 0.2. Accuracy: 95.1") is None


def test_the_first_run_has_no_estimate_and_records_every_cell(tmp_path):
    times = course_progress.RecordedTimes(tmp_path / "times.json")
    clock = Clock()
    progress = course_progress.CourseProgress(["notebooks/01_a.py", "notebooks/02_b.py"],
                                              times, stream=io.StringIO(), clock=clock)
    progress.start_notebook("notebooks/01_a.py", 2)
    progress.start_cell()
    clock.now += 5
    progress.output("training:  40%|████      | 400/1000 [00:05<00:07, 80it/s]")
    assert progress.status() == ("01_a (1/2): 0/2 cells done, training 400/1000, 5 s so far, "
                                 "no estimate yet (the first run here records the times)")
    progress.end_cell()
    progress.start_cell()
    clock.now += 70
    progress.end_cell()
    assert progress.end_notebook() == 75
    saved = json.loads((tmp_path / "times.json").read_text())
    assert saved == {"notebooks/01_a.py": {"seconds": 75, "cells": [5, 70]}}


def test_the_estimate_follows_the_previous_runs_cells(tmp_path):
    path = tmp_path / "times.json"
    path.write_text(json.dumps({"notebooks/01_a.py": {"seconds": 75, "cells": [5, 70]},
                                "notebooks/02_b.py": {"seconds": 100, "cells": [100]}}))
    clock = Clock()
    progress = course_progress.CourseProgress(
        ["notebooks/01_a.py", "notebooks/02_b.py", "notebooks/03_c.py"],
        course_progress.RecordedTimes(path), stream=io.StringIO(), clock=clock)
    assert progress.estimate() == (175, 1)  # 03_c was never timed here
    progress.start_notebook("notebooks/01_a.py", 2)
    progress.start_cell()
    clock.now += 2
    assert progress.estimate() == (3 + 70 + 100, 1)
    progress.end_cell()
    progress.start_cell()
    clock.now += 60
    assert progress.status().endswith("1:02 so far, about 1:50 left + 1 notebook not timed yet")
    clock.now += 30  # slower than last time: the cell's share is spent, not negative
    assert progress.estimate() == (100, 1)
    # A notebook whose cells changed since: its whole time minus the time spent in it.
    progress.start_notebook("notebooks/02_b.py", 3)
    clock.now += 40
    assert progress.estimate() == (60, 1)


def test_without_a_terminal_a_plain_line_comes_regularly(tmp_path):
    stream = io.StringIO()
    progress = course_progress.CourseProgress(
        ["notebooks/01_a.py"], course_progress.RecordedTimes(tmp_path / "t.json"),
        stream=stream, interactive=False, every=0.05)
    with progress:
        progress.start_notebook("notebooks/01_a.py", 1)
        progress.say("running notebooks/01_a.py (1/1)")
        import time
        time.sleep(0.3)
    lines = stream.getvalue().splitlines()
    assert "running notebooks/01_a.py (1/1)" in lines
    assert len([line for line in lines if line.startswith("01_a (1/1): 0/1 cells done")]) >= 2
    assert "\r" not in stream.getvalue() and "\x1b" not in stream.getvalue()


def test_in_a_terminal_one_line_is_redrawn_and_cleared_for_permanent_lines(tmp_path):
    stream = io.StringIO()
    progress = course_progress.CourseProgress(
        ["notebooks/01_a.py"], course_progress.RecordedTimes(tmp_path / "t.json"),
        stream=stream, interactive=True, every=3600)
    with progress:
        progress.start_notebook("notebooks/01_a.py", 1)
        progress.show()
        progress.say("notebooks/01_a.py:    1.0 s")
    text = stream.getvalue()
    assert text.count("\n") == 1  # only the permanent line ends a line
    assert "\r\x1b[Knotebooks/01_a.py:    1.0 s\n" in text
    assert text.endswith("\r\x1b[K")  # the status line is wiped at the end


def test_a_broken_times_file_only_costs_the_estimate(tmp_path):
    path = tmp_path / "times.json"
    path.write_text("{not json")
    times = course_progress.RecordedTimes(path)
    assert times.seconds("notebooks/01_a.py") is None and times.cells("x") == []
    times.record("notebooks/01_a.py", 3.14159, [3.14159])
    assert json.loads(path.read_text())["notebooks/01_a.py"] == {"seconds": 3.14,
                                                                "cells": [3.14]}


def test_the_final_table_lists_each_notebook_beside_its_previous_time():
    table = run_course.times_table({"notebooks/01_a.py": 49.1, "notebooks/02_b.py": 128.0},
                                   {"notebooks/01_a.py": 51.0, "notebooks/02_b.py": None})
    assert table.splitlines() == [
        "notebook            seconds  previous run",
        "notebooks/01_a.py      49.1          51.0",
        "notebooks/02_b.py     128.0             -",
        "all 2 notebooks: 177.1 s (2:57)"]


# A small LSTM whose batches come at most 100 a second: the training cell takes 4 s or more
# on any machine, long enough for several status lines.
TRAINING_NOTEBOOK = '''# %%
import time

import torch

import lstm_helpers as lh

torch.manual_seed(0)
images, labels = torch.rand(500, 28, 28), torch.randint(0, 10, (500,))
batches = lh.TensorBatches(images, labels, 50, shuffle=True)


class SlowBatches:
    def __iter__(self):
        for batch in batches:
            time.sleep(0.01)
            yield batch


model = lh.LSTMModel(28, 8, 1, 10)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

# %%
history = lh.train(model, torch.nn.CrossEntropyLoss(), optimizer, SlowBatches(), batches,
                   n_iters=400, eval_every=400)
'''


@pytest.mark.slow  # a real kernel trains for a few seconds
def test_run_course_without_a_terminal_shows_the_training_bar_during_the_cell(tmp_path):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "jupytext.toml", folder / "jupytext.toml")
    source = folder / "fixture.py"
    source.write_text(TRAINING_NOTEBOOK)
    times = tmp_path / "times.json"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_course.py"),
                           "--status-every", "0.5", "--times", str(times), str(source)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "\r" not in done.stdout and "\x1b" not in done.stdout  # plain lines in a log
    during = [re.match(r"fixture \(1/1\): 1/2 cells done, training (\d+)/400, .* so far, "
                       r"no estimate yet \(the first run here records the times\)$", line)
              for line in lines]
    counts = [int(found[1]) for found in during if found]
    assert len(counts) >= 2, done.stdout
    assert counts == sorted(counts) and counts[-1] > counts[0]
    assert any(0 < n < 400 for n in counts)
    assert re.fullmatch(rf"{re.escape(str(source))}: +\d+\.\d s", lines[-4])
    assert lines[-1].startswith("all 1 notebooks: ")
    recorded = json.loads(times.read_text())[str(source)]
    assert len(recorded["cells"]) == 2 and recorded["cells"][1] > 4.0


def test_make_install_says_what_it_does_before_each_step():
    """The first install takes minutes: no step may run silently (it was pip --quiet)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", "-B", ".venv/.installed"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0, dry.stderr
    commands = dry.stdout.splitlines()
    assert commands[0].startswith('echo ">>> make install: ') and "6 GB" in commands[0]
    for number, command in enumerate(commands):
        if " -m pip install" in command:
            assert commands[number - 1].startswith('echo ">>> '), command
    requirements = [c for c in commands if c.endswith("pip install -r requirements.txt")]
    assert len(requirements) == 1  # pip's own output shows each package as it comes
    assert 'echo ">>> creating .venv' in commands[1]
