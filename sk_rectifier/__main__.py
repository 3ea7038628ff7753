"""``python -m sk_rectifier demo|reproduce``: see :mod:`sk_rectifier.cli`."""

from sk_rectifier.cli import main

if __name__ == "__main__":
    main()
