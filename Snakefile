# innerloop: re-runs "Negative Inner-Loop Learning Rates Learn Universal Features"
# (MAML vs Meta-SGD: learned learning rates, feature probe) and compiles one report.
#
#   snakemake --cores 8 --resources gpu=1                                  # default experiment
#   snakemake --cores 2 --resources gpu=1 --configfile config/presets/smoke.yaml

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/stats.smk"
include: "rules/figures.smk"
# After every other stage: its LaTeX tables are those of every rule's outputs.
include: "rules/report.smk"
# Last: it adds the library-code parameter to every rule above.
include: "rules/code_version.smk"


rule all:
    input:
        "results/report/report.html",
        *unless_skipped("report_pdf", pdf="results/report/report.pdf").values(),
        # Every configured dataset is prepared, including those only later stages use
        # (digits, the cross-domain test set).
        expand("results/data/{dataset}/manifest.json", dataset=config["datasets"]),
        cross_domain_runs("meta_test.csv"),
        cross_domain_runs("probe.csv"),
        rules.tables_latex.output,


# Only the sine-wave study: snakemake --cores 2 sine
rule sine:
    input:
        rules.sine_figures.output,
