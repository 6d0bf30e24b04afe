# What each trained run is measured by: meta-test accuracy on the fixed test task set,
# its learned inner-loop learning rates (Meta-SGD), and the feature probe.


rule meta_test:
    input:
        **store("{dataset}"),
        model=f"{RUN}/model.pt",
    output:
        tasks=f"{RUN}/meta_test.csv",
    params:
        n_tasks=config["evaluation"]["meta_test_tasks"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        device=config["train"]["device"],
    resources:
        gpu=1,
    threads: 2
    log:
        f"results/logs/meta_test/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/meta_test/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/meta_test.py"


rule lr_distribution:
    input:
        model=f"{RUN}/model.pt",
    output:
        values=f"{RUN}/learning_rates.npz",
        layers=f"{RUN}/learning_rates.csv",
    log:
        f"results/logs/lr_distribution/{RUN_ID}.log",
    conda:
        ENV
    script:
        "../workflow_scripts/lr_distribution.py"


rule feature_probe:
    input:
        **store("{dataset}"),
        model=f"{RUN}/model.pt",
    output:
        probe=f"{RUN}/probe.csv",
    params:
        iterations=config["evaluation"]["probe_iterations"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        centroid_shots=config["evaluation"]["probe_centroid_shots"],
        device=config["train"]["device"],
    resources:
        gpu=1,
    threads: 2
    log:
        f"results/logs/feature_probe/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/feature_probe/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/feature_probe.py"
