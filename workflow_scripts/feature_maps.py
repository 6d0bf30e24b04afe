"""Rule feature_maps: for each visualised run, the PCA and t-SNE maps of the embeddings of
a fixed set of meta-test images, and the images that most and least activate chosen units
of the last blocks (store indices, so the figure rule can show them)."""

from pathlib import Path

from innerloop.job import Job

job = Job(snakemake)

import pandas as pd

from innerloop.data.store import load_store
from innerloop.divergence import is_diverged
from innerloop.evaluation.representations import embeddings, meta_test_images, project, unit_extremes
from innerloop.io import write_csv
from innerloop.training import load_model

job.threads()
p = snakemake.params
store = load_store(job.store)
images, labels, indices = meta_test_images(store, p.classes, p.images_per_class, p.seed)
points, extremes = [], []
for path in snakemake.input.models:
    learner, spec, status = load_model(Path(path))
    algorithm = spec.algorithm
    if is_diverged(status):  # its weights are not finite: nothing to show
        job.print(f"{algorithm}: the run diverged in training, so its features are not shown")
        continue
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
    job.print(f"{algorithm}: {len(features)} embeddings of dimension {features.shape[1]}")
if not points:
    raise ValueError(f"every visualised run diverged in training ({', '.join(snakemake.input.models)}): "
                     "there are no features to show")
write_csv(pd.concat(points, ignore_index=True), Path(snakemake.output.embeddings))
write_csv(pd.concat(extremes, ignore_index=True), Path(snakemake.output.extremes))
