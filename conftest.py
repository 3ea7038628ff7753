# Not a module to collect doctests from: the optional Numba kernels, which
# cannot be imported without Numba (the optimizers then use PyTorch ops).
collect_ignore = ["sk_rectifier/nn/_compiled.py"]
