from __future__ import annotations

import importlib.util

import pytest

from opto import cli

needs_llama = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="llama_cpp is not importable: install the [local] extra (scripts/setup.sh --local)",
)



def test_commands_are_registered_in_a_dict():
    assert "serve-llm" in cli.COMMANDS
    help_text = cli.build_parser().format_help()
    assert "serve-llm" in help_text


def test_no_command_prints_help(capsys):
    assert cli.main([]) == 2
    assert "serve-llm" in capsys.readouterr().out


def test_port_is_required():
    with pytest.raises(SystemExit):
        cli.main(["serve-llm"])


@needs_llama
def test_serve_llm_dry_run_builds_the_llama_cpp_command(capsys):
    assert cli.main(["serve-llm", "--port", "8123", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "-m llama_cpp.server" in out and "--host 127.0.0.1" in out and "--port 8123" in out
    assert ".gguf" in out


def test_serve_llm_without_the_extra_says_how_to_install(monkeypatch, capsys):
    import opto.llm.server as server
    from opto.llm import LMConfigError

    def missing(*a, **k):
        raise LMConfigError("needs the [local] extra: pip install ...")

    monkeypatch.setattr(server, "serve_command", missing)
    assert cli.main(["serve-llm", "--port", "1"]) == 2
    assert "[local]" in capsys.readouterr().err
