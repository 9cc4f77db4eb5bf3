"""Rendering the monitoring mixin (mixin/render.py) from the tests, with or without a config."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.monitoring.assets import ROOT

RENDER = ROOT / "mixin" / "render.py"


def _renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("jobmon_mixin_render", RENDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


renderer = _renderer()


def render(config: str | None = None, directory: Path | None = None) -> dict[str, str]:
    """Relative path -> content of every file the mixin renders to, with ``config`` (jsonnet
    source of an object merged into _config) written to ``directory`` first."""
    path = None
    if config is not None:
        assert directory is not None
        path = directory / "config.libsonnet"
        path.write_text(config, encoding="utf-8")
    files: dict[str, str] = renderer.outputs(renderer.evaluate(path))
    return files


def rules(files: dict[str, str], name: str) -> list[dict[str, Any]]:
    """The rules of a rendered rule file."""
    import yaml

    groups = yaml.safe_load(files[name])["groups"]
    return [rule for group in groups for rule in group["rules"]]
