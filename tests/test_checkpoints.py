"""Checkpoints: a round trip, refusal of unsafe or unfitting files, atomic saves, interrupts."""

import os
from pathlib import Path

import pytest
import torch
from torch import nn

import lstm_helpers as lh
from lstm_helpers import checkpoints


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _leftovers(folder):
    """Everything in folder but the finished checkpoint files (temporary files, say)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.endswith(".pt"))


@pytest.mark.parametrize("model", [lh.LSTMModel(28, 20, 2, 10),
                                   lh.RNNModel(28, 12, 1, 10, nonlinearity="relu")],
                         ids=["LSTMModel", "RNNModel"])
def test_a_model_comes_back_with_its_class_sizes_weights_and_metadata(tmp_path, model):
    path = lh.save_checkpoint(tmp_path / "model.pt", model, iteration=3000, accuracy=97.25,
                              notes={"seed": 0, "optimizer": "SGD"})
    assert path == tmp_path / "model.pt"
    loaded, metadata = lh.load_checkpoint(path)
    assert type(loaded) is type(model)
    assert loaded.hyperparameters() == model.hyperparameters()
    assert _same_weights(loaded, model)
    assert metadata == {"iteration": 3000, "accuracy": 97.25,
                        "notes": {"seed": 0, "optimizer": "SGD"}}
    x = torch.rand(5, 28, 28)
    assert torch.equal(loaded(x), model(x))
    assert _leftovers(tmp_path) == []
    assert (path.stat().st_mode & 0o777) == 0o666 & ~checkpoints._umask()


def test_weights_load_into_a_given_model_of_the_same_sizes(tmp_path):
    torch.manual_seed(0)
    trained = lh.LSTMModel(28, 16, 1, 10)
    lh.save_checkpoint(tmp_path / "a.pt", trained)
    fresh = lh.LSTMModel(28, 16, 1, 10)
    assert not _same_weights(fresh, trained)
    loaded, metadata = lh.load_checkpoint(tmp_path / "a.pt", model=fresh)
    assert loaded is fresh and metadata == {}
    assert _same_weights(fresh, trained)


@pytest.mark.parametrize("other, differences", [
    (lh.LSTMModel(28, 64, 2, 10), ["hidden_dim 100 (checkpoint) vs 64 (model)",
                                   "layer_dim 1 (checkpoint) vs 2 (model)"]),
    (lh.LSTMModel(28, 100, 1, 5), ["output_dim 10 (checkpoint) vs 5 (model)"]),
])
def test_a_checkpoint_of_other_sizes_is_refused_naming_each_size(tmp_path, other,
                                                                 differences):
    lh.save_checkpoint(tmp_path / "model_a.pt", lh.LSTMModel(28, 100, 1, 10))
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match="does not fit this LSTMModel") as info:
        lh.load_checkpoint(tmp_path / "model_a.pt", model=other)
    for difference in differences:
        assert difference in str(info.value)
    assert "input_dim" not in str(info.value)  # only the sizes that differ are listed
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())


def test_a_checkpoint_of_another_class_or_nonlinearity_is_refused(tmp_path):
    lh.save_checkpoint(tmp_path / "rnn.pt", lh.RNNModel(28, 100, 1, 10, nonlinearity="tanh"))
    with pytest.raises(lh.CheckpointError, match="holds RNNModel weights, but the model "
                                                 "passed is a LSTMModel"):
        lh.load_checkpoint(tmp_path / "rnn.pt", model=lh.LSTMModel(28, 100, 1, 10))
    with pytest.raises(lh.CheckpointError,
                       match="nonlinearity 'tanh' \\(checkpoint\\) vs 'relu' \\(model\\)"):
        lh.load_checkpoint(tmp_path / "rnn.pt",
                           model=lh.RNNModel(28, 100, 1, 10, nonlinearity="relu"))


class _CreatesAFile:
    """Unpickling this calls open(target, "w"): code run by merely loading the file."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return open, (self.target, "w")


def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    target = tmp_path / "created-by-the-pickle"
    path = tmp_path / "model.pt"
    payload = {"format": checkpoints.FORMAT, "version": checkpoints.VERSION,
               "model_class": "LSTMModel", "metadata": {"x": _CreatesAFile(target)}}
    torch.save(payload, path)
    with pytest.raises(lh.CheckpointError, match="refused to load") as info:
        lh.load_checkpoint(path)
    assert "open" in str(info.value) and "nothing in it was run" in str(info.value)
    assert not target.exists()
    # The payload is live: an unsafe load does run it (which is why the safe loader is used).
    torch.load(path, weights_only=False)
    assert target.exists()


@pytest.mark.parametrize("damage", ["truncated", "empty", "text"])
def test_a_damaged_file_is_refused_with_a_message(tmp_path, damage):
    path = lh.save_checkpoint(tmp_path / "model.pt", lh.LSTMModel(28, 8, 1, 10))
    data = path.read_bytes()
    path.write_bytes({"truncated": data[:len(data) // 2], "empty": b"",
                      "text": b"not a checkpoint"}[damage])
    with pytest.raises(lh.CheckpointError,
                       match="is truncated or not a PyTorch checkpoint|refused to load"):
        lh.load_checkpoint(path)


def test_a_missing_file_or_a_bare_state_dict_is_explained(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        lh.load_checkpoint(tmp_path / "nowhere.pt")
    model = lh.LSTMModel(28, 8, 1, 10)
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(lh.CheckpointError, match="model.load_state_dict\\(torch.load"):
        lh.load_checkpoint(tmp_path / "bare.pt", model=model)


def test_bad_arguments_to_save_are_refused(tmp_path):
    with pytest.raises(TypeError, match="stores LSTMModel or RNNModel models, got Linear"):
        lh.save_checkpoint(tmp_path / "x.pt", nn.Linear(2, 2))
    with pytest.raises(ValueError, match="metadata must be JSON-able .*; not so: optimizer "):
        lh.save_checkpoint(tmp_path / "x.pt", lh.LSTMModel(28, 8, 1, 10), seed=0,
                           optimizer=torch.optim.SGD)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = lh.save_checkpoint(tmp_path / "model.pt", lh.LSTMModel(28, 8, 1, 10), iteration=1)
    previous = path.read_bytes()

    def interrupted_save(obj, handle):
        handle.write(b"PK\x03\x04 half of a zip archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoints.torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        lh.save_checkpoint(path, lh.LSTMModel(28, 8, 1, 10), iteration=2)
    assert path.read_bytes() == previous
    assert _leftovers(tmp_path) == []
    monkeypatch.undo()
    assert lh.load_checkpoint(path)[1] == {"iteration": 1}


class _InterruptAfter:
    """Training batches that raise KeyboardInterrupt (Ctrl-C) after ``n`` batches."""

    def __init__(self, batches, n):
        self.batches, self.n = batches, n

    def __iter__(self):
        for count, batch in enumerate(self.batches):
            if count == self.n:
                raise KeyboardInterrupt
            yield batch


@pytest.fixture
def one_thread():
    """A tiny model gains nothing from more threads, and on a CPU shared with other work
    torch's spinning OpenMP threads can make each step hundreds of times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_an_interrupted_training_keeps_the_last_completed_checkpoint(tmp_path, one_thread):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(2000, 28, 28, generator=generator)
    labels = torch.randint(0, 10, (2000,), generator=generator)
    train_batches = _InterruptAfter(lh.TensorBatches(images, labels, 10, shuffle=True), 130)
    test_batches = lh.TensorBatches(images[:200], labels[:200], 100)
    torch.manual_seed(0)
    model = lh.LSTMModel(28, 8, 1, 10)
    path = tmp_path / "run" / "model.pt"
    save = lh.checkpoint_callback(path, seed=0)
    snapshots = {}

    def on_evaluation(record, trained):
        save(record, trained)
        snapshots[record.iteration] = {k: v.clone() for k, v in trained.state_dict().items()}

    with pytest.raises(KeyboardInterrupt):
        lh.train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                 train_batches, test_batches, n_iters=1000, eval_every=50, log=None,
                 progress=False, on_evaluation=on_evaluation)
    assert sorted(snapshots) == [50, 100]  # interrupted at iteration 130
    loaded, metadata = lh.load_checkpoint(path)
    assert metadata["iteration"] == 100 and metadata["seed"] == 0
    assert 0.0 <= metadata["accuracy"] <= 100.0 and metadata["loss"] > 0
    state = loaded.state_dict()
    assert all(torch.equal(state[k], v) for k, v in snapshots[100].items())
    assert not all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert _leftovers(path.parent) == []


def test_a_checkpoint_whose_sizes_and_weights_disagree_is_refused(tmp_path):
    path = lh.save_checkpoint(tmp_path / "model.pt", lh.LSTMModel(28, 20, 1, 10))
    payload = torch.load(path, weights_only=True)
    payload["hyperparameters"]["hidden_dim"] = 30  # edited by hand, weights left at 20
    torch.save(payload, path)
    with pytest.raises(lh.CheckpointError, match="is inconsistent: its sizes and weights"):
        lh.load_checkpoint(path)


# --- loading onto a device this machine does not have -------------------------------------

def _missing(device: str) -> bool:
    return lh.devices.unavailable(torch.device(device)) is not None


@pytest.mark.parametrize("map_location", ["cuda", "cuda:3", "mps", "xpu"])
def test_a_device_this_machine_lacks_is_named_with_the_way_to_load_on_the_cpu(tmp_path,
                                                                               map_location):
    if not _missing(map_location):
        pytest.skip(f"this machine has {map_location}")
    path = lh.save_checkpoint(tmp_path / "model.pt", lh.LSTMModel(28, 8, 1, 10))
    for location in (map_location, torch.device(map_location)):
        with pytest.raises(ValueError) as info:
            lh.load_checkpoint(path, map_location=location)
        message = str(info.value)
        assert not isinstance(info.value, lh.CheckpointError)  # the file is fine
        assert f"cannot load {path} onto '{map_location}': device '{map_location}'" in message
        assert "not available on this machine" in message or "does not exist" in message
        assert "Load it on the CPU with load_checkpoint(path) (map_location='cpu'" in message
        assert "truncated" not in message
    model, _ = lh.load_checkpoint(path)  # the way the message gives
    assert next(model.parameters()).device.type == "cpu"


def test_an_unknown_device_name_is_refused_before_reading(tmp_path):
    path = lh.save_checkpoint(tmp_path / "model.pt", lh.LSTMModel(28, 8, 1, 10))
    with pytest.raises(ValueError, match=r"cannot load .* onto 'gpu': unknown device 'gpu': "
                                         r"use one of auto, cpu, cuda, mps"):
        lh.load_checkpoint(path, map_location="gpu")


def test_auto_loads_onto_the_best_device_there_is(tmp_path):
    path = lh.save_checkpoint(tmp_path / "model.pt", lh.LSTMModel(28, 8, 1, 10))
    model, _ = lh.load_checkpoint(path, map_location="auto")
    assert next(model.parameters()).device.type == lh.pick_device("auto").type


@pytest.fixture
def saved_on(monkeypatch):
    """save_checkpoint as on another device: torch.save tags every CPU tensor with
    ``location`` (what a file saved on that device holds), through torch's own hook."""
    registry = torch.serialization._package_registry

    def save(path, location):
        def tag(obj):
            return location if getattr(obj, "device", None) == torch.device("cpu") else None
        monkeypatch.setattr(torch.serialization, "_package_registry",
                            [(0, tag, lambda obj, _: None), *registry])
        lh.save_checkpoint(path, lh.LSTMModel(28, 8, 1, 10), iteration=5)
        monkeypatch.setattr(torch.serialization, "_package_registry", registry)
        return path
    return save


@pytest.mark.parametrize("location", ["cuda:0", "mps"])
def test_a_file_saved_on_a_gpu_loads_on_the_cpu_and_says_why_when_kept_there(tmp_path, saved_on,
                                                                             location):
    if not _missing(location.split(":")[0]):
        pytest.skip(f"this machine has {location}")
    path = saved_on(tmp_path / "gpu.pt", location)
    model, metadata = lh.load_checkpoint(path)  # map_location="cpu", the default
    assert metadata == {"iteration": 5} and model.hidden_dim == 8
    with pytest.raises(ValueError) as info:
        lh.load_checkpoint(path, map_location=None)
    message = str(info.value)
    assert "holds tensors of a device this machine does not have" in message
    assert "Load it on the CPU with load_checkpoint(path)" in message
    assert not isinstance(info.value, lh.CheckpointError)


# --- output paths checked before any work ---------------------------------------------------

def _bad_output(tmp_path, kind):
    """(path, what the message says) for each kind of path no checkpoint can be written to."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    return {
        "under a file": (a_file / "model.pt", r"'.*a-file' is a file, not a folder"),
        "under a file, deeper": (a_file / "runs" / "model.pt", r"is a file, not a folder"),
        "a folder": (tmp_path, r"is a folder: give a file name such as '.*model\.pt'"),
        "a trailing slash": (f"{tmp_path}/new-folder/", r"ends with a slash, so it names a "
                                                        r"folder"),
    }[kind]


BAD_OUTPUTS = ["under a file", "under a file, deeper", "a folder", "a trailing slash"]


@pytest.mark.parametrize("kind", BAD_OUTPUTS)
def test_a_checkpoint_path_that_cannot_be_written_is_refused_up_front(tmp_path, kind):
    path, message = _bad_output(tmp_path, kind)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=message):
        lh.checkpoint_callback(path)  # before training, not at the first evaluation
    with pytest.raises(ValueError, match=message):
        lh.save_checkpoint(path, lh.LSTMModel(28, 8, 1, 10))
    assert sorted(tmp_path.rglob("*")) == before  # nothing created


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder this process cannot write into: a chmod 555 one, or for root (who may write
    anywhere) /proc/sys, read-only even to root on Linux."""
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
    elif os.path.isdir("/proc/sys") and not os.access("/proc/sys", os.W_OK):
        yield Path("/proc/sys")
    else:
        pytest.skip("no read-only folder for root on this machine")


def test_a_read_only_folder_is_refused_up_front(read_only_folder):
    with pytest.raises(ValueError, match="is not writable; choose a folder you can write"):
        lh.checkpoint_callback(read_only_folder / "runs" / "model.pt")
