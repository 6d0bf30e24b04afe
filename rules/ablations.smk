# Ablations of the study's open questions (innerloop/evaluation/ablations.py; their tables
# in innerloop/stats/ablations.py):
# learned-rate signs (Meta-SGD's probe with negative rates zeroed / flipped, and Meta-SGD
# trained with positive rates), the test-time procedure of every run, an inner-steps sweep
# and the MAML / Alpha-MAML convergence grid. Each question ends in one table and figure.

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
        **rule_resources("ablation_train"),
    threads: rule_threads("ablation_train")
    log:
        f"results/logs/ablation_train/{ABLATION_RUN_ID}.log",
    benchmark:
        f"results/benchmarks/ablation_train/{ABLATION_RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/train.py"


rule ablation_probe:
    input:
        **store("{dataset}"),
        model=f"{ABLATION_RUN}/model.pt",
    output:
        probe=f"{ABLATION_RUN}/probe.csv",
    params:
        iterations=config["evaluation"]["probe_iterations"],
        seed=config["evaluation"]["seed"],
        inner_steps=None,  # the run's own: the sweep's steps are the point
        centroid_shots=config["evaluation"]["probe_centroid_shots"],
        device=config["train"]["device"],
    resources:
        **rule_resources("ablation_probe"),
    threads: rule_threads("ablation_probe")
    log:
        f"results/logs/ablation_probe/{ABLATION_RUN_ID}.log",
    benchmark:
        f"results/benchmarks/ablation_probe/{ABLATION_RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/feature_probe.py"


# The sweep run's probe on another dataset: the cross-domain test datasets of its training dataset.
rule ablation_cross_probe:
    input:
        **store("{target}"),
        model=f"{ABLATION_RUN}/model.pt",
    output:
        probe=f"{ABLATION_RUN}/cross_domain/{{target}}/probe.csv",
    params:
        iterations=config["evaluation"]["probe_iterations"],
        seed=config["evaluation"]["seed"],
        inner_steps=None,  # the run's own, as ablation_probe
        centroid_shots=config["evaluation"]["probe_centroid_shots"],
        device=config["train"]["device"],
    resources:
        **rule_resources("ablation_cross_probe"),
    threads: rule_threads("ablation_cross_probe")
    log:
        f"results/logs/ablation_cross_probe/{ABLATION_RUN_ID}/{{target}}.log",
    benchmark:
        f"results/benchmarks/ablation_cross_probe/{ABLATION_RUN_ID}/{{target}}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/feature_probe.py"


rule ablation_lr_distribution:
    input:
        model=f"{ABLATION_RUN}/model.pt",
    output:
        values=f"{ABLATION_RUN}/learning_rates.npz",
        layers=f"{ABLATION_RUN}/learning_rates.csv",
    log:
        f"results/logs/ablation_lr_distribution/{ABLATION_RUN_ID}.log",
    conda:
        ENV
    script:
        "../workflow_scripts/lr_distribution.py"


# The probe of a trained Meta-SGD run with its rates as trained, negative rates zeroed and flipped.
rule rate_sign_probe:
    input:
        **store("{dataset}"),
        model=f"{RUN}/model.pt",
    output:
        probe=f"results/ablations/rate_signs/runs/{RUN_ID}/probe.csv",
    params:
        iterations=config["evaluation"]["probe_iterations"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        centroid_shots=config["evaluation"]["probe_centroid_shots"],
        device=config["train"]["device"],
    resources:
        **rule_resources("rate_sign_probe"),
    threads: rule_threads("rate_sign_probe")
    log:
        f"results/logs/rate_sign_probe/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/rate_sign_probe/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/rate_sign_probe.py"


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
        **rule_resources("convergence_grid"),
    threads: rule_threads("convergence_grid")
    log:
        "results/logs/convergence_grid/{method}.log",
    benchmark:
        "results/benchmarks/convergence_grid/{method}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/convergence_grid.py"


# One table (CSV and LaTeX) and one figure per question. The rate-sign rule's inputs are
# empty when Meta-SGD is not configured: its table is then header-only and its figure a note.
rule ablation_rate_signs:
    input:
        variants=lambda w: expand_runs(f"results/ablations/rate_signs/runs/{RUN_ID}/probe.csv", ["metasgd"])
            if "metasgd" in config["algorithms"] else [],
        positive=positive_runs("probe.csv"),
    output:
        table="results/tables/ablation_rate_signs.csv",
        tex="results/tables/ablation_rate_signs.tex",
        png="results/figures/ablation_rate_signs.png",
        svg=figure_report("ablation_rate_signs", "Ablations"),
    log:
        "results/logs/ablation_rate_signs.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_rate_signs.py"


# The per-run test-time tables come from rule evaluate_run (rules/evaluate.smk).
rule ablation_test_time:
    input:
        runs=expand_runs(f"results/ablations/test_time/runs/{RUN_ID}/test_time.csv"),
    output:
        tasks="results/tables/ablation_test_time_tasks.csv.gz",
        table="results/tables/ablation_test_time.csv",
        tex="results/tables/ablation_test_time.tex",
        png="results/figures/ablation_test_time.png",
        svg=figure_report("ablation_test_time", "Ablations"),
    log:
        "results/logs/ablation_test_time.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_test_time.py"


rule ablation_inner_steps:
    input:
        probes=sweep_runs("probe.csv"),
        cross_probes=sweep_cross_runs("probe.csv"),
        layers=sweep_runs("learning_rates.csv", [a for a in SWEEP["algorithms"] if a in LEARNS_RATES]),
    output:
        probe="results/tables/ablation_inner_steps_probe.csv",
        rates="results/tables/ablation_inner_steps_rates.csv",
        png="results/figures/ablation_inner_steps.png",
        svg=figure_report("ablation_inner_steps", "Ablations"),
    params:
        steps=SWEEP_STUDIES,
    log:
        "results/logs/ablation_inner_steps.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_inner_steps.py"


rule ablation_convergence:
    input:
        grids=expand("results/ablations/convergence/{method}.csv", method=["maml", "alpha_maml"]),
        logs=expand("results/ablations/convergence/{method}_log.csv", method=["maml", "alpha_maml"]),
    output:
        grid="results/tables/ablation_convergence.csv",
        table="results/tables/ablation_convergence_grid.csv",
        tex="results/tables/ablation_convergence_grid.tex",
        png="results/figures/ablation_convergence.png",
        svg=figure_report("ablation_convergence", "Ablations"),
    log:
        "results/logs/ablation_convergence.log",
    conda:
        ENV
    script:
        "../workflow_scripts/ablation_convergence.py"
