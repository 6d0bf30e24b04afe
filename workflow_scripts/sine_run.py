"""Rule sine_run: meta-train one sine-wave variant and seed, then score it on the fixed tasks."""

from pathlib import Path

from innerloop.job import Job

job = Job(snakemake)

from innerloop.io import write_csv
from innerloop.runs import RunSpec
from innerloop.sine import score_run, train_sine

job.threads()  # the MLP is tiny: one thread, on the CPU
spec = RunSpec(**snakemake.params.spec)
job.print(f"{spec.algorithm} {dict(snakemake.params.identity)}")
learner = train_sine(
    spec,
    model_path=Path(snakemake.output.model),
    log_path=Path(snakemake.output.train_log),
    validation_path=Path(snakemake.output.validation),
    checkpoint_path=Path(snakemake.params.checkpoint),
    device="cpu",
    progress=False,
)
tasks = score_run(learner, dict(snakemake.params.identity), dict(snakemake.params.evaluation))
write_csv(tasks, Path(snakemake.output.tasks))
job.print(f"mean MSE over {len(tasks)} {snakemake.params.evaluation['split']} tasks: {tasks['mse'].mean():.4f}")
