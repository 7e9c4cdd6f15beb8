"""The correct clipping by global norm, substituted while a later part runs (exercises 2 and 3)."""

import numpy as np


def clip_by_global_norm(grads, max_norm):
    """Scale every gradient by min(1, max_norm / ||g||), ||g|| the norm of all arrays together."""
    norm = float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))
    scale = min(1.0, max_norm / norm) if norm > 0 else 1.0
    return {name: g * scale for name, g in grads.items()}, norm
