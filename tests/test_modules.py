import scipy.sparse as sp
import torch

from sk_rectifier._data import ArrayDataset, as_float32
from sk_rectifier.nn import LazyAdam, RectifierMLP


def test_sparse_and_dense_batches_give_the_same_forward():
    torch.manual_seed(0)
    module = RectifierMLP(30, 3, hidden_layer_sizes=(8, 4))
    X = sp.random(10, 30, density=0.2, format="csr", random_state=0)
    dense_X, _ = ArrayDataset(as_float32(X.toarray())).__getitems__(range(10))
    sparse_X, _ = ArrayDataset(as_float32(X)).__getitems__(range(10))
    assert sparse_X["X"].layout == torch.sparse_csr
    for a, b in zip(module(dense_X["X"]), module(sparse_X["X"])):
        torch.testing.assert_close(a, b)


def test_l1_output_is_the_sum_of_hidden_magnitudes():
    torch.manual_seed(0)
    module = RectifierMLP(5, 2, hidden_layer_sizes=(4, 3), activation="tanh")
    X = torch.randn(6, 5)
    hidden, logits = module.hidden(X)
    out, l1 = module(X)
    torch.testing.assert_close(out, logits)
    torch.testing.assert_close(l1, sum(h.abs().sum(1) for h in hidden))


def test_lazy_adam_matches_adam_on_the_rows_it_sees():
    torch.manual_seed(0)
    dense = torch.nn.Parameter(torch.randn(6, 3))
    lazy = torch.nn.Parameter(dense.detach().clone())
    initial = dense.detach().clone()
    adam = torch.optim.Adam([dense], lr=0.1)
    lazy_adam = LazyAdam([lazy], lr=0.1)
    for _ in range(5):
        grad = torch.randn(6, 3)
        grad[[1, 4]] = 0.0  # rows absent from the "batch"
        dense.grad = grad.clone()
        rows = torch.tensor([0, 2, 3, 5])
        lazy.grad = torch.sparse_coo_tensor(
            rows[None], grad[rows], (6, 3), check_invariants=False
        )
        adam.step()
        lazy_adam.step()
    seen = [0, 2, 3, 5]
    torch.testing.assert_close(lazy.detach()[seen], dense.detach()[seen])
    # rows absent from every gradient are never touched
    torch.testing.assert_close(lazy.detach()[[1, 4]], initial[[1, 4]])
