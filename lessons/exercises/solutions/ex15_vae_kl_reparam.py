import minigrad as mg

from .. import ex15_vae_kl_reparam


class VAELoss(ex15_vae_kl_reparam.VAELoss):
    # through z: dL/dz = (z - x) / N, dz/dmu = 1, dz/dlogvar = (z - mu) / 2
    # through KL: dKL/dmu = mu / N, dKL/dlogvar = (exp(logvar) - 1) / (2N)
    def backward(self, gy):
        mu, logvar = self.inputs
        n = len(mu.data)
        through_z = mg.Tensor(self.z - self.x) / n
        grad_mu = through_z + mu / n
        grad_logvar = through_z * (mg.Tensor(self.z) - mu) * 0.5 + (logvar.exp() - 1) * (0.5 / n)
        return gy * grad_mu, gy * grad_logvar
