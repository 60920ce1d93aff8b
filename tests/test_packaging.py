"""The package list in pyproject.toml must name every package, or an installed evals lacks it."""

from __future__ import annotations

import tomllib

from tests.conftest import REPO_ROOT


def test_every_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(path.parent.relative_to(REPO_ROOT).parts)
        for path in (REPO_ROOT / "evals").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    # A folder of data files is a package too (setuptools warns otherwise): evals/report/assets.
    data_dirs = {
        ".".join(path.parent.relative_to(REPO_ROOT).parts)
        for path in (REPO_ROOT / "evals").rglob("*")
        if path.is_file() and path.suffix in (".css", ".js") and "__pycache__" not in path.parts
    }
    assert data_dirs <= listed, f"add to [tool.setuptools] packages: {sorted(data_dirs - listed)}"
    assert config["package-dir"]["evals.builtin_tasks"] == "tasks"
    assert (REPO_ROOT / "tasks" / "__init__.py").is_file() and (
        REPO_ROOT / "suites" / "__init__.py"
    ).is_file()
