"""The training loop: learning, early stopping, checkpoints, clipping, schedulers, progress bar."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from rnncourse.gradcheck import rel_error
from rnncourse.nn.recurrent import GRU
from rnncourse.training import (
    FreshBatches,
    History,
    ShuffledBatches,
    configure_threads,
    detach_state,
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


# --- the modes the experiments need: steps per epoch, stateful TBPTT, metrics, stop ----------


class Scale(nn.Module):
    """prediction = w * x, one weight: the gradient of every step is known by hand."""

    def __init__(self, w: float = 1.0) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w, dtype=torch.float64))
        self.seen: list[float] = []

    def forward(self, x):
        self.seen.append(float(x[0]))
        return self.w * x


def mean_prediction(prediction, target):
    """The loss w * mean(x): its gradient with respect to w is mean(x)."""
    return prediction.mean()


def numbered(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Batches 0..n-1, each (x, y) with x = [k]: a model sees which batch it got."""
    return [(torch.tensor([float(k)], dtype=torch.float64), torch.zeros(1)) for k in range(n)]


def test_steps_per_epoch_reads_the_loader_on_and_starts_it_again() -> None:
    model = Scale()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    history = fit(
        model, numbered(5), None, mean_prediction, opt, 4, progress=False, seed=None, steps_per_epoch=3
    )
    assert model.seen == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]
    assert history.steps == [3, 6, 9, 12] and history.epochs_run == 4
    assert history.step_loss == [0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0]
    with pytest.raises(ValueError, match="steps_per_epoch"):
        fit(model, numbered(5), None, mean_prediction, opt, 1, progress=False, steps_per_epoch=0)


def test_max_steps_ends_the_last_epoch_early() -> None:
    model = Scale()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    history = fit(
        model, numbered(100), None, mean_prediction, opt, 10, progress=False, steps_per_epoch=4, max_steps=10
    )
    assert history.steps == [4, 8, 10] and len(model.seen) == 10 and not history.stopped_early


def test_fresh_batches_draw_by_step_and_shuffled_batches_cover_every_example() -> None:
    stream = iter(FreshBatches(lambda k: (k * 10,), first=3))
    assert [next(stream) for _ in range(3)] == [(30,), (40,), (50,)]
    assert next(iter(FreshBatches(lambda k: (k,), first=3))) == (3,)  # every pass starts at ``first``
    batches = ShuffledBatches(10, 4, lambda rows: (rows,), torch.Generator().manual_seed(0))
    first, second = [b[0] for b in batches], [b[0] for b in batches]
    assert [len(b) for b in first] == [4, 4, 2]
    assert sorted(torch.cat(first).tolist()) == list(range(10)) == sorted(torch.cat(second).tolist())
    assert not torch.equal(torch.cat(first), torch.cat(second))  # a new order every pass
    again = ShuffledBatches(10, 4, lambda rows: (rows,), torch.Generator().manual_seed(0))
    assert torch.equal(torch.cat([b[0] for b in again]), torch.cat(first))  # the generator fixes it
    with pytest.raises(ValueError, match="positive"):
        ShuffledBatches(0, 4, lambda rows: (rows,))


class Accumulator(nn.Module):
    """A stateful model: state_t = state_{t-1} + w * x_t; it records the state it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.tensor(1.0, dtype=torch.float64))
        self.given: list[torch.Tensor | None] = []

    def forward(self, x, state=None):
        self.given.append(state)
        new = (torch.zeros((), dtype=torch.float64) if state is None else state) + self.w * x.sum()
        return new, new


def test_stateful_mode_carries_the_state_detached_and_resets_it_with_the_loader() -> None:
    model = Accumulator()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    loader = [(torch.tensor([1.0], dtype=torch.float64), torch.zeros(1)) for _ in range(3)]
    fit(model, loader, None, lambda out, y: out, opt, 2, progress=False, seed=None, stateful=True)
    states = model.given
    assert states[0] is None and states[3] is None  # every pass over the loader starts afresh
    assert [float(s) for s in (states[1], states[2], states[4], states[5])] == [1.0, 2.0, 1.0, 2.0]
    assert all(not s.requires_grad for s in states if s is not None)  # detached: the graph is cut


def test_stateful_fit_is_the_truncated_bptt_step_of_chapter_2() -> None:
    from rnncourse.data.char_stream import CharVocab
    from rnncourse.models.char_lm import CharLM, StreamChunks, char_loss, tbptt_step

    ids = CharVocab.build("abcdefgh").encode("abcdefgh" * 40)
    models = []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(CharLM(8, 6, kind="gru", embedding_dim=3).double())
    by_hand, by_fit = models
    opt = torch.optim.Adam(by_hand.parameters(), lr=1e-2)
    losses, state = [], None
    for _ in range(2):  # two passes, each from a zero state
        state = None
        for x, y in StreamChunks(ids, 4, 7):
            result = tbptt_step(by_hand, opt, x, y, state, max_norm=0.5)
            losses.append(result.loss)
            state = result.state
    history = fit(
        by_fit,
        StreamChunks(ids, 4, 7),
        None,
        char_loss,
        torch.optim.Adam(by_fit.parameters(), lr=1e-2),
        2,
        clip_norm=0.5,
        progress=False,
        seed=None,
        restore_best=False,
        stateful=True,
    )
    assert history.step_loss == pytest.approx(losses, rel=1e-12)
    for p, q in zip(by_hand.parameters(), by_fit.parameters()):
        assert rel_error(p.detach().numpy(), q.detach().numpy()) < 1e-12


def test_metrics_can_be_monitored_for_the_best_model_and_early_stopping() -> None:
    scores = iter([0.1, 0.5, 0.3, 0.2, 0.9])
    weights_at: list[float] = []

    def accuracy(model: nn.Module) -> float:
        weights_at.append(float(model.w.detach()))
        return next(scores)

    model = Scale()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    batches = [(torch.tensor([1.0], dtype=torch.float64), torch.zeros(1))]
    history = fit(
        model,
        batches,
        None,
        mean_prediction,
        opt,
        5,
        patience=2,
        progress=False,
        metrics={"accuracy": accuracy},
        monitor="accuracy",
        mode="max",
    )
    assert history.metrics["accuracy"] == [0.1, 0.5, 0.3, 0.2]  # two epochs without a higher score: stop
    assert history.best_epoch == 1 and history.best_loss == 0.5 and history.stopped_early
    assert float(model.w.detach()) == pytest.approx(weights_at[1])  # the best epoch's weights are back
    assert weights_at == pytest.approx([0.9, 0.8, 0.7, 0.6])  # w falls by lr * dL/dw = 0.1 each step
    with pytest.raises(ValueError, match="monitor"):
        fit(model, batches, None, mean_prediction, opt, 1, progress=False, monitor="accuracy")
    with pytest.raises(ValueError, match="mode"):
        fit(model, batches, None, mean_prediction, opt, 1, progress=False, mode="up")  # type: ignore[arg-type]


def test_stop_ends_training_on_any_condition() -> None:
    model = Scale()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    history = fit(
        model, numbered(2), None, mean_prediction, opt, 10, progress=False, stop=lambda h: h.epochs_run == 3
    )
    assert history.epochs_run == 3 and history.stopped_early


def test_a_step_with_a_non_finite_loss_is_not_applied_and_ends_training() -> None:
    model = Scale(w=1.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    values = [2.0, 4.0, float("inf"), 1.0]
    loader = [(torch.tensor([v], dtype=torch.float64), torch.zeros(1)) for v in values]
    history = fit(model, loader, None, mean_prediction, opt, 3, progress=False, restore_best=False)
    assert history.diverged and history.epochs_run == 1 and history.steps == [2]
    assert history.step_loss[:2] == [2.0, 4.0 * 0.8] and math.isinf(history.step_loss[2])
    assert float(model.w.detach()) == pytest.approx(1.0 - 0.1 * 2.0 - 0.1 * 4.0)  # only the two finite steps
    assert history.train_loss == [pytest.approx((2.0 + 3.2) / 2)]


def test_every_step_keeps_its_loss_and_its_gradient_norm_before_clipping() -> None:
    model = Scale(w=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    loader = [(torch.tensor([3.0, 5.0], dtype=torch.float64), torch.zeros(2))]  # dL/dw = mean(x) = 4
    history = fit(
        model, loader, None, mean_prediction, opt, 2, clip_norm=0.5, progress=False, restore_best=False
    )
    assert history.grad_norm == pytest.approx([4.0, 4.0])
    assert float(model.w.detach()) == pytest.approx(-1.0)  # two steps of the clipped gradient, 0.5 each


def test_a_tuple_target_counts_examples_by_its_first_element() -> None:
    model = Scale()
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    loader = [
        (torch.tensor([1.0, 1.0, 1.0], dtype=torch.float64), (torch.zeros(3), torch.ones(3))),
        (torch.tensor([5.0], dtype=torch.float64), (torch.zeros(1), torch.ones(1))),
    ]
    history = fit(model, loader, None, lambda out, target: out.mean(), opt, 1, progress=False)
    assert history.train_loss == [pytest.approx((3 * 1.0 + 1 * 5.0) / 4)]  # weighted by examples, not batches


def test_detach_state_cuts_the_graph_of_a_tensor_or_a_pair() -> None:
    w = torch.ones(2, requires_grad=True)
    h = w * 2
    assert detach_state(None) is None
    assert not detach_state(h).requires_grad and torch.equal(detach_state(h), h)
    pair = detach_state((h, h + 1))
    assert isinstance(pair, tuple) and not any(s.requires_grad for s in pair)
