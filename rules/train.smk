# Meta-training of one algorithm, setting and seed, with the tuning stage's choice of
# options where the algorithm is tuned (rules/tune.smk). The checkpoint lives outside the
# rule's outputs, so Snakemake's cleanup of incomplete outputs never deletes it and a
# rerun resumes where an interrupted run stopped.


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
        **rule_resources("train"),
    threads: rule_threads("train")
    log:
        f"results/logs/train/{RUN_ID}.log",
    benchmark:
        TRAIN_BENCHMARK
    conda:
        ENV
    script:
        "../workflow_scripts/train.py"
