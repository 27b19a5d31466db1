"""Exercise 10 (``notebooks/exercises/ex10_honest_protocol``): the honest protocol, measured.

(a) ``split_train_validation(images, labels, validation_size, seed)`` sets a seeded validation
set apart from the training images. The check hands it images that carry their own number
(every pixel of image k holds k, its label is k), so what came back can be measured: the
sizes, images still paired with their labels, **validation images that are also training
images** (the overlap), images lost, repeats, the same split for the same seed and another for
another, the global random state left alone, the inputs unchanged.

(b) ``honest_run(model, train_batches, validation_batches, test_batches, epochs,
train_one_epoch, accuracy)`` trains for ``epochs`` epochs, chooses the epoch to keep on the
validation set and scores the test set once, at the end. The check runs it on **instrumented
loaders**: every batch handed out is logged with the set it comes from and the step that
asked for it (a ``train_one_epoch`` call, an ``accuracy`` call, or the loop itself), and the
functions passed in are stand-ins whose accuracies follow a script (the test accuracy peaks
later than the validation accuracy, so a loop that peeks at the test set keeps another
epoch). From that log, not from the code, the check names **the first step that reads the
test set before the end**, training on the validation or test set, choosing on the training
set, a test set scored more than once, and a test accuracy that is not the kept model's.

The judging functions take the sizes, seeds and scripts as arguments, so that the course's
grader (``classroom/grading/``, not part of this package) can try others.
"""

from __future__ import annotations

import numbers
import random
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .feedback import Feedback, call, describe, is_placeholder, not_done, passed, raised, wrong

__all__ = ["check_honest_run", "check_split_train_validation"]

TITLE_SPLIT = "Exercise 10 (a validation set apart from the training set)"
TITLE_RUN = "Exercise 10 (choosing on validation, testing once)"
# (n images, validation_size, seed, another seed)
VISIBLE_SPLIT = (1000, 100, 0, 1)
# Accuracy (%) after each epoch (index 0: before training), for each set; the test set
# peaks later than the validation set.
VISIBLE_SCRIPT = {"validation": [10.0, 90.0, 93.0, 95.5, 95.0, 94.0],
                  "test": [10.0, 89.5, 92.5, 94.5, 95.2, 96.1],
                  "training": [10.0, 91.0, 94.0, 97.0, 98.0, 99.0]}
SET_NAMES = {"training": "train_batches", "validation": "validation_batches",
             "test": "test_batches"}


# ---------------------------------------------------------------------------------------------
# Part (a): the split.

def _numbered(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n images of 28 x 28 whose pixels all hold their index, and labels equal to it."""
    ids = torch.arange(n)
    return ids.float().view(n, 1, 1).expand(n, 28, 28).clone(), ids.clone()


def _random_states():
    return (random.getstate(), np.random.get_state()[1].tobytes(), torch.get_rng_state())


def _same_states(a, b) -> bool:
    return a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])


def _unpack(value):
    """((train_images, train_labels), (validation_images, validation_labels)) or None."""
    try:
        (train_images, train_labels), (val_images, val_labels) = value
    except (TypeError, ValueError):
        return None
    parts = (train_images, train_labels, val_images, val_labels)
    if not all(isinstance(part, torch.Tensor) for part in parts):
        return None
    return parts


def _ids(images: torch.Tensor, labels: torch.Tensor, role: str) -> tuple[list[int] | None, str]:
    """The image numbers of one returned set, or None and what is wrong with it."""
    if images.dim() < 1 or labels.dim() != 1 or len(images) != len(labels):
        return None, (f"the {role} images ({describe(images)}) and labels ({describe(labels)}) "
                      f"are not one label per image")
    if len(images) and tuple(images.shape[1:]) != (28, 28):
        return None, (f"the {role} images have shape {tuple(images.shape)}: each should "
                      f"still be 28 x 28, as given")
    if len(images) == 0:
        return [], ""
    numbers_ = images.reshape(len(images), -1)[:, 0].long()
    if not torch.equal(numbers_, labels.long()):
        return None, (f"in the {role} set, images and labels are no longer paired: image and "
                      f"label must be selected with the same indices")
    return numbers_.tolist(), ""


def _judge_split(split_train_validation, title: str, sizes: tuple[int, int, int, int]
                 ) -> Feedback | None:
    if is_placeholder(split_train_validation):
        return not_done(title, "split_train_validation")
    if not callable(split_train_validation):
        return wrong(title, f"split_train_validation should be a function, got "
                            f"{describe(split_train_validation)}.",
                     "keep its `def` line and write its body.")
    n, validation_size, seed, other_seed = sizes
    images, labels = _numbered(n)
    what = f"split_train_validation(images, labels, {validation_size}, seed={seed}) on {n} images"
    before = _random_states()
    value, error = call(split_train_validation, images, labels, validation_size, seed)
    if error is not None:
        return raised(title, what, error)
    if value is Ellipsis or value is None:
        return not_done(title, "The value split_train_validation returns")
    if not torch.equal(images, _numbered(n)[0]) or not torch.equal(labels, torch.arange(n)):
        return wrong(title, f"{what} changed the images or labels it was given.",
                     "select with indices (images[indices]), which makes new tensors.")
    parts = _unpack(value)
    if parts is None:
        return wrong(title, f"{what} returned {describe(value)}.",
                     "return ((train_images, train_labels), (validation_images, "
                     "validation_labels)): two pairs of tensors.")
    train_ids, problem = _ids(parts[0], parts[1], "training")
    if train_ids is None:
        return wrong(title, f"After {what}: {problem}.")
    val_ids, problem = _ids(parts[2], parts[3], "validation")
    if val_ids is None:
        return wrong(title, f"After {what}: {problem}.")
    overlap = sorted(set(train_ids) & set(val_ids))
    if overlap:
        return wrong(title, f"After {what}: {len(overlap)} validation images are also "
                            f"training images (image {overlap[0]}, for one). A model scores "
                            f"well on images it was trained on, so the validation accuracy "
                            f"would flatter it and choose badly.",
                     "draw one permutation of the indices and cut it in two: the first "
                     "n - validation_size for training, the last validation_size for "
                     "validation.")
    if len(val_ids) != validation_size:
        return wrong(title, f"After {what}: the validation set holds {len(val_ids)} images, "
                            f"not {validation_size}.")
    if len(set(train_ids)) != len(train_ids) or len(set(val_ids)) != len(val_ids):
        return wrong(title, f"After {what}: an image appears twice in one set.",
                     "use a permutation (torch.randperm), not random draws with repeats.")
    lost = n - len(train_ids) - len(val_ids)
    if lost:
        return wrong(title, f"After {what}: {lost} of the {n} images are in neither set: "
                            f"every training image should be used, for training or for "
                            f"validation.")
    if not _same_states(before, _random_states()):
        return wrong(title, f"{what} changed the global random state, so the training that "
                            f"follows would no longer repeat the run it is compared with.",
                     "draw from a generator of its own: torch.randperm(n, "
                     "generator=torch.Generator().manual_seed(seed)).")
    if sorted(val_ids) in (list(range(validation_size)), list(range(n - validation_size, n))):
        return wrong(title, f"After {what}: the validation set is the first or last "
                            f"{validation_size} images in their order, not a random choice.",
                     "shuffle the indices with the seed before cutting them.")
    again, error = call(split_train_validation, images, labels, validation_size, seed)
    other, other_error = call(split_train_validation, images, labels, validation_size,
                              other_seed)
    if error is not None or other_error is not None:
        return raised(title, f"calling it again ({what})", error or other_error)
    again, other = _unpack(again), _unpack(other)
    if again is None or not torch.equal(again[3], parts[3]):
        return wrong(title, f"Called twice with seed={seed}, split_train_validation gave two "
                            f"different splits: the seed should decide the split.",
                     "seed a generator of its own with the seed, inside the function.")
    if other is not None and torch.equal(other[3].sort().values, parts[3].sort().values):
        return wrong(title, f"Seeds {seed} and {other_seed} gave the same validation set: "
                            f"the split ignores its seed.")
    return None


def check_split_train_validation(split_train_validation: Callable) -> Feedback:
    """Exercise 10 (a): a seeded split, disjoint and complete, measured on numbered images.

    Passes when the function returns ``((train_images, train_labels), (validation_images,
    validation_labels))`` with ``validation_size`` validation images, no image in both sets,
    none lost or repeated, images paired with their labels, the same split for the same seed
    and another for another, and the global random state untouched.
    """
    problem = _judge_split(split_train_validation, TITLE_SPLIT, VISIBLE_SPLIT)
    n, validation_size = VISIBLE_SPLIT[:2]
    return problem if problem is not None else passed(
        TITLE_SPLIT, f"{n - validation_size} training and {validation_size} validation images, "
                     f"no image in both, none lost, the same split for the same seed and the "
                     f"global random state untouched.")


# ---------------------------------------------------------------------------------------------
# Part (b): the loop, run on instrumented loaders.

class _Model(nn.Module):
    """A stand-in model: it counts the epochs it was trained for (a buffer, so that a copy
    or a state_dict keeps the count), and has one parameter."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))
        self.register_buffer("epochs_trained", torch.zeros((), dtype=torch.long))


class _Recorder:
    """The log of every batch handed out, and of every call of the stand-in functions."""

    def __init__(self):
        self.steps: list[str] = []  # one line per step, in order
        self.reads: list[tuple[str, int]] = []  # (set, index of the step that read it)
        self.context: str | None = None

    def step(self, text: str) -> int:
        self.steps.append(text)
        return len(self.steps)


class _Batches:
    """One set's batches: two small batches, each read logged."""

    def __init__(self, name: str, recorder: _Recorder):
        self.name, self.recorder = name, recorder
        self._batches = [(torch.zeros(4, 28, 28), torch.zeros(4, dtype=torch.long))] * 2

    def __len__(self):
        return len(self._batches)

    def __iter__(self):
        for batch in self._batches:
            if self.recorder.context is None:  # the loop itself reads the batches
                index = self.recorder.step(f"your loop iterated over {SET_NAMES[self.name]}")
            else:
                index = len(self.recorder.steps)
            self.recorder.reads.append((self.name, index))
            yield batch


def _set_of(batches) -> str | None:
    return batches.name if isinstance(batches, _Batches) else None


def _stand_ins(recorder: _Recorder, script: dict[str, list[float]]):
    """train_one_epoch and accuracy, logging their calls; accuracy follows ``script``."""

    def train_one_epoch(model, batches):
        name = _set_of(batches)
        epoch = int(model.epochs_trained) + 1 if isinstance(model, _Model) else "?"
        recorder.step(f"train_one_epoch(model, {SET_NAMES.get(name, 'something else')}) "
                      f"(epoch {epoch})")
        recorder.context = "train"
        try:
            for _ in batches:
                pass
        finally:
            recorder.context = None
        if isinstance(model, _Model):
            with torch.no_grad():
                model.epochs_trained += 1

    def accuracy(model, batches):
        name = _set_of(batches)
        epochs = int(model.epochs_trained) if isinstance(model, _Model) else 0
        recorder.step(f"accuracy(model, {SET_NAMES.get(name, 'something else')}) on the model "
                      f"after epoch {epochs}")
        recorder.context = "score"
        try:
            for _ in batches:
                pass
        finally:
            recorder.context = None
        if name is None:
            return 0.0
        curve = script[name]
        return curve[min(epochs, len(curve) - 1)]

    return train_one_epoch, accuracy


def _as_three_numbers(value):
    try:
        epoch, validation, test = value
    except (TypeError, ValueError):
        return None
    result = []
    for item in (epoch, validation, test):
        if isinstance(item, torch.Tensor) and item.numel() == 1:
            item = item.item()
        if not isinstance(item, numbers.Real) or isinstance(item, bool):
            return None
        result.append(item)
    return result


def _judge_run(honest_run, title: str, epochs: int, script: dict[str, list[float]]
               ) -> Feedback | None:
    if is_placeholder(honest_run):
        return not_done(title, "honest_run")
    if not callable(honest_run):
        return wrong(title, f"honest_run should be a function, got {describe(honest_run)}.",
                     "keep its `def` line and write its body.")
    recorder = _Recorder()
    sets = {name: _Batches(name, recorder) for name in SET_NAMES}
    train_one_epoch, accuracy = _stand_ins(recorder, script)
    model = _Model()
    what = f"honest_run(model, train_batches, validation_batches, test_batches, {epochs}, ...)"
    value, error = call(honest_run, model, sets["training"], sets["validation"], sets["test"],
                        epochs, train_one_epoch, accuracy)
    if error is not None:
        if isinstance(error, (AttributeError, TypeError)) and "deepcopy" not in str(error):
            return raised(title, what, error, "use only the arguments: the model, the three "
                          "sets of batches, train_one_epoch(model, batches) and "
                          "accuracy(model, batches).")
        return raised(title, what, error)
    if value is Ellipsis:
        return not_done(title, "honest_run")
    steps = recorder.steps

    def at(index: int) -> str:
        return f"step {index} of your loop, {steps[index - 1]}"

    trained_on = [(name, index) for name, index in recorder.reads
                  if name != "training" and steps[index - 1].startswith("train_one_epoch")]
    if trained_on:
        name, index = trained_on[0]
        return wrong(title, f"The {name} set was trained on: {at(index)}. The model then "
                            f"scores well on it because it has seen it, so it can no longer "
                            f"tell how the model does on new digits.",
                     "train on train_batches only.")
    training_reads = [index for name, index in recorder.reads if name == "training"]
    test_reads = [index for name, index in recorder.reads if name == "test"]
    last_training = max(training_reads, default=0)
    early = [index for index in test_reads if index < last_training]
    if early:
        return wrong(title, f"The test set was read before the end: {at(early[0])}, and "
                            f"training went on after it. Whatever the loop chose after that "
                            f"step was chosen with the test set in view, so its test accuracy "
                            f"is no longer a fair estimate.",
                     "score validation_batches after each epoch to choose; score "
                     "test_batches once, after the last epoch.")
    chose_on_training = [index for name, index in recorder.reads
                         if name == "training" and steps[index - 1].startswith("accuracy")]
    if chose_on_training:
        return wrong(title, f"The loop scored the training set to choose: "
                            f"{at(chose_on_training[0])}. Training accuracy keeps rising as the "
                            f"model learns its training images by heart; it cannot tell when "
                            f"the model stops getting better on new ones.",
                     "choose on validation_batches.")
    epochs_trained = sum(step.startswith("train_one_epoch") for step in steps)
    if epochs_trained != epochs:
        return wrong(title, f"{what} trained {epochs_trained} epochs, not {epochs}.",
                     "call train_one_epoch(model, train_batches) once per epoch, `epochs` "
                     "times.")
    validation_steps = {index for name, index in recorder.reads if name == "validation"}
    if not validation_steps:
        return wrong(title, f"{what} never scored the validation set, so nothing was chosen "
                            f"on it.", "after each epoch, score validation_batches with "
                            "accuracy(model, validation_batches).")
    test_steps = sorted(set(test_reads))
    if not test_steps:
        return wrong(title, f"{what} never scored the test set.",
                     "end with one accuracy(kept_model, test_batches).")
    if len(test_steps) > 1:
        return wrong(title, f"The test set was scored {len(test_steps)} times, at the end "
                            f"({'; '.join(steps[i - 1] for i in test_steps)}). Score it once: "
                            f"the kept model only, so that no choice can be made on it.")
    numbers_ = _as_three_numbers(value)
    if numbers_ is None:
        return wrong(title, f"{what} returned {describe(value)}.",
                     "return (best_epoch, best_validation_accuracy, test_accuracy).")
    best_epoch, best_validation, test_accuracy = numbers_
    validation = script["validation"]
    expected = max(range(1, epochs + 1), key=lambda e: (validation[e], -e))
    if best_epoch != expected:
        return wrong(title, f"{what} kept epoch {best_epoch:g}; the validation accuracy was "
                            f"highest after epoch {expected} "
                            f"({validation[expected]:.1f}%).",
                     "after each epoch, compare the validation accuracy with the best so "
                     "far; epochs are counted from 1.")
    if best_validation != validation[expected]:
        return wrong(title, f"{what} returned {best_validation:g} as the best validation "
                            f"accuracy; it was {validation[expected]:g}.")
    last_word = steps[test_steps[0] - 1].rsplit(" ", 1)[-1]
    scored_epochs = int(last_word) if last_word.isdigit() else None
    if test_accuracy != script["test"][expected]:
        if scored_epochs == epochs and expected != epochs:
            return wrong(title, f"The test set scored the model after the last epoch "
                                f"({epochs}), not the one kept after epoch {expected}.",
                         "when the validation accuracy improves, keep a copy "
                         "(copy.deepcopy(model)); score that copy on the test set.")
        return wrong(title, f"{what} returned a test accuracy of {test_accuracy:g}, not the "
                            f"kept model's.", "return what accuracy(kept_model, test_batches) "
                            "gives.")
    return None


def check_honest_run(honest_run: Callable) -> Feedback:
    """Exercise 10 (b): train, choose the epoch on validation, score the test set once.

    Runs ``honest_run`` on logged batches with stand-in ``train_one_epoch`` and ``accuracy``
    (their accuracies follow a script in which the test set peaks later than the validation
    set). Passes when it trains 5 epochs on the training batches only, never reads the test
    set before the last epoch, chooses on the validation set, scores the test set once, for
    the model kept, and returns ``(best_epoch, best_validation_accuracy, test_accuracy)``.
    """
    epochs = len(VISIBLE_SCRIPT["validation"]) - 1
    problem = _judge_run(honest_run, TITLE_RUN, epochs, VISIBLE_SCRIPT)
    validation, test = VISIBLE_SCRIPT["validation"], VISIBLE_SCRIPT["test"]
    best = max(range(1, epochs + 1), key=lambda e: (validation[e], -e))
    peeked = max(range(1, epochs + 1), key=lambda e: (test[e], -e))
    return problem if problem is not None else passed(
        TITLE_RUN, f"Trained {epochs} epochs, kept epoch {best} on validation "
                   f"({validation[best]:.1f}%), and read the test set once, at the end: "
                   f"{test[best]:.1f}%. The loop that peeked would have kept epoch {peeked} and "
                   f"reported {test[peeked]:.1f}%, a number chosen on the test set itself.")
