"""Feature scaling for bag-of-words input: the naive Bayes log-count ratio."""

from numbers import Real
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data

from sk_rectifier._compat import Interval, _fit_context

__all__ = ["LogCountRatioScaler"]

_X_RULES = {"accept_sparse": ("csr", "csc"), "dtype": (np.float64, np.float32)}


class LogCountRatioScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale each feature by how well it separates the classes: the naive
    Bayes log-count ratio of Wang and Manning (2012).

    For a class ``c``, ``p`` sums the feature values over the samples of
    ``c`` and ``q`` over the other samples, each plus ``alpha``; the log-count
    ratio of a feature is ``r_c = log((p / sum(p)) / (q / sum(q)))``. A
    feature is multiplied by ``max_c |r_c|`` (for two classes, ``|r|`` of
    either class), so words that occur evenly in every class fade and
    telling words stand out, while zeros stay zeros: sparse input stays
    sparse, with the same non-zeros. Scaling TF-IDF features this way before
    a :class:`~sk_rectifier.RectifierMLPClassifier` is the library's text
    recipe (see the accuracy benchmark).

    Samples labeled ``-1`` (numeric labels) are unlabeled, as in
    ``sklearn.semi_supervised``: they are ignored by ``fit``, so the scaler
    can sit in a semi-supervised pipeline.

    Parameters
    ----------
    alpha : float, default=1.0
        Smoothing added to every feature's total per class (Laplace smoothing
        for ``alpha=1``).

    Attributes
    ----------
    scale_ : ndarray of shape (`n_features_in_`,)
        The factor of each feature, non-negative.
    classes_ : ndarray of shape (n_classes,)
        The class labels seen in ``fit`` (``-1`` excluded).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.feature_extraction.text.TfidfTransformer : The usual features to
        scale.
    sk_rectifier.RectifierMLPClassifier : The network the scaled features
        feed.

    References
    ----------
    S. Wang and C. D. Manning, "Baselines and bigrams: simple, good sentiment
    and topic classification", ACL 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sk_rectifier.preprocessing import LogCountRatioScaler
    >>> X = np.array([[2.0, 1.0, 0.0], [3.0, 1.0, 0.0], [0.0, 1.0, 4.0]])
    >>> y = np.array([1, 1, 0])
    >>> scaler = LogCountRatioScaler().fit(X, y)
    >>> scaler.scale_.round(3)
    array([1.569, 0.182, 1.833])
    >>> scaler.transform(X)[:, 1].round(3)
    array([0.182, 0.182, 0.182])
    """

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Any, y: Any):
        """Compute each feature's log-count ratio on the labeled samples.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative feature values (counts, TF or TF-IDF).
        y : array-like of shape (n_samples,)
            Class labels; ``-1`` marks an unlabeled sample (numeric labels).

        Returns
        -------
        self : LogCountRatioScaler
            The fitted scaler.
        """
        X, y = validate_data(self, X, y, **_X_RULES)
        check_non_negative(X, "LogCountRatioScaler (input X)")
        check_classification_targets(y)
        labeled = np.ones(len(y), dtype=bool)
        if y.dtype.kind in "iuf":
            labeled = y != -1
        classes, codes = np.unique(y[labeled], return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                "LogCountRatioScaler needs labeled samples of at least 2 classes; "
                f"got {len(classes)} class(es) (-1 marks unlabeled samples)."
            )
        X = X[np.flatnonzero(labeled)]
        one_hot = sp.csr_matrix(
            (np.ones(len(codes)), (codes, np.arange(len(codes)))),
            shape=(len(classes), len(codes)),
        )
        per_class = one_hot @ X  # class x feature
        if sp.issparse(per_class):
            per_class = per_class.toarray()
        per_class = np.asarray(per_class, dtype=np.float64)
        total = per_class.sum(axis=0)
        scale = np.zeros(X.shape[1])
        for k in range(len(classes)):
            p = per_class[k] + self.alpha
            q = total - per_class[k] + self.alpha
            r = np.log(p / p.sum()) - np.log(q / q.sum())
            scale = np.maximum(scale, np.abs(r))
        self.scale_ = scale
        self.classes_ = classes
        return self

    def transform(self, X: Any):
        """Multiply each feature by its factor.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Non-negative feature values.

        Returns
        -------
        X_scaled : {ndarray, sparse matrix} of shape (n_samples, n_features)
            The scaled features: a sparse matrix (CSR) for sparse input, with
            the input's float dtype.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, **_X_RULES)
        scale = self.scale_.astype(X.dtype, copy=False)
        if sp.issparse(X):  # a CSR matrix, or a CSR array for a sparse array
            csr = sp.csr_array if isinstance(X, sp.sparray) else sp.csr_matrix
            return csr(X @ sp.diags(scale))
        return X * scale

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.target_tags.required = True
        return tags
