# The tuning stage: every candidate of `tuning.grid` is meta-trained once with the tuning
# seed and budget and scored on meta-validation; the best candidate's options are what the
# main runs of that algorithm train with (innerloop/tuning.py says how it chooses).


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
        **rule_resources("tune_run"),
    threads: rule_threads("tune_run")
    log:
        "results/logs/tune_run/{dataset}/{algorithm}/{ways}w{shots}s/{candidate}.log",
    benchmark:
        "results/benchmarks/tune_run/{dataset}/{algorithm}/{ways}w{shots}s/{candidate}.tsv"
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


rule tuning_table:
    input:
        chosen=tuning_choices(),
    output:
        table="results/tables/tuning.csv",
    log:
        "results/logs/tuning_table.log",
    conda:
        ENV
    script:
        "../workflow_scripts/tuning_table.py"
