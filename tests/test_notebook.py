"""Notebook integration of the package: progress bars and the short display of its errors.

The notebook side runs in a real Jupyter kernel: one small notebook executed by nbclient,
a frontend that stores outputs exactly as JupyterLab saves them (display outputs updated in
place through their display id). The rest runs in this process (no IPython): the terminal
progress bar and the rule that says which errors are the course's own.
"""

from __future__ import annotations

import re

import nbformat
import pytest
import torch
from nbclient import NotebookClient
from tqdm.std import tqdm

import lstm_helpers as lh
from lstm_helpers import notebook as nb_errors
from lstm_helpers.progress import NotebookTextBar, in_notebook, progress_bar

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

#: One cell per case; the kernel runs them in order (errors do not stop the run).
CELLS = {
    "bar": "import os, time\nimport lstm_helpers as lh\n"
           "os.environ['TQDM_DISABLE'] = '1'  # a notebook's bar does not depend on it\n"
           "bar = lh.progress_bar(total=12, desc='training')\n"
           "for step in range(12):\n    time.sleep(0.05)\n    bar.update()\n"
           "    if step == 5:\n        print('halfway')\nbar.close()",
    "no_bar": "for _ in lh.progress_bar(range(3), disable=True):\n    pass",
    "course_error": "x = 1\nlh.resolve_root(os.devnull)",
    "tb_magic": "%tb",
    "argument_error": "lh.LSTMModel(input_dim=28, hidden_dim=0, layer_dim=1, output_dim=10)",
    "torch_error": "import torch\ntorch.zeros(2) @ torch.zeros(3)",
    "user_error": "raise ValueError('my own error')",
    "reimport": "import importlib\nimportlib.reload(lh)\nprint(get_ipython().custom_exceptions)",
    "still_short": "lh.resolve_root(os.devnull)",
    "full_by_env": "%env LSTM_HELPERS_TRACEBACK=full\nlh.resolve_root(os.devnull)",
}


@pytest.fixture(scope="module")
def executed():
    """The cells above run in one fresh kernel; their outputs by case name."""
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in CELLS.values()])
    NotebookClient(notebook, kernel_name="python3", allow_errors=True, timeout=300).execute()
    return dict(zip(CELLS, (cell.outputs for cell in notebook.cells), strict=True))


def _error(outputs) -> tuple[str, str, list[str]]:
    """(ename, evalue, traceback lines without colours) of the cell's one error output."""
    errors = [o for o in outputs if o.output_type == "error"]
    assert len(errors) == 1, outputs
    lines = ANSI.sub("", "\n".join(errors[0].traceback)).splitlines()
    return errors[0].ename, errors[0].evalue, lines


def test_a_notebook_bar_is_one_text_line_left_in_its_final_state(executed):
    outputs = executed["bar"]
    assert [o.output_type for o in outputs] == ["display_data", "stream"]
    bar, log = outputs
    assert set(bar.data) == {"text/plain"} and WIDGET_VIEW not in bar.data
    assert re.fullmatch(r"training: 100%\|█{10}\| 12/12 \[\d\d:\d\d<00:00, +[\d.]+it/s\]",
                        bar.data["text/plain"]), bar.data["text/plain"]
    assert log.text == "halfway\n"  # the log prints below the bar, not into it
    assert executed["no_bar"] == []


def test_the_course_error_shows_as_its_message_and_where_it_was_called(executed):
    ename, evalue, lines = _error(executed["course_error"])
    assert ename == "MNISTDataError" and "is not a folder" in evalue
    assert lines[0] == f"MNISTDataError: {evalue}"
    assert len(lines) == 2, lines  # no traceback through the package
    assert lines[1].startswith("(raised by lstm_helpers, called from Cell In[")
    assert "line 2: lh.resolve_root(os.devnull)" in lines[1] and "%tb" in lines[1]

    ename, evalue, lines = _error(executed["argument_error"])
    assert (ename, evalue) == ("ValueError", "hidden_dim must be a positive integer, got 0")
    assert lines[0] == f"ValueError: {evalue}" and len(lines) == 2


def test_tb_shows_the_full_traceback_of_the_last_course_error(executed):
    ename, _, lines = _error(executed["tb_magic"])
    assert ename == "MNISTDataError"
    assert any("download.py" in line for line in lines)  # through the package, in full
    assert any("Traceback (most recent call last)" in line for line in lines)


def test_other_errors_keep_the_full_traceback(executed):
    for case, ename in (("torch_error", "RuntimeError"), ("user_error", "ValueError")):
        found, _, lines = _error(executed[case])
        assert found == ename
        assert any("Traceback (most recent call last)" in line for line in lines), case
        assert not any("raised by lstm_helpers" in line for line in lines), case


def test_the_handler_survives_a_reimport_and_the_environment_switches_it_off(executed):
    assert "ValueError" in executed["reimport"][0].text
    assert len(_error(executed["still_short"])[2]) == 2
    _, _, lines = _error(executed["full_by_env"])
    assert any("Traceback (most recent call last)" in line for line in lines)


def test_outside_a_notebook_the_bar_is_tqdm_on_stderr_hidden_by_tqdm_disable(monkeypatch,
                                                                            capsys):
    assert not in_notebook()
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    with progress_bar(total=3, desc="training", mininterval=0) as bar:
        assert type(bar) is tqdm and not isinstance(bar, NotebookTextBar)
        bar.update(3)
    assert "training: 100%" in capsys.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    with progress_bar(total=3) as bar:
        bar.update(3)
    assert progress_bar(total=3).disable
    assert capsys.readouterr().err == ""


def _raise_from_torch():
    return torch.zeros(2) @ torch.zeros(3)


def test_a_course_error_is_one_raised_by_a_raise_statement_of_the_package():
    with pytest.raises(lh.MNISTDataError) as raised:
        lh.resolve_root(__file__)
    assert nb_errors.is_course_error(raised.value)
    with pytest.raises(ValueError) as raised:
        lh.LSTMModel(input_dim=28, hidden_dim=-1, layer_dim=1, output_dim=10)
    assert nb_errors.is_course_error(raised.value)
    with pytest.raises(RuntimeError) as raised:
        _raise_from_torch()
    assert not nb_errors.is_course_error(raised.value)  # raised inside PyTorch
    with pytest.raises(ValueError) as raised:
        raise ValueError("user code")
    assert not nb_errors.is_course_error(raised.value)


def test_outside_ipython_nothing_is_installed():
    assert nb_errors.install_short_errors() is False
