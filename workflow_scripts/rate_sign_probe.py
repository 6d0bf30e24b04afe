"""Rule rate_sign_probe: the feature probe of one Meta-SGD run with its learned rates as
trained, negative rates set to zero, and negative rates sign-flipped (same tasks)."""

from innerloop.job import Job

job = Job(snakemake)

from innerloop.divergence import diverged_rate_probe
from innerloop.evaluation.ablations import RATE_VARIANTS, rate_ablation_probe

p = snakemake.params
if job.diverged():
    probe = diverged_rate_probe(p.iterations, RATE_VARIANTS)
else:
    device = job.device()
    learner, _, sampler = job.load_for_evaluation(device)
    probe = rate_ablation_probe(learner, sampler, p.iterations, device, steps=p.inner_steps,
                                centroid_shots=p.centroid_shots)
job.write("probe", probe)
