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

And what the course's experiments need beyond that:

* ``steps_per_epoch``: an epoch of N batches read on from a stream, e.g. a
  :class:`FreshBatches` of generated data, so that evaluation comes every N
  steps; ``max_steps`` ends the run after that many steps in all
  (:func:`fit_steps` says it in steps: ``steps``, ``eval_every``);
* ``stateful=True``: truncated BPTT over a text read in order, the model's
  state carried from batch to batch and detached at every boundary;
* ``metrics``: evaluation beyond the loss after every epoch (an accuracy, a
  test MSE), which ``monitor`` and ``mode="max"`` can watch instead of the loss;
  ``stop`` ends the run on any condition of the history;
* the loss and gradient norm of every step in the history; a step whose
  loss or gradient is not finite is not applied and ends the run.

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
epoch losses are averages over examples (batches weighted by their size). A
target may be a tuple (say targets and their lengths); its first element then
counts the examples.
"""

from __future__ import annotations

import copy
import itertools
import math
import os
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

__all__ = [
    "FreshBatches",
    "History",
    "ShuffledBatches",
    "configure_threads",
    "detach_state",
    "evaluate",
    "fit",
    "fit_steps",
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
    """What happened during ``fit``: one entry per epoch run, and one per optimiser step.

    Attributes:
        train_loss: mean training loss of each epoch.
        val_loss: mean validation loss after each epoch (empty without a val loader).
        metrics: name -> the value of each of ``fit``'s ``metrics`` after each epoch.
        lr: the learning rate used during each epoch (of the first param group).
        steps: the number of optimiser steps taken by the end of each epoch.
        step_loss: the loss of every optimiser step (before its update).
        grad_norm: the global gradient norm of every step, before clipping.
        best_epoch: index (from 0) of the epoch with the best monitored value.
        best_loss: that value (by default the validation loss, or the training
            loss without a val loader; see ``fit``'s ``monitor``).
        stopped_early: True if early stopping (or ``stop``) ended training before ``epochs``.
        diverged: True if a step's loss or gradient norm was not finite: that
            step was not applied and training ended there.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)
    step_loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_loss: float = math.inf
    stopped_early: bool = False
    diverged: bool = False

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)


def _to_device(batch: Iterable[Any], device: torch.device) -> list[Any]:
    return [b.to(device) if isinstance(b, Tensor) else b for b in batch]


def _batch_size(target: Any) -> int:
    """Examples in a batch: the target's length (a tuple target, e.g. (targets, lengths): its first's)."""
    if isinstance(target, tuple) and target:
        target = target[0]
    return len(target) if hasattr(target, "__len__") else 1


def _model_device(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def detach_state(state: Any) -> Any:
    """The same values with the graph cut (a tensor, a tuple of them, or None): truncated BPTT's boundary."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


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


class ShuffledBatches:
    """Batches of n examples in a fresh random order at every pass (``torch.randperm``, then ``split``).

    Args:
        size: n, the number of examples.
        batch_size: examples per batch (the last batch may be smaller).
        make_batch: index (B,) int64 -> the batch ``(*inputs, target)`` of those examples.
        generator: where the order is drawn from (None: torch's global generator, so
            that ``set_seed`` fixes it).
    """

    def __init__(
        self,
        size: int,
        batch_size: int,
        make_batch: Callable[[Tensor], tuple[Any, ...]],
        generator: torch.Generator | None = None,
    ) -> None:
        if size < 1 or batch_size < 1:
            raise ValueError(f"size and batch_size must be positive, got {size}, {batch_size}")
        self.size, self.batch_size, self.make_batch, self.generator = size, batch_size, make_batch, generator

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        order = torch.randperm(self.size, generator=self.generator)
        for index in order.split(self.batch_size):
            yield self.make_batch(index)


class FreshBatches:
    """An endless stream of freshly drawn batches: ``draw(first)``, ``draw(first + 1)``, ...

    For tasks whose data is generated (the adding problem, counting): batch k
    comes from ``draw(k)``, so a run is reproducible step by step. Use it with
    ``fit``'s ``steps_per_epoch`` (and ``max_steps``): it never runs out.
    """

    def __init__(self, draw: Callable[[int], tuple[Any, ...]], first: int = 0) -> None:
        self.draw, self.first = draw, first

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return map(self.draw, itertools.count(self.first))


class _Epochs:
    """The training batches, epoch by epoch, each flagged True where a pass over the loader starts.

    Without ``steps_per_epoch`` an epoch is one pass over the loader. With it, an
    epoch is the next ``steps_per_epoch`` batches: the loader is read on from
    epoch to epoch and started again when it runs out.
    """

    def __init__(self, loader: Iterable, steps_per_epoch: int | None) -> None:
        if steps_per_epoch is not None and steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be at least 1, got {steps_per_epoch}")
        self.loader, self.steps_per_epoch = loader, steps_per_epoch
        self.reading: Iterator | None = None

    def next_epoch(self) -> Iterator[tuple[Any, bool]]:
        if self.steps_per_epoch is None:
            for i, batch in enumerate(self.loader):
                yield batch, i == 0
            return
        for _ in range(self.steps_per_epoch):
            starts = self.reading is None
            batch = next(self.reading, _END) if self.reading is not None else _END
            if batch is _END:  # the first batch, or the loader ran out: start it again
                self.reading, starts = iter(self.loader), True
                batch = next(self.reading, _END)
                if batch is _END:
                    return  # an empty loader
            yield batch, starts


_END = object()


def _clip(model: nn.Module, clip_norm: float | None) -> float:
    """Scale the gradients to a global norm of at most ``clip_norm`` (None: leave them); their norm before."""
    limit = math.inf if clip_norm is None else clip_norm  # an infinite limit scales by exactly 1
    return float(nn.utils.clip_grad_norm_(model.parameters(), limit))


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
    *,
    steps_per_epoch: int | None = None,
    max_steps: int | None = None,
    stateful: bool = False,
    metrics: Mapping[str, Callable[[nn.Module], float]] | None = None,
    monitor: str | None = None,
    mode: Literal["min", "max"] = "min",
    stop: Callable[[History], bool] | None = None,
) -> History:
    """Train ``model`` in place and return its ``History``.

    Args:
        model: the network; ``model(*inputs)`` must give what ``loss_fn`` takes.
        train_loader: iterable of batches ``(*inputs, target)``, e.g. a DataLoader.
        val_loader: the same for validation, or None: then the training loss is
            monitored for early stopping and for the best model.
        loss_fn: ``loss_fn(prediction, target)`` -> scalar mean loss.
        optimizer: any ``torch.optim`` optimizer over ``model``'s parameters.
        epochs: the maximum number of epochs.
        clip_norm: if given, rescale the gradients before every update so that
            their global norm (all parameters as one vector) is at most this.
        scheduler: any ``torch.optim.lr_scheduler`` object, stepped once per
            epoch; ``ReduceLROnPlateau`` is stepped with the monitored loss.
        patience: stop when the monitored value has not improved for this many
            epochs in a row; None never stops early.
        checkpoint_path: if given, the best ``state_dict`` is saved there
            (``torch.save``) every time the monitored value improves; with
            ``save_best_only=False``, the current one after every epoch.
        progress: show a tqdm bar over the epochs.
        seed: passed to ``set_seed`` before training (None: leave the RNGs alone).
        restore_best: load the best ``state_dict`` back into the model at the end.
        device: where to move the batches; defaults to the model's device.
        min_delta: an epoch counts as an improvement only if the monitored value
            improves by more than this on the best so far (Keras' ``min_delta``).
        save_best_only: as in Keras' ``ModelCheckpoint``: True writes the
            checkpoint only when the monitored value improves, False after every
            epoch (then the file holds the last epoch's weights).
        steps_per_epoch: None: an epoch is one pass over ``train_loader``. A number:
            an epoch is that many batches, read on from epoch to epoch (the loader
            is started again when it runs out), so that evaluation comes every
            that many steps, e.g. over a ``FreshBatches`` stream.
        max_steps: stop after this many optimiser steps in all (the last epoch
            may be shorter, and is evaluated as the others).
        stateful: truncated BPTT with the state carried across batches: the model
            is called ``model(*inputs, state)`` and returns ``(prediction, state)``;
            the state is detached before every batch (its values go on, its graph
            is cut) and starts as None at every start of ``train_loader``.
        metrics: name -> ``metric(model)``, computed after every epoch (after the
            validation loss) and kept in ``history.metrics[name]``: evaluation
            beyond the loss (an accuracy, a test MSE, a perplexity).
        monitor: what early stopping and the best model watch: ``"val_loss"`` (the
            default with a val loader), ``"train_loss"`` (the default without), or
            the name of one of ``metrics``.
        mode: ``"min"`` if a lower monitored value is better, ``"max"`` if higher.
        stop: ``stop(history)``, called at the end of every epoch; True ends training.

    Every step's loss and gradient norm (before clipping) are kept in the history.
    A step whose loss or gradient norm is not finite is not applied: training
    ends after that epoch's evaluation, with ``history.diverged`` set.

    Returns:
        The ``History`` of the run.
    """
    if min_delta < 0:
        raise ValueError(f"min_delta must be >= 0, got {min_delta}")
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    monitor = monitor or ("val_loss" if val_loader is not None else "train_loss")
    if monitor not in ("train_loss", "val_loss", *(metrics or {})):
        raise ValueError(f"monitor must be 'train_loss', 'val_loss' or a name of metrics, got {monitor!r}")
    if seed is not None:
        set_seed(seed)
    device = torch.device(device) if device is not None else _model_device(model)
    history = History(best_loss=math.inf if mode == "min" else -math.inf)
    best_state: dict[str, Tensor] | None = None
    epochs_without_improvement = 0
    batches = _Epochs(train_loader, steps_per_epoch)
    state: Any = None  # stateful mode: the state the last batch ended in

    bar = tqdm(range(epochs), desc="epochs", disable=not progress, leave=True)
    for epoch in bar:
        history.lr.append(optimizer.param_groups[0]["lr"])

        # --- training: a pass over the data, or the next steps_per_epoch batches ---
        model.train()
        total, count = 0.0, 0
        for batch, loader_starts in batches.next_epoch():
            *inputs, target = _to_device(batch, device)
            optimizer.zero_grad()
            if stateful:
                state = None if loader_starts else detach_state(state)
                prediction, state = model(*inputs, state)
            else:
                prediction = model(*inputs)
            loss = loss_fn(prediction, target)
            loss.backward()
            value, norm = loss.item(), _clip(model, clip_norm)
            history.step_loss.append(value)
            history.grad_norm.append(norm)
            if not (math.isfinite(value) and math.isfinite(norm)):
                history.diverged = True  # an update by inf or NaN would ruin every weight: not taken
                break
            optimizer.step()
            n = _batch_size(target)
            total += value * n
            count += n
            if max_steps is not None and len(history.step_loss) >= max_steps:
                break
        history.train_loss.append(total / max(count, 1))
        history.steps.append(len(history.step_loss) - history.diverged)

        # --- validation and metrics ---
        if val_loader is not None:
            history.val_loss.append(evaluate(model, val_loader, loss_fn, device))
        for name, metric in (metrics or {}).items():
            history.metrics.setdefault(name, []).append(metric(model))
        monitored = _last(history, monitor)

        # --- learning rate ---
        if scheduler is not None:
            if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                scheduler.step(monitored)
            else:
                scheduler.step()

        # --- best model, checkpoint, early stopping ---
        improved = (
            monitored < history.best_loss - min_delta
            if mode == "min"
            else monitored > history.best_loss + min_delta
        )
        if improved:
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

        postfix = {"train": f"{history.train_loss[-1]:.4f}"}
        if monitor != "train_loss":
            postfix[monitor] = f"{monitored:.4f}"
        bar.set_postfix(postfix)

        out_of_steps = max_steps is not None and history.steps[-1] >= max_steps
        if (patience is not None and epochs_without_improvement >= patience) or (stop and stop(history)):
            history.stopped_early = epoch < epochs - 1 and not out_of_steps
            break
        if history.diverged or out_of_steps:
            break
    bar.close()

    if restore_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


def fit_steps(
    model: nn.Module,
    batches: Iterable,
    loss_fn: Callable[[Any, Any], Tensor],
    optimizer: torch.optim.Optimizer,
    steps: int,
    eval_every: int,
    metrics: Mapping[str, Callable[[nn.Module], float]] | None = None,
    *,
    clip_norm: float | None = None,
    stateful: bool = False,
    stop: Callable[[History], bool] | None = None,
) -> History:
    """``fit`` counted in optimiser steps, as the experiments on generated data and streams run.

    ``steps`` batches from ``batches`` (read on, and started again when it runs
    out), with ``metrics`` after every ``eval_every`` steps and after the last
    (``history.steps`` says where). No validation loader, no early stopping but
    ``stop``; the random generators are left alone (seed the model and the data
    before) and the model keeps its last weights.
    """
    if steps < 1 or eval_every < 1:
        raise ValueError(f"steps and eval_every must be positive, got {steps}, {eval_every}")
    return fit(
        model,
        batches,
        None,
        loss_fn,
        optimizer,
        epochs=math.ceil(steps / eval_every),
        clip_norm=clip_norm,
        progress=False,
        seed=None,
        restore_best=False,
        steps_per_epoch=eval_every,
        max_steps=steps,
        stateful=stateful,
        metrics=metrics,
        stop=stop,
    )


def _last(history: History, name: str) -> float:
    """The latest value of ``train_loss``, ``val_loss`` or a metric."""
    if name in ("train_loss", "val_loss"):
        return getattr(history, name)[-1]
    return history.metrics[name][-1]


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
