"""EvolutionConfig: defaults, TOML files, and errors that name the field and the fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from opto.optimizers.evolution.config import ConfigError, EvolutionConfig


def test_defaults_and_run_config():
    c = EvolutionConfig()
    run = c.to_run_config(space=[])
    assert run["kind"] == "evolution" and run["islands"] == 4 and "optuna" in run["operators"]


def test_toml_file_top_level_or_table(tmp_path):
    path = tmp_path / "evolve.toml"
    path.write_text('[evolution]\nislands = 2\nselection = "qube"\n'
                    '[[evolution.descriptors]]\nname = "size"\nedges = [10, 20]\n')
    c = EvolutionConfig.from_toml(path)
    assert c.islands == 2 and c.selection == "qube" and c.descriptors[0].edges == (10.0, 20.0)
    flat = tmp_path / "flat.toml"
    flat.write_text("batch_size = 3\n")
    assert EvolutionConfig.from_toml(flat).batch_size == 3


def test_errors_name_the_field():
    with pytest.raises(ConfigError) as err:
        EvolutionConfig.from_mapping({"islands": 0, "islandz": 2})
    text = str(err.value)
    assert "islands: Input should be greater than or equal to 1" in text
    assert "islandz: unknown field" in text and "known fields" in text
    with pytest.raises(ConfigError, match="strictly increasing"):
        EvolutionConfig.from_mapping({"descriptors": [{"name": "a", "edges": [3, 1]}]})
    with pytest.raises(ConfigError, match="needs at least two objectives"):
        EvolutionConfig.from_mapping({"selection": "pareto"})


def test_bad_toml_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("islands = [\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        EvolutionConfig.from_toml(path)
    with pytest.raises(ConfigError, match="cannot read"):
        EvolutionConfig.from_toml(tmp_path / "missing.toml")


def test_frozen():
    c = EvolutionConfig()
    with pytest.raises(ValidationError):
        c.islands = 3  # type: ignore[misc]
    assert c.merged(islands=3).islands == 3
