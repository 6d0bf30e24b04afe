"""Rules evaluate_run and cross_domain_evaluation: every analysis of one trained run whose
table is an output of the rule (innerloop.evaluation.run), from one load of the model and
the store, and the seconds each took."""

from innerloop.job import Job

job = Job(snakemake)

from innerloop.evaluation.run import ANALYSES, Settings, evaluate_run, load_run

run = load_run(job.model, job.store, snakemake.params.settings["seed"], job.device())
analyses = [name for name in ANALYSES if name in snakemake.output.keys()]
tables = evaluate_run(run, Settings(**snakemake.params.settings), analyses, log=job.print)
for name, table in tables.items():
    job.write(name, table)
job.print(f"meta-test accuracy: {tables['meta_test']['accuracy'].mean():.4f}")
