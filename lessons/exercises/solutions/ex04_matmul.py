from .. import ex04_matmul


class MatMul(ex04_matmul.MatMul):
    # dL/da[n, k] = sum_m gy[n, m] b[k, m] -> gy @ b^T;  dL/db[k, m] = sum_n a[n, k] gy[n, m] -> a^T @ gy
    def backward(self, gy):
        a, b = self.inputs
        return gy @ b.T, a.T @ gy
