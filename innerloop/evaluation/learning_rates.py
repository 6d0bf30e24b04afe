"""The learned inner-loop learning rates, by layer (the study's Table 1 and Fig. 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from innerloop.algorithms import MetaLearner
from innerloop.models import layer_of

LAYERS = ["conv1", "conv2", "conv3", "conv4", "logits"]


def learning_rate_values(learner: MetaLearner) -> dict[str, np.ndarray]:
    """Every learned rate element, flattened, keyed by parameter name.

    Raises ``ValueError`` for learners that learn no per-element rates (e.g. MAML).
    """
    rates = learner.learning_rates()
    if rates is None:
        raise ValueError(f"{learner.name} learns no inner-loop learning rates")
    return {name: t.detach().cpu().double().flatten().numpy() for name, t in rates.items()}


def layer_statistics(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Per layer (conv1..conv4 = conv and BatchNorm tensors of a block, logits = head):
    mean, std, median, fraction negative and element count of the learned rates."""
    by_layer: dict[str, list[np.ndarray]] = {}
    for name, v in values.items():
        by_layer.setdefault(layer_of(name), []).append(v)
    rows = []
    for layer in LAYERS:
        if layer not in by_layer:
            continue
        v = np.concatenate(by_layer[layer])
        rows.append({"layer": layer, "mean": v.mean(), "std": v.std(ddof=0), "median": float(np.median(v)),
                     "fraction_negative": float((v < 0).mean()), "n": v.size})
    return pd.DataFrame(rows)


def values_by_layer(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Every learned rate as a row (layer, value), layers in network order."""
    frames = [pd.DataFrame({"layer": layer_of(name), "value": v}) for name, v in values.items()]
    if not frames:  # a run that diverged records no rates
        return pd.DataFrame({"layer": pd.Series(dtype=str), "value": pd.Series(dtype=float)})
    df = pd.concat(frames, ignore_index=True)
    df["layer"] = pd.Categorical(df["layer"], categories=LAYERS, ordered=True)
    return df.sort_values("layer", kind="stable").reset_index(drop=True).astype({"layer": str})
