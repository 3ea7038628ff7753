"""The command line, ``python -m sk_rectifier demo|reproduce``: the demo and
the paper-reproduction runner, kept out of the library modules."""

import argparse


def build_parser():
    """The argument parser of ``python -m sk_rectifier``."""
    parser = argparse.ArgumentParser(prog="python -m sk_rectifier")
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo",
        help="MR sentiment in under a minute: accuracy, sparsity and speed of "
        "rectifier, softplus and tanh networks against scikit-learn, an L1 "
        "sweep, and a figure",
        description="MR sentiment in under a minute: accuracy, sparsity and speed "
        "of rectifier, softplus and tanh networks against scikit-learn's "
        "LogisticRegression and MLPClassifier, an L1 sweep, and a figure.",
    )
    demo_parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding mr/ (default: $SK_RECTIFIER_DATA)",
    )
    demo_parser.add_argument(
        "--quick",
        action="store_true",
        help="2,000 snippets and 16 hidden units: a smoke test of a few seconds",
    )
    demo_parser.add_argument(
        "--output",
        default="sk_rectifier_demo",
        help="folder for demo.png (default: ./sk_rectifier_demo)",
    )
    reproduce_parser = commands.add_parser(
        "reproduce", help="the paper's Table 1 layout and L1 sweep on a data set"
    )
    from sk_rectifier.cli.reproduce import DATASETS

    reproduce_parser.add_argument(
        "--dataset", required=True, choices=DATASETS, help="the data set to run"
    )
    reproduce_parser.add_argument(
        "--data-home",
        default=None,
        help="folder holding the corpora (default: $SK_RECTIFIER_DATA)",
    )
    reproduce_parser.add_argument(
        "--quick",
        action="store_true",
        help="small networks and subsets, for a smoke test (seconds to a minute)",
    )
    reproduce_parser.add_argument(
        "--output",
        default="reproduce",
        help="folder for the report and plots (default: ./reproduce)",
    )
    return parser


def main(argv=None):
    """Entry point of ``python -m sk_rectifier``."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "reproduce":
            from sk_rectifier.cli.reproduce import reproduce

            reproduce(
                args.dataset,
                data_home=args.data_home,
                quick=args.quick,
                output=args.output,
            )
            return
        from sk_rectifier.cli.demo import demo

        demo(args.data_home, quick=args.quick, output=args.output)
    except (FileNotFoundError, ValueError) as exc:
        parser.exit(2, f"error: {exc}\n(the command line takes --data-home DIR)\n")
