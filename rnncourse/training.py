"""A small, readable training loop for PyTorch models: chapter 4 onwards.

``fit`` does what the usual Keras callbacks do, written out so that every
step can be read:

* one pass over the training batches per epoch, with optional gradient
  clipping by global norm (``clip_norm``);
* the loss on the validation batches after every epoch;
* a learning-rate scheduler stepped once per epoch (``ReduceLROnPlateau`` is
  given the validation loss);
* early stopping when the validation loss has not improved for ``patience``
  epochs (Keras' ``EarlyStopping(monitor="val_loss", patience=...)``);
* the best model's ``state_dict`` kept (and written to ``checkpoint_path``,
  like Keras' ``ModelCheckpoint(save_best_only=True)``) and loaded back into
  the model at the end.

The Keras calls of the usual tutorials and their equivalents here:

============================================================  ==========================================
Keras                                                         ``rnncourse.training``
============================================================  ==========================================
``EarlyStopping(monitor="val_loss", patience=3)``             ``fit(..., patience=3, restore_best=False)``
``EarlyStopping(..., restore_best_weights=True)``             ``fit(..., patience=3)`` (the default)
``EarlyStopping(..., min_delta=1e-3)``                        ``fit(..., min_delta=1e-3)``
``ModelCheckpoint("best_model.h5", monitor="val_loss",``      ``fit(..., checkpoint_path="best_model.pt")``
``save_best_only=True)``
``ModelCheckpoint("model.h5")`` (every epoch)                 ``fit(..., checkpoint_path=..., save_best_only=False)``
``model.load_weights("best_model.h5")``                       ``load_checkpoint(model, "best_model.pt")``
``ReduceLROnPlateau``, ``LearningRateScheduler``               ``scheduler=`` any torch scheduler, or
                                                              ``warmup_cosine(optimizer, warmup, epochs)``
``clipnorm=1.0`` on the optimizer                             ``fit(..., clip_norm=1.0)`` (global norm)
============================================================  ==========================================

Two differences matter. Keras' ``EarlyStopping`` leaves the model with the
weights of the *last* epoch unless ``restore_best_weights=True``, i.e.
``patience`` epochs past the best one; ``fit`` restores the best weights
unless ``restore_best=False``. And Keras' ``clipnorm`` on an optimizer clips
each weight's gradient separately (``global_clipnorm`` clips them together),
while ``clip_norm`` here is the global norm of all of them as one vector.

Batches. Every batch a loader yields is a tuple whose *last* element is the
target and whose other elements are the model's arguments:
``(x, y)`` calls ``model(x)``, ``(x, lengths, y)`` calls ``model(x, lengths)``.
The loss is ``loss_fn(model(*inputs), y)`` and should be a mean over the batch;
epoch losses are averages over examples (batches weighted by their size).
"""

from __future__ import annotations

import copy
import math
import os
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

__all__ = [
    "History",
    "configure_threads",
    "evaluate",
    "fit",
    "load_checkpoint",
    "set_seed",
    "warmup_cosine",
    "warmup_cosine_factor",
]


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and CUDA).

    A ``DataLoader`` with ``shuffle=True`` draws its order from torch's global
    generator, so after ``set_seed`` the batch order is reproducible too.
    """
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (code that uses the legacy global generator must be seeded too)
    torch.manual_seed(seed)  # also seeds every CUDA device


_BLAS_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def configure_threads(n: int = 1) -> dict[str, Any]:
    """Limit torch to ``n`` threads for the operations inside one op.

    Why: NumPy (through its BLAS library, OpenBLAS or MKL) and torch each keep
    their own pool of worker threads, and each pool by default has one thread
    per core. In a process that uses both, on a 2-core machine, up to four busy
    threads compete for two cores: they spin while waiting for each other and
    the operating system keeps switching between them, so both libraries get
    slower than with fewer threads. For the small matrices of a recurrent
    network (a few hundred rows) splitting one product over threads gains
    little anyway, while a Python loop over time steps launches thousands of
    such small operations, each paying the cost of waking the pool.

    What this function does: ``torch.set_num_threads(n)``, which takes effect
    at once for torch's intra-op pool. It does *not* change NumPy: its BLAS
    reads ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS``
    once, when NumPy is first imported, and later changes to the environment
    are ignored. To limit it, set them before anything imports NumPy, e.g. in
    the shell (``OMP_NUM_THREADS=1 python train.py``) or in the first lines of
    a script or notebook, before ``import numpy``::

        import os
        os.environ["OMP_NUM_THREADS"] = "1"

    Args:
        n: the number of threads torch may use inside one operation.

    Returns:
        A small report: torch's thread count before and after, and the values
        of the BLAS variables seen in the environment (None where unset).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    return {
        "torch_threads_before": before,
        "torch_threads": torch.get_num_threads(),
        **{name: os.environ.get(name) for name in _BLAS_VARIABLES},
    }


@dataclass
class History:
    """What happened during ``fit``, one entry per epoch run.

    Attributes:
        train_loss: mean training loss of each epoch.
        val_loss: mean validation loss after each epoch (empty without a val loader).
        lr: the learning rate used during each epoch (of the first param group).
        best_epoch: index (from 0) of the epoch with the lowest monitored loss.
        best_loss: that loss (validation loss, or training loss without a val loader).
        stopped_early: True if early stopping ended training before ``epochs``.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_loss: float = math.inf
    stopped_early: bool = False

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)


def _to_device(batch: Iterable[Any], device: torch.device) -> list[Any]:
    return [b.to(device) if isinstance(b, Tensor) else b for b in batch]


def _batch_size(target: Any) -> int:
    return len(target) if hasattr(target, "__len__") else 1


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[Any, Any], Tensor],
    device: torch.device | None = None,
) -> float:
    """Mean loss of ``model`` over ``loader``, in eval mode and without gradients."""
    device = device or _model_device(model)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for batch in loader:
            *inputs, target = _to_device(batch, device)
            n = _batch_size(target)
            total += loss_fn(model(*inputs), target).item() * n
            count += n
    model.train(was_training)
    return total / max(count, 1)


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None,
    loss_fn: Callable[[Any, Any], Tensor],
    optimizer: torch.optim.Optimizer,
    epochs: int,
    clip_norm: float | None = None,
    scheduler: Any = None,
    patience: int | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    progress: bool = True,
    seed: int | None = 0,
    restore_best: bool = True,
    device: torch.device | str | None = None,
    min_delta: float = 0.0,
    save_best_only: bool = True,
) -> History:
    """Train ``model`` in place and return its ``History``.

    Args:
        model: the network; ``model(*inputs)`` must give what ``loss_fn`` takes.
        train_loader: iterable of batches ``(*inputs, target)``, e.g. a DataLoader.
        val_loader: the same for validation, or None: then the training loss is
            monitored for early stopping and for the best model.
        loss_fn: ``loss_fn(prediction, target)`` -> scalar mean loss.
        optimizer: any ``torch.optim`` optimizer over ``model``'s parameters.
        epochs: the maximum number of passes over ``train_loader``.
        clip_norm: if given, rescale the gradients before every update so that
            their global norm (all parameters as one vector) is at most this.
        scheduler: any ``torch.optim.lr_scheduler`` object, stepped once per
            epoch; ``ReduceLROnPlateau`` is stepped with the monitored loss.
        patience: stop when the monitored loss has not improved for this many
            epochs in a row; None never stops early.
        checkpoint_path: if given, the best ``state_dict`` is saved there
            (``torch.save``) every time the monitored loss improves; with
            ``save_best_only=False``, the current one after every epoch.
        progress: show a tqdm bar over the epochs.
        seed: passed to ``set_seed`` before training (None: leave the RNGs alone).
        restore_best: load the best ``state_dict`` back into the model at the end.
        device: where to move the batches; defaults to the model's device.
        min_delta: an epoch counts as an improvement only if the monitored loss
            falls by more than this below the best so far (Keras' ``min_delta``).
        save_best_only: as in Keras' ``ModelCheckpoint``: True writes the
            checkpoint only when the monitored loss improves, False after every
            epoch (then the file holds the last epoch's weights).

    Returns:
        The ``History`` of the run.
    """
    if min_delta < 0:
        raise ValueError(f"min_delta must be >= 0, got {min_delta}")
    if seed is not None:
        set_seed(seed)
    device = torch.device(device) if device is not None else _model_device(model)
    history = History()
    best_state: dict[str, Tensor] | None = None
    epochs_without_improvement = 0

    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=True)
    for epoch in bar:
        history.lr.append(optimizer.param_groups[0]["lr"])

        # --- one pass over the training data ---
        model.train()
        total, count = 0.0, 0
        for batch in train_loader:
            *inputs, target = _to_device(batch, device)
            optimizer.zero_grad()
            loss = loss_fn(model(*inputs), target)
            loss.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            n = _batch_size(target)
            total += loss.item() * n
            count += n
        train_loss = total / max(count, 1)
        history.train_loss.append(train_loss)

        # --- validation ---
        if val_loader is not None:
            val_loss = evaluate(model, val_loader, loss_fn, device)
            history.val_loss.append(val_loss)
            monitored = val_loss
        else:
            monitored = train_loss

        # --- learning rate ---
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            else:
                scheduler.step()

        # --- best model, checkpoint, early stopping ---
        if monitored < history.best_loss - min_delta:
            history.best_loss = monitored
            history.best_epoch = epoch
            epochs_without_improvement = 0
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint_path is not None and save_best_only:
                _save(best_state, checkpoint_path)
        else:
            epochs_without_improvement += 1
        if checkpoint_path is not None and not save_best_only:
            _save(model.state_dict(), checkpoint_path)

        postfix = {"train": f"{train_loss:.4f}"}
        if val_loader is not None:
            postfix["val"] = f"{monitored:.4f}"
        bar.set_postfix(postfix)

        if patience is not None and epochs_without_improvement >= patience:
            history.stopped_early = epoch < epochs - 1
            break
    bar.close()

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


def _save(state: dict[str, Tensor], path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load the ``state_dict`` that ``fit`` saved at ``path`` into ``model`` (Keras' ``load_weights``).

    Only tensors are read (``weights_only=True``): a checkpoint file from
    elsewhere cannot run code when it is loaded.

    Returns:
        The same ``model``, for chaining.
    """
    state = torch.load(path, map_location=_model_device(model), weights_only=True)
    model.load_state_dict(state)
    return model


def warmup_cosine_factor(epoch: int, warmup: int, total: int, floor: float = 0.0) -> float:
    """The learning-rate multiplier of epoch ``epoch`` (from 0): linear warm-up, then a cosine decay.

        epoch < warmup:   (epoch + 1) / (warmup + 1)
        otherwise:        floor + (1 - floor) * (1 + cos(pi * p)) / 2,
                          p = (epoch - warmup) / max(1, total - warmup - 1)

    so the factor climbs in equal steps over the first ``warmup`` epochs
    (1/2 for one epoch of warm-up; 1/3, 2/3 for two), is 1 at epoch ``warmup``
    and reaches ``floor`` at the last epoch, ``total - 1``.

    Args:
        epoch: the epoch, 0 <= epoch.
        warmup: epochs of warm-up (0: start at the full rate).
        total: the number of epochs of the run, > warmup.
        floor: the last epoch's factor, in [0, 1].
    """
    if not 0 <= warmup < total:
        raise ValueError(f"need 0 <= warmup < total, got warmup={warmup}, total={total}")
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"floor must be in [0, 1], got {floor}")
    if epoch < warmup:
        return (epoch + 1) / (warmup + 1)
    progress = min(1.0, (epoch - warmup) / max(1, total - warmup - 1))
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def warmup_cosine(
    optimizer: torch.optim.Optimizer, warmup: int, total: int, floor: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """A scheduler for ``fit(..., scheduler=...)`` that multiplies the base rate by
    :func:`warmup_cosine_factor` (stepped once per epoch, as ``fit`` does)."""
    warmup_cosine_factor(0, warmup, total, floor)  # check the arguments now, not at the first step
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda epoch: warmup_cosine_factor(epoch, warmup, total, floor)
    )
