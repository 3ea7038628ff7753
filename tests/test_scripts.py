"""The command line demo and the benchmark script, run at tiny sizes."""

import contextlib
import importlib.util
import io
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.cli import main
from sk_rectifier.cli.demo import L1_VALUES, demo

ROOT = Path(__file__).resolve().parents[1]


def test_demo_quick(data_home, tmp_path, capsys, monkeypatch):
    """``python -m sk_rectifier demo --quick``, run in this process (the entry
    point itself is run in a fresh interpreter below)."""
    rows = []  # what demo() returns, kept
    record = lambda *a, **k: rows.extend(demo(*a, **k))  # noqa: E731
    monkeypatch.setattr("sk_rectifier.cli.demo.demo", record)
    argv = ["demo", "--quick", "--data-home", str(data_home)]
    assert main([*argv, "--output", str(tmp_path / "out")]) is None
    names = [row["model"] for row in rows]
    assert [name.split()[0] for name in names[:5]] == [
        "logistic",
        "sklearn",
        "relu",
        "softplus",
        "tanh",
    ]
    sweep = rows[5:]
    assert [row["l1"] for row in sweep] == list(L1_VALUES[1:])
    relu, softplus = rows[2], rows[3]
    assert relu["sparsity"].shape == (1,) and softplus["sparsity"].max() == 0
    assert all(0.4 < row["accuracy"] <= 1 for row in rows)
    assert all(row["speedup"] > 0 for row in rows[1:])
    text = capsys.readouterr().out
    for expected in ("speed-up", "zeros", "dead", "activation_l1", "[8/8]"):
        assert expected in text
    table = [line.split()[0] for line in text.splitlines() if line[:1].isalpha()]
    for model in ("logistic", "sklearn", "relu", "softplus", "tanh"):
        assert model in table
    figure = tmp_path / "out" / "demo.png"
    assert f"Figure: {figure}" in text and figure.stat().st_size > 10_000


def test_entry_point_reports_missing_data(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sk_rectifier", "demo", "--data-home", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2, result.stderr
    assert "rt-polarity.pos" in result.stderr and "--data-home" in result.stderr


def _cli(argv, capsys):
    """``python -m sk_rectifier ARGV`` run in this process (the subprocess run
    above proves the entry point): ``(exit status, stdout, stderr)``."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


def test_demo_help_describes_every_option(capsys):
    status, out, _ = _cli(["demo", "--help"], capsys)
    assert status == 0
    for option in ("--data-home", "--quick", "--output"):
        assert option in out


@pytest.mark.slow
def test_bench_speed_quick(data_home, tmp_path):
    bench = _load("bench_speed")
    output = tmp_path / "speed.md"
    argv = ["--data-home", str(data_home), "--quick", "--repeats", "1", "--busy", "1"]
    argv += ["--no-memory"]  # measured in test_bench_speed_memory_of_a_fit
    rows = bench.main(
        [*argv, "--epochs", "1", "--dense-epochs", "1", "--output", str(output)]
    )
    models = {row["model"] for row in rows}
    bf16 = bench.bfloat16_instructions()  # (else ours in bfloat16 is left out)
    assert models == {
        "RectifierMLPClassifier",
        "sklearn MLPClassifier",
        "skorch NeuralNetClassifier",
    } | ({"RectifierMLPClassifier(precision='bfloat16')"} if bf16 else set())
    assert len(rows) == 2 * len(models)  # (each in the sparse and dense case)
    assert all(row["s_per_epoch"] > 0 for row in rows)
    table = output.read_text()
    assert "speed-up vs MLPClassifier" in table and "| 1.0x |" in table
    for section in ("## Inference", "busy-loop processes", "## Autoencoder"):
        assert section in table
    targets = table.split("## Targets")[1]
    assert "| MR TF-IDF" in targets  # (quick: 1x8)
    assert ("1x16, precision='bfloat16': predict_proba |" in targets) == bf16
    assert ("1x16, precision='bfloat16', busy: training |" in targets) == bf16
    assert f"bfloat16 instructions {'yes' if bf16 else 'no'};" in table
    assert all(row["peak_mib"] is None for row in rows) and "| n/a |" in table
    assert output.with_suffix(".json").is_file()


def test_bench_overhead_ladder_measures_every_loop_on_the_same_batches(tmp_path):
    bench = _load("bench_overhead")
    rng = np.random.default_rng(0)
    X = rng.random((300, 20), dtype=np.float32)
    y = (X[:, 0] > 0.5).astype(np.int64)
    rows = bench.ladder(("synthetic 300 x 20", X, y, None, None), (8,), 1, 1)
    loops = [row["loop"] for row in rows]
    assert loops == [bench.BARE, bench.STEP, bench.OURS, bench.SKORCH, bench.SKLEARN]
    assert all(row["case"] == "synthetic 300 x 20, 1x8" for row in rows)
    assert all(row["ms_per_epoch"] > 0 for row in rows)
    for row in rows:  # 2 batches of 200 rows at most
        assert row["ms_per_batch"] == pytest.approx(row["ms_per_epoch"] / 2)
    assert rows[-1]["vs_sklearn"] == 1.0
    output = tmp_path / "overhead.md"
    meta = {"command": "c", "date": "d", "machine": "m", "versions": "v"}
    output.write_text(bench.to_markdown(rows, meta | {"rounds": 1, "epochs": 1}))
    assert output.read_text().count("| synthetic 300 x 20, 1x8 |") == 5


def test_bench_overhead_matmul_rates(monkeypatch):
    """Each product's rate is its arithmetic over its time, and the results
    file lists them."""
    bench = _load("bench_overhead")
    monkeypatch.setattr(bench.sys.modules["bench_speed"], "SETTLE_S", 0.0)
    operands = bench.products((2, 3, 5))
    kinds = [(type(a), a.dtype, a.shape, b.shape) for a, b in operands.values()]
    assert dict(zip(operands, kinds)) == {
        "float32, NumPy": (np.ndarray, np.float32, (2, 3), (3, 5)),
        "float32, PyTorch": (torch.Tensor, torch.float32, (2, 3), (3, 5)),
        "bfloat16, PyTorch": (torch.Tensor, torch.bfloat16, (2, 3), (3, 5)),
    }
    monkeypatch.setattr(bench.time, "perf_counter", iter(range(0, 100, 2)).__next__)
    rates = bench.matmul_rates(1, (2, 3, 5), calls=10)  # 2 "seconds" each
    assert rates == dict.fromkeys(operands, 2 * 2 * 3 * 5 * 10 / 2 / 1e9)
    meta = {"command": "c", "date": "d", "machine": "m", "versions": "v"}
    meta |= {"rounds": 1, "epochs": 1, "product": (2, 3, 5), "rate_rounds": 3}
    table = bench.to_markdown([], meta, {"float32, NumPy": 241.4})
    assert "A 2 x 3 batch by a 3 x 5 weight, the median of 3 rounds" in table
    assert "| float32, NumPy | 241 |" in table


def test_bench_overhead_reports_the_rounds_it_ran(monkeypatch, tmp_path):
    """Rounds end on whole turns: 3 asked for are 5 of the five loops and 3
    of the three products, and the results say so."""
    bench = _load("bench_overhead")
    asked = []
    monkeypatch.setattr(bench, "fashion_data", lambda quick: "data")
    monkeypatch.setattr(bench, "ladder", lambda *args: [])

    def rates(rounds, shape):
        asked.append(rounds)
        return {"float32, NumPy": 1.0}

    monkeypatch.setattr(bench, "matmul_rates", rates)
    output = tmp_path / "overhead.md"
    bench.main(["--quick", "--rounds", "3", "--output", str(output)])
    table = output.read_text()
    assert asked == [3] and "Medians over 5 rounds of 3 epochs" in table
    assert "the median of 3 rounds of 50 products" in table


def test_bench_overhead_loops_train():
    """The bare loop and the training step alone do train: the loss falls."""
    bench = _load("bench_overhead")
    rng = np.random.default_rng(0)
    X = rng.random((400, 10), dtype=np.float32)
    y = (X[:, 0] + X[:, 1] > 1).astype(np.int64)
    model = RectifierMLPClassifier(
        (16,), max_iter=1, learning_rate_init=0.01, random_state=0
    ).fit(X, y)
    before = model.predict_proba(X)
    epochs = len(model.net_.history)
    bench.training_steps(model, X, y, 20)
    assert len(model.net_.history) == epochs  # (steps alone: no epoch loop)
    log_loss = lambda p: -np.log(p[np.arange(len(y)), y]).mean()  # noqa: E731
    assert log_loss(model.predict_proba(X)) < 0.8 * log_loss(before)

    def bare_loss(epochs):  # (same seed: the same initial weights)
        module = bench.bare_loop((16,), 2, X, y, epochs, seed=0)
        with torch.no_grad():
            logits = module(torch.from_numpy(X))
            return torch.nn.functional.cross_entropy(logits, torch.from_numpy(y))

    assert bare_loss(100) < 0.8 * bare_loss(0)


def test_bench_speed_contenders_take_turns():
    """Each round measures every contender once, starting one further along,
    and each figure is the median of its rounds."""
    bench = _load("bench_speed")
    figures = {"ours": [1.0, 5.0, 3.0], "theirs": [2.0, 2.0, 9.0]}
    order = []

    def measure(label, r):
        order.append(label)
        return figures[label][r]

    figures["ours"].append(7.0)
    figures["theirs"].append(9.0)

    medians = bench.take_turns(["ours", "theirs"], measure, 3)
    # (a 4th round ends the turn: each goes first twice)
    assert order == ["ours", "theirs", "theirs", "ours"] * 2
    assert medians == {"ours": 4.0, "theirs": 5.5}
    order.clear()  # 4 contenders, 3 rounds asked for: 4, each first once
    figures = dict.fromkeys("abcd", [1.0] * 4)
    bench.take_turns(list("abcd"), measure, 3)
    assert len(order) == 16 and order[::4] == list("abcd")


def test_bench_speed_asks_torch_for_bfloat16_instructions(monkeypatch):
    """Either AVX512-BF16 or AMX will do; a torch without these checks
    (older, or not x86) counts as none."""
    bench = _load("bench_speed")
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for answers, expected in [((False, False), False), ((True, False), True)]:
        for name, answer in zip(checks, answers):
            monkeypatch.setattr(torch.cpu, name, lambda a=answer: a, raising=False)
        assert bench.bfloat16_instructions() is expected
    monkeypatch.setattr(torch.cpu, checks[0], lambda: False)
    monkeypatch.setattr(torch.cpu, checks[1], lambda: True)
    assert bench.bfloat16_instructions() is True
    for name in checks:
        monkeypatch.delattr(torch.cpu, name)
    assert bench.bfloat16_instructions() is False
    assert "bfloat16 instructions no" in bench.machine()


def test_bench_speed_short_fits_get_more_rounds(monkeypatch):
    """Rounds go on past ``rounds`` while they have taken less than
    ``min_seconds``, up to ``max_rounds``, and then end on a whole turn; a
    run whose measurements fill the time gets ``rounds`` only."""
    bench = _load("bench_speed")
    monkeypatch.setattr(bench, "SETTLE_S", 0.0)
    seen = []

    def quick(label, r):
        seen.append((r, label))
        return float(r)

    medians = bench.take_turns(["a", "b"], quick, 3, min_seconds=60.0, max_rounds=8)
    assert [r for r, _ in seen] == [r for r in range(8) for _ in "ab"]  # not 3
    assert [label for _, label in seen[::2]].count("a") == 4  # first 4 times in 8
    assert medians == {"a": 3.5, "b": 3.5}
    seen.clear()  # 8 rounds at most is 6 for 3 contenders (whole turns)
    bench.take_turns(["a", "b", "c"], quick, 1, min_seconds=60.0, max_rounds=8)
    assert [r for r, _ in seen] == [r for r in range(6) for _ in "abc"]
    seen.clear()

    def slow_second(label, r):  # round 1 fills the time: round 2 ends the turn
        seen.append(r)
        time.sleep(0.2 if r == 1 else 0.0)
        return 1.0

    bench.take_turns(["a", "b", "c"], slow_second, 1, min_seconds=0.3, max_rounds=9)
    assert seen == [r for r in range(3) for _ in "abc"]
    seen.clear()

    def slow(label, r):
        seen.append(r)
        time.sleep(0.05)
        return 1.0

    bench.take_turns(["a", "b", "c"], slow, 3, min_seconds=0.2, max_rounds=9)
    assert seen == [r for r in range(3) for _ in "abc"]  # 0.45 s: filled


def test_bench_speed_fits_timed_reports_its_rounds_and_a_fixed_seed(monkeypatch):
    """The training figures say how many rounds ran, and the model kept (for
    accuracy and inference) is the one of seed ``repeats - 1`` however many
    ran; the table shows the runs and how they were chosen."""
    bench = _load("bench_speed")
    monkeypatch.setattr(bench, "SETTLE_S", 0.0)

    class Model:
        def __init__(self, seed):
            self.seed, self.n_iter_ = seed, 1

        def fit(self, X, y):
            return self

    factories = {bench.OURS: Model, bench.SKLEARN: Model, bench.SKORCH: Model}
    _, models, runs = bench.fits_timed(factories, None, None, 3)
    assert runs == 3 and {m.seed for m in models.values()} == {2}
    assert list(models) == list(factories)  # (the tables' row order)
    _, models, runs = bench.fits_timed(factories, None, None, 3, fit_seconds=60.0)
    assert runs == bench.MAX_ROUNDS and {m.seed for m in models.values()} == {2}
    row = {"case": "c", "peak_mib": None, "accuracy": 0.5, "runs": runs}
    train = [row | {"model": bench.OURS, "s_per_epoch": 1.0}]
    train += [row | {"model": bench.SKLEARN, "s_per_epoch": 2.0}]
    bench._ratios(train, "s_per_epoch", higher_is_better=False)
    meta = _META | {"fit_seconds": 20.0, "max_rounds": 12}
    table = bench.to_markdown((train, [], [], []), meta)
    assert f"| c | {bench.OURS} | 1.000 | {runs} | 2.0x |" in table
    assert "as many as fill 20 s, 12 at most (column runs)" in table
    assert "as many as fill" not in bench.to_markdown((train, [], [], []), _META)


def test_bench_speed_targets_are_read_off_the_same_run():
    bench = _load("bench_speed")
    sparse, big, small = "MR TF-IDF (9 features), 1x8", "dense, 3x1000", "dense, 1x100"

    def row(case, model, **figures):
        fit = {"peak_mib": None, "accuracy": 0.5, "runs": 3}  # (not targets)
        return {"case": case, "model": model, **fit, **figures}

    ours, theirs = bench.OURS, bench.SKLEARN
    train = [
        row(sparse, ours, s_per_epoch=0.1),
        row(sparse, theirs, s_per_epoch=4.0),  # 40x: met, just
        row(big, ours, s_per_epoch=1.0),
        row(big, theirs, s_per_epoch=2.0),  # 2x of 3x
        row(small, ours, s_per_epoch=1.0),
        row(small, theirs, s_per_epoch=1.0),
    ]
    train.append(row(big, bench.OURS_BF16, s_per_epoch=0.5))  # 4x of 3x
    infer = [
        row(small, ours, rows_per_s=300.0, latency_ms=1.0),
        row(small, bench.OURS_BF16, rows_per_s=150.0, latency_ms=0.25),
        row(small, theirs, rows_per_s=100.0, latency_ms=0.5),
    ]
    busy = [  # ours 3x slower beside the busy processes, theirs 2x
        row(small, ours, s_per_epoch=3.0, idle_s_per_epoch=1.0)
        | {"rows_per_s": 100.0, "idle_rows_per_s": 100.0},
        row(small, theirs, s_per_epoch=4.0, idle_s_per_epoch=2.0)
        | {"rows_per_s": 50.0, "idle_rows_per_s": 100.0},
        row(small, bench.OURS_BF16, s_per_epoch=1.0, idle_s_per_epoch=0.5)
        | {"rows_per_s": 200.0, "idle_rows_per_s": 400.0},  # 2x slower
    ]
    bench._ratios(train, "s_per_epoch", higher_is_better=False)
    bench._ratios(infer, "rows_per_s", higher_is_better=True)
    bench._ratios(infer, "latency_ms", higher_is_better=False)
    bench._ratios(busy, "s_per_epoch", higher_is_better=False)
    bench._ratios(busy, "rows_per_s", higher_is_better=True)
    got = {
        what: (value, target)
        for what, value, target in bench.targets(train, infer, busy)
    }
    assert got == {
        f"{sparse}: training": (40.0, 40.0),
        f"{big}: training": (2.0, 3.0),
        f"{small}: training": (1.0, 1.5),
        f"{small}: predict_proba": (3.0, 2.0),
        f"{small}: one-row predict": (0.5, 1.0),
        f"{small}, busy: training": (4.0 / 3.0, 1.5),
        f"{small}, busy: training slowdown, MLPClassifier's over ours": (
            2.0 / 3.0,
            1.0,
        ),
        f"{small}, busy: predict_proba": (2.0, 1.5),
        f"{small}, busy: predict_proba slowdown, MLPClassifier's over ours": (
            2.0,
            1.0,
        ),
        f"{big}, precision='bfloat16': training": (4.0, 3.0),
        f"{small}, precision='bfloat16': predict_proba": (1.5, 2.0),
        f"{small}, precision='bfloat16': one-row predict": (2.0, 1.0),
        f"{small}, precision='bfloat16', busy: training": (4.0, 1.5),
        f"{small}, precision='bfloat16', busy: training slowdown, "
        "MLPClassifier's over ours": (1.0, 1.0),
        f"{small}, precision='bfloat16', busy: predict_proba": (4.0, 1.5),
        f"{small}, precision='bfloat16', busy: predict_proba slowdown, "
        "MLPClassifier's over ours": (1.0, 1.0),
    }
    table = bench.to_markdown((train, infer, busy, []), _META)
    assert f"| {sparse}: training | 40.00x | 40x | yes |" in table
    assert f"| {big}: training | 2.00x | 3x | no (66% of it) |" in table  # floor
    assert f"| {big}, precision='bfloat16': training | 4.00x | 3x | yes |" in table


def test_bench_accuracy_reports_each_missed_target_and_what_was_tried():
    bench = _load("bench_accuracy")
    rows = [  # (task, ours, peers, target, seconds)
        ("MR 10-fold CV", 0.7942, {"LR": 0.78, "NB-LR": 0.7978}, "79.5%", 1),
        ("SST-2 test", 0.8314, {"LR": 0.81}, "83.0%", 1),
        ("SST-5 test (5 classes)", 0.4421, {"LR": 0.4181}, "45.0%", 1),
    ]
    rankings = {"sst2": [("a", None)] * 10, "sst5": [("b", None)] * 9}
    text = "\n".join(bench.missed_targets(rows, rankings))
    assert "**MR 10-fold CV**: 79.42%, short of 79.5% by 0.08 points" in text
    assert "NB-LR, 79.78%" in text and "10 candidates, chosen on SST-2" in text
    assert "short of 45.0% by 0.79 points" in text and "9 candidates" in text
    assert "phrase labels" in text  # why SST-5's target may be out of reach
    assert "SST-2 test" not in text  # met
    for variants in bench.EARLIER.values():
        assert all(what in text for what, _ in variants)
    assert bench.missed_targets(rows[1:2], rankings) == []  # all met: nothing


_META = dict.fromkeys(
    ["command", "date", "machine", "torch", "sklearn", "skorch", "sk_rectifier"]
    + ["repeats", "busy_repeats", "epochs", "busy"],
    "-",
)


def test_bench_speed_memory_of_a_fit():
    """The peak-memory fit runs in a fresh interpreter and sees at least the
    float32 copy of the data (6 MiB) the network trains on."""
    bench = _load("bench_speed")
    rng = np.random.RandomState(0)
    X, y = rng.rand(2000, 784), rng.randint(0, 2, 2000)
    mib = bench.peak_memory_mib(bench.OURS, (256,), 1, X, y)
    assert 5 < mib < 500, mib


@pytest.mark.slow
def test_bench_table_reuse_quick(data_home, tmp_path):
    """Fits in fresh processes: with the cache off every table maps fresh
    memory; with it on, fits after the first two reuse the freed ones."""
    bench = _load("bench_table_reuse")
    output = tmp_path / "table_reuse.md"
    argv = ["--data-home", str(data_home), "--quick", "--fits", "3"]
    argv += ["--pause", "0", "--rounds", "1", "--epochs", "1"]
    median, mapped = bench.main([*argv, "--output", str(output)])
    assert all(seconds > 0 for seconds in median.values())
    assert min(mapped["fresh"]) > 0 and mapped["reused"][1:] == [0, 0]
    text = output.read_text()
    assert "| fresh |" in text and "| reused |" in text


@pytest.mark.slow
def test_bench_pretraining_quick(data_home, tmp_path):
    bench = _load("bench_pretraining")
    output = tmp_path / "pretraining.md"
    argv = ["--data-home", str(data_home), "--quick", "--seeds", "2"]
    argv += ["--n-labeled", "100", "--hidden", "8", "16", "--dae-epochs", "2"]
    argv += ["--patience", "3", "--lbfgs-iter", "5"]
    results = bench.main([*argv, "--output", str(output)])
    assert set(results) == {"mr", "sst2"}
    for scores in results.values():
        assert set(scores) == {
            "TF-IDF + LogisticRegression",
            "TF-IDF + TruncatedSVD(300) + LogisticRegression",
            "RectifierMLPClassifier, no pre-training",
            "RectifierMLPClassifier(pretraining=DAE), all layers fine-tuned",
            "RectifierMLPClassifier(pretraining=DAE, freeze_pretrained=True, "
            "solver='lbfgs')",
            "DAE features + LogisticRegression",
        }
        assert all(len(s) == 2 and all(0 <= a <= 1 for a in s) for s in scores.values())
    text = output.read_text()
    assert "## MR" in text and "## SST2" in text and "unlabeled MR snippets" in text
    assert text.count("(target +2.0)") == 2
    assert text.count("8 units: ") == 2 and text.count("16 units: ") == 2
    chosen = re.findall(r"search chose 8 units (\d+) times, 16 units (\d+) times", text)
    assert [int(a) + int(b) for a, b in chosen] == [2, 2]  # one choice per seed


@pytest.mark.slow
def test_bench_sparse_code_quick(data_home, tmp_path):
    bench = _load("bench_sparse_code")
    output = tmp_path / "sparse_code.md"
    codes, prunes = bench.main(
        [
            "--data-home",
            str(data_home),
            "--quick",
            "--repeats",
            "1",
            "--output",
            str(output),
        ]
    )
    assert [r["case"].split()[0] for r in codes] == ["5000"]
    assert all(r["sparse_mib"] >= 0 and r["dense_s"] > 0 for r in codes)
    assert all(r["train_identical"] for r in prunes)
    assert all(0 <= r["changed"] <= 1 for r in prunes)
    assert "## Pruning dead units" in output.read_text()


@pytest.mark.slow
def test_bench_scale_quick(data_home, tmp_path):
    pytest.importorskip("distributed")
    bench = _load("bench_scale")
    output = tmp_path / "scale.md"
    rows = bench.main(
        [
            "--data-home",
            str(data_home),
            "--quick",
            "--epochs",
            "1",
            "--output",
            str(output),
        ]
    )
    assert [name.split(",")[0].split()[0] for name, *_ in rows] == [
        "n_jobs=1",
        "loky",
        "Dask",
    ]
    assert all(seconds > 0 and len(scores) == 4 for _, seconds, scores in rows)
    text = output.read_text()
    assert "speed-up vs n_jobs=1" in text and "4 candidates x 3 folds" in text
    assert text.count("| identical |") == 3  # every backend, the same scores


def _load(name):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_reproduce_digits_quick(tmp_path):
    from sk_rectifier.cli.reproduce import reproduce

    out = io.StringIO()
    with contextlib.redirect_stdout(out):  # the default: the call's stdout
        rows = reproduce("digits", quick=True, output=tmp_path)
    assert len(rows) == 8  # 4 activations x with/without pre-training
    relu = [r for r in rows if r["activation"] == "relu"]
    assert all(r["sparsity"].min() > 0 for r in relu)
    assert all(r["sparsity"].max() == 0 for r in rows if r["activation"] == "softplus")
    report = (tmp_path / "report.md").read_text()
    assert "| rectifier |" in report and "L1 penalty" in report
    for png in ("activations.png", "l1_sweep.png"):
        assert (tmp_path / png).stat().st_size > 1000
    assert "[8/8]" in out.getvalue()


@pytest.mark.parametrize("logistic_error", [88.0, 30.0])
def test_report_explains_rows_at_chance(logistic_error):
    import numpy as np

    from sk_rectifier.cli.reproduce import ACTIVATIONS, _report, _settings

    rows = [
        {
            "task": "classification",
            "activation": activation,
            "pretraining": pretrained,
            "metric": logistic_error if activation == "logistic" else 5.0,
            "sparsity": np.zeros(3),
            "seconds": 1.0,
            "epochs": 13,
        }
        for activation in ACTIVATIONS
        for pretrained in (False, True)
    ]

    class Sweep:
        l1_values, scores, sparsity = [0.0], [0.9], [np.zeros(3)]

    cfg = _settings("image", quick=True)
    report = _report("digits", cfg, True, rows, Sweep, 100, 50, chance=90.0)
    notes = report.count("**At chance:** the logistic network")
    assert notes == (2 if logistic_error == 88.0 else 0)
    assert "| epochs |" in report


def test_reproduce_missing_data_is_a_clear_error(tmp_path, capsys):
    argv = ["reproduce", "--dataset", "sst5", "--data-home", str(tmp_path)]
    argv += ["--quick", "--output", str(tmp_path / "o")]
    status, _, err = _cli(argv, capsys)
    assert status == 2
    assert "SST-5 train split not found" in err
