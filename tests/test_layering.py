"""The layers stay clean: proven by running without Qt and by the contracts themselves."""

import subprocess
import sys
import textwrap

from tests.paths import REPO

LINT_IMPORTS = str(REPO / ".venv" / "bin" / "lint-imports")


def test_core_packages_import_with_qt_unavailable():
    """Every module of encryption/, annotations/, clips/ and the case library imports with
    PySide6 made unimportable: the model needs no Qt (the napari way). (The rest of
    videofeedback/ may use QtGui, e.g. to draw captions; never QtWidgets: the contracts.)"""
    code = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        sys.modules["PySide6"] = None  # any 'import PySide6...' now raises ImportError
        names = []
        for package in ("vferrors", "encryption", "annotations", "clips", "videofeedback.library"):
            module = importlib.import_module(package)
            names.append(package)
            for info in pkgutil.walk_packages(module.__path__, package + "."):
                if ".devtools" in info.name or info.name.endswith("__main__"):
                    continue  # lint-time helpers, need import-linter only
                importlib.import_module(info.name)
                names.append(info.name)
        print(len(names))
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10


def test_contracts_hold_for_the_project():
    done = subprocess.run([LINT_IMPORTS], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_widget_import_in_the_core_breaks_the_contract(tmp_path):
    """The custom contract is not a contract that cannot fail."""
    package = tmp_path / "corepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fine.py").write_text("from PySide6.QtCore import QObject\n")
    (package / "bad.py").write_text("from PySide6.QtWidgets import QWidget\n")
    (tmp_path / "contracts.toml").write_text(
        textwrap.dedent(
            """
            [tool.importlinter]
            root_package = "corepkg"
            include_external_packages = true
            contract_types = [
              "forbidden_submodule: videofeedback.devtools.import_contracts.ForbiddenSubmoduleContract"
            ]
            [[tool.importlinter.contracts]]
            name = "no widgets"
            type = "forbidden_submodule"
            source_modules = ["corepkg"]
            forbidden = ["PySide6.QtWidgets"]
            """
        )
    )
    env = {"PYTHONPATH": f"{tmp_path}:{REPO}", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [LINT_IMPORTS, "--config", "contracts.toml", "--no-cache"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode != 0
    assert "corepkg.bad:1" in done.stdout
    assert "corepkg.fine" not in done.stdout


def test_layers_contract_has_no_ignored_imports():
    """The lower packages depend on nothing above them: no exception lines in the contract."""
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["layers"][-1] == "vferrors"
    assert not layers.get("ignore_imports")
