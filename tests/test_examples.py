"""Every example runs, at its default (quick) size, and draws its figures."""

import runpy
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, data_home, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # examples may write files
    monkeypatch.setattr(sys, "argv", [str(path), "--data-home", str(data_home)])
    monkeypatch.setattr(plt, "show", lambda: None)  # figures stay open
    plt.close("all")
    runpy.run_path(str(path), run_name="__main__")
    assert "accuracy" in capsys.readouterr().out
    assert plt.get_fignums(), "the example drew no figure"
    plt.close("all")
