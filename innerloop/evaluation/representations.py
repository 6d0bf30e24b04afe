"""How adaptation changes the network's representations, and what the features look like.

**Representation change** (Raghu et al. 2020's feature-reuse question). For each of N
fixed task pairs (task A, a different task B: the feature probe's tasks, the same for
every algorithm) the learner is adapted to A's support set with its own inner loop
(:func:`innerloop.evaluation.probe.adapted_pair`), and the activations of every layer
of the meta-initialisation are compared with those of the adapted network by linear
CKA, on A's query images (``on_task``) and on B's query images (``off_task``). CKA near
1 means adaptation left that layer's representation unchanged (feature reuse); lower
values mean the layer was rewritten for the task.

The layers are the outputs of the four conv blocks (``conv1`` .. ``conv4``; the
flattened ``conv4`` output is the feature vector the head reads, so its CKA is that of
the features before the head) and the network's output (``logits``, the learner's own
``predict``). Conv4's BatchNorm normalises with the batch's statistics, so both networks
see the same batch (one task's query images).

CKA is the linear CKA of Kornblith et al. (2019) with the *biased* HSIC estimator
(centred Gram matrices, no debiasing): ``CKA(X, Y) = <K_c, L_c>_F / (||K_c||_F ||L_c||_F)``
with ``K = X X^T``, ``L = Y Y^T`` and ``K_c = H K H``. It equals
``||Y_c^T X_c||_F^2 / (||X_c^T X_c||_F ||Y_c^T Y_c||_F)`` for column-centred X, Y and is
computed in float64.

**Feature visualisation** (Agarwal's "Investigating MAML", Sec. 3.2): the first-layer
filters, 2-D PCA and t-SNE maps of the embeddings of meta-test images coloured by
class, and the meta-test images that most and least activate chosen units of the last
blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from innerloop.algorithms import MetaLearner
from innerloop.data.sampler import TaskSampler
from innerloop.data.store import Store
from innerloop.evaluation.probe import adapted_pairs
from innerloop.models import Params, embed
from innerloop.progress import progress as progress_bar
from innerloop.scoring import chunks

#: Layers whose activations are compared, in network order.
LAYERS: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4", "logits")
#: The conv-block layers (outputs of blocks.0 .. blocks.3).
BLOCK_LAYERS: tuple[str, ...] = ("conv1", "conv2", "conv3", "conv4")
#: What each row of :func:`representation_change` compares.
SPLITS: tuple[str, ...] = ("on_task", "off_task")


# --------------------------------------------------------------------------
# Linear CKA
# --------------------------------------------------------------------------

def _as_matrix(x: torch.Tensor | np.ndarray, name: str) -> torch.Tensor:
    t = torch.as_tensor(x).detach().to("cpu", torch.float64)
    if t.ndim < 2:
        raise ValueError(f"{name} must have a batch dimension and features, got shape {tuple(t.shape)}")
    return t.flatten(1)


def linear_cka(x: torch.Tensor | np.ndarray, y: torch.Tensor | np.ndarray) -> float:
    """Linear CKA (Kornblith et al. 2019, biased HSIC estimator) of two activation sets.

    ``x`` and ``y`` hold the same n examples in their first dimension; the remaining
    dimensions are flattened into features (their sizes may differ). Returns a value in
    [0, 1]; NaN when either set has no variance across the examples (CKA is undefined).
    """
    a, b = _as_matrix(x, "x"), _as_matrix(y, "y")
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"x and y must hold the same examples, got {a.shape[0]} and {b.shape[0]} rows")
    if a.shape[0] < 2:
        raise ValueError("linear CKA needs at least two examples")
    a = a - a.mean(0, keepdim=True)
    b = b - b.mean(0, keepdim=True)
    k, l = a @ a.T, b @ b.T  # centred Gram matrices (columns are centred, so H K H = K)
    denominator = torch.linalg.norm(k) * torch.linalg.norm(l)
    if denominator == 0:
        return float("nan")
    return float((k * l).sum() / denominator)


# --------------------------------------------------------------------------
# Activations
# --------------------------------------------------------------------------

def layer_activations(learner: MetaLearner, params: Params, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Activations of every layer of :data:`LAYERS` for the images ``x``, run with ``params``.

    The conv-block outputs are read by forward hooks on ``learner.model.blocks`` during
    one pass of the learner's ``predict`` (whose output is ``logits``). Shapes: block
    ``i`` gives (n, filters, side_i, side_i), ``logits`` (n, ways).
    """
    blocks = getattr(learner.model, "blocks", None)
    if blocks is None or len(blocks) != len(BLOCK_LAYERS):
        raise ValueError(f"{learner.name}: layer activations need a Conv4 model with {len(BLOCK_LAYERS)} blocks")
    out: dict[str, torch.Tensor] = {}
    handles = [block.register_forward_hook(lambda _m, _i, o, layer=layer: out.__setitem__(layer, o.detach()))
               for layer, block in zip(BLOCK_LAYERS, blocks)]
    try:
        with torch.no_grad():
            logits = learner.predict(params, x).detach()
    finally:
        for h in handles:
            h.remove()
    missing = [layer for layer in BLOCK_LAYERS if layer not in out]
    if missing:
        raise RuntimeError(f"{learner.name}: predict did not run the conv blocks {missing}")
    return {**{layer: out[layer] for layer in BLOCK_LAYERS}, "logits": logits}


def representation_change(
    learner: MetaLearner,
    sampler: TaskSampler,
    n_tasks: int,
    device: torch.device,
    *,
    steps: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Linear CKA between the meta-initialisation's and the adapted network's activations.

    One row per (task, split, layer): ``task`` (index of the task pair), ``split``
    (``on_task``: the adapted task's query images; ``off_task``: a different task's),
    ``layer`` (:data:`LAYERS`) and ``cka``. The task pairs are the feature probe's.
    """
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
    rows = []
    bar = progress_bar(total=n_tasks, desc=f"cka {learner.name}", disable=not progress)
    for i, (on, off, init, adapted) in enumerate(
            pair for chunk in chunks(range(n_tasks))
            for pair in adapted_pairs(learner, sampler, chunk, device, steps=steps)):
        bar.update(1)
        for split, task in (("on_task", on), ("off_task", off)):
            before = layer_activations(learner, init, task.query_x)
            after = layer_activations(learner, adapted, task.query_x)
            rows.extend({"task": i, "split": split, "layer": layer, "cka": linear_cka(before[layer], after[layer])}
                        for layer in LAYERS)
    bar.close()
    return pd.DataFrame(rows, columns=["task", "split", "layer", "cka"])


# --------------------------------------------------------------------------
# Feature visualisation
# --------------------------------------------------------------------------

def first_layer_filters(params: Params) -> np.ndarray:
    """The first convolution's filters, (filters, in_channels, k, k), as float32 numpy."""
    if "blocks.0.conv.weight" not in params:
        raise KeyError("params have no 'blocks.0.conv.weight' (not a Conv4 parameter dict)")
    return params["blocks.0.conv.weight"].detach().cpu().float().numpy()


def filter_grid(filters: np.ndarray, columns: int | None = None, pad: int = 1) -> np.ndarray:
    """The filters as one 2-D image grid (channel-averaged), each scaled to [0, 1] on its
    own; padding pixels are NaN (drawn as background)."""
    f = np.asarray(filters, dtype=float)
    if f.ndim != 4:
        raise ValueError(f"filters must be (filters, channels, k, k), got shape {f.shape}")
    f = f.mean(1)
    n, k = f.shape[0], f.shape[-1]
    columns = columns or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / columns))
    grid = np.full((rows * (k + pad) - pad, columns * (k + pad) - pad), np.nan)
    for i, w in enumerate(f):
        lo, hi = w.min(), w.max()
        w = (w - lo) / (hi - lo) if hi > lo else np.full_like(w, 0.5)
        r, c = divmod(i, columns)
        grid[r * (k + pad):r * (k + pad) + k, c * (k + pad):c * (k + pad) + k] = w
    return grid


def meta_test_images(store: Store, classes: int, per_class: int, seed: int,
                     split: str = "test") -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """``per_class`` images of each of ``classes`` classes of ``split``, drawn by ``seed``.

    Returns float32 images in [0, 1] (n, C, H, W), their store class ids (n,) and their
    indices in the store (n,), grouped by class. The classes and images are a pure
    function of (store, split, seed, classes, per_class).
    """
    by_class = store.indices_by_class(split)
    ids = sorted(by_class)
    if classes > len(ids):
        raise ValueError(f"{classes} classes requested but the {split!r} split of {store.dataset} has {len(ids)}")
    rng = np.random.default_rng([seed, classes, per_class])
    chosen = sorted(rng.choice(ids, size=classes, replace=False).tolist())
    indices, labels = [], []
    for c in chosen:
        members = by_class[c]
        if len(members) < per_class:
            raise ValueError(f"class {c} of the {split!r} split has {len(members)} images, {per_class} requested")
        indices.extend(sorted(rng.choice(members, size=per_class, replace=False).tolist()))
        labels.extend([c] * per_class)
    pixels = store.images[np.asarray(indices)]  # uint8, as every store holds them
    images = torch.from_numpy(np.divide(pixels, np.float32(255), dtype=np.float32))
    return images, np.asarray(labels, dtype=np.int64), np.asarray(indices, dtype=np.int64)


def embeddings(learner: MetaLearner, params: Params, x: torch.Tensor) -> np.ndarray:
    """Features before the head (the flattened block-4 output) of ``x``, as float64 numpy."""
    with torch.no_grad():
        return embed(learner.model, params, x).detach().cpu().double().numpy()


def project(features: np.ndarray, method: str, *, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """2-D map of ``features`` (n, d): ``"pca"`` (sklearn PCA) or ``"tsne"`` (sklearn TSNE,
    PCA initialisation, fixed ``random_state=seed``)."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    features = np.asarray(features, dtype=float)
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(features)
    if method == "tsne":
        if not 0 < perplexity < len(features):
            raise ValueError(f"t-SNE perplexity must be in (0, {len(features)}) for {len(features)} points, "
                             f"got {perplexity}")
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(features)
    raise ValueError(f"unknown projection {method!r}; use 'pca' or 'tsne'")


def unit_extremes(learner: MetaLearner, params: Params, x: torch.Tensor, *, layers: Sequence[str],
                  units: int, top_k: int) -> pd.DataFrame:
    """The images of ``x`` that most and least activate ``units`` units of each of ``layers``.

    A unit is a channel of a conv block's output; its activation for an image is the
    channel's spatial mean. Per layer the ``units`` channels whose activation varies most
    across ``x`` are chosen. One row per (layer, unit, kind, rank): ``kind`` ``max`` or
    ``min``, ``rank`` 0 for the extreme image, ``image`` the index into ``x`` and
    ``activation`` its value.
    """
    unknown = [layer for layer in layers if layer not in BLOCK_LAYERS]
    if unknown:
        raise ValueError(f"unit layers must be among {list(BLOCK_LAYERS)}, got {unknown}")
    if not 1 <= top_k <= len(x):
        raise ValueError(f"top_k must be in [1, {len(x)}] for {len(x)} images, got {top_k}")
    acts = layer_activations(learner, params, x)
    rows = []
    for layer in layers:
        a = acts[layer].double().mean(dim=(2, 3)).cpu().numpy()  # (n, channels)
        if units > a.shape[1]:
            raise ValueError(f"{units} units requested but {layer} has {a.shape[1]} channels")
        chosen = np.argsort(-a.var(0), kind="stable")[:units]
        for unit in chosen:
            order = np.argsort(-a[:, unit], kind="stable")
            for kind, idx in (("max", order[:top_k]), ("min", order[::-1][:top_k])):
                rows.extend({"layer": layer, "unit": int(unit), "kind": kind, "rank": r, "image": int(j),
                             "activation": float(a[j, unit])} for r, j in enumerate(idx))
    return pd.DataFrame(rows, columns=["layer", "unit", "kind", "rank", "image", "activation"])


# --------------------------------------------------------------------------
# Summary over seeds
# --------------------------------------------------------------------------

def cka_summary(cka: pd.DataFrame) -> pd.DataFrame:
    """Mean CKA per run (over tasks), then mean and 95% t-interval over seeds per
    (algorithm, setting, split, layer).

    ``cka``: the per-run tables with the run identity (``algorithm, setting, seed``) in
    front (:func:`innerloop.runs.read_runs`). Columns of the result: ``algorithm,
    setting, split, layer, mean, ci95_low, ci95_high, n_seeds, seed_min, seed_max``
    (the run means' range; the CI is NaN with one seed). Runs whose CKA is undefined on a task
    (NaN) average the other tasks.
    """
    from innerloop.intervals import mean_ci

    required = ("algorithm", "setting", "seed", "split", "layer", "cka")
    missing = [c for c in required if c not in cka.columns]
    if missing:
        raise KeyError(f"cka table lacks columns {missing}")
    keys = ["algorithm", "setting", "split", "layer"]
    per_run = cka.groupby([*keys, "seed"], sort=False)["cka"].mean().dropna().reset_index()
    rows = []
    for key, g in per_run.groupby(keys, sort=False):
        ci = mean_ci(g["cka"].to_numpy())
        rows.append({**dict(zip(keys, key)), "mean": ci.mean, "ci95_low": ci.low, "ci95_high": ci.high,
                     "n_seeds": ci.n, "seed_min": float(g["cka"].min()), "seed_max": float(g["cka"].max())})
    out = pd.DataFrame(rows, columns=[*keys, "mean", "ci95_low", "ci95_high", "n_seeds", "seed_min", "seed_max"])
    layer_rank = {layer: i for i, layer in enumerate(LAYERS)}
    split_rank = {s: i for i, s in enumerate(SPLITS)}
    return out.sort_values(["algorithm", "setting", "split", "layer"],
                           key=lambda s: s.map(layer_rank) if s.name == "layer"
                           else s.map(split_rank) if s.name == "split" else s,
                           kind="stable").reset_index(drop=True)
