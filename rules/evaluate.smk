# What each trained run is measured by: its meta-test accuracy on the fixed test task set,
# the untrained reference under the same protocol, the feature probe, the representation
# change (CKA) and the test-time procedures, all in one job per run (rule evaluate_run;
# innerloop.evaluation.run), and the same run's meta-test and probe on each cross-domain
# dataset (rule cross_domain_evaluation); its learned inner-loop learning rates (Meta-SGD).


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
        **rule_resources("evaluate_run"),
    threads: rule_threads("evaluate_run")
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


# Cross-domain: a run trained on {dataset} is meta-tested and probed on the meta-test
# split of {target}, with {target}'s images converted to the network's input shape.
CROSS = f"{RUN}/cross_domain/{{target}}"


rule cross_domain_evaluation:
    input:
        **store("{target}"),
        model=f"{RUN}/model.pt",
    output:
        meta_test=f"{CROSS}/meta_test.csv",
        probe=f"{CROSS}/probe.csv",
        seconds=f"{CROSS}/evaluation_seconds.csv",
    params:
        settings=evaluation_settings(),
        device=config["train"]["device"],
    resources:
        **rule_resources("cross_domain_evaluation"),
    threads: rule_threads("cross_domain_evaluation")
    log:
        f"results/logs/cross_domain_evaluation/{RUN_ID}/{{target}}.log",
    benchmark:
        f"results/benchmarks/cross_domain_evaluation/{RUN_ID}/{{target}}.tsv"
    conda:
        ENV
    script:
        "../workflow_scripts/evaluate_run.py"
