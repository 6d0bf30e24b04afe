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
        **rule_resources("meta_test"),
    threads: rule_threads("meta_test")
    log:
        f"results/logs/meta_test/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/meta_test/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/meta_test.py"


# The same run's untrained network (the seed's initialisation) under the run's own evaluation
# protocol, on the same meta-test tasks: the reference the protocol table puts beside the accuracy.
rule untrained_reference:
    input:
        **store("{dataset}"),
    output:
        tasks=f"{RUN}/untrained_reference.csv",
    params:
        spec=run_spec,
        n_tasks=config["evaluation"]["meta_test_tasks"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        device=config["train"]["device"],
    resources:
        **rule_resources("untrained_reference"),
    threads: rule_threads("untrained_reference")
    log:
        f"results/logs/untrained_reference/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/untrained_reference/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/untrained_reference.py"


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
        **rule_resources("feature_probe"),
    threads: rule_threads("feature_probe")
    log:
        f"results/logs/feature_probe/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/feature_probe/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/feature_probe.py"


# Cross-domain: a run trained on {dataset} is meta-tested and probed on the meta-test
# split of {target}, with {target}'s images converted to the network's input shape.
CROSS = f"{RUN}/cross_domain/{{target}}"


rule cross_domain_meta_test:
    input:
        **store("{target}"),
        model=f"{RUN}/model.pt",
    output:
        tasks=f"{CROSS}/meta_test.csv",
    params:
        n_tasks=config["evaluation"]["meta_test_tasks"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        device=config["train"]["device"],
    resources:
        **rule_resources("cross_domain_meta_test"),
    threads: rule_threads("cross_domain_meta_test")
    log:
        f"results/logs/cross_domain_meta_test/{RUN_ID}/{{target}}.log",
    benchmark:
        f"results/benchmarks/cross_domain_meta_test/{RUN_ID}/{{target}}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/meta_test.py"


rule cross_domain_probe:
    input:
        **store("{target}"),
        model=f"{RUN}/model.pt",
    output:
        probe=f"{CROSS}/probe.csv",
    params:
        iterations=config["evaluation"]["probe_iterations"],
        seed=config["evaluation"]["seed"],
        inner_steps=eval_inner_steps(),
        centroid_shots=config["evaluation"]["probe_centroid_shots"],
        device=config["train"]["device"],
    resources:
        **rule_resources("cross_domain_probe"),
    threads: rule_threads("cross_domain_probe")
    log:
        f"results/logs/cross_domain_probe/{RUN_ID}/{{target}}.log",
    benchmark:
        f"results/benchmarks/cross_domain_probe/{RUN_ID}/{{target}}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/feature_probe.py"
