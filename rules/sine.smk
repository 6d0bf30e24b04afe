# Few-shot sine-wave regression (Finn et al. 2017; Huisman thesis Sec. 3.5), configured by
# config["sine"]: the method comparison (thesis Fig. 3.3) and the TURTLE study (Fig. 3.2).
# One job trains and scores one variant of one experiment with one seed (the MLP is tiny:
# one thread, on the CPU); the variants of each experiment come from innerloop.runs.
#
#   snakemake --cores 2 sine        # only the sine-wave part

from dataclasses import asdict

from innerloop.runs import EXPERIMENTS, RUN_DIR as SINE_RUN, evaluation_settings, run_files, run_identity, variant_spec

SINE_RUN_ID = SINE_RUN.removeprefix("results/sine/")
SINE_CHECKPOINT = f"results/checkpoints/sine/{SINE_RUN_ID}/checkpoint.pt"


rule sine_run:
    output:
        model=f"{SINE_RUN}/model.pt",
        checksum=f"{SINE_RUN}/model.pt.sha256",
        train_log=f"{SINE_RUN}/train_log.csv",
        validation=f"{SINE_RUN}/validation.csv",
        tasks=f"{SINE_RUN}/mse.csv",
    params:
        spec=lambda w: asdict(variant_spec(config["sine"], w.experiment, w.variant, int(w.seed))),
        identity=lambda w: run_identity(config["sine"], w.experiment, w.variant, int(w.seed)),
        evaluation=lambda w: evaluation_settings(config["sine"], w.experiment),
        checkpoint=SINE_CHECKPOINT,
    wildcard_constraints:
        experiment="|".join(EXPERIMENTS),
        variant=r"[a-z0-9_]+(-[a-z0-9]+)*",
        seed=r"\d+",
    resources:
        **rule_resources("sine_run"),
    threads: rule_threads("sine_run")
    log:
        f"results/logs/sine/{SINE_RUN_ID}.log",
    benchmark:
        f"results/benchmarks/sine/{SINE_RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/sine_run.py"


rule sine_tables:
    input:
        comparison=run_files(config["sine"], "comparison", "mse.csv"),
        turtle_study=run_files(config["sine"], "turtle_study", "mse.csv"),
    output:
        comparison="results/tables/sine_comparison.csv",
        comparison_runs="results/tables/sine_comparison_runs.csv",
        turtle_study="results/tables/sine_turtle_study.csv",
        turtle_study_runs="results/tables/sine_turtle_study_runs.csv",
    log:
        "results/logs/sine_tables.log",
    conda:
        ENV
    script:
        "../workflow_scripts/sine_tables.py"


rule sine_figures:
    input:
        comparison="results/tables/sine_comparison.csv",
        comparison_runs="results/tables/sine_comparison_runs.csv",
        turtle_study="results/tables/sine_turtle_study.csv",
    output:
        comparison_png="results/figures/sine_comparison.png",
        comparison_svg=figure_report("sine_comparison", "Sine waves"),
        turtle_study_png="results/figures/sine_turtle_study.png",
        turtle_study_svg=figure_report("sine_turtle_study", "Sine waves"),
    log:
        "results/logs/figures/sine.log",
    conda:
        ENV
    script:
        "../workflow_scripts/sine_figures.py"


rule sine:
    input:
        rules.sine_figures.output,
