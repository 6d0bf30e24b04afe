"""Learned inner-loop learning rates as statistical quantities: which of them are tested,
and whether training has moved them away from their initial distribution.

*One test per learned quantity.* Meta-SGD learns one rate per element: its layers are
five quantities (conv1..conv4, logits). Alpha-MAML learns one scalar alpha, broadcast to
every layer: it is one quantity, however many layers show it. TURTLE's (and first-order
TURTLE's) "rate" multiplies the output of its learned update network, so its sign is a
scale of that output, not the direction of an update: it is left out of the tests of
rates below zero.

*Moved from the init.* Meta-SGD's rates start independent and uniform in
``[lr_init_low, lr_init_high]`` (``algorithm_options.metasgd``). Per run and layer, the
one-sample Kolmogorov-Smirnov test compares the learned rates with that distribution
(exact under the null hypothesis that the rates are still draws from it); Holm runs over
every (run, layer) test of the table. A layer's rates have moved when the test rejects in
every seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

#: How a rate-learning algorithm's rates enter the tests of rates below zero: per layer,
#: as one scalar, or not at all (None: the sign is not an update direction).
RATE_QUANTITY: dict[str, str | None] = {"metasgd": "per layer", "alpha_maml": "scalar", "turtle": None,
                                        "fo_turtle": None}
#: The layer name of a scalar rate's one row.
SCALAR_LAYER = "alpha (all layers)"
RATES_VS_INIT_COLUMNS = ["algorithm", "setting", "seed", "layer", "n", "mean", "init_low", "init_high", "init_mean",
                         "mean_shift", "ks_statistic", "p_ks", "p_holm", "moved"]


def rate_quantities(per_seed: pd.DataFrame) -> pd.DataFrame:
    """The per-seed layer means (``per_seed``: algorithm, [setting,] seed, layer, mean)
    as one row per learned quantity (:data:`RATE_QUANTITY`): per-layer algorithms as they
    are, a scalar rate once per seed (layer :data:`SCALAR_LAYER`), TURTLE's left out."""
    if not len(per_seed):
        return per_seed
    quantity = per_seed["algorithm"].astype(str).map(lambda a: RATE_QUANTITY.get(a, "per layer"))
    kept = per_seed[quantity.notna()]
    scalar = quantity[quantity.notna()] == "scalar"
    by = [c for c in ("algorithm", "setting", "seed") if c in per_seed.columns]
    collapsed = kept[scalar].groupby(by, sort=False, as_index=False).first()
    if len(collapsed):
        collapsed["layer"] = SCALAR_LAYER
    return pd.concat([kept[~scalar], collapsed], ignore_index=True)[kept.columns]


def init_distributions(algorithm_options: Mapping[str, Mapping]) -> dict[str, tuple[float, float]]:
    """``{algorithm: (low, high)}`` of the uniform init of every algorithm that draws its
    rates from one: Meta-SGD's ``lr_init_low``/``lr_init_high`` (its defaults 0.005 and 0.1
    where the options leave them out)."""
    options = dict(algorithm_options.get("metasgd") or {})
    return {"metasgd": (float(options.get("lr_init_low", 0.005)), float(options.get("lr_init_high", 0.1)))}


def rates_vs_init(values: pd.DataFrame, inits: Mapping[str, tuple[float, float]], alpha: float = 0.05) -> pd.DataFrame:
    """Per run and layer of every algorithm in ``inits`` (``values``: algorithm,
    [setting,] seed, layer, value, one row per learned rate element, as
    ``results/tables/lr_values.csv.gz``): the elements' mean, its shift from the init's
    mean, the one-sample Kolmogorov-Smirnov test against uniform(low, high), Holm over
    every row, and ``moved`` (Holm-adjusted p below ``alpha``)."""
    from innerloop.stats.paired import holm

    rows = []
    if len(values):
        by = [c for c in ("algorithm", "setting", "seed", "layer") if c in values.columns]
        values = values[values["algorithm"].astype(str).isin(list(inits))]
        for keys, g in values.groupby(by, sort=False):
            key = dict(zip(by, keys))
            low, high = inits[str(key["algorithm"])]
            x = g["value"].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            row = {**key, "n": int(x.size), "mean": float(x.mean()) if x.size else math.nan, "init_low": low,
                   "init_high": high, "init_mean": (low + high) / 2, "ks_statistic": math.nan, "p_ks": math.nan}
            row["mean_shift"] = row["mean"] - row["init_mean"]
            if x.size and high > low:
                ks = stats.kstest(x, stats.uniform(loc=low, scale=high - low).cdf)
                row.update(ks_statistic=float(ks.statistic), p_ks=float(ks.pvalue))
            elif x.size:  # a point-mass init: moved unless every rate still equals it
                row.update(ks_statistic=float(np.mean(x != low)), p_ks=0.0 if np.any(x != low) else 1.0)
            rows.append(row)
    out = pd.DataFrame(rows, columns=RATES_VS_INIT_COLUMNS)
    out["p_holm"] = holm(out["p_ks"]) if len(out) else []
    out["moved"] = (out["p_holm"] < alpha).astype(bool)
    return out if "setting" in values.columns or not len(values) else out.drop(columns="setting")


__all__ = ["RATES_VS_INIT_COLUMNS", "RATE_QUANTITY", "SCALAR_LAYER", "init_distributions", "rate_quantities",
           "rates_vs_init"]
