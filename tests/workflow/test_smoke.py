"""The workflow end to end: the smoke preset through Snakemake, lint, and config errors.

Runs in a copy of the workflow inside a temporary directory so that a user's results/
are never touched. The smoke DAG runs once per session (the ``smoke_run`` fixture of
tests/conftest.py); every test here reads it.
"""

import re
import subprocess

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import browser
from workflow_copy import ROOT, SMOKE_ARGS, copy_workflow, snakemake

from innerloop.algorithms import ALGORITHMS, LEARNS_RATES
from innerloop.config import load_config
from innerloop.reporting.format import typographic_minus

SECTIONS = ["summary", "setup", "training", "learning-rates", "feature-probe", "representations", "cross-domain",
            "comparison", "sine", "methods", "provenance"]
FIGURES = ["training_curves", "lr_histograms", "feature_probe", "cross_domain_probe", "meta_test_accuracy",
           "running_time", "sine_comparison", "sine_turtle_study", "rulegraph", "representation_change",
           "first_layer_filters", "embeddings_pca", "embeddings_tsne", "max_activating_images"]
SMOKE = load_config(ROOT / "config/config.yaml", ROOT / "config/presets/smoke.yaml")


def test_smoke_report_has_every_section_and_figure(smoke_run):
    html = (smoke_run / "results/report/report.html").read_text()
    for section in SECTIONS:
        assert f'id="{section}"' in html, f"section {section} missing"
    for name in FIGURES:
        assert (smoke_run / f"results/figures/{name}.png").stat().st_size > 1000, name
        assert (smoke_run / f"results/figures/{name}.svg").read_text().lstrip().startswith(("<?xml", "<svg")), name
    # Every figure is embedded as an image that a browser can decode.
    assert len(re.findall(r'src="data:image/png;base64,', html)) >= len(FIGURES)


def test_smoke_report_numbers_come_from_the_result_tables(smoke_run):
    html = (smoke_run / "results/report/report.html").read_text()
    ttest = pd.read_csv(smoke_run / "results/tables/probe_ttest.csv").iloc[0]
    statistic = typographic_minus(f"{ttest['statistic']:.2f}")  # a negative t prints with the minus sign
    assert f"t = {statistic}" in html
    runs = pd.read_csv(smoke_run / "results/tables/meta_test_runs.csv")
    assert sorted(set(runs["algorithm"])) == sorted(SMOKE["algorithms"])
    assert len(runs) == len(SMOKE["algorithms"]) * len(SMOKE["seeds"])
    for accuracy in runs["accuracy"]:
        assert f"{100 * accuracy:.2f}%" in html
    table = pd.read_csv(smoke_run / "results/tables/meta_test_table.csv")
    assert len(table) == len(SMOKE["algorithms"])
    lr = pd.read_csv(smoke_run / "results/tables/lr_table.csv")
    assert set(lr["algorithm"]) == set(SMOKE["algorithms"]) & LEARNS_RATES
    assert list(lr.loc[lr["algorithm"] == "metasgd", "layer"]) == ["conv1", "conv2", "conv3", "conv4", "logits"]
    claims = pd.read_csv(smoke_run / "results/tables/claims.csv")
    assert (claims["verdict"] == "not testable at this scale").all()  # every algorithm ran; one unconverged seed
    assert html.count('<tr id="claim-') == len(claims)
    paired = pd.read_csv(smoke_run / "results/tables/paired_meta_test.csv")
    assert set(paired.loc[paired["family"] == "vs maml", "algorithm"]) == set(SMOKE["algorithms"]) - {"maml"}
    for name in ("paired_meta_test", "paired_probe", "mixed_model", "lr_below_zero", "claims"):
        assert (smoke_run / f"results/tables/{name}.tex").is_file(), name
        assert 'id="tab-{}"'.format(name.replace("_", "-")) in html, name


def test_smoke_preset_covers_every_algorithm():
    assert sorted(SMOKE["algorithms"]) == sorted(ALGORITHMS)


def test_smoke_pdf_pages_render_and_none_is_blank(smoke_run):
    pdf = smoke_run / "results/report/report.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    assert pages > 3
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(smoke_run / "results/report/page")], check=True)
    images = sorted((smoke_run / "results/report").glob("page-*.png"))
    assert len(images) == pages
    for image in images:
        grey = np.asarray(Image.open(image).convert("L"))
        assert (grey < 240).mean() > 0.001, f"{image.name} is blank"  # a blank page is all white


def test_smoke_report_in_a_browser(smoke_run):
    """What a reader's browser shows: no console errors, every image decoded; a screenshot is kept."""
    screenshot = smoke_run / "results/report/screenshot.png"
    page = browser.view(smoke_run / "results/report/report.html", screenshot)
    assert page.console_errors == []
    assert len(page.images) >= len(FIGURES)
    broken = [i for i in page.images if not (i["complete"] and i["naturalWidth"] > 0)]
    assert broken == []
    assert page.title.startswith("Negative Inner-Loop Learning Rates")
    assert Image.open(screenshot).size[1] > 2000  # the whole page, not one screen


def test_every_run_has_its_outputs_and_the_checkpoint_survives(smoke_run):
    for algorithm in SMOKE["algorithms"]:
        for seed in SMOKE["seeds"]:
            run = smoke_run / f"results/runs/glyphs/{algorithm}/5w1s/seed{seed}"
            for name in ("model.pt", "train_log.csv", "validation.csv", "meta_test.csv", "probe.csv", "cka.csv",
                         "cross_domain/digits/meta_test.csv", "cross_domain/digits/probe.csv"):
                assert (run / name).exists(), run / name
            assert (smoke_run / f"results/checkpoints/glyphs/{algorithm}/5w1s/seed{seed}/checkpoint.pt").exists()
            assert (smoke_run / f"results/logs/train/glyphs/{algorithm}/5w1s/seed{seed}.log").read_text()


def test_inner_steps_sweep_is_probed_on_the_cross_domain_dataset_too(smoke_run):
    probe = pd.read_csv(smoke_run / "results/tables/ablation_inner_steps_probe.csv")
    assert set(zip(probe["dataset"], probe["probe_dataset"])) == {("glyphs", "glyphs"), ("glyphs", "digits")}
    assert len(probe) == 2 * 2 * 2  # (maml, metasgd) x two probe datasets x steps 1, 2
    assert "Trained on" in (smoke_run / "results/report/report.html").read_text()


def test_cross_domain_table_has_every_algorithm(smoke_run):
    table = pd.read_csv(smoke_run / "results/tables/cross_domain_table.csv")
    assert sorted(table["algorithm"]) == sorted(SMOKE["algorithms"])
    assert table["glyphs_to_digits_5w1s_n_seeds"].eq(len(SMOKE["seeds"])).all()
    assert table["glyphs_to_digits_5w1s_median"].between(0, 1).all()
    html = (smoke_run / "results/report/report.html").read_text()
    assert "glyphs → digits, 5-way 1-shot" in html and "none needed (both 1×28×28)" in html


def test_every_report_table_also_as_latex(smoke_run):
    for name in ("meta_test_table", "meta_test_runs", "lr_table", "probe_changes", "probe_vs_maml", "running_time",
                 "cross_domain_table", "sine_comparison", "sine_turtle_study"):
        csv = smoke_run / f"results/tables/{name}.csv"
        assert csv.exists(), csv.name
        assert csv.with_suffix(".tex").read_text().startswith("\\begin{tabular}"), name


def test_rerun_has_nothing_to_do(smoke_run):
    result = snakemake(smoke_run, "-n", *SMOKE_ARGS)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize("source", ["report/style.css", "report/templates/sections/summary.html.j2",
                                    "report/captions/training_curves.rst"])
def test_a_report_source_edit_plans_only_the_report(smoke_run, source):
    """The report's templates, style sheet and captions are sources of rule report_html
    (its parameter report_sources): editing one reruns the report and nothing else."""
    path = smoke_run / source
    original = path.read_text()
    path.write_text(original + "\n")
    try:
        result = snakemake(smoke_run, "-n", *SMOKE_ARGS)
    finally:
        path.write_text(original)
    assert result.returncode == 0, result.stderr[-3000:]
    stats = result.stdout.split("Job stats:")[1].split("total")[0]
    planned = {m[1] for m in re.finditer(r"^(\w+)\s+\d+$", stats, re.M)}
    assert "report_html" in planned and planned <= {"report_html", "report_pdf", "all"}, planned


def test_snakemake_report_with_captions(smoke_run):
    result = snakemake(smoke_run, "--configfile", "config/presets/smoke.yaml", "--report", "results/snakemake_report.zip")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (smoke_run / "results/snakemake_report.zip").stat().st_size > 10_000


def test_lint_is_clean():
    result = snakemake(ROOT, "--lint", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "bad, key",
    [("algorithms: [maml, mamll]", "algorithms.1"), ("task: {ways: 0}", "task.ways")],
)
def test_bad_config_stops_before_any_job(tmp_path, bad, key):
    workdir = copy_workflow(tmp_path)
    (workdir / "bad.yaml").write_text(bad + "\n")
    result = snakemake(workdir, "-n", "--cores", "1", "--configfile", "bad.yaml", timeout=600)
    assert result.returncode != 0
    assert f"'{key}'" in result.stdout + result.stderr
    assert not (workdir / "results").exists()


def test_inner_steps_sweep_over_two_training_datasets_plans_each(tmp_path):
    """The dataset half of the sweep: every training dataset gets its sweep runs, and each is
    probed on its own cross-domain test datasets (a dry run: Omniglot's folders exist, empty)."""
    workdir = copy_workflow(tmp_path)
    for folder in ("images_background", "images_evaluation"):  # the preset's root, in the layout checked before planning
        (workdir / "data" / "omniglot" / folder).mkdir(parents=True)
    (workdir / "sweep.yaml").write_text("ablations: {inner_steps: {datasets: [omniglot, glyphs], steps: [1, 3]}}\n")
    result = snakemake(workdir, "-n", "--quiet", "rules", "--cores", "1", "--configfile",
                       "config/presets/omniglot.yaml", "sweep.yaml", "--", "results/tables/ablation_inner_steps_probe.csv", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    counts = dict(re.findall(r"^(ablation_\w+)\s+(\d+)$", result.stdout + result.stderr, flags=re.M))
    # 2 datasets x 2 algorithms (maml, metasgd) x 2 settings (1 and 5 shots) x 2 step counts
    assert counts["ablation_train"] == "16" and counts["ablation_probe"] == "16"
    assert counts["ablation_cross_probe"] == "8"  # omniglot -> digits only: glyphs has no pair in this preset
