"""
Out-of-core text classification: a corpus streamed into partial_fit
====================================================================

A corpus too large for memory is read from disk a chunk of lines at a time,
turned into sparse features by ``HashingVectorizer`` (2**20 columns, no
vocabulary to keep) and given to ``partial_fit``: only one chunk and the
network are ever in memory, so memory stays flat however long the stream
(``tests/test_out_of_core.py`` checks that 40 chunks take no more than 10).
The held-out accuracy is measured after each chunk and plotted.

The stream here is the MR corpus's two files, read line by line and
interleaved (the last 20 % of each file is held out). Any iterator of
``(texts, labels)`` chunks works the same way, for example the blocks of a
Dask collection.

By default 6 chunks of 500 reviews, two passes each; ``--full`` streams the
whole training part in chunks of ``--chunk-size`` reviews, three passes each.
"""

import argparse
import itertools

import matplotlib.pyplot as plt
import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from sk_rectifier import RectifierMLPClassifier
from sk_rectifier.datasets import get_data_home

parser = argparse.ArgumentParser(description="Out-of-core learning on MR.")
parser.add_argument("--data-home", default=None, help="default: $SK_RECTIFIER_DATA")
parser.add_argument("--full", action="store_true", help="the whole stream")
parser.add_argument("--chunk-size", type=int, default=1000)
args, _ = parser.parse_known_args()


# %%
# A stream of chunks read lazily from the files
# ---------------------------------------------


def read_lines(path, start, stop):
    """Lines ``start`` to ``stop`` of a latin-1 text file, read lazily."""
    with open(path, encoding="latin-1") as f:
        yield from itertools.islice((line.strip() for line in f), start, stop)


def labeled(lines, label):
    for line in lines:
        yield line, label


def stream(files, chunk_size, part):
    """``(texts, labels)`` chunks alternating the files' lines; ``part`` is
    "train" (the first 80 % of each file) or "test" (the rest)."""
    lengths = {
        label: sum(1 for _ in open(path, encoding="latin-1"))
        for label, path in files.items()
    }
    readers = []
    for label, path in files.items():
        cut = int(0.8 * lengths[label])
        start, stop = (0, cut) if part == "train" else (cut, lengths[label])
        readers.append(labeled(read_lines(path, start, stop), label))
    mixed = (
        pair
        for pairs in itertools.zip_longest(*readers)
        for pair in pairs
        if pair is not None
    )
    while chunk := list(itertools.islice(mixed, chunk_size)):
        texts, labels = zip(*chunk)
        yield list(texts), np.array(labels)


folder = get_data_home(args.data_home) / "mr"
files = {1: folder / "rt-polarity.pos", 0: folder / "rt-polarity.neg"}
vectorizer = HashingVectorizer(
    n_features=2**20, ngram_range=(1, 2), alternate_sign=False
)
texts_test, y_test = map(
    np.concatenate,
    zip(*((np.array(t), y) for t, y in stream(files, 10**9, "test"))),
)
X_test = vectorizer.transform(texts_test)

# %%
# Learning chunk by chunk
# -----------------------
clf = RectifierMLPClassifier((64,), learning_rate_init=3e-3, random_state=0)
seen, scores = [], []
chunk_size = args.chunk_size if args.full else 500
for i, (texts, y) in enumerate(stream(files, chunk_size, "train")):
    for _ in range(3 if args.full else 2):  # a few passes over each chunk
        clf.partial_fit(vectorizer.transform(texts), y, classes=[0, 1])
    seen.append((seen[-1] if seen else 0) + len(y))
    scores.append(clf.score(X_test, y_test))
    print(f"chunk {i + 1}: {seen[-1]} reviews seen, held-out accuracy {scores[-1]:.3f}")
    if not args.full and i == 5:
        break

# %%
# Held-out accuracy as the stream goes by
# ---------------------------------------
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(seen, scores, marker="o")
ax.set_xlabel("training reviews streamed")
ax.set_ylabel("held-out accuracy")
ax.set_title("MR streamed through HashingVectorizer into partial_fit")
fig.tight_layout()
plt.show()
print(f"final held-out accuracy {scores[-1]:.3f}")
