"""The use-case registry: one line per use case, the config union and checks built from it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import typing

import pytest

import edge.usecases as registry
from edge.config import CHECKS, AnalyzerConfig
from edge.usecases import USE_CASES, Analyzer, UseCasePlugin, analyzer_class, create_analyzer, plugins
from edge.usecases.occupancy.config import check_hysteresis_fits_capacity


def test_every_registered_use_case_is_a_folder_with_its_plugin_and_analyzers():
    # Camera analyzers only: air-touch (D), face checkout (E), ventilation (G) run as their own processes.
    assert set(plugins()) == set(USE_CASES) == {"entrance", "occupancy", "behaviour", "floor", "lines", "comfort", "shelf"}
    for name, plugin in plugins().items():
        assert isinstance(plugin, UseCasePlugin) and plugin.name == name and plugin.analyzers
        assert USE_CASES[name] == f"edge.usecases.{name}"
        for spec in plugin.analyzers:
            cls = analyzer_class(spec.type)
            assert cls.type == spec.type and cls.__module__.startswith(USE_CASES[name] + ".")
            assert callable(cls.update) and cls.use_case is not None


def test_the_store_config_union_and_checks_come_from_the_registry():
    members = typing.get_args(typing.get_args(AnalyzerConfig)[0])
    assert members == tuple(spec.config for p in plugins().values() for spec in p.analyzers)
    assert check_hysteresis_fits_capacity in CHECKS  # F's own check, collected, not hand-listed


def test_unknown_analyzer_type_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown analyzer type 'crowding'; known: \['entrance', 'occupancy', 'behaviour', "):
        analyzer_class("crowding")


def test_loading_a_store_config_imports_no_model_runtime():
    probe = textwrap.dedent("""
        import sys
        from edge.config import load_store_config
        from edge.paths import PROJECT_ROOT
        load_store_config(PROJECT_ROOT / "config" / "demo-store.yaml")
        heavy = sorted(m for m in ("onnxruntime", "torch", "ultralytics", "ai_edge_litert") if m in sys.modules)
        loaded = sorted(m for m in sys.modules if m.endswith((".analyzer", ".masks.linear", ".masks.aizoo")))
        print(heavy, loaded)
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[] []", out.stdout + out.stderr


def test_adding_a_use_case_is_a_folder_and_one_registry_line(tmp_path, monkeypatch):
    package = tmp_path / "queueing"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent('''
        from typing import Literal
        from edge.usecases import AnalyzerSpec, UseCasePlugin
        from services.shared.strict import Strict

        class QueueConfig(Strict):
            type: Literal["queue"] = "queue"
            max_wait_s: float = 60.0

        def check(store):
            yield from ()

        PLUGIN = UseCasePlugin(name="queueing", analyzers=(AnalyzerSpec(QueueConfig, "queueing.analyzer:QueueAnalyzer"),), checks=(check,))
    '''))
    (package / "analyzer.py").write_text(textwrap.dedent('''
        from typing import ClassVar
        from services.contract import UseCase

        class QueueAnalyzer:
            use_case: ClassVar[UseCase] = UseCase.F
            type: ClassVar[str] = "queue"

            def __init__(self, config, zones):
                self.config, self.zones = config, zones

            def update(self, tracks, ctx):
                yield from ()
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    before = registry.analyzer_types()
    monkeypatch.setitem(USE_CASES, "queueing", "queueing")
    registry.plugins.cache_clear()
    try:
        assert registry.analyzer_types() == [*before, "queue"]
        union = typing.get_args(typing.get_args(registry.analyzer_config_union())[0])
        config = union[-1](max_wait_s=30)
        analyzer = create_analyzer(config, camera=None)
        assert isinstance(analyzer, Analyzer) and analyzer.config.max_wait_s == 30
        assert [c.__module__ for c in registry.config_checks()].count("queueing") == 1  # its check joins the others
    finally:
        monkeypatch.delitem(USE_CASES, "queueing")
        registry.plugins.cache_clear()


def test_two_use_cases_cannot_offer_one_analyzer_type(tmp_path, monkeypatch):
    (tmp_path / "crowding.py").write_text(textwrap.dedent('''
        from edge.usecases import AnalyzerSpec, UseCasePlugin
        from edge.usecases.occupancy import OccupancyAnalyzerConfig

        PLUGIN = UseCasePlugin(name="crowding", analyzers=(AnalyzerSpec(OccupancyAnalyzerConfig, "crowding:X"),))
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(USE_CASES, "crowding", "crowding")
    registry.plugins.cache_clear()
    try:
        with pytest.raises(ValueError, match="analyzer type 'occupancy' offered by both 'occupancy' and 'crowding'"):
            plugins()
        monkeypatch.setitem(USE_CASES, "crowding", "edge.usecases.occupancy")
        registry.plugins.cache_clear()
        with pytest.raises(ValueError, match="is named 'occupancy'"):
            plugins()
    finally:
        monkeypatch.delitem(USE_CASES, "crowding")
        registry.plugins.cache_clear()
