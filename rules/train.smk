# Meta-training: the tuning stage, whose every candidate of `tuning.grid` is meta-trained once
# with the tuning seed and budget and scored on meta-validation, the best candidate's options
# being what the main runs of that algorithm train with (innerloop/tuning.py says how it
# chooses); every run of the study (one algorithm, setting and seed); the ablation studies'
# runs (Meta-SGD with positive rates, the inner-steps sweep) and the MAML / Alpha-MAML
# convergence grid; and the sine-wave runs (Finn et al. 2017; Huisman thesis Sec. 3.5: the
# method comparison and the TURTLE study, one job training and scoring one variant and seed,
# its variants from innerloop.runs). A checkpoint lives outside its rule's outputs, so
# Snakemake's cleanup of incomplete outputs never deletes it and a rerun resumes where an
# interrupted run stopped.


rule tune_run:
    input:
        **store("{dataset}"),
    output:
        model=f"{TUNE_RUN}/model.pt",
        checksum=f"{TUNE_RUN}/model.pt.sha256",
        train_log=f"{TUNE_RUN}/train_log.csv",
        validation=f"{TUNE_RUN}/validation.csv",
        result=f"{TUNE_RUN}/result.json",
    params:
        spec=tune_spec,
        candidate=lambda w: tuning.candidate_options(config["tuning"]["grid"][w.algorithm], w.candidate),
        checkpoint=f"results/checkpoints/tuning/{{dataset}}/{{algorithm}}/{{ways}}w{{shots}}s/{{candidate}}/checkpoint.pt",
        device=config["train"]["device"],
        plateau=config["train"].get("plateau"),
    resources:
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        "results/logs/tune_run/{dataset}/{algorithm}/{ways}w{shots}s/{candidate}.log",
    benchmark:
        TUNE_BENCHMARK
    conda:
        ENV
    script:
        "../workflow_scripts/tune_run.py"


rule tune_choose:
    input:
        tuning_results,
    output:
        chosen=TUNED_CHOICE,
    log:
        "results/logs/tune_choose/{dataset}/{algorithm}/{ways}w{shots}s.log",
    conda:
        ENV
    script:
        "../workflow_scripts/tune_choose.py"


rule train:
    input:
        unpack(tuned_choice),
        **store("{dataset}"),
    output:
        model=f"{RUN}/model.pt",
        # Its sha256, checked by every job that loads the model (innerloop.checkpoints.load_checked).
        checksum=f"{RUN}/model.pt.sha256",
        train_log=f"{RUN}/train_log.csv",
        validation=f"{RUN}/validation.csv",
    params:
        spec=run_spec,
        checkpoint=CHECKPOINT,
        device=config["train"]["device"],
    resources:
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        f"results/logs/train/{RUN_ID}.log",
    benchmark:
        TRAIN_BENCHMARK
    conda:
        ENV
    script:
        "../workflow_scripts/train.py"


rule ablation_train:
    input:
        unpack(tuned_choice),
        **store("{dataset}"),
    output:
        model=f"{ABLATION_RUN}/model.pt",
        checksum=f"{ABLATION_RUN}/model.pt.sha256",
        train_log=f"{ABLATION_RUN}/train_log.csv",
        validation=f"{ABLATION_RUN}/validation.csv",
    params:
        spec=study_spec,
        checkpoint=f"results/checkpoints/ablations/{ABLATION_RUN_ID}/checkpoint.pt",
        device=config["train"]["device"],
    resources:
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        f"results/logs/ablation_train/{ABLATION_RUN_ID}.log",
    benchmark:
        f"results/benchmarks/ablation_train/{ABLATION_RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/train.py"


rule convergence_grid:
    input:
        **store(config["dataset"]),
    output:
        grid="results/ablations/convergence/{method}.csv",
        log="results/ablations/convergence/{method}_log.csv",
    params:
        spec=plan.grid_spec(config),
        grid=GRID,
        device=config["train"]["device"],
    resources:
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        "results/logs/convergence_grid/{method}.log",
    benchmark:
        "results/benchmarks/convergence_grid/{method}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/convergence_grid.py"


rule sine_run:
    output:
        model=f"{SINE_RUN}/model.pt",
        checksum=f"{SINE_RUN}/model.pt.sha256",
        train_log=f"{SINE_RUN}/train_log.csv",
        validation=f"{SINE_RUN}/validation.csv",
        tasks=f"{SINE_RUN}/mse.csv",
    params:
        spec=lambda w: asdict(plan.variant_spec(config["sine"], w.experiment, w.variant, int(w.seed))),
        identity=lambda w: plan.run_identity(config["sine"], w.experiment, w.variant, int(w.seed)),
        evaluation=lambda w: plan.evaluation_settings(config["sine"], w.experiment),
        checkpoint=SINE_CHECKPOINT,
    wildcard_constraints:
        experiment="|".join(plan.EXPERIMENTS),
        variant=r"[a-z0-9_]+(-[a-z0-9]+)*",
        seed=r"\d+",
    log:
        f"results/logs/sine/{SINE_RUN_ID}.log",
    benchmark:
        f"results/benchmarks/sine/{SINE_RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/sine_run.py"
