"""Deep sparse rectifier networks with a scikit-learn API."""

from sk_rectifier._classifier import RectifierMLPClassifier

__version__ = "0.1.0"
__all__ = ["RectifierMLPClassifier", "__version__"]
