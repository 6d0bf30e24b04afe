"""Linear CKA, layer activations, the representation-change measure and the feature-visualisation helpers."""

import numpy as np
import pandas as pd
import pytest
import torch

from innerloop.algorithms import build_learner
from innerloop.data.sampler import TaskSampler
from innerloop.evaluation.representations import (
    LAYERS,
    cka_summary,
    embeddings,
    filter_grid,
    first_layer_filters,
    layer_activations,
    linear_cka,
    meta_test_images,
    project,
    representation_change,
    unit_extremes,
)
from innerloop.models import Conv4, embed, init_params
from innerloop.reporting import representations as R


def gaussian(n, d, seed):
    return np.random.default_rng(seed).standard_normal((n, d))


def hand_cka(x, y):
    """Kornblith et al.'s linear CKA through HSIC with the explicit centring matrix, float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    n = len(x)
    h = np.eye(n) - np.ones((n, n)) / n

    def hsic(k, l):
        return np.trace(k @ h @ l @ h)

    k, l = x @ x.T, y @ y.T
    return hsic(k, l) / np.sqrt(hsic(k, k) * hsic(l, l))


# -- linear CKA ------------------------------------------------------------------------

def test_cka_of_identical_activations_is_one():
    x = gaussian(40, 12, 0)
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(torch.tensor(x, dtype=torch.float32), torch.tensor(x, dtype=torch.float32)) \
        == pytest.approx(1.0, abs=1e-6)


def test_cka_is_invariant_to_orthogonal_transform_and_isotropic_scaling():
    x, y = gaussian(40, 12, 0), gaussian(40, 7, 1) + 0.5 * gaussian(40, 12, 0)[:, :7]
    q, _ = np.linalg.qr(gaussian(12, 12, 2))
    assert linear_cka(x, 3.7 * x @ q + 5.0) == pytest.approx(1.0, abs=1e-12)  # + a constant: centring
    assert linear_cka(x @ q * 0.01, y) == pytest.approx(linear_cka(x, y), rel=1e-10)
    # but not to an anisotropic scaling of the features
    assert linear_cka(x * np.linspace(0.1, 10, 12), y) != pytest.approx(linear_cka(x, y), rel=1e-3)


def test_cka_is_lower_for_unrelated_activations():
    x = gaussian(200, 6, 0)
    related = linear_cka(x, x + 0.3 * gaussian(200, 6, 1))
    unrelated = linear_cka(x, gaussian(200, 6, 2))
    assert related > 0.9
    assert unrelated < 0.2
    assert 0.0 <= unrelated < related


def test_cka_matches_a_float64_hand_computation():
    x, y = gaussian(25, 30, 3), gaussian(25, 4, 4) @ gaussian(4, 9, 5) + gaussian(25, 9, 6)
    assert linear_cka(x, y) == pytest.approx(hand_cka(x, y), rel=1e-10)
    # images: the extra dimensions are flattened into features
    a = gaussian(10, 2 * 3 * 3, 7)
    assert linear_cka(a.reshape(10, 2, 3, 3), y[:10]) == pytest.approx(hand_cka(a, y[:10]), rel=1e-10)


def test_cka_rejects_mismatched_examples_and_is_nan_without_variance():
    with pytest.raises(ValueError, match="same examples"):
        linear_cka(gaussian(5, 3, 0), gaussian(6, 3, 0))
    assert np.isnan(linear_cka(np.ones((5, 3)), gaussian(5, 3, 0)))


# -- activations on a tiny Conv4 ----------------------------------------------------------

#: Options the learners need (the schema's defaults are filled in by the config, not here).
OPTIONS = {"maml": {"inner_lr": 0.1}, "anil": {"inner_lr": 0.1}, "finetune": {"finetune_steps": 2}}


def tiny_learner(name="maml", options=None, ways=3, filters=4, size=16, inner_steps=2):
    model = Conv4(in_channels=1, ways=ways, filters=filters, image_size=size)
    generator = torch.Generator().manual_seed(0)
    init = init_params(model, generator)
    return build_learner(name, {**OPTIONS.get(name, {}), **(options or {})}, model=model, init=init,
                         inner_steps=inner_steps,
                         generator=generator, n_classes=10)


def test_activation_hooks_give_every_layer_with_the_right_shape():
    learner = tiny_learner()
    x = torch.rand(6, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    acts = layer_activations(learner, learner.init, x)
    assert list(acts) == list(LAYERS)
    assert {k: tuple(v.shape) for k, v in acts.items()} == {
        "conv1": (6, 4, 8, 8), "conv2": (6, 4, 4, 4), "conv3": (6, 4, 2, 2), "conv4": (6, 4, 1, 1), "logits": (6, 3)}
    torch.testing.assert_close(acts["conv4"].flatten(1), embed(learner.model, learner.init, x))
    torch.testing.assert_close(acts["logits"], learner.predict(learner.init, x).detach())
    assert all(len(block._forward_hooks) == 0 for block in learner.model.blocks)  # hooks removed


@pytest.fixture
def sampler(tiny_store):
    return TaskSampler(tiny_store, "test", 3, 1, 2, seed=0)


def test_cka_pre_vs_post_with_zero_inner_steps_is_one(sampler):
    cka = representation_change(tiny_learner(), sampler, 2, torch.device("cpu"), steps=0, progress=False)
    assert len(cka) == 2 * 2 * len(LAYERS)
    assert set(cka["split"]) == {"on_task", "off_task"}
    np.testing.assert_allclose(cka["cka"], 1.0, atol=1e-6)


def test_adaptation_changes_the_layers_it_updates_and_only_those(sampler):
    options = {"inner_lr": 0.5}
    maml = representation_change(tiny_learner("maml", options), sampler, 2, torch.device("cpu"), progress=False)
    anil = representation_change(tiny_learner("anil", options), sampler, 2, torch.device("cpu"), progress=False)
    assert maml.loc[maml["layer"] == "conv1", "cka"].lt(1 - 1e-4).all()
    body = anil["layer"] != "logits"
    np.testing.assert_allclose(anil.loc[body, "cka"], 1.0, atol=1e-6)  # ANIL adapts only the head
    assert anil.loc[~body, "cka"].lt(1 - 1e-4).all()


def test_cka_summary_gives_the_t_interval_over_seed_means():
    rows = [{"algorithm": "maml", "setting": "5w1s", "seed": s, "task": t, "split": "on_task", "layer": "conv1",
             "cka": v} for s, vals in enumerate([[0.9, 0.8], [0.7, 0.7], [0.95, 0.85]]) for t, v in enumerate(vals)]
    out = cka_summary(pd.DataFrame(rows))
    from scipy import stats

    means = np.array([0.85, 0.7, 0.9])
    low, high = stats.t.interval(0.95, 2, loc=means.mean(), scale=stats.sem(means))
    r = out.iloc[0]
    assert r["mean"] == pytest.approx(means.mean()) and r["n_seeds"] == 3
    assert (r["ci95_low"], r["ci95_high"]) == (pytest.approx(low), pytest.approx(high))
    assert (r["seed_min"], r["seed_max"]) == (pytest.approx(0.7), pytest.approx(0.9))


# -- feature visualisation ----------------------------------------------------------------

def test_meta_test_images_are_fixed_and_grouped_by_class(tiny_store):
    images, labels, indices = meta_test_images(tiny_store, 4, 3, seed=5)
    again = meta_test_images(tiny_store, 4, 3, seed=5)
    assert images.shape == (12, 1, 16, 16) and images.dtype == torch.float32
    assert torch.equal(images, again[0]) and np.array_equal(indices, again[2])
    assert set(labels) <= set(tiny_store.class_ids("test")) and len(set(labels)) == 4
    assert np.array_equal(labels, np.repeat(labels[::3], 3))
    np.testing.assert_allclose(images.numpy(), tiny_store.images[indices] / 255.0, atol=1e-7)
    with pytest.raises(ValueError, match="11 classes"):
        meta_test_images(tiny_store, 11, 3, seed=5)


def test_unit_extremes_are_the_most_and_least_activating_images():
    learner = tiny_learner()
    x = torch.rand(10, 1, 16, 16, generator=torch.Generator().manual_seed(2))
    e = unit_extremes(learner, learner.init, x, layers=["conv3", "conv4"], units=2, top_k=3)
    assert len(e) == 2 * 2 * 2 * 3
    acts = layer_activations(learner, learner.init, x)
    for (layer, unit), g in e.groupby(["layer", "unit"]):
        a = acts[layer][:, unit].double().mean(dim=(1, 2)).numpy()
        top = g[g["kind"] == "max"].sort_values("rank")["image"].to_numpy()
        bottom = g[g["kind"] == "min"].sort_values("rank")["image"].to_numpy()
        np.testing.assert_array_equal(top, np.argsort(-a, kind="stable")[:3])
        assert a[bottom[0]] == a.min()


def test_visualisation_figures_have_one_panel_per_algorithm(tiny_store):
    algorithms = ["maml", "metasgd", "finetune"]
    learners = {a: tiny_learner(a) for a in algorithms}
    images, labels, indices = meta_test_images(tiny_store, 4, 4, seed=0)

    filters = {a: first_layer_filters(l.init) for a, l in learners.items()}
    assert filters["maml"].shape == (4, 1, 3, 3)
    assert filter_grid(filters["maml"]).shape == (7, 7)
    fig = R.draw_first_layer_filters(filters)
    assert [ax.get_title() for ax in fig.axes] == [f"{R.F.algorithm_label(a)} (4 filters)" for a in algorithms]

    points = []
    for a, l in learners.items():
        f = embeddings(l, l.init, images)
        assert f.shape == (16, 4)
        for method in ("pca", "tsne"):
            xy = project(f, method, perplexity=3, seed=0)
            assert xy.shape == (16, 2)
            points.append(pd.DataFrame({"algorithm": a, "method": method, "class": labels, "x": xy[:, 0],
                                        "y": xy[:, 1]}))
    points = pd.concat(points)
    for method in ("pca", "tsne"):
        fig = R.draw_embeddings(points, method)
        assert len(fig.axes) == 3
        assert all(len(ax.collections[0].get_offsets()) == 16 for ax in fig.axes)

    extremes = pd.concat([unit_extremes(l, l.init, images, layers=["conv4"], units=2, top_k=2).assign(algorithm=a)
                          for a, l in learners.items()])
    fig = R.draw_max_activating_images({a: images.numpy() for a in algorithms}, extremes)
    assert len(fig.axes) == 3
    assert all(len(ax.get_yticklabels()) == 2 for ax in fig.axes)  # one row per unit


def test_representation_change_figure_has_a_panel_per_algorithm():
    rows = [{"algorithm": a, "split": s, "layer": layer, "mean": 0.9, "ci95_low": 0.85, "ci95_high": 0.95, "n_seeds": 3}
            for a in ("maml", "metasgd", "anil") for s in ("on_task", "off_task") for layer in LAYERS]
    summary = pd.DataFrame(rows)
    fig = R.draw_representation_change(summary, columns=2)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    assert all(len(ax.get_lines()) == 2 for ax in visible)
    table = R.cka_table(summary)
    assert list(table.columns) == ["Algorithm", "Images", *LAYERS] and len(table) == 6


def test_report_section_shows_the_cka_text_table_and_figures(tmp_path):
    from test_reporting import CAPTION_DIR, TEMPLATE_DIR, synthetic_frames, synthetic_provenance, synthetic_setup

    from innerloop.reporting import render
    from innerloop.reporting.figures import save_figure

    rows = [{"algorithm": a, "split": s, "layer": layer, "mean": 0.5 if layer == "conv4" else 0.97,
             "ci95_low": np.nan, "ci95_high": np.nan, "n_seeds": 1}
            for a in ("maml", "metasgd") for s in ("on_task", "off_task") for layer in LAYERS]
    summary = pd.DataFrame(rows)
    png = save_figure(R.draw_representation_change(summary), tmp_path / "representation_change")[0]
    frames = synthetic_frames(iterations=20, lr_per_layer=10)
    base = {key: png for key in render.FIGURE_KEYS}
    context = render.build_context(frames=frames, setup=synthetic_setup(), provenance=synthetic_provenance(),
                                   figures=base, caption_dir=CAPTION_DIR)
    html_without = render.render_html(context, TEMPLATE_DIR, tmp_path / "without.html").read_text()
    assert '<section id="representations">' not in html_without

    figures = {key: png for key in R.FIGURE_KEYS[:3]}
    tables, context["representations"] = R.report_parts(summary, figures, n_tasks=20,
                                                        visual_algorithms=["maml", "metasgd"])
    context["figures"].update(figures)
    context["tables"].update(tables)
    html = render.render_html(context, TEMPLATE_DIR, tmp_path / "report.html").read_text()
    section = html[html.index('<section id="representations">'):]
    section = section[:section.index("</section>")]
    assert html.index('id="feature-probe"') < html.index('id="representations"') < html.index('id="comparison"')
    assert "feature reuse" in section and "20 task pairs" in section
    assert 'id="fig-representation_change"' in section and 'id="tab-cka"' in section
    assert 'id="fig-first_layer_filters"' in section and 'id="fig-embeddings_pca"' in section
    assert 'id="fig-embeddings_tsne"' not in section  # only the figures given
    assert "MAML: of the conv layers adaptation changes conv4 most, mean CKA 0.500 on-task and 0.500 off-task" \
        in section
    assert "MAML and Meta-SGD" in section
