"""The ``opto`` command: version, help, unknown commands, and lazily imported command modules."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import opto
from opto import cli


def test_version_prints_the_package_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"opto {opto.__version__}"


def test_help_lists_every_command_with_its_help(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long help lines
    for name, entry in cli.COMMANDS.items():
        assert name in out and entry.help in out
    assert "--version" in out


def test_unknown_command_names_the_choices_and_a_close_match(capsys) -> None:
    assert cli.main(["serve-lm", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'serve-lm'" in err and "did you mean 'serve-llm'" in err
    assert "serve-llm" in err.split("Commands:")[1]


def test_unknown_command_without_a_close_match(capsys) -> None:
    assert cli.main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'frobnicate'" in err and "did you mean" not in err


def test_each_command_module_has_the_two_functions() -> None:
    for name in cli.COMMANDS:
        module = cli.load_command(name)
        assert callable(module.add_arguments) and callable(module.run)


def _write_module(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


def test_a_new_command_is_one_table_entry(tmp_path, monkeypatch, capsys) -> None:
    _write_module(tmp_path, "opto_cli_hello", """
        def add_arguments(parser):
            parser.add_argument("--who", default="world")

        def run(args):
            print(f"hello {args.who}")
            return 3
    """)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "hello", cli.Command("opto_cli_hello", "say hello"))
    assert cli.main(["hello", "--who", "Ada"]) == 3
    assert capsys.readouterr().out == "hello Ada\n"
    assert "say hello" in cli.build_parser().format_help()


def test_a_command_module_without_run_is_a_clear_error(tmp_path, monkeypatch) -> None:
    _write_module(tmp_path, "opto_cli_broken", "def add_arguments(parser):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "broken", cli.Command("opto_cli_broken", "broken"))
    with pytest.raises(cli.CommandModuleError, match=r"must define run\(\)"):
        cli.main(["broken"])


def test_help_and_version_import_no_command_module() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from opto.cli import main\n"
        "for argv in (['--help'], ['--version']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(argv)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opto.cli.', 'opto.llm'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_the_command() -> None:
    out = subprocess.run([sys.executable, "-m", "opto.cli", "--version"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"opto {opto.__version__}"


def test_console_script_is_installed_next_to_the_interpreter() -> None:
    script = Path(sys.executable).parent / "opto"
    if not script.exists():
        pytest.skip("the opto console script is not installed (pip install -e . creates it)")
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"opto {opto.__version__}"
