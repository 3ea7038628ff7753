"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_rectifier import RectifierMLPClassifier

_FLOAT32 = (
    "computes in float32: fitting with integer sample weights equals fitting on "
    "repeated samples to about 1e-6 relative (tested in test_classifier.py with "
    "that tolerance), the check asks for 1e-7"
)

ESTIMATORS = [
    RectifierMLPClassifier(
        hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01, random_state=0
    ),
]


def expected_failed_checks(estimator):
    return {
        "check_sample_weight_equivalence_on_dense_data": _FLOAT32,
        "check_sample_weight_equivalence_on_sparse_data": _FLOAT32,
    }


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)
