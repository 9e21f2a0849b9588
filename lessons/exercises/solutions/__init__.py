"""Reference solutions, one file per exercise, each a subclass of the exercise's Function with backward written.

Most are written with Tensor ops, so their gradients can be differentiated again; dropout, leaky ReLU and
the convolution compute on NumPy arrays and wrap the result in mg.Tensor. The checker accepts both.

    python -m lessons.exercises --solutions
"""
