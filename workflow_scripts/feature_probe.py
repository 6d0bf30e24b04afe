"""Rules ablation_probe and ablation_cross_probe: the study's pre-adaptation / on-task /
off-task probe of one ablation run (a main run's probe is rule evaluate_run's)."""

from innerloop.job import Job

job = Job(snakemake)

from innerloop.divergence import diverged_probe
from innerloop.evaluation.probe import feature_probe

p = snakemake.params
if job.diverged():
    probe = diverged_probe(p.iterations)
else:
    device = job.device()
    learner, _, sampler = job.load_for_evaluation(device)
    probe = feature_probe(learner, sampler, p.iterations, device, steps=p.inner_steps, centroid_shots=p.centroid_shots)
job.write("probe", probe)
