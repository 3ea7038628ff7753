"""Deep sparse rectifier networks with a scikit-learn API."""

from sk_rectifier._autoencoder import DenoisingAutoencoderTransformer
from sk_rectifier._classifier import RectifierMLPClassifier
from sk_rectifier._regressor import RectifierMLPRegressor

__version__ = "0.1.0"
__all__ = [
    "DenoisingAutoencoderTransformer",
    "RectifierMLPClassifier",
    "RectifierMLPRegressor",
    "__version__",
]
