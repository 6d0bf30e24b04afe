"""Rule feature_maps: for each visualised run, the PCA and t-SNE maps of the embeddings of
a fixed set of meta-test images, and the images that most and least activate chosen units
of the last blocks (store indices, so the figure rule can show them)."""

import sys
from pathlib import Path

from innerloop.code_version import open_job_log

sys.stderr = open_job_log(snakemake)

import pandas as pd
import torch

from innerloop.data.store import load_store
from innerloop.evaluation.representations import embeddings, meta_test_images, project, unit_extremes
from innerloop.io import write_csv
from innerloop.training import load_model

torch.set_num_threads(snakemake.threads)
p = snakemake.params
store = load_store(Path(snakemake.input.store).parent)
images, labels, indices = meta_test_images(store, p.classes, p.images_per_class, p.seed)
points, extremes = [], []
for path in snakemake.input.models:
    learner, spec, _ = load_model(Path(path))
    algorithm = spec.algorithm
    init = {n: t.detach() for n, t in learner.init.items()}
    features = embeddings(learner, init, images)
    for method in ("pca", "tsne"):
        xy = project(features, method, perplexity=p.perplexity, seed=p.seed)
        points.append(pd.DataFrame({"algorithm": algorithm, "method": method, "store_index": indices,
                                    "class": labels, "x": xy[:, 0], "y": xy[:, 1]}))
    e = unit_extremes(learner, init, images, layers=p.unit_layers, units=p.units, top_k=p.top_k)
    e.insert(0, "algorithm", algorithm)
    e["store_index"] = indices[e["image"].to_numpy()]
    extremes.append(e)
    print(f"{algorithm}: {len(features)} embeddings of dimension {features.shape[1]}", file=sys.stderr)
write_csv(pd.concat(points, ignore_index=True), Path(snakemake.output.embeddings))
write_csv(pd.concat(extremes, ignore_index=True), Path(snakemake.output.extremes))
