"""bfloat16 on any CPU: a one-batch probe decides, and every entry point says so in one line.

``ONEDNN_MAX_CPU_ISA=AVX2`` makes oneDNN behave as on a laptop with AVX2 alone: no bfloat16
LSTM kernel, so the first bf16 forward pass dies with "could not create a primitive
descriptor for the LSTM forward propagation primitive", although this machine's CPU flags
(``avx512_bf16``) say yes. oneDNN reads the variable once, so those cases run in
subprocesses: ``train()``, the command line, the benchmark's decision, and torchrun with
one process on each kind of CPU.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import lstm_helpers as lh
from lstm_helpers.precision import autocast_problem

REPO = Path(__file__).resolve().parents[1]
AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
ONEDNN_FAILURE = "could not create a primitive descriptor for the LSTM forward propagation"


def run_python(code: str, env: dict | None = None, *args: str,
               timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *(["-c", textwrap.dedent(code)] if code else []),
                           *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "TQDM_DISABLE": "1", **(env or {})})


def test_the_probe_leaves_the_model_its_gradients_and_the_generators_alone():
    model = lh.LSTMModel(28, 16, 2, 10).eval()
    called = []
    model.lstm.register_forward_hook(lambda *args: called.append("hook"))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    rng = torch.get_rng_state()
    with torch.inference_mode():  # the probe needs gradients: it turns them on for itself
        problem = autocast_problem(model, torch.bfloat16)
    assert problem is None or isinstance(problem, str)
    assert torch.equal(torch.get_rng_state(), rng)
    assert not model.training and called == []  # the model's own hooks are not run
    for name, parameter in model.named_parameters():
        assert parameter.grad is None and torch.equal(parameter, before[name]), name
    with pytest.raises(ValueError, match="autocast_dtype must be None"):
        autocast_problem(model, torch.float16)


def test_a_model_that_fails_in_float32_too_gets_its_own_error():
    """Not a precision problem: the probe does not hide a broken model behind "bf16"."""
    broken = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(5, 10))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        autocast_problem(broken, torch.bfloat16)


@pytest.fixture(scope="module")
def on_an_avx2_cpu() -> list[str]:
    """What train(), evaluate() and the benchmark say where bf16 LSTMs fail: one process
    (starting PyTorch costs seconds), one output line per case."""
    done = run_python("""
        import torch, lstm_helpers as lh
        from benchmarks.speed import Bench
        images, labels = torch.rand(200, 28, 28), torch.randint(0, 10, (200,))
        batches = lh.TensorBatches(images, labels, 50)

        def fit(model, dtype):
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
            return lh.train(model, torch.nn.CrossEntropyLoss(), optimizer, batches, batches,
                            n_iters=4, eval_every=4, log=None, progress=False,
                            autocast_dtype=dtype)

        model = lh.LSTMModel(28, 16, 1, 10)
        for call in (lambda: fit(model, torch.bfloat16),
                     lambda: lh.evaluate(model, batches, autocast_dtype=torch.bfloat16)):
            try:
                call()
                print("no error")
            except lh.UnsupportedPrecisionError as error:
                print("ERROR", error)
        assert all(p.grad is None for p in model.parameters())  # nothing trained
        fit(model, None)                                        # float32 still trains
        fit(lh.RNNModel(28, 16, 1, 10), torch.bfloat16)         # oneDNN has bf16 RNNs
        print("float32 and the bf16 RNN trained")
        bench = Bench(torch.device("cpu"), None, 0, print)
        print(bench.bf16_problem("AC"))
        bench.warm_up(bf16=False)  # what the benchmark then runs: float32 only
    """, AVX2)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_train_and_evaluate_raise_one_clear_error_where_bf16_fails(on_an_avx2_cpu):
    lines = on_an_avx2_cpu
    assert len(lines) == 4 and lines[0] == lines[1], lines
    assert lines[0] == (
        "ERROR bfloat16 mixed precision does not work for this model on this CPU: one forward "
        f"and backward pass in bfloat16 failed ({ONEDNN_FAILURE} primitive). Train in float32: "
        "leave out autocast_dtype (or pass autocast_dtype=None).")
    assert lines[2] == "float32 and the bf16 RNN trained"


def test_the_benchmark_says_why_it_skips_its_bf16_stages(on_an_avx2_cpu):
    assert on_an_avx2_cpu[3] == (f"Model A failed one bfloat16 step on cpu: {ONEDNN_FAILURE} "
                                 "primitive")


def test_the_command_line_ends_with_one_line_and_status_2_before_reading_data(tmp_path):
    env = {**AVX2, "LSTM_HELPERS_DATA": str(tmp_path / "no-data-here")}
    done = run_python("", env, "-m", "lstm_helpers", "train", "--model", "B", "--bf16",
                      "--device", "cpu")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "python -m lstm_helpers train: error: argument --bf16: bfloat16 mixed precision does "
        "not work for this model on this CPU: one forward and backward pass in bfloat16 "
        f"failed ({ONEDNN_FAILURE} primitive): run in float32, without --bf16 (see python -m "
        "lstm_helpers train --help)"]
    assert not (tmp_path / "no-data-here").exists()


# One process on a CPU with bfloat16 LSTM kernels, the other on one without (as on two
# machines of a cluster): the verdict must be the same everywhere, or rank 0 would start
# training and wait forever for the other in DDP's first all-reduce.
MIXED_CLUSTER = """
import os, sys
if os.environ["RANK"] == "1":
    os.environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"  # before torch loads oneDNN
from lstm_helpers.cli import main
sys.exit(main())
"""


@pytest.mark.slow  # torchrun and two processes: about 20 s
def test_under_torchrun_every_rank_decides_the_same(tmp_path):
    script = tmp_path / "mixed_cluster.py"
    script.write_text(MIXED_CLUSTER)
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--rdzv-backend=c10d",
         "--rdzv-endpoint=127.0.0.1:0", "--local-addr=127.0.0.1", "--nproc-per-node=2",
         str(script), "train", "--model", "A", "--bf16", "--device", "cpu", "--iters", "20",
         "--subset", "2000"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TQDM_DISABLE": "1", "PYTHONPATH": str(REPO)})
    assert done.returncode != 0
    assert "LSTM A:" not in done.stdout and "Iteration" not in done.stdout  # never trained
    errors = [line for line in done.stderr.splitlines() if "argument --bf16" in line]
    assert len(errors) == 1, done.stderr  # said once, by rank 0
    assert "failed (it failed on the process of rank 1): run in float32, without --bf16" \
        in errors[0]
    # torchrun reports the failed workers with a traceback of its own; none from the course.
    assert not [line for line in done.stderr.splitlines()
                if line.strip().startswith("File ") and "lstm_helpers" in line]
