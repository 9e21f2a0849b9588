"""Exercise 15: the VAE's reparameterisation and its Gaussian KL term.

    z = mu + exp(logvar / 2) * eps                        eps ~ N(0, 1), drawn once: a constant
    KL[n] = 1/2 sum_d (mu^2 + exp(logvar) - 1 - logvar)   KL(N(mu, exp(logvar)) || N(0, 1)) for sample n
    L = 1/N sum_n (1/2 ||x[n] - z[n]||^2 + KL[n])         the VAE loss with the simplest decoder, x_hat = z

    mu, logvar (the encoder's outputs), eps, x, z: (N, D)   L: () a scalar

Derive dL/dmu and dL/dlogvar, both (N, D), given gy = dL/dloss (a 0-d Tensor).
Sampling z directly would cut the graph; writing z as mu plus a scaled noise
lets the gradient flow into mu and logvar. Each of them reaches L along two
paths, through z (the reconstruction) and through the KL term: derive each
path and add them. Mind the 1/2 inside exp(logvar / 2). The forward keeps z
as ``self.z``; ``terms`` gives L's two parts (the checker uses them to say
which path is off).

    python -m lessons.exercises check vae_kl_reparam
"""
import numpy as np

import minigrad as mg

from .checker import Case, sizes


class VAELoss(mg.Function):
    def __init__(self, eps, x):
        self.eps, self.x = eps, x

    def forward(self, mu, logvar):
        return sum(self.terms(mu, logvar).values())

    def terms(self, mu, logvar):
        """L's parts, each named by the path it opens from mu and logvar to L (keeps z as self.z)."""
        self.z = mu + np.exp(logvar / 2) * self.eps
        n = len(mu)
        return {"the reconstruction (through z)": 0.5 * np.sum((self.x - self.z) ** 2) / n,
                "the KL term": 0.5 * np.sum(mu ** 2 + np.exp(logvar) - 1 - logvar) / n}

    def backward(self, gy):
        raise NotImplementedError("dL/dmu: through z (dz/dmu = 1) plus through KL; dL/dlogvar: through z "
                                  "(dz/dlogvar = 1/2 exp(logvar / 2) eps) plus through KL; then the 1/N and gy")


def cases(rng):
    """A batch; a batch of one; one latent dimension; variances spread far from 1 (logvar from about -5 to 3)."""
    n, d = sizes(rng, 2)
    for batch, dims, spread in [(n, d, 1), (1, d, 1), (n, 1, 1), (n, d, 2)]:
        shape = (batch, dims)
        yield Case(rng.standard_normal(shape), spread * rng.standard_normal(shape) - 1,
                   eps=rng.standard_normal(shape), x=rng.standard_normal(shape))
