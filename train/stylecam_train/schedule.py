"""The learning-rate schedule of the recipe's training loops: ``stylecam train`` and ``stylecam distill``.

A linear warm-up, then a cosine from the full rate down to a floor. The cosine spends more of
the run near the full rate than a linear decay, and ends gently at the floor, where the last
steps polish instead of jumping about; the warm-up keeps Adam's first steps small while its
moment estimates are still noise.
"""

from __future__ import annotations

import math


def lr_factor(progress: float, total: float, final_fraction: float, warmup: int = 0) -> float:
    """Multiplier of the learning rate at ``progress`` of ``total`` (steps, or a fraction of a run of total 1).

    Linear warm-up over the first ``warmup`` steps, then a cosine down to ``final_fraction`` at
    ``total``. An infinite ``total`` (a run without a step limit) keeps the full rate after the
    warm-up.
    """
    if progress < warmup:
        return (progress + 1) / warmup
    if not math.isfinite(total) or total <= warmup:
        return 1.0
    done = min(1.0, max(0.0, (progress - warmup) / (total - warmup)))
    return final_fraction + (1 - final_fraction) * 0.5 * (1 + math.cos(math.pi * done))
