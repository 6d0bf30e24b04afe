"""The report's table of contents (innerloop.reporting.sections): one module per section
template, and for every figure and table one key that names its rule, script, drawing
function, file, caption and place in the template."""

import importlib
import re
from pathlib import Path

import pytest

from innerloop.config import load_config
from innerloop.reporting import render
from innerloop.reporting.sections import FIGURES_BY_KEY, SECTIONS, Inputs, report_inputs

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "report" / "templates"
FIGURE_CALL = re.compile(r"""figure\(["']([a-z_0-9]+)["']""")
TABLE_CALL = re.compile(r"""table\(["']([a-z_0-9]+)["']""")
RULE = re.compile(r"^rule (\w+):", re.M)


def _rules_and_scripts() -> dict[str, str]:
    """rule name -> its script's file name, for the rules written out in rules/*.smk."""
    found = {}
    for path in (ROOT / "rules").glob("*.smk"):
        for match in RULE.finditer(text := path.read_text()):
            body = text[match.end():].split("\nrule ", 1)[0]
            script = re.search(r'script:\s*\n\s*"\.\./workflow_scripts/([\w.]+)"', body)
            found[match.group(1)] = script.group(1) if script else ""
    return found


def test_one_section_module_per_template_in_report_order():
    templates = {p.name.removesuffix(".html.j2") for p in (TEMPLATES / "sections").glob("*.html.j2")}
    assert {s.id for s in SECTIONS} == templates
    modules = {p.stem for p in (ROOT / "innerloop/reporting/sections").glob("*.py")} - {"__init__"}
    assert modules == {s.id.replace("-", "_") for s in SECTIONS}
    assert [sid for sid, _, _ in render.REPORT_SECTIONS] == [s.id for s in SECTIONS]


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_a_template_shows_what_its_section_declares_and_nothing_else(section):
    text = (TEMPLATES / section.template).read_text()
    figures = set(FIGURE_CALL.findall(text))
    if "figure(key)" in text:  # the representations section's loop over its visualisation figures
        figures |= {f.key for f in section.figures}
    assert figures == {f.key for f in section.figures}
    assert set(TABLE_CALL.findall(text)) == {t.key for t in section.tables}


@pytest.mark.parametrize("key", sorted(FIGURES_BY_KEY))
def test_a_figure_s_key_names_its_caption_drawing_function_rule_and_script(key):
    figure = FIGURES_BY_KEY[key]
    assert (ROOT / "report" / "captions" / f"{key}.rst").is_file()
    assert figure.png == f"results/figures/{key}.png"
    if key == "rulegraph":  # drawn by graphviz in the rule of that name
        assert figure.rule == "rulegraph" and "rulegraph" in _rules_and_scripts()
        return
    module, _, function = figure.function.rpartition(".")
    assert function == f"draw_{key}" and callable(getattr(importlib.import_module(module), function))
    if figure.generated:  # rules/figures.smk makes its rule from the declaration
        assert figure.rule_name == f"figure_{key}" and figure.rule_name not in _rules_and_scripts()
        script = ROOT / "workflow_scripts" / f"figure_{key}.py"
    else:  # drawn beside its table by a study's rule
        script = ROOT / "workflow_scripts" / _rules_and_scripts()[figure.rule]
    assert f"draw_{key}(" in script.read_text()


def test_every_figure_script_has_its_declared_figure():
    scripts = {p.stem.removeprefix("figure_") for p in (ROOT / "workflow_scripts").glob("figure_*.py")}
    assert scripts == {f.key for f in FIGURES_BY_KEY.values() if f.generated}


def test_the_report_s_inputs_follow_the_configuration():
    config = load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "presets" / "smoke.yaml", sources=False)
    inputs = report_inputs(config)
    assert inputs["cka_table"] == "results/tables/cka.csv" and inputs["rulegraph"] == "results/figures/rulegraph.png"
    assert all(f.key in inputs for f in FIGURES_BY_KEY.values() if f.shown(config))
    without = {**config, "algorithms": ["protonet"], "cross_domain": []}
    narrow = report_inputs(without)
    assert "lr_trajectories" not in narrow and "first_layer_filters" not in narrow
    assert "cross_domain_table" not in narrow and "cross_domain_probe" not in narrow
    assert "representation_change" in narrow and "feature_probe" in narrow


def test_a_section_shown_with_its_own_context_builds_it():
    """Its template reads context only it provides: its parts are where that comes from."""
    for section in SECTIONS:
        if section.context is not None:
            assert section.parts is not None, section.id


def test_inputs_read_a_json_input_or_each_file_of_one_by_its_name(tmp_path):
    one, two = tmp_path / "a.json", tmp_path / "b.json"
    one.write_text('{"dataset": "glyphs"}')
    two.write_text('{"dataset": "digits"}')
    inputs = Inputs({"manifest": str(one), "manifests": [str(one), two]}, tmp_path)
    assert inputs.json("manifest") == {"dataset": "glyphs"}
    assert inputs.json("manifests") == [{"dataset": "glyphs"}, {"dataset": "digits"}]
