"""Exercise 8's correct earlier parts, and the linear forecaster it gives."""

import numpy as np


def prepare_data(values, window, n_train):
    """Scale by the training span's mean and std, then cut windows: (T,) -> X_train, y_train, X_test, y_test, mean, std."""
    mean, std = values[:n_train].mean(), values[:n_train].std()
    z = (values - mean) / std

    def windows(first, stop):
        t = np.arange(first, stop)
        return z[t[:, None] + np.arange(-window, 0)], z[t]

    X_train, y_train = windows(window, n_train)
    X_test, y_test = windows(n_train, len(values))
    return X_train, y_train, X_test, y_test, float(mean), float(std)


def mse_and_grad(w, X, y):
    """The given forecaster yhat = X w[:-1] + w[-1]: its mean squared error and the gradient in w."""
    residual = X @ w[:-1] + w[-1] - y
    grad = np.concatenate([2.0 * X.T @ residual / len(y), [2.0 * residual.sum() / len(y)]])
    return float(np.mean(residual**2)), grad


def fit_early_stopping(w0, X_train, y_train, X_val, y_val, lr, epochs, patience):
    """Full-batch gradient descent on the linear forecaster, stopped after ``patience`` epochs without a better validation loss."""

    def loss_grad(w, X, y):
        r = X @ w[:-1] + w[-1] - y
        return float(np.mean(r**2)), np.concatenate([2 * X.T @ r / len(y), [2 * r.sum() / len(y)]])

    w, train, val = np.array(w0, dtype=float), [], []
    best, best_epoch, best_w, waited = np.inf, 0, w.copy(), 0
    for epoch in range(epochs):
        loss, grad = loss_grad(w, X_train, y_train)
        train.append(loss)
        w = w - lr * grad
        val.append(loss_grad(w, X_val, y_val)[0])
        if val[-1] < best:
            best, best_epoch, best_w, waited = val[-1], epoch, w.copy(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    return {
        "train_loss": train,
        "val_loss": val,
        "best_epoch": best_epoch,
        "stopped_early": len(train) < epochs,
        "weights": best_w,
    }
