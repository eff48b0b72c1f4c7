"""Numpy implementations of the course's operators (DESIGN §2).

Each vectorized function has a naive loop twin (`conv2d_naive`, ...) with the
same signature; both follow `torch.nn.functional` semantics.
"""
