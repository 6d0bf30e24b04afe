"""Tests for innerloop.reporting: figures, tables, the HTML template and the PDF.

Everything runs on small synthetic frames with the workflow's columns
(two algorithms, two seeds). ``synthetic_frames``/``synthetic_setup``/
``synthetic_provenance`` are reusable for rendering a sample report.
"""

from __future__ import annotations

import copy
import re
import zlib
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import pytest

from innerloop.reporting import figures as F
from innerloop.reporting import render as R
from innerloop.reporting import tables as T

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_DIR = REPO / "report" / "templates"
CAPTION_DIR = REPO / "report" / "captions"
SECTION_IDS = ("summary", "setup", "training", "meta-test", "learning-rates", "feature-probe", "methods",
               "provenance")
ALGS = ("maml", "metasgd")
SEEDS = (0, 1)


# --------------------------------------------------------------------------
# Synthetic data with exactly the workflow's columns
# --------------------------------------------------------------------------

def synthetic_frames(seed: int = 0, iterations: int = 2000, lr_per_layer: int = 3000) -> dict[str, pd.DataFrame]:
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
                for layer, (m, sd) in T.PAPER_TABLE1_LR.items():
                    lrv.append(pd.DataFrame({"algorithm": alg, "seed": s, "layer": layer,
                                             "value": rng.normal(m, sd, lr_per_layer)}))
    lr_values = pd.concat(lrv, ignore_index=True)
    per_seed = lr_values.groupby(["layer", "seed"])["value"].mean().unstack()
    g = lr_values.groupby("layer")["value"]
    lr_table = pd.DataFrame({
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
    probe_ttest = pd.DataFrame([{"comparison": "maml vs metasgd", "statistic": -3.52, "df": 15873.4,
                                 "p_value": 0.000431, "test": "Welch two-sample t-test on off_minus_on",
                                 "n_a": 8000, "n_b": 8000, "mean_a": -0.002, "mean_b": 0.0035}])
    return {
        "train_log": pd.concat(train, ignore_index=True), "validation": pd.concat(val, ignore_index=True),
        "lr_values": lr_values, "lr_table": lr_table, "meta_test": meta_test,
        "meta_test_summary": meta_test_summary, "probe_summary": probe_summary, "probe_changes": probe_changes,
        "probe_ttest": probe_ttest,
    }


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
    figs = R.make_figures(frames, out / "figures")
    rulegraph = F.save_figure(F.meta_test_accuracy(frames["meta_test"]), out / "figures" / "rulegraph")[0]
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


@pytest.mark.parametrize("name", ["training_curves", "lr_histograms", "feature_probe", "meta_test_accuracy"])
def test_figure_files(frames, tmp_path, name):
    fig = {
        "training_curves": lambda: F.training_curves(frames["train_log"], frames["validation"]),
        "lr_histograms": lambda: F.lr_histograms(frames["lr_values"]),
        "feature_probe": lambda: F.feature_probe(frames["probe_summary"], frames["probe_changes"]),
        "meta_test_accuracy": lambda: F.meta_test_accuracy(frames["meta_test"]),
    }[name]()
    paths = F.save_figure(fig, tmp_path / "sub" / name)
    assert [p.name for p in paths] == [f"{name}.png", f"{name}.svg"]
    png, svg = paths
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 500 and height >= 300
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > 50  # it has drawn content
    assert not [p for p in (tmp_path / "sub").iterdir() if p.name.startswith(".")]  # no temp files left
    assert png.stat().st_mode & 0o044, "output must be readable by others (mkstemp makes 0600)"


def test_feature_probe_without_changes_and_zoom(frames):
    fig = F.feature_probe(frames["probe_summary"])
    ax = fig.axes[0]
    lo, hi = ax.get_ylim()
    data = frames["probe_summary"]
    assert lo > 0, "y-axis should be zoomed, not start at zero"
    assert lo < data["ci95_low"].min() * 100 and hi > data["ci95_high"].max() * 100
    assert hi - lo < 5  # percentage points, not the full 0-100 range


def test_lr_histogram_titles_show_fraction_negative(frames):
    fig = F.lr_histograms(frames["lr_values"])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert len(titles) == 5
    lr = frames["lr_values"]
    frac = (lr.loc[lr["layer"] == "conv4", "value"] < 0).mean()
    assert titles[3] == f"conv4: {frac:.1%} negative"


def test_no_global_matplotlib_state_leaks(frames, tmp_path):
    import matplotlib as mpl

    before = dict(mpl.rcParams)
    F.save_figure(F.feature_probe(frames["probe_summary"], frames["probe_changes"]), tmp_path / "f")
    assert dict(mpl.rcParams) == before
    if "matplotlib.pyplot" in __import__("sys").modules:
        import matplotlib.pyplot as plt

        assert plt.get_fignums() == []


def test_one_seed_and_two_settings(frames, tmp_path):
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
    fig = F.meta_test_accuracy(one["meta_test"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "MAML\n(5-way 1-shot)", "MAML\n(5-way 5-shot)", "Meta-SGD\n(5-way 1-shot)", "Meta-SGD\n(5-way 5-shot)"]
    figs = R.make_figures(one, tmp_path)
    assert all(p.stat().st_size > 10_000 for p in figs.values())
    html = "".join(T.report_tables(meta_test=one["meta_test"], meta_test_summary=one["meta_test_summary"],
                                   lr_table=one["lr_table"], probe_summary=one["probe_summary"],
                                   probe_changes=one["probe_changes"]).values())
    assert "5-way 5-shot" in html and "<td class=\"num\">—</td>" in html
    found = " ".join(R.headline_findings(lr_table=one["lr_table"], meta_test_summary=one["meta_test_summary"],
                                         probe_changes=one["probe_changes"], probe_ttest=one["probe_ttest"]))
    assert "fewer than two seeds" in found and "n/a" not in found


def test_colours_are_stable():
    assert F.algorithm_color("maml") == F.algorithm_color("MAML") == F.ALGORITHM_COLORS["maml"]
    assert F.algorithm_color("meta-sgd") == F.ALGORITHM_COLORS["metasgd"]
    assert F.algorithm_color("anil") == F.algorithm_color("anil")  # fallback is deterministic
    assert F.algorithm_color("anil") not in F.ALGORITHM_COLORS.values()
    assert F.algorithm_label("metasgd") == "Meta-SGD"
    assert F.ordered_algorithms(["zeta", "metasgd", "anil", "maml"]) == ["maml", "metasgd", "anil", "zeta"]


def test_missing_column_is_an_error(frames):
    with pytest.raises(ValueError, match="ci95"):
        F.training_curves(frames["train_log"], frames["validation"].drop(columns="ci95"))
    with pytest.raises(ValueError, match="empty"):
        F.meta_test_accuracy(frames["meta_test"].iloc[:0])


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
    assert "t</em> = −3.52" in html and "df = 15873.4" in html
    assert "Welch&#39;s t-test" in html or "Welch's t-test" in html
    assert "−0.0130" in html  # paper Table 1 conv3 mean in the LR table (typographic minus)
    assert "negative in 4 of 4 convolutional layers" in html
    assert "reproduced in sign" in html
    assert "2,000 iterations" in html and "4,000" in html  # setup numbers from the context
    assert "uncommitted changes" in html
    # figures are embedded, SVGs linked, nothing refers to an outside file for images
    assert html.count('src="data:image/png;base64,') == 5
    assert 'href="figures/training_curves.svg"' in html
    assert "None" not in re.sub(r"data:image[^\"]+", "", html)


def test_html_escapes_context_text(rendered, tmp_path):
    ctx = copy.deepcopy(rendered["context"])
    ctx["provenance"]["command"] = "snakemake <script>alert(1)</script>"
    text = R.render_html(ctx, TEMPLATE_DIR, tmp_path / "r.html").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text


@pytest.mark.parametrize("path", [("ttest", "p_value"), ("setup", "probe", "iterations"), ("tables", "lr_table"),
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


def test_embed_image_and_captions(rendered):
    uri = R.embed_image(rendered["figures"]["training_curves"])
    assert uri.startswith("data:image/png;base64,iVBORw0KGgo")
    with pytest.raises(FileNotFoundError):
        R.embed_image(rendered["dir"] / "nope.png")
    caps = R.load_captions(CAPTION_DIR)
    assert set(R.FIGURE_KEYS) <= set(caps)
    assert all(10 < len(c) < 400 for c in caps.values())


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
