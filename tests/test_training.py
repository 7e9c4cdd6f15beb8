"""The training loop: learning, early stopping, checkpoints, clipping, schedulers, progress bar."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rnncourse.nn.recurrent import GRU
from rnncourse.training import (
    History,
    configure_threads,
    evaluate,
    fit,
    load_checkpoint,
    set_seed,
    warmup_cosine,
    warmup_cosine_factor,
)

T_MAX = 6


def sum_task(n: int, seed: int):
    """Variable-length sequences of numbers; the target is their sum.

    Returns x (n, T_MAX, 1) zero-padded, lengths (n,), y (n,).
    """
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T_MAX + 1, (n,), generator=g)
    x = torch.randn(n, T_MAX, 1, generator=g)
    x = x * (torch.arange(T_MAX)[None, :, None] < lengths[:, None, None])
    return x, lengths, x.sum(dim=(1, 2))


class SumModel(nn.Module):
    """GRU over the padded batch, a linear read-out of each sequence's last state."""

    def __init__(self, hidden: int = 8) -> None:
        super().__init__()
        self.rnn = GRU(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x, lengths):
        _, h_n = self.rnn(x, lengths=lengths)
        return self.head(h_n[-1]).squeeze(-1)


def loaders(n_train: int = 256, n_val: int = 64, batch_size: int = 32):
    train_set = TensorDataset(*sum_task(n_train, seed=1))
    train = DataLoader(train_set, batch_size=batch_size, shuffle=True)
    val = DataLoader(TensorDataset(*sum_task(n_val, seed=2)), batch_size=batch_size)
    return train, val


class DriftingLoader:
    """A validation loader whose targets move ``step`` further away on every pass,
    so that after the first epoch the validation loss can only get worse."""

    def __init__(self, x, lengths, y, step: float = 50.0) -> None:
        self.x, self.lengths, self.y, self.step = x, lengths, y, step
        self.passes = 0

    def __iter__(self):
        offset = self.step * self.passes
        self.passes += 1
        for i in range(0, len(self.y), 32):
            yield self.x[i : i + 32], self.lengths[i : i + 32], self.y[i : i + 32] + offset


def new_model(seed: int = 0) -> SumModel:
    torch.manual_seed(seed)
    return SumModel()


def state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_loss_decreases_on_a_small_task() -> None:
    model = new_model()
    train, val = loaders()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, train, val, nn.MSELoss(), opt, epochs=12, progress=False, seed=0)
    assert isinstance(history, History)
    assert history.epochs_run == len(history.val_loss) == len(history.lr) == 12
    assert not history.stopped_early
    # The variance of the targets is about T_MAX/2 = 3; the model must do far better.
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert history.val_loss[-1] < 0.3 * history.val_loss[0]
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert history.best_loss == min(history.val_loss)
    # The model left behind is the best one.
    assert evaluate(model, val, nn.MSELoss()) == pytest.approx(history.best_loss, rel=1e-9)


def test_same_seed_same_history() -> None:
    runs = []
    for _ in range(2):
        model = new_model()
        train, val = loaders()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)
        runs.append(fit(model, train, val, nn.MSELoss(), opt, epochs=2, progress=False, seed=3))
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].val_loss == runs[1].val_loss


def test_early_stopping_stops_and_restores_the_best_weights() -> None:
    x, lengths, y = sum_task(64, seed=2)
    train, _ = loaders()
    patience = 3

    model = new_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    history = fit(
        model,
        train,
        DriftingLoader(x, lengths, y),
        nn.MSELoss(),
        opt,
        epochs=20,
        patience=patience,
        progress=False,
    )
    # Epoch 0 is the best; `patience` epochs without improvement follow, then it stops.
    assert history.best_epoch == 0
    assert history.stopped_early
    assert history.epochs_run == patience + 1
    assert all(b > a for a, b in zip(history.val_loss, history.val_loss[1:]))
    # The restored model has the epoch-0 weights: its loss on the unshifted
    # validation data (what the loader gave in epoch 0) is the best recorded one.
    fixed = DriftingLoader(x, lengths, y, step=0.0)
    assert evaluate(model, fixed, nn.MSELoss()) == pytest.approx(history.val_loss[0], rel=1e-9)

    # Without restoring, the model keeps its last weights, which are different.
    model2 = new_model()
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.02)
    history2 = fit(
        model2,
        train,
        DriftingLoader(x, lengths, y),
        nn.MSELoss(),
        opt2,
        epochs=20,
        patience=patience,
        progress=False,
        restore_best=False,
    )
    assert history2.val_loss == history.val_loss
    assert evaluate(model2, fixed, nn.MSELoss()) != pytest.approx(history.val_loss[0], rel=1e-6)


def test_no_patience_runs_every_epoch() -> None:
    x, lengths, y = sum_task(64, seed=2)
    train, _ = loaders(n_train=64)
    model = new_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    history = fit(model, train, DriftingLoader(x, lengths, y), nn.MSELoss(), opt, epochs=5, progress=False)
    assert history.epochs_run == 5
    assert not history.stopped_early


def test_checkpoint_holds_the_best_state_dict(tmp_path) -> None:
    path = tmp_path / "checkpoints" / "best.pt"
    model = new_model()
    train, val = loaders()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, train, val, nn.MSELoss(), opt, epochs=4, checkpoint_path=path, progress=False)
    assert path.is_file()
    state = torch.load(path, weights_only=True)
    assert state_equal(state, model.state_dict())
    fresh = new_model(seed=123)
    assert not state_equal(fresh.state_dict(), state)
    fresh.load_state_dict(state)
    assert evaluate(fresh, val, nn.MSELoss()) == pytest.approx(history.best_loss, rel=1e-9)


def _global_grad_norm(params) -> float:
    grads = [p.grad.flatten() for p in params if p.grad is not None]
    return torch.linalg.vector_norm(torch.cat(grads)).item()


@pytest.mark.parametrize("clip_norm", [None, 0.05])
def test_clipping_bounds_the_global_gradient_norm(clip_norm) -> None:
    model = new_model()
    train, val = loaders(n_train=128)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    norms: list[float] = []
    # Measured just before every update, i.e. after fit has (or has not) clipped.
    opt.register_step_pre_hook(lambda o, args, kwargs: norms.append(_global_grad_norm(model.parameters())))
    fit(model, train, val, nn.MSELoss(), opt, epochs=2, clip_norm=clip_norm, progress=False)
    assert len(norms) == 2 * 4
    if clip_norm is None:
        assert max(norms) > 0.05  # so the bound below is not met by accident
    else:
        assert max(norms) <= clip_norm * (1 + 1e-6)
        assert max(norms) > 0.5 * clip_norm


def test_step_scheduler_changes_the_lr() -> None:
    model = new_model()
    train, val = loaders(n_train=64)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    history = fit(model, train, val, nn.MSELoss(), opt, epochs=3, scheduler=sched, progress=False)
    assert history.lr == pytest.approx([0.1, 0.05, 0.025])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_plateau_scheduler_gets_the_validation_loss() -> None:
    # The validation loss rises every epoch after the first (the training loss
    # falls), so only a scheduler fed the validation loss halves the lr each time.
    x, lengths, y = sum_task(64, seed=2)
    train, _ = loaders(n_train=64)
    model = new_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    history = fit(
        model,
        train,
        DriftingLoader(x, lengths, y),
        nn.MSELoss(),
        opt,
        epochs=4,
        scheduler=sched,
        progress=False,
    )
    assert history.lr == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_progress_bar_can_be_disabled(capsys) -> None:
    train, val = loaders(n_train=32)
    for progress in (True, False):
        model = new_model()
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        fit(model, train, val, nn.MSELoss(), opt, epochs=2, progress=progress)
        err = capsys.readouterr().err
        if progress:
            assert "epochs" in err and "2/2" in err
        else:
            assert err == ""


def test_set_seed_seeds_python_numpy_and_torch() -> None:
    import random

    def draw():
        # the legacy global generator is what set_seed must seed
        return random.random(), np.random.rand(), torch.rand(1).item()  # noqa: NPY002

    set_seed(5)
    first = draw()
    set_seed(5)
    assert draw() == first
    set_seed(6)
    assert all(a != b for a, b in zip(draw(), first))


def test_configure_threads_sets_torch_threads() -> None:
    before = torch.get_num_threads()
    try:
        report = configure_threads(1)
        assert torch.get_num_threads() == 1
        assert report["torch_threads"] == 1
        assert report["torch_threads_before"] == before
        assert "OMP_NUM_THREADS" in report
        with pytest.raises(ValueError):
            configure_threads(0)
    finally:
        torch.set_num_threads(before)


def test_training_without_validation_monitors_the_training_loss() -> None:
    model = new_model()
    train, _ = loaders(n_train=64)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, train, None, nn.MSELoss(), opt, epochs=3, progress=False)
    assert history.val_loss == []
    assert history.best_loss == min(history.train_loss)
    assert not math.isinf(history.best_loss)


def test_min_delta_ignores_small_improvements() -> None:
    # A validation loss that falls by 0.01 per epoch: with min_delta 0.05 no epoch
    # after the first counts as an improvement, so training stops after patience epochs.
    x, lengths, y = sum_task(64, seed=2)
    train, _ = loaders(n_train=64)
    falling = DriftingLoader(x, lengths, y, step=0.0)

    class Falling:
        def __init__(self) -> None:
            self.losses = iter([1.0, 0.99, 0.98, 0.97, 0.96, 0.95])

        def __call__(self, prediction, target):
            return (
                torch.tensor(next(self.losses))
                if not prediction.requires_grad
                else nn.MSELoss()(prediction, target)
            )

    model = new_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    history = fit(model, train, falling, Falling(), opt, epochs=6, patience=2, min_delta=0.05, progress=False)
    # the validation loader has 2 batches: each epoch's loss is the mean of two consecutive values
    assert history.best_epoch == 0
    assert history.epochs_run == 3 and history.stopped_early
    model = new_model()
    history = fit(model, train, falling, Falling(), opt, epochs=3, patience=2, progress=False)
    assert history.best_epoch == 2  # without min_delta every small fall counts
    with pytest.raises(ValueError, match="min_delta"):
        fit(model, train, falling, nn.MSELoss(), opt, epochs=1, min_delta=-1.0, progress=False)


def test_checkpoint_every_epoch_holds_the_last_weights(tmp_path) -> None:
    # Keras' ModelCheckpoint without save_best_only writes every epoch: the file ends with the last weights.
    x, lengths, y = sum_task(64, seed=2)
    train, _ = loaders()
    path = tmp_path / "every.pt"
    model = new_model()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    fit(
        model,
        train,
        DriftingLoader(x, lengths, y),
        nn.MSELoss(),
        opt,
        epochs=3,
        checkpoint_path=path,
        save_best_only=False,
        restore_best=False,
        progress=False,
    )
    last = torch.load(path, weights_only=True)
    assert state_equal(last, model.state_dict())
    # The best epoch was the first (the loader drifts), so the best state is different.
    best_path = tmp_path / "best.pt"
    model_b = new_model()
    opt_b = torch.optim.Adam(model_b.parameters(), lr=0.02)
    fit(
        model_b,
        train,
        DriftingLoader(x, lengths, y),
        nn.MSELoss(),
        opt_b,
        epochs=3,
        checkpoint_path=best_path,
        restore_best=False,
        progress=False,
    )
    assert not state_equal(torch.load(best_path, weights_only=True), last)


def test_load_checkpoint_restores_into_a_fresh_model(tmp_path) -> None:
    path = tmp_path / "best.pt"
    model = new_model()
    train, val = loaders()
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    history = fit(model, train, val, nn.MSELoss(), opt, epochs=3, checkpoint_path=path, progress=False)
    fresh = load_checkpoint(new_model(seed=99), path)
    assert evaluate(fresh, val, nn.MSELoss()) == pytest.approx(history.best_loss, rel=1e-9)


def test_warmup_cosine_factor_by_hand() -> None:
    # warmup 2, total 6: 1/3, 2/3, then cos over epochs 2..5 (p = 0, 1/3, 2/3, 1)
    expected = [1 / 3, 2 / 3, 1.0, 0.75, 0.25, 0.0]
    got = [warmup_cosine_factor(e, warmup=2, total=6) for e in range(6)]
    assert got == pytest.approx(expected, abs=1e-12)
    assert warmup_cosine_factor(5, warmup=0, total=6, floor=0.1) == pytest.approx(0.1)
    assert warmup_cosine_factor(0, warmup=0, total=6, floor=0.1) == pytest.approx(1.0)
    for bad in (
        {"warmup": 6, "total": 6},
        {"warmup": -1, "total": 6},
        {"warmup": 1, "total": 6, "floor": 2.0},
    ):
        with pytest.raises(ValueError):
            warmup_cosine_factor(0, **bad)


def test_warmup_cosine_drives_fit() -> None:
    model = new_model()
    train, val = loaders(n_train=64)
    opt = torch.optim.SGD(model.parameters(), lr=0.2)
    history = fit(
        model, train, val, nn.MSELoss(), opt, epochs=6, scheduler=warmup_cosine(opt, 2, 6), progress=False
    )
    assert history.lr == pytest.approx([0.2 / 3, 0.4 / 3, 0.2, 0.15, 0.05, 0.0], abs=1e-12)
