# What each trained run is measured by: its meta-test accuracy on the fixed test task set,
# the untrained reference under the same protocol, the feature probe, the representation
# change (CKA) and the test-time procedures, all in one job per run (rule evaluate_run;
# innerloop.evaluation.run), and the same run's meta-test and probe on each cross-domain
# dataset (rule cross_domain_evaluation); its learned inner-loop learning rates; the
# features of the visualised runs; and the ablation studies' probes and rates.


# The untrained reference is the seed's initialisation with the run's own (tuned) options,
# as the model file records them, evaluated as the trained run is, on the same tasks: the
# reference the protocol table puts beside the accuracy.
rule evaluate_run:
    input:
        **store("{dataset}"),
        model=f"{RUN}/model.pt",
    output:
        meta_test=f"{RUN}/meta_test.csv",
        untrained_reference=f"{RUN}/untrained_reference.csv",
        probe=f"{RUN}/probe.csv",
        cka=f"{RUN}/cka.csv",
        test_time=f"results/ablations/test_time/runs/{RUN_ID}/test_time.csv",
        seconds=f"{RUN}/evaluation_seconds.csv",
    params:
        settings=evaluation_settings(),
        device=config["train"]["device"],
    resources:
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        f"results/logs/evaluate_run/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/evaluate_run/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/evaluate_run.py"


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


# Cross-domain: a run trained on {dataset} is meta-tested and probed on the meta-test split of
# {target}, with {target}'s images converted to the network's input shape (CROSS).
use rule evaluate_run as cross_domain_evaluation with:
    input:
        **store("{target}"),
        model=f"{RUN}/model.pt",
    output:
        meta_test=f"{CROSS}/meta_test.csv",
        probe=f"{CROSS}/probe.csv",
        seconds=f"{CROSS}/evaluation_seconds.csv",
    log:
        f"results/logs/cross_domain_evaluation/{RUN_ID}/{{target}}.log",
    benchmark:
        f"results/benchmarks/cross_domain_evaluation/{RUN_ID}/{{target}}.tsv"

rule feature_maps:
    input:
        **store(config["dataset"]),
        models=visual_models(config),
    output:
        embeddings="results/tables/embeddings.csv",
        extremes="results/tables/max_activating_images.csv",
    params:
        classes=REPRESENTATIONS["classes"],
        images_per_class=REPRESENTATIONS["images_per_class"],
        perplexity=REPRESENTATIONS["tsne_perplexity"],
        unit_layers=REPRESENTATIONS["unit_layers"],
        units=REPRESENTATIONS["units"],
        top_k=REPRESENTATIONS["top_k"],
        seed=config["evaluation"]["seed"],
    threads: 1
    log:
        "results/logs/feature_maps.log",
    conda:
        ENV
    script:
        "../workflow_scripts/feature_maps.py"


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
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        f"results/logs/ablation_probe/{ABLATION_RUN_ID}.log",
    benchmark:
        f"results/benchmarks/ablation_probe/{ABLATION_RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/feature_probe.py"


# The sweep run's probe on another dataset: the cross-domain test datasets of its training dataset.
use rule ablation_probe as ablation_cross_probe with:
    input:
        **store("{target}"),
        model=f"{ABLATION_RUN}/model.pt",
    output:
        probe=f"{ABLATION_RUN}/cross_domain/{{target}}/probe.csv",
    log:
        f"results/logs/ablation_cross_probe/{ABLATION_RUN_ID}/{{target}}.log",
    benchmark:
        f"results/benchmarks/ablation_cross_probe/{ABLATION_RUN_ID}/{{target}}.tsv"

use rule lr_distribution as ablation_lr_distribution with:
    input:
        model=f"{ABLATION_RUN}/model.pt",
    output:
        values=f"{ABLATION_RUN}/learning_rates.npz",
        layers=f"{ABLATION_RUN}/learning_rates.csv",
    log:
        f"results/logs/ablation_lr_distribution/{ABLATION_RUN_ID}.log",

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
        **NETWORK_RESOURCES,
    threads: NETWORK_THREADS
    log:
        f"results/logs/rate_sign_probe/{RUN_ID}.log",
    benchmark:
        f"results/benchmarks/rate_sign_probe/{RUN_ID}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/rate_sign_probe.py"
