"""Every example runs, at a small size."""

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, data_home, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # examples may write files
    monkeypatch.setattr(
        sys, "argv", [str(path), "--data-home", str(data_home), "--quick"]
    )
    runpy.run_path(str(path), run_name="__main__")
    assert "accuracy" in capsys.readouterr().out
