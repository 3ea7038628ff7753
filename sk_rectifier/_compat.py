"""The only module that imports private names of scikit-learn or skorch.

Each import says which versions it was checked against (the oldest and newest
supported, run by ``scripts/test_versions.sh``). Everything else in the
package uses public APIs only.
"""

# scikit-learn 1.6.1 and 1.9.1: the parameter-validation machinery that
# scikit-learn's own estimators use (``_parameter_constraints``), and the
# decorator that validates them once per fit and skips nested validation.
from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

__all__ = ["HasMethods", "Interval", "StrOptions", "_fit_context"]
