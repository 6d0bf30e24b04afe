"""Section "Setup": dataset, tasks, network, algorithms and seeds, from the config as run and
the store's manifest."""

from . import Section


def manifest(config):
    return f"results/data/{config['dataset']}/manifest.json"


SECTION = Section("setup", "Setup", sources={"config": "results/report/config_as_run.yaml", "manifest": manifest})
