"""Rules lr_distribution and ablation_lr_distribution: the learned inner-loop learning rates
of one run, raw and per layer."""

from innerloop.job import Job

job = Job(snakemake)

from innerloop.divergence import diverged_lr_layers
from innerloop.evaluation.learning_rates import LAYERS, layer_statistics, learning_rate_values, save_values
from innerloop.training import load_model

if job.diverged():
    values, layers = {}, diverged_lr_layers(LAYERS)
else:
    learner, _, _ = load_model(job.model)
    values = learning_rate_values(learner)
    layers = layer_statistics(values)
save_values(snakemake.output.values, values, job.run.columns())
job.write("layers", layers)
