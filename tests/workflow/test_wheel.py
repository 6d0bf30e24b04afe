"""The library as a plain wheel, outside the repository: it installs without its
dependencies and validates the default config from another directory."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_a_plain_wheel_validates_the_default_config_outside_the_repository(tmp_path):
    """Build a wheel, install it without dependencies into a venv that sees this one's
    packages, and use innerloop.config from another directory."""
    import shutil

    source, wheels = tmp_path / "source", tmp_path / "wheels"
    source.mkdir()
    for part in ("innerloop", "config"):  # a copy: the build writes into its tree
        shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(source)], check=True, capture_output=True, text=True, timeout=600)
    wheel = next(wheels.glob("innerloop-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                        capture_output=True, text=True, check=True).stdout.strip())
    # This environment's packages (torch, pyyaml, jsonschema ...) as the "system" ones, after the
    # venv's own (added after the install, so pip does not take its innerloop for the wheel's);
    # its editable innerloop is not importable from there (its .pth file is not read).
    import sysconfig

    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, text=True, timeout=600, env=clean)
    (site_packages / "outer.pth").write_text(sysconfig.get_path("purelib") + "\n")
    assert (site_packages / "innerloop" / "schema.yaml").is_file()
    elsewhere = tmp_path / "notebook"
    elsewhere.mkdir()
    (elsewhere / "config.yaml").write_text((ROOT / "config/config.yaml").read_text())
    code = ("import innerloop.config as c, yaml; from pathlib import Path;"
            " assert 'site-packages' in c.__file__, c.__file__;"
            " cfg = yaml.safe_load(Path('config.yaml').read_text()); c.validate_config(cfg);"
            " print(cfg['dataset'])")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([str(python), "-c", code], cwd=elsewhere, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == yaml.safe_load((ROOT / "config/config.yaml").read_text())["dataset"]
