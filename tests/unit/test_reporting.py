"""Tests for innerloop.reporting: figures, tables, the HTML template and the PDF.

Everything runs on small synthetic frames with the workflow's columns: the paper's
pair (MAML, Meta-SGD; two seeds) with hand-set numbers, and, for configurations the
paper did not have (one algorithm, neither MAML nor Meta-SGD, no rate-learning
algorithm, Alpha-MAML, a not-meta-trained baseline), per-run raw tables pushed through
``innerloop.stats``. ``synthetic_frames``/``synthetic_setup``/``synthetic_provenance``
are reusable for rendering a sample report.
"""

from __future__ import annotations

import copy
import io
import re
import zlib
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pytest

import innerloop.stats.summaries  # noqa: F401  (S.summaries below: a lazy submodule, imported here)
from innerloop import stats as S
from innerloop.algorithms import DISPLAY_NAMES
from innerloop.reference import PAPER_TABLE1_LR
from innerloop.reporting import figures as F
from innerloop.reporting import render as R
from innerloop.reporting import style
from innerloop.reporting import tables as T
from innerloop.reporting.format import format_number

REPO = Path(__file__).resolve().parents[2]
TEMPLATE_DIR = REPO / "report" / "templates"
CAPTION_DIR = REPO / "report" / "captions"
SECTION_IDS = ("summary", "setup", "training", "learning-rates", "feature-probe", "comparison", "methods",
               "provenance")
ALGS = ("maml", "metasgd")
SEEDS = (0, 1)


# --------------------------------------------------------------------------
# Synthetic data with exactly the workflow's columns
# --------------------------------------------------------------------------

def synthetic_frames(seed: int = 0, iterations: int = 2000, lr_per_layer: int = 1000) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    train, val, lrv, mt = [], [], [], []
    for a_i, alg in enumerate(ALGS):
        for s in SEEDS:
            it = np.arange(0, iterations, 10)
            acc = 0.2 + (0.46 + 0.01 * a_i) * (1 - np.exp(-it / (iterations / 4))) * 0.9
            train.append(pd.DataFrame({
                "algorithm": alg, "seed": s, "iteration": it,
                "loss": 1.6 - 1.5 * acc + rng.normal(0, 0.05, it.size),
                "accuracy": np.clip(acc + rng.normal(0, 0.06, it.size), 0, 1)}))
            vit = np.arange(0, iterations + 1, iterations // 10)
            vacc = 0.2 + (0.46 + 0.01 * a_i) * (1 - np.exp(-vit / (iterations / 4))) * 0.9
            val.append(pd.DataFrame({"algorithm": alg, "seed": s, "iteration": vit,
                                     "accuracy": vacc + rng.normal(0, 0.005, vit.size), "ci95": 0.012}))
            a = 0.455 + 0.012 * a_i + rng.normal(0, 0.004)
            mt.append({"dataset": "glyphs", "algorithm": alg, "setting": "5w1s", "ways": 5, "shots": 1, "seed": s,
                       "accuracy": a, "ci95_low": a - 0.009, "ci95_high": a + 0.009, "n_tasks": 600})
            if alg == "metasgd":
                for layer, (m, sd) in PAPER_TABLE1_LR.items():
                    lrv.append(pd.DataFrame({"algorithm": alg, "seed": s, "layer": layer,
                                             "value": rng.normal(m, sd, lr_per_layer)}))
    lr_values = pd.concat(lrv, ignore_index=True)
    per_seed = lr_values.groupby(["layer", "seed"], sort=False)["value"].mean().unstack()
    g = lr_values.groupby("layer", sort=False)["value"]
    lr_table = pd.DataFrame({
        "algorithm": "metasgd", "setting": "5w1s",
        "layer": g.mean().index, "mean": g.mean().values, "std": g.std().values, "median": g.median().values,
        "fraction_negative": g.apply(lambda v: float((v < 0).mean())).values, "n_seeds": len(SEEDS),
        "mean_ci95_low": per_seed.min(axis=1).values - 0.001, "mean_ci95_high": per_seed.max(axis=1).values + 0.001,
    })
    meta_test = pd.DataFrame(mt)
    mts = meta_test.groupby("algorithm")["accuracy"]
    meta_test_summary = pd.DataFrame({
        "algorithm": list(mts.mean().index), "setting": "5w1s", "n_seeds": len(SEEDS),
        "mean": mts.mean().values, "median": mts.median().values,
        "ci95_low": mts.min().values - 0.01, "ci95_high": mts.max().values + 0.01})
    meta_test_summary["ci95_half_width"] = (meta_test_summary["ci95_high"] - meta_test_summary["ci95_low"]) / 2
    probe_summary = pd.DataFrame([
        (alg, ph, m, m - 0.0012, m + 0.0012, 8000)
        for alg, base, d_on, d_off in (("maml", 0.4701, -0.0010, -0.0030), ("metasgd", 0.4803, -0.0015, 0.0020))
        for ph, m in (("pre_adaptation", base), ("on_task", base + d_on), ("off_task", base + d_off))
    ], columns=["algorithm", "phase", "mean", "ci95_low", "ci95_high", "n"])
    probe_changes = pd.DataFrame([
        (alg, ch, m, m - 0.0009, m + 0.0009, 8000)
        for alg, on, off in (("maml", -0.0010, -0.0030), ("metasgd", -0.0015, 0.0020))
        for ch, m in (("on_task_change", on), ("off_task_change", off), ("off_minus_on", off - on))
    ], columns=["algorithm", "change", "mean", "ci95_low", "ci95_high", "n"])
    probe_ttest = pd.DataFrame([{"comparison": "maml vs metasgd", "setting": "5w1s", "statistic": -3.52,
                                 "df": 15873.4, "p_value": 0.000431, "test": "Welch two-sample t-test on off_minus_on",
                                 "n_a": 8000, "n_b": 8000, "mean_a": -0.002, "mean_b": 0.0035}])
    probe_vs_maml = pd.DataFrame([
        ("maml", "5w1s", "maml", 8000, -0.002, -0.0029, -0.0011, np.nan, np.nan, np.nan, np.nan, np.nan),  # as read
        ("metasgd", "5w1s", "maml", 8000, 0.0035, 0.0026, 0.0044, 0.0055, 0.0042, 0.0068, 2.5e-9,
         "paired t-test over (seed, iteration)")], columns=S.summaries.VS_REFERENCE_COLUMNS)
    run_times = pd.DataFrame([
        {"dataset": "glyphs", "algorithm": alg, "setting": "5w1s", "ways": 5, "shots": 1, "seed": s,
         "train_s": 600.0 * (1 + a_i) + 10 * s, "meta_test_s": 30.0, "feature_probe_s": 60.0,
         "total_s": 690.0 * (1 + a_i) + 10 * s, "train_max_rss_mb": 1100.0}
        for a_i, alg in enumerate(ALGS) for s in SEEDS])
    return {
        "train_log": pd.concat(train, ignore_index=True), "validation": pd.concat(val, ignore_index=True),
        "lr_values": lr_values, "lr_table": lr_table, "meta_test": meta_test,
        "meta_test_summary": meta_test_summary, "meta_test_table": S.meta_test_table(meta_test_summary),
        "probe_summary": probe_summary, "probe_changes": probe_changes,
        "probe_ttest": probe_ttest, "probe_vs_maml": probe_vs_maml, "run_times": run_times,
        "running_time": S.running_time_summary(run_times, meta_test),
    }


RATE_LEARNERS = ("metasgd", "turtle")  # those raw_run_frames gives learned rates


def raw_run_frames(algorithms, settings=("5w1s",), seeds=(0, 1), seed: int = 0) -> dict[str, pd.DataFrame]:
    """Per-run tables as the workflow's rules write them (train log, validation, meta-test
    per run, probe per iteration, learned rates, benchmark seconds), for ``algorithms``;
    scratch is not meta-trained and Alpha-MAML logs alpha and beta."""
    rng = np.random.default_rng(seed)
    train, val, mt, probe, lrv, bench = [], [], [], [], [], []
    for a_i, alg in enumerate(algorithms):
        for setting in settings:
            for s in seeds:
                run = {"dataset": "glyphs", "algorithm": alg, "setting": setting, "ways": 5,
                       "shots": int(setting[2:-1]), "seed": s}
                if alg == "scratch":
                    val.append({**run, "iteration": 0, "accuracy": 0.3, "ci95": 0.02})
                else:
                    it = np.arange(1, 101)
                    log = pd.DataFrame({**run, "iteration": it, "loss": 1.0 / it, "accuracy": 0.4 + 0.002 * it})
                    if alg == "alpha_maml":
                        log = log.assign(alpha=0.01 + 1e-5 * it * (s + 1), beta=1e-3 - 1e-6 * it)
                    train.append(log)
                    val += [{**run, "iteration": i, "accuracy": 0.4 + 0.002 * i + 0.01 * a_i, "ci95": 0.02}
                            for i in (50, 100)]
                acc = 0.45 + 0.02 * a_i + 0.01 * s
                mt.append({**run, "accuracy": acc, "ci95_low": acc - 0.01, "ci95_high": acc + 0.01, "n_tasks": 100})
                pre = 0.6 + rng.normal(0, 0.02, 30)
                on, off = pre + rng.normal(0.001 * a_i, 0.01, 30), pre + rng.normal(-0.001 * a_i, 0.01, 30)
                probe.append(pd.DataFrame({**run, "iteration": np.arange(30), "pre_adaptation": pre,
                                           "pre_adaptation_off": pre, "on_task": on, "off_task": off,
                                           "on_task_change": on - pre, "off_task_change": off - pre}))
                if alg in RATE_LEARNERS:
                    for layer in ("conv1", "conv2", "conv3", "conv4", "logits"):
                        lrv.append(pd.DataFrame({**run, "layer": layer, "value": rng.normal(-0.01, 0.03, 200)}))
                for stage, seconds in (("train", 5.0 if alg == "scratch" else 100.0 * (a_i + 1) + s),
                                       ("meta_test", 10.0), ("feature_probe", 20.0)):
                    bench.append({"stage": stage, **run, "seconds": seconds, "max_rss_mb": 900.0,
                                  "cpu_seconds": seconds})
    identity = S.summaries.RUN_IDENTITY
    lr_values = pd.concat(lrv, ignore_index=True) if lrv else pd.DataFrame(columns=identity + ["layer", "value"])
    return {"train_log": pd.concat(train, ignore_index=True) if train else
            pd.DataFrame(columns=identity + ["iteration", "loss", "accuracy"]),
            "validation": pd.DataFrame(val), "meta_test": pd.DataFrame(mt),
            "probe": pd.concat(probe, ignore_index=True),
            "lr_values": lr_values, "benchmarks": pd.DataFrame(bench)}


def frames_from_runs(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The report's frames from per-run tables, through ``innerloop.stats`` as the workflow makes them."""
    identity = S.summaries.RUN_IDENTITY
    per_seed = raw["lr_values"].groupby(identity + ["layer"], as_index=False)["value"].agg(
        mean="mean", std="std", median="median", fraction_negative=lambda v: float((v < 0).mean()), n="size") \
        if len(raw["lr_values"]) else pd.DataFrame(columns=identity + S.summaries.LR_LAYER_COLUMNS)
    summary = S.meta_test_summary(raw["meta_test"])
    times = S.run_times(raw["benchmarks"])
    probe = raw["probe"]
    return {"train_log": raw["train_log"], "validation": raw["validation"], "meta_test": raw["meta_test"],
            "meta_test_summary": summary, "meta_test_table": S.meta_test_table(summary),
            "lr_values": raw["lr_values"], "lr_table": S.lr_table(per_seed), "probe_summary": S.probe_summary(probe),
            "probe_changes": S.probe_changes(probe), "probe_ttest": S.probe_ttest(probe),
            "probe_vs_maml": S.probe_vs_reference(probe), "run_times": times,
            "running_time": S.running_time_summary(times, raw["meta_test"])}


def synthetic_setup() -> R.SetupInfo:
    return R.SetupInfo(
        dataset=R.DatasetInfo(
            name="Omniglot", image_size="28×28 px, greyscale",
            split_rule="alphabet-disjoint (all characters of one alphabet fall in the same split)",
            splits=[R.SplitInfo(split="train", classes=1028, images=20560),
                    R.SplitInfo(split="val", classes=172, images=3440),
                    R.SplitInfo(split="test", classes=423, images=8460)]),
        task=R.TaskInfo(ways=5, shots=1, queries=15, meta_batch_size=4),
        model=R.ModelInfo(description="4 × [3×3 conv, 64 filters → BatchNorm → ReLU → 2×2 max-pool] → linear",
                          n_parameters=112_005, embedding_dim=64),
        probe=R.ProbeInfo(iterations=4000, inner_steps=5, queries=15, split="meta-test"),
        algorithms=["MAML", "Meta-SGD"], seeds=list(SEEDS), iterations=2000, inner_steps=5, inner_steps_eval=10,
        validation_every=200, n_val_tasks=300, n_test_tasks=600,
        hyperparameters={"Meta-optimiser": "Adam", "Meta learning rate": 0.001, "MAML inner learning rate": 0.01,
                         "Meta-SGD initial inner learning rate": "U(0.005, 0.1)", "Second-order gradients": "yes"},
    )


def synthetic_provenance() -> R.ProvenanceInfo:
    return R.ProvenanceInfo(
        config_yaml="dataset: omniglot\nways: 5\nshots: 1\nseeds: [0, 1]\n"
                    "algorithms:\n  - maml\n  - metasgd\ntraining:\n  iterations: 2000\n  inner_steps: 5\n",
        git_commit="2d1a86d0123456789abcdef0123456789abcdef0", git_dirty=True,
        packages={"torch": "2.14.1", "numpy": "2.4.6", "pandas": "3.1.1", "snakemake": "9.0.0"},
        device="NVIDIA H100 80GB HBM3 (CUDA 12.8)", hostname="synthetic-host",
        cpu="16 × Intel Xeon Platinum", python="3.11.2", platform="Linux-6.1-x86_64",
        command="snakemake --cores 16 --configfile config/presets/paper.yaml report",
        started="2026-01-01T00:00:00+00:00", finished="2026-01-01T06:00:00+00:00",
    )


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return synthetic_frames()


@pytest.fixture(scope="module")
def rendered(frames, tmp_path_factory):
    """Figures, context and HTML rendered once for the module."""
    out = tmp_path_factory.mktemp("report")
    figs = save_figures(frames, out / "figures")
    rulegraph = F.save_figure(F.draw_meta_test_accuracy(frames["meta_test"]), out / "figures" / "rulegraph")[0]
    ctx = R.build_context(frames=frames, setup=synthetic_setup(), provenance=synthetic_provenance(),
                          figures={**figs, "rulegraph": rulegraph}, caption_dir=CAPTION_DIR,
                          generated="2026-01-01T07:00:00+00:00")
    html_path = R.render_html(ctx, TEMPLATE_DIR, out / "report.html")
    return {"dir": out, "figures": figs, "context": ctx, "html_path": html_path,
            "html": html_path.read_text(encoding="utf-8")}


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


#: Figure key -> its drawing function on the report's frames, as workflow_scripts/figure_<key>.py calls it.
FIGURE_FUNCTIONS = {
    "training_curves": lambda f: F.draw_training_curves(f["train_log"], f["validation"]),
    "lr_histograms": lambda f: F.draw_lr_histograms(f["lr_values"]),
    "feature_probe": lambda f: F.draw_feature_probe(f["probe_summary"], f["probe_changes"]),
    "meta_test_accuracy": lambda f: F.draw_meta_test_accuracy(f["meta_test"]),
    "running_time": lambda f: F.draw_running_time(f["run_times"], f["meta_test"]),
}


def save_figures(frames: dict[str, pd.DataFrame], out_dir: Path) -> dict[str, Path]:
    """The report's data figures as the figure rules write them: each key's drawing function,
    saved with save_figure as ``out_dir/<key>.png`` and ``.svg``; Alpha-MAML's learning-rate
    trajectories too when the training log has them. ``{key: png}``."""
    draws = dict(FIGURE_FUNCTIONS)
    if R.has_lr_trajectories(frames["train_log"]):
        draws["lr_trajectories"] = lambda f: F.draw_lr_trajectories(f["train_log"])
    return {key: F.save_figure(draw(frames), out_dir / key)[0] for key, draw in draws.items()}


def draw(fig) -> int:
    """Render ``fig`` as a small PNG in memory (layout and all), close it; the byte count."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30)
    F._close(fig)
    return buffer.tell()


@pytest.mark.parametrize("name", list(FIGURE_FUNCTIONS))
def test_figure_files(rendered, name):
    """The files save_figure wrote for the module's report, one per figure key."""
    png = rendered["figures"][name]
    svg = png.with_suffix(".svg")
    assert png.name == f"{name}.png" and svg.is_file()
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 500 and height >= 300
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > 50  # it has drawn content
    assert not [p for p in png.parent.iterdir() if p.name.startswith(".")]  # no temp files left
    assert png.stat().st_mode & 0o044, "output must be readable by others (mkstemp makes 0600)"


def test_figure_scripts_draw_with_the_function_named_after_their_figure():
    """A figure's key, file stem, rule, script and drawing function share one name:
    workflow_scripts/figure_<key>.py (and ablation_<key>.py) draws with draw_<key>; the sine
    rule draws both its figures."""
    scripts = REPO / "workflow_scripts"
    keys = {p: [p.stem.removeprefix("figure_")] for p in [*scripts.glob("figure_*.py"), *scripts.glob("ablation_*.py")]}
    keys[scripts / "sine_figures.py"] = ["sine_comparison", "sine_turtle_study"]
    assert len(keys) >= 10
    for script, names in keys.items():
        for key in names:
            assert re.search(rf"\bdraw_{key}\(", script.read_text(encoding="utf-8")), f"{script.name} lacks draw_{key}"


def test_feature_probe_without_changes_and_zoom(frames):
    fig = F.draw_feature_probe(frames["probe_summary"])
    ax = fig.axes[0]
    lo, hi = ax.get_xlim()
    data = frames["probe_summary"]
    assert lo > 0, "accuracy axis should be zoomed, not start at zero"
    assert lo < data["ci95_low"].min() * 100 and hi > data["ci95_high"].max() * 100
    assert hi - lo < 5  # percentage points, not the full 0-100 range
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MAML", "Meta-SGD"]  # one row per algorithm


def test_lr_histogram_titles_show_fraction_negative(frames):
    fig = F.draw_lr_histograms(frames["lr_values"])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 5
    lr = frames["lr_values"]
    frac = (lr.loc[lr["layer"] == "conv4", "value"] < 0).mean()
    assert titles[3] == f"conv4: {frac:.1%} < 0"


def test_lr_histograms_one_row_per_rate_learning_algorithm_or_none():
    raw = raw_run_frames(("maml", "metasgd", "turtle"), seeds=(0,))
    fig = F.draw_lr_histograms(raw["lr_values"])
    assert len([ax for ax in fig.axes if ax.get_title()]) == 10  # 2 algorithms x 5 layers
    assert [ax.get_ylabel().split("\n")[0] for ax in fig.axes[::5]] == ["Meta-SGD", "TURTLE"]
    draw(fig)
    none = F.draw_lr_histograms(raw_run_frames(("maml",), seeds=(0,))["lr_values"])
    assert F.NO_RATES in [t.get_text() for t in none.axes[0].texts]
    draw(none)


def test_no_global_matplotlib_state_leaks(frames, tmp_path):
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    F.save_figure(F.draw_feature_probe(frames["probe_summary"], frames["probe_changes"]), tmp_path / "f")
    assert dict(mpl.rcParams) == before
    if "matplotlib.pyplot" in __import__("sys").modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_one_seed_and_two_settings(frames):
    """No interval (one seed: NaN bounds) and a second setting must still draw and tabulate."""
    one = {k: v.copy() for k, v in frames.items()}
    for k in ("meta_test_summary", "probe_summary", "probe_changes"):
        one[k][["ci95_low", "ci95_high"]] = np.nan
    one["lr_table"][["mean_ci95_low", "mean_ci95_high"]] = np.nan
    five = frames["meta_test"].assign(setting="5w5s", accuracy=lambda d: d["accuracy"] + 0.1,
                                      ci95_low=lambda d: d["ci95_low"] + 0.1, ci95_high=lambda d: d["ci95_high"] + 0.1)
    one["meta_test"] = pd.concat([frames["meta_test"].assign(ci95_low=np.nan, ci95_high=np.nan), five])
    one["validation"] = pd.concat([frames["validation"].assign(setting="5w1s"),
                                   frames["validation"].assign(setting="5w5s")])
    one["train_log"] = frames["train_log"].assign(setting="5w1s")
    fig = F.draw_meta_test_accuracy(one["meta_test"])
    assert [ax.get_title() for ax in fig.axes] == ["5-way 1-shot", "5-way 5-shot"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["MAML", "Meta-SGD"]
    curves = F.draw_training_curves(one["train_log"], one["validation"])
    assert len(curves.axes) == 4  # a row of two panels per setting
    for f in (fig, curves):
        assert draw(f) > 1000
    html = "".join(T.report_tables(**{k: one[k] for k in (
        "meta_test", "meta_test_summary", "meta_test_table", "lr_table", "probe_summary", "probe_changes",
        "probe_vs_maml", "running_time")}).values())
    assert "5-way 5-shot" in html and "<td class=\"num\">—</td>" in html
    found = " ".join(R.headline_findings(lr_table=one["lr_table"], meta_test_summary=one["meta_test_summary"],
                                         probe_changes=one["probe_changes"], probe_ttest=one["probe_ttest"]))
    assert "fewer than two seeds" in found and "n/a" not in found


def test_colours_and_markers_are_stable_and_distinct():
    assert style.algorithm_color("maml") == style.algorithm_color("MAML") == style.ALGORITHM_COLORS["maml"]
    assert style.algorithm_color("meta-sgd") == style.ALGORITHM_COLORS["metasgd"]
    assert style.algorithm_color("zeta") == style.algorithm_color("zeta")  # fallback is deterministic
    assert style.algorithm_color("zeta") not in style.ALGORITHM_COLORS.values()
    assert F.algorithm_label("metasgd") == "Meta-SGD"
    assert F.algorithm_label("maml_fd") == DISPLAY_NAMES["maml_fd"]
    known = list(DISPLAY_NAMES)
    assert len({style.algorithm_color(a) for a in known}) == len(known)  # every algorithm its own colour
    assert len({(style.algorithm_color(a), style.algorithm_marker(a)) for a in known}) == len(known)
    assert F.ordered_algorithms(["zeta", "metasgd", "anil", "maml"]) == ["maml", "metasgd", "anil", "zeta"]
    assert F.ordered_algorithms(["maml", "baselinepp", "scratch"]) == ["scratch", "baselinepp", "maml"]


def test_missing_column_is_an_error(frames):
    with pytest.raises(ValueError, match="ci95"):
        F.draw_training_curves(frames["train_log"], frames["validation"].drop(columns="ci95"))
    with pytest.raises(ValueError, match="empty"):
        F.draw_meta_test_accuracy(frames["meta_test"].iloc[:0])
    with pytest.raises(ValueError, match="alpha"):
        F.draw_lr_trajectories(frames["train_log"].assign(alpha=np.nan, beta=np.nan))


def test_not_meta_trained_baseline_and_alpha_maml_trajectories():
    raw = raw_run_frames(("scratch", "maml", "alpha_maml"))
    fig = F.draw_training_curves(raw["train_log"], raw["validation"])
    ax_val = fig.axes[0]
    flat = [line for line in ax_val.get_lines() if line.get_linestyle() == ":"]
    assert len(flat) == 1 and flat[0].get_ydata()[0] == pytest.approx(30.0)  # scratch: its accuracy, all along
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["TrainFromScratch (not meta-trained)", "MAML", DISPLAY_NAMES["alpha_maml"]]
    draw(fig)
    only_scratch = F.draw_training_curves(raw["train_log"].iloc[:0],
                                          raw["validation"].query("algorithm == 'scratch'"))
    draw(only_scratch)

    trajectories = F.draw_lr_trajectories(raw["train_log"])
    alpha_ax, beta_ax = trajectories.axes
    assert len(alpha_ax.get_lines()) == 2  # one line per seed
    assert alpha_ax.get_lines()[1].get_ydata()[-1] == pytest.approx(0.01 + 1e-5 * 100 * 2)
    assert R.has_lr_trajectories(raw["train_log"]) and not R.has_lr_trajectories(frames_from_runs(
        raw_run_frames(("maml",)))["train_log"])
    draw(trajectories)


def test_running_time_figure_rows_and_scatter(frames):
    fig = F.draw_running_time(frames["run_times"], frames["meta_test"])
    strip, scatter = fig.axes
    assert [t.get_text() for t in strip.get_yticklabels()] == ["MAML", "Meta-SGD"]
    assert strip.get_xscale() == "linear"  # 600 s vs 1200 s: no log axis needed
    medians = [c.get_offsets()[0] for c in scatter.collections[1::2]]  # (time, accuracy) of each algorithm
    m = frames["run_times"].groupby("algorithm")["train_s"].median()
    assert [x for x, _y in medians] == pytest.approx([m["maml"], m["metasgd"]])
    wide = frames["run_times"].assign(train_s=lambda d: np.where(d["algorithm"] == "maml", 2.0, 900.0))
    assert F.draw_running_time(wide, frames["meta_test"]).axes[0].get_xscale() == "log"
    assert len(F.draw_running_time(frames["run_times"]).axes) == 1  # no accuracies: the time panel alone


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------

def test_format_table_and_html():
    df = pd.DataFrame({"algorithm": ["maml", "metasgd"], "acc": [0.46123, np.nan], "lo": [0.45, 0.46],
                       "hi": [0.47, 0.48], "x": [-0.00004, 1.23456], "n": [40000, 3]})
    out = T.format_table(df, percent_cols=["acc", "lo"], float_cols=["x"], int_cols=["n"],
                         ci_cols=[("lo", "hi", "CI")], labels={"algorithm": {"maml": "MAML"}})
    assert list(out.columns) == ["algorithm", "acc", "CI", "x", "n"]
    assert out.loc[0].tolist() == ["MAML", "46.1%", "[45.0%, 47.0%]", "0.000", "40,000"]
    assert out.loc[1, "acc"] == "—" and out.loc[1, "algorithm"] == "metasgd"
    html = T.to_html(out, caption="A <caption>")
    assert html.startswith('<table class="data">')
    assert "A &lt;caption&gt;" in html and '<td class="num">46.1%</td>' in html


def test_write_table(tmp_path):
    df = pd.DataFrame({"layer": ["conv1"], "mean": [-0.006]})
    csv, tex = T.write_table(df, tmp_path / "t")
    assert pd.read_csv(csv).equals(df)
    assert "\\begin{tabular}" in tex.read_text() and "conv1" in tex.read_text()


def test_lr_table_with_paper(frames):
    t = T.lr_table_with_paper(frames["lr_table"])
    assert t["layer"].tolist() == ["conv1", "conv2", "conv3", "conv4", "logits"]
    assert t.set_index("layer").loc["conv3", "paper_mean"] == -0.013
    assert t.set_index("layer").loc["logits", "paper_std"] == 0.072
    # a measured layer the paper lacks is kept, with no paper value
    extra = pd.concat([frames["lr_table"], frames["lr_table"].iloc[[0]].assign(layer="conv5")])
    t2 = T.lr_table_with_paper(extra)
    assert t2["layer"].tolist()[-1] == "conv5" and pd.isna(t2["paper_mean"].iloc[-1])
    # other rate-learning algorithms: their own rows, no paper values (the paper's are Meta-SGD's)
    both = pd.concat([frames["lr_table"].assign(algorithm="turtle"), frames["lr_table"]])
    t3 = T.lr_table_with_paper(both)
    assert t3["algorithm"].tolist() == ["metasgd"] * 5 + ["turtle"] * 5
    assert t3.loc[t3["algorithm"] == "turtle", "paper_mean"].isna().all()
    assert t3.loc[t3["algorithm"] == "metasgd", "paper_mean"].notna().all()
    assert T.lr_table_with_paper(frames["lr_table"].iloc[:0]).empty


def test_meta_test_table_html_thesis_layout():
    runs = pd.DataFrame([{"algorithm": a, "setting": st, "seed": i, "accuracy": acc + 0.01 * i}
                         for a, st, acc, n in (("maml", "5w1s", 0.47, 3), ("maml", "5w5s", 0.63, 3),
                                               ("scratch", "5w1s", 0.29, 3), ("scratch", "5w5s", 0.40, 3),
                                               ("turtle", "5w1s", 0.48, 2))
                         for i in range(n)])
    html = T.meta_test_table_html(S.meta_test_table(S.meta_test_summary(runs)))
    assert '<th scope="col" class="num">5-way 1-shot</th><th scope="col" class="num">5-way 5-shot</th>' in html
    groups = re.findall(r'<tr class="group"><th scope="rowgroup" colspan="3">([^<]+)</th>', html)
    assert groups == ["Transfer baselines", "Meta-learners"]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', html)
    assert [name for name, _ in rows] == [DISPLAY_NAMES["scratch"], "MAML", DISPLAY_NAMES["turtle"]]
    half = 100 * 4.302652729911275 * 0.01 / np.sqrt(3)  # t_{0.975,2} s / sqrt(3), s = 0.01
    assert f'<td class="num">48.0 ± {half:.1f}</td>' in rows[1][1]  # MAML 1-shot, median 48%
    assert "<strong>64.0 ± " in rows[1][1]  # best 5-shot
    assert "<strong>48.5 ± " in rows[2][1] and "(2 seeds)" in rows[2][1]  # best 1-shot, unusual seed count
    assert rows[2][1].endswith('<td class="num">—</td>')  # TURTLE has no 5-shot runs
    single = runs.query("algorithm == 'maml' and seed == 0")
    one = T.meta_test_table_html(S.meta_test_table(S.meta_test_summary(single)))
    assert 'class="group"' not in one and "<strong>47.0</strong>" in one  # one seed: no interval, no heading


def test_meta_test_table_html_prints_published_accuracies_beside_measured_ones():
    from innerloop.reference import PUBLISHED_META_TEST

    runs = pd.DataFrame([{"algorithm": a, "setting": st, "seed": i, "accuracy": 0.9}
                         for a, st in (("maml", "5w1s"), ("metasgd", "5w1s"), ("scratch", "5w1s"), ("maml", "5w5s"))
                         for i in range(3)])
    html = T.meta_test_table_html(S.meta_test_table(S.meta_test_summary(runs)),
                                  published=PUBLISHED_META_TEST["omniglot"])
    heads = re.findall(r'<th scope="col" class="num">([^<]+)</th>', html)
    assert heads == ["5-way 1-shot", "5-way 1-shot, published", "5-way 5-shot", "5-way 5-shot, published"]
    rows = dict(re.findall(r'<tr><th scope="row">([^<]+)</th>(.*?)</tr>', html))
    cells = {name: re.findall(r'<td class="num">(.*?)</td>', row) for name, row in rows.items()}
    assert all(len(c) == 4 for c in cells.values())  # every row as wide as the head
    assert cells["MAML"][1] == "98.7 (Finn et al. 2017, Table 1)" and cells["MAML"][3].startswith("99.9 (Finn")
    assert cells["Meta-SGD"][1] == "99.5 (Li et al. 2017, Table 1)"
    assert cells["Meta-SGD"][2:] == ["—", "99.9 (Li et al. 2017, Table 1)"]  # no 5-shot run, still the number
    assert cells[DISPLAY_NAMES["scratch"]][1] == "—"  # nothing published for it
    assert "published" not in T.meta_test_table_html(S.meta_test_table(S.meta_test_summary(runs)))


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

def test_html_has_every_section_and_numbers(rendered, frames):
    html = rendered["html"]
    for sid in SECTION_IDS:
        assert re.search(rf'<section id="{sid}">', html), sid
        assert f'href="#{sid}"' in html, f"TOC lacks {sid}"
    positions = [html.index(f'<section id="{sid}">') for sid in SECTION_IDS]
    assert positions == sorted(positions), "sections out of order"
    # a known number, formatted: MAML's median meta-test accuracy as a percentage
    maml_median = frames["meta_test_summary"].set_index("algorithm").loc["maml", "median"]
    assert f"{maml_median * 100:.2f}%" in html
    assert "p</em> = 0.00043" in html and "0.00044" in html  # measured and paper p-value
    assert 'id="tab-meta-test-table"' in html and "thesis Tables 3.1–3.3" in html
    assert 'id="tab-running-time"' in html and "thesis Fig. 3.4" in html
    assert 'id="tab-probe-vs-maml"' in html and "Difference from MAML (pp)" in html
    assert "+0.55 [+0.42, +0.68]" in html and "2.5e-9" in html  # Meta-SGD vs MAML, p formatted
    assert "Figure 1 (paper Fig. 5)" in html  # numbered in order of appearance
    for label in ("Table", "Figure"):
        numbers = [int(n) for n in re.findall(rf'<span class="label">{label} (\d+)', html)]
        assert numbers == list(range(1, len(numbers) + 1)), label
    assert "t</em> = −3.52" in html and "df = 15873.4" in html
    assert "Welch&#39;s t-test" in html or "Welch's t-test" in html
    assert "−0.0130" in html  # paper Table 1 conv3 mean in the LR table (typographic minus)
    assert "negative in 4 of 4 convolutional layers" in html
    assert "reproduced in sign" in html
    assert "2,000 iterations" in html and "4,000" in html  # setup numbers from the context
    assert "uncommitted changes" in html
    # figures are embedded, SVGs linked, nothing refers to an outside file for images
    assert html.count('src="data:image/png;base64,') == 6
    assert 'href="figures/training_curves.svg"' in html
    assert "None" not in re.sub(r"data:image[^\"]+", "", html)
    assert not re.search(r">\s*nan\s*<", html, flags=re.I)


def test_html_escapes_context_text(rendered, tmp_path):
    ctx = copy.deepcopy(rendered["context"])
    ctx["provenance"]["command"] = "snakemake <script>alert(1)</script>"
    text = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize("path", [("ttests",), ("setup", "probe", "iterations"), ("tables", "lr_table"),
                                  ("figures", "rulegraph"), ("findings",)])
def test_missing_context_key_raises(rendered, tmp_path, path):
    ctx = copy.deepcopy(rendered["context"])
    d = ctx
    for key in path[:-1]:
        d = d[key]
    del d[path[-1]]
    with pytest.raises(jinja2.UndefinedError):
        R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


def test_none_value_raises(rendered, tmp_path):
    ctx = copy.deepcopy(rendered["context"])
    ctx["provenance"]["hostname"] = None
    with pytest.raises(ValueError, match="None"):
        R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html")


def test_findings_follow_the_numbers(frames):
    lr = frames["lr_table"].copy()
    lr.loc[lr["layer"] == "conv1", "mean"] = 0.01  # one conv layer now positive
    changes = frames["probe_changes"].copy()
    changes.loc[(changes["algorithm"] == "metasgd") & (changes["change"] == "off_task_change"), "mean"] = -0.001
    ttest = frames["probe_ttest"].assign(p_value=0.3)
    found = " ".join(R.headline_findings(lr_table=lr, meta_test_summary=frames["meta_test_summary"],
                                         probe_changes=changes, probe_ttest=ttest))
    assert "negative in 3 of 4 convolutional layers" in found
    assert "not reproduced" in found
    assert "not significant at α = 0.05" in found


CONFIGURATIONS = {
    "one algorithm": (("maml",), ("5w1s",)),
    "neither MAML nor Meta-SGD, none learns rates": (("scratch", "anil", "protonet"), ("5w1s",)),
    "rates without Meta-SGD, Alpha-MAML, two settings": (("maml", "turtle", "alpha_maml"), ("5w1s", "5w5s")),
}


@pytest.mark.parametrize("name", list(CONFIGURATIONS))
def test_report_for_other_configurations(name, rendered, tmp_path):
    """Stats -> figures -> tables -> findings -> HTML for configurations the paper did not have."""
    algorithms, settings = CONFIGURATIONS[name]
    frames = frames_from_runs(raw_run_frames(algorithms, settings))
    for draw_figure in FIGURE_FUNCTIONS.values():
        assert draw(draw_figure(frames)) > 1000
    figures = dict(rendered["figures"], rulegraph=None)  # any PNG will do: these tests are about the text
    if R.has_lr_trajectories(frames["train_log"]):
        assert draw(F.draw_lr_trajectories(frames["train_log"])) > 1000
        figures["lr_trajectories"] = rendered["figures"]["training_curves"]
    ctx = R.build_context(frames=frames, setup=synthetic_setup(), provenance=synthetic_provenance(), figures=figures,
                          caption_dir=CAPTION_DIR, generated="2026-01-01T07:00:00+00:00")
    html = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "report.html").read_text(encoding="utf-8")
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in html, sid
    found = " ".join(ctx["findings"])
    assert "n/a" not in found

    rates = [a for a in algorithms if a in RATE_LEARNERS]
    if rates:
        assert ctx["lr_algorithms"] == [DISPLAY_NAMES[a] for a in F.ordered_algorithms(rates)]
        assert 'id="fig-lr_histograms"' in html and "the paper&#39;s values are Meta-SGD&#39;s" in html
    else:
        assert ctx["lr_algorithms"] == [] and 'id="fig-lr_histograms"' not in html
        assert "No configured algorithm learns per-element inner-loop learning rates" in html
        assert "No configured algorithm learns per-element inner-loop learning rates" in found
    assert ('id="fig-lr_trajectories"' in html) == ("alpha_maml" in algorithms)
    assert ctx["ttests"] == [] and "it was not run because the configuration" in html  # never both MAML and Meta-SGD
    assert "needs both algorithms" in found
    assert (ctx["probe_reference"] == "MAML") == ("maml" in algorithms)
    if "maml" not in algorithms:
        assert "MAML is not in this configuration" in html
    elif len(algorithms) > 1:
        assert "compared with MAML" in found
    table = frames["meta_test_table"]
    assert list(table["algorithm"]) == F.ordered_algorithms(algorithms)
    assert [c for c in table.columns if c.endswith("_median")] == [f"{st}_median" for st in settings]
    if "scratch" in algorithms:
        assert "Transfer baselines" in html and "TrainFromScratch (not meta-trained)" not in html  # legend is in PNG


def test_embed_image_and_captions(rendered):
    uri = R.embed_image(rendered["figures"]["training_curves"])
    assert uri.startswith("data:image/png;base64,iVBORw0KGgo")
    with pytest.raises(FileNotFoundError):
        R.embed_image(rendered["dir"] / "nope.png")
    caps = R.load_captions(CAPTION_DIR)
    keys = (*R.FIGURE_KEYS, *R.OPTIONAL_FIGURE_KEYS)
    assert set(keys) <= set(caps)
    assert all(10 < len(caps[k]) < 400 for k in keys)  # one or two sentences


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------

def _pdf_page_count(data: bytes) -> int:
    """Count ``/Type /Page`` objects, also inside compressed object streams."""
    chunks = [data]
    for m in re.finditer(rb"stream\r?\n(.*?)endstream", data, flags=re.S):
        try:
            chunks.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return sum(len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", c)) for c in chunks)


def test_pdf(rendered):
    pdf = R.html_to_pdf(rendered["html_path"], rendered["dir"] / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert _pdf_page_count(data) > 1


def test_latex_table_formats_escapes_and_marks_missing():
    df = pd.DataFrame({"algorithm": ["maml_fd", "metasgd"], "mean": [0.123456, np.nan], "n": [3, 2]})
    tex = T.latex_table(df)
    assert "\\toprule" in tex and "\\bottomrule" in tex
    assert "maml\\_fd & 0.1235 & 3" in tex
    assert "metasgd & — & 2" in tex


def test_statistics_tables_claims_section_and_verdict_rule(rendered, tmp_path):
    from innerloop.reporting.stats_report import stats_report
    from innerloop.stats.claims import ClaimData, claims_table
    from innerloop.stats.paired import lr_below_zero, mixed_models, paired_meta_test, paired_probe
    from innerloop.stats.scale import scale_summary

    rng = np.random.default_rng(5)
    tasks = pd.DataFrame([{"algorithm": a, "setting": "5w1s", "seed": s, "task": t,
                           "accuracy": 0.5 + 0.04 * (a == "metasgd") + rng.normal(0, 0.05)}
                          for a in ALGS for s in SEEDS for t in range(20)])
    probe = pd.DataFrame([{"algorithm": a, "setting": "5w1s", "seed": s, "iteration": i,
                           "pre_adaptation": 0.5 + rng.normal(0, 0.05), "on_task_change": rng.normal(-0.01, 0.02),
                           "off_task_change": rng.normal(0.003 if a == "metasgd" else -0.003, 0.02)}
                          for a in ALGS for s in SEEDS for i in range(20)])
    per_seed = pd.DataFrame([{"algorithm": "metasgd", "setting": "5w1s", "seed": s, "layer": layer,
                              "mean": (0.04 if layer == "logits" else -0.01) + rng.normal(0, 0.002)}
                             for s in SEEDS for layer in ("conv1", "conv2", "conv3", "conv4", "logits")])
    frames = {"paired_meta_test": paired_meta_test(tasks), "paired_probe": paired_probe(probe),
              "mixed_model": mixed_models(tasks, probe), "lr_below_zero": lr_below_zero(per_seed)}
    frames["claims"] = claims_table(ClaimData(tasks, probe, per_seed))
    ctx = copy.deepcopy(rendered["context"])
    convergence = pd.DataFrame([{"dataset": "glyphs", "algorithm": a, "setting": "5w1s", "seed": s, "status": "x",
                                 "converged": False, "iterations": 150} for a in ALGS for s in SEEDS])
    scale = scale_summary(convergence, frames["claims"], probe_iterations=20, seeds=list(SEEDS))
    extra = stats_report(**frames, alpha=0.05, margin=0.02, scale=scale)
    ctx["tables"].update(extra.pop("tables"))
    ctx.update(extra)
    html = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html").read_text(encoding="utf-8")
    positions = [html.index(f'<section id="{sid}">') for sid in ("comparison", "claims", "methods")]
    assert positions == sorted(positions)
    for key in ("paired-meta-test", "mixed-model", "paired-probe", "lr-below-zero", "claims"):
        assert f'id="tab-{key}"' in html, key
    numbers = [int(n) for n in re.findall(r'<span class="label">Table (\d+)', html)]
    assert numbers == list(range(1, len(numbers) + 1))
    assert html.count('<tr id="claim-') == len(frames["claims"])
    assert "Probe change (off-task − on-task)" in html and "Variance of the (seed, iteration) intercept" in html
    assert "not configured: turtle, fo_turtle" in html  # a claim that was not run
    # the summary opens with the scale; no run converged, so no claim is testable, and each row says why
    summary = html[html.index('<section id="summary">'):]
    assert summary.index("150 meta-training iterations (the paper: 60,000, so 0.25% of it)") < \
        summary.index("This report re-runs the study")
    assert f"0 of {len(ALGS) * len(SEEDS)} runs converged" in html and "0 of the 13 claims that were run" in html
    assert html.count("Not testable: runs not converged") == 13
    assert "For example, “" in html and "verdict: not testable at this scale" in html  # the worked example
    assert "±2 percentage points" in html and "Holm-adjusted p-value is below 0.05" in html  # the rule, filled in
    d = frames["paired_meta_test"].iloc[0]
    assert format_number(d["difference"] * 100, 2, signed=True).replace("-", "−") in html
    assert "None" not in re.sub(r"data:image[^\"]+", "", html)


def test_provenance_flags_results_of_other_code(rendered, tmp_path):
    ctx = copy.deepcopy(rendered["context"])
    ctx["provenance"]["code"] = {
        "versions": [{"commit": "a" * 40, "dirty": False, "n": 3, "rules": "train"},
                     {"commit": "b" * 40, "dirty": True, "n": 1, "rules": "meta_test"}],
        "stale": [{"path": "results/x.csv", "rule": "meta_test"}], "unrecorded": ["results/y.csv"],
        "mixed": True, "dirty": True}
    text = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html").read_text()
    assert "made by 2 code versions" in text and "cannot be traced to a commit" in text
    assert "1 result files were made by library code other than the current" in text
    assert "results/x.csv" in text and "results/y.csv" in text
    ctx["provenance"]["code"] = {"versions": [{"commit": "a" * 40, "dirty": False, "n": 4, "rules": "train"}],
                                 "stale": [], "unrecorded": [], "mixed": False, "dirty": False}
    text = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html").read_text()
    assert "<code>aaaaaaaaaaaa</code>: 4 result files (train)" in text
    assert "code versions." not in text and "cannot be traced" not in text
