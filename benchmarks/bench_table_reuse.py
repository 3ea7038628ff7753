"""Fits after the first in a process, on fresh memory or on reused memory.

A text layer's weight, its two Adam moments and the snapshots of a fit are
tables of tens of megabytes. When one is freed, sk_rectifier keeps its
memory (up to 512 MiB) for the next table of the same size
(``sk_rectifier.nn.empty_cache`` hands it back). This measures what that is
worth: the MR TF-IDF fit of the speed benchmark (1x100, 5 epochs), repeated
in one process with a pause between fits (a user's other work, or the other
contenders' turns in the speed benchmark), with that cache as it is
("reused") and turned off ("fresh": every table maps new memory, as in the
first fit of a process). Each mode runs in its own processes, which take
turns; every fit's time counts, and the figure is the median.

Fresh memory costs a page fault per page first touched; in a virtual
machine whose host takes back the guest's free memory (free page reporting),
also the host's own faults, which make the pause matter.

Results go to ``benchmarks/results/table_reuse.md``. Run (about 3 minutes on
2 cores)::

    .venv/bin/python benchmarks/bench_table_reuse.py --data-home ../shared/data
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import HERE, OURS, machine, make_models, mr_data  # noqa: E402

import sk_rectifier  # noqa: E402
from sk_rectifier.nn import optim  # noqa: E402

MODES = ("fresh", "reused")


def child(mode, data_home, fits, pause, epochs, quick):
    """Fit ``fits`` times after a warm-up fit, ``pause`` seconds apart; print
    each fit's seconds and the tables it mapped fresh memory for, as JSON."""
    warnings.simplefilter("ignore")
    cached, fresh = optim._cached, [0]  # (the warm-up fit's count first)

    def counted(nbytes):
        memory = cached(nbytes)
        fresh[-1] += memory is None
        return memory

    optim._cached = counted
    if quick:  # (the tiny vocabulary's tables are small: make them count)
        optim.HUGE_TABLE = 1
    if mode == "fresh":
        optim.CACHE_LIMIT = 0
    _, X, y, _, _ = mr_data(data_home, quick)
    factory = make_models((8,) if quick else (100,), epochs, X.shape[1], 2)[OURS]
    alive = [factory(0).fit(X, y)]  # first-use costs: Numba, torch's pools
    seconds = []
    for seed in range(fits):
        time.sleep(pause)
        fresh.append(0)
        start = time.perf_counter()
        fitted = factory(seed).fit(X, y)
        seconds.append(time.perf_counter() - start)
        alive[0] = fitted  # (the model before is freed, between fits)
    print(json.dumps([seconds, fresh[1:]]))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-home", required=True, help="folder holding mr/")
    parser.add_argument("--fits", type=int, default=8, help="fits per process")
    parser.add_argument("--pause", type=float, default=4.0, help="seconds")
    parser.add_argument("--rounds", type=int, default=2, help="processes per mode")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (tests)")
    parser.add_argument(
        "--output", type=Path, default=HERE / "results" / "table_reuse.md"
    )
    args = parser.parse_args(argv)
    fits = {mode: [] for mode in MODES}
    mapped = {mode: [] for mode in MODES}  # tables on fresh memory, per fit
    for r in range(args.rounds):
        for mode in MODES[r % 2 :] + MODES[: r % 2]:  # (turns)
            argv_child = [sys.executable, __file__, "--child", mode]
            argv_child += [str(args.data_home), str(args.fits), str(args.pause)]
            argv_child += [str(args.epochs), str(int(args.quick))]
            out = subprocess.run(argv_child, capture_output=True, text=True, check=True)
            seconds, fresh = json.loads(out.stdout.splitlines()[-1])
            fits[mode] += seconds
            mapped[mode] += fresh
            print(f"  {mode}: {[round(s, 3) for s in fits[mode]]}", flush=True)
    median = {mode: statistics.median(fits[mode]) for mode in MODES}
    command = "python benchmarks/bench_table_reuse.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    lines = [
        "# Fits after the first in a process: fresh or reused table memory",
        "",
        f"Command: `{command}`  ",
        f"Date: {time.strftime('%Y-%m-%d')}; {machine()}; "
        f"sk_rectifier {sk_rectifier.__version__}.  ",
        f"MR TF-IDF, RectifierMLPClassifier 1x100, {args.epochs} epochs; "
        f"{args.fits} fits per process after a warm-up fit, {args.pause:g} s "
        f"apart; {args.rounds} processes per mode, taking turns. "
        "Medians over every fit of a mode.",
        "",
        "| table memory | median s per fit | s per epoch | tables on fresh "
        "memory per fit | fits |",
        "|---|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        lines.append(
            f"| {mode} | {median[mode]:.3f} | {median[mode] / args.epochs:.3f} "
            f"| {statistics.mean(mapped[mode]):.1f} | {len(fits[mode])} |"
        )
    ratio = median["fresh"] / median["reused"]
    lines += ["", f"Fits on reused memory took {1 / ratio:.2f}x the time of fits "]
    lines[-1] += "on fresh memory."
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines) + "\n")
    print(args.output.read_text())
    return median, mapped


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        mode, data_home, fits, pause, epochs, quick = sys.argv[2:8]
        child(mode, data_home, int(fits), float(pause), int(epochs), quick == "1")
    else:
        main()
