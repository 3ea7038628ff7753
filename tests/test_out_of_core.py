"""Out-of-core learning keeps memory flat: streaming 40 chunks from disk
through HashingVectorizer into partial_fit takes no more memory than the
first 10 did."""

import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import itertools, resource, sys, tempfile, warnings
    import numpy as np
    from sklearn.feature_extraction.text import HashingVectorizer
    from sk_rectifier import RectifierMLPClassifier
    warnings.simplefilter("ignore")
    n_chunks, chunk = 40, 300
    rng = np.random.RandomState(0)
    words = [f"w{i}" for i in range(20000)]
    peaks = []  # peak resident memory (KiB) after 10 and after 40 chunks
    with tempfile.NamedTemporaryFile("w+", suffix=".txt") as corpus:
        drawn = rng.choice(words, (n_chunks * chunk, 15))
        for i, row in enumerate(drawn):  # the corpus lives on disk
            label = i % 2
            line = " ".join(row) + (" good" if label else " bad")
            corpus.write(f"{label}\\t{line}\\n")
        del drawn
        corpus.flush()
        corpus.seek(0)
        vectorizer = HashingVectorizer(n_features=2**20, alternate_sign=False)
        clf = RectifierMLPClassifier((8,), random_state=0, device="cpu")
        lines = (line.rstrip("\\n").split("\\t") for line in corpus)
        while block := list(itertools.islice(lines, chunk)):
            labels, texts = zip(*block)
            clf.partial_fit(vectorizer.transform(texts), np.array(labels, int),
                            classes=[0, 1])
            if clf.n_iter_ in (10, 40):
                peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    print(*peaks, clf.n_iter_)
    """
)


@pytest.mark.slow
def test_memory_stays_flat_as_the_stream_grows(fresh_python):
    after_10, after_40, n_iter = map(int, fresh_python(SCRIPT))
    assert n_iter == 40  # one partial_fit per chunk
    assert after_40 < 1.2 * after_10, (after_10, after_40)
