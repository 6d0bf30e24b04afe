"""The run directory layout, results/runs/{dataset}/{algorithm}/{ways}w{shots}s/seed{seed}/,
so that a file's path says which run made it (the Snakemake rules use the same pattern)."""

from __future__ import annotations

import re
from pathlib import Path

RUN_PATTERN = re.compile(
    r"runs/(?P<dataset>[a-z0-9_]+)/(?P<algorithm>[a-z0-9_]+)/(?P<ways>\d+)w(?P<shots>\d+)s/seed(?P<seed>\d+)/"
)


def parse_run_path(path: str | Path) -> dict:
    """dataset, algorithm, setting ("5w1s"), ways, shots and seed of a file inside a run directory."""
    match = RUN_PATTERN.search(Path(path).as_posix())
    if match is None:
        raise ValueError(f"{path} is not inside a run directory (runs/<dataset>/<algorithm>/<W>w<S>s/seed<N>/)")
    d = match.groupdict()
    return {"dataset": d["dataset"], "algorithm": d["algorithm"], "setting": f"{d['ways']}w{d['shots']}s",
            "ways": int(d["ways"]), "shots": int(d["shots"]), "seed": int(d["seed"])}


def cross_domain_setting(train: str, test: str, setting: str) -> str:
    """The setting key of runs trained on ``train`` and tested on ``test`` in ``setting`` ("5w1s")."""
    return f"{train}_to_{test}_{setting}"


CROSS_DOMAIN_PATTERN = re.compile(r"/cross_domain/(?P<target>[a-z0-9_]+)/[^/]+$")


def parse_cross_domain_path(path: str | Path) -> dict:
    """:func:`parse_run_path` of a run's cross-domain result
    (``<run>/cross_domain/<target>/<file>``), plus ``target`` (the dataset it was tested on)
    and ``setting`` naming the direction too (``"glyphs_to_digits_5w1s"``, see
    :func:`cross_domain_setting`)."""
    match = CROSS_DOMAIN_PATTERN.search(Path(path).as_posix())
    if match is None:
        raise ValueError(f"{path} is not a cross-domain result (<run>/cross_domain/<target>/<file>)")
    identity = parse_run_path(path)
    identity["setting"] = cross_domain_setting(identity["dataset"], match["target"], identity["setting"])
    return {**identity, "target": match["target"]}


def read_runs(paths, reader, parse=parse_run_path):
    """Concatenate per-run tables, each prefixed with the identity of its run
    (``parse``: :func:`parse_run_path`, or :func:`parse_cross_domain_path` for cross-domain results)."""
    import pandas as pd

    frames = []
    for path in paths:
        df = reader(path)
        identity = parse(path)
        for i, (key, value) in enumerate(identity.items()):
            df.insert(i, key, value)
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
