"""Out-of-core learning keeps memory flat: streaming 40 chunks from disk
through HashingVectorizer into partial_fit takes no more memory than 10."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import itertools, resource, sys, tempfile, warnings
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer
    from sk_rectifier import RectifierMLPClassifier
    warnings.simplefilter("ignore")
    n_chunks, chunk = int(sys.argv[1]), 300
    rng = np.random.RandomState(0)
    words = [f"w{i}" for i in range(20000)]
    with tempfile.NamedTemporaryFile("w+", suffix=".txt") as corpus:
        drawn = rng.choice(words, (n_chunks * chunk, 15))
        for i, row in enumerate(drawn):  # the corpus lives on disk
            label = i % 2
            line = " ".join(row) + (" good" if label else " bad")
            corpus.write(f"{label}\\t{line}\\n")
        corpus.flush()
        corpus.seek(0)
        vectorizer = HashingVectorizer(n_features=2**20, alternate_sign=False)
        clf = RectifierMLPClassifier((8,), random_state=0, device="cpu")
        lines = (line.rstrip("\\n").split("\\t") for line in corpus)
        while block := list(itertools.islice(lines, chunk)):
            labels, texts = zip(*block)
            clf.partial_fit(vectorizer.transform(texts), np.array(labels, int),
                            classes=[0, 1])
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, clf.n_iter_)
    """
)


def _peak_kib(n_chunks):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(n_chunks)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert int(out[1]) == n_chunks  # one partial_fit per chunk
    return int(out[0])


@pytest.mark.slow
def test_memory_stays_flat_as_the_stream_grows():
    short, long = _peak_kib(10), _peak_kib(40)
    assert long < 1.2 * short, (short, long)
