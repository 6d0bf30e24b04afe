"""The learned inner-loop learning rates, by layer (the study's Table 1 and Fig. 6)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from innerloop.algorithms import MetaLearner
from innerloop.models import layer_of

LAYERS = ["conv1", "conv2", "conv3", "conv4", "logits"]
#: The entry of a run's ``learning_rates.npz`` that holds its identity columns (JSON).
RUN_ENTRY = "_run"


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


def save_values(path: Path | str, values: dict[str, np.ndarray], identity: dict) -> None:
    """A run's rates (:func:`learning_rate_values`; {} for a diverged run) to ``path`` (npz,
    written atomically), with its ``identity`` columns (:meth:`innerloop.runs.RunId.columns`)."""
    from innerloop.io import atomic_path

    if RUN_ENTRY in values:
        raise ValueError(f"a parameter may not be named {RUN_ENTRY!r}")
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **values, **{RUN_ENTRY: np.array(json.dumps(identity))})


def read_values(path: Path | str) -> pd.DataFrame:
    """The rates saved by :func:`save_values`, a row per element (:func:`values_by_layer`)
    with the run's identity columns in front."""
    with np.load(path, allow_pickle=False) as saved:
        if RUN_ENTRY not in saved.files:
            raise ValueError(f"{path} has no run identity (entry {RUN_ENTRY!r}): rerun its rule lr_distribution")
        identity = json.loads(str(saved[RUN_ENTRY]))
        table = values_by_layer({name: saved[name] for name in saved.files if name != RUN_ENTRY})
    for i, (name, value) in enumerate(identity.items()):
        table.insert(i, name, value)
    return table


def values_by_layer(values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Every learned rate as a row (layer, value), layers in network order."""
    frames = [pd.DataFrame({"layer": layer_of(name), "value": v}) for name, v in values.items()]
    if not frames:  # a run that diverged records no rates
        return pd.DataFrame({"layer": pd.Series(dtype=str), "value": pd.Series(dtype=float)})
    df = pd.concat(frames, ignore_index=True)
    df["layer"] = pd.Categorical(df["layer"], categories=LAYERS, ordered=True)
    return df.sort_values("layer", kind="stable").reset_index(drop=True).astype({"layer": str})
