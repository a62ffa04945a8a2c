"""Reference CKA in numpy float64, written from the papers' formulas (not from cnnscope's code):
Kornblith et al., "Similarity of Neural Network Representations Revisited" (ICML 2019): linear and
RBF Gram matrices (RBF bandwidth sigma^2 = threshold^2 * median squared distance, the median over
all n*n entries), HSIC = tr(KHLH) / (n-1)^2; Song et al. (JMLR 2012): the unbiased HSIC;
Nguyen, Raghu, Kornblith (ICLR 2021): minibatch CKA = sum_i HSIC(K_i, L_i) /
sqrt(sum_i HSIC(K_i, K_i) * sum_i HSIC(L_i, L_i)). Used by tests/cli/test_similarity.py and
bench/bench_similarity.py."""
import numpy as np


def gram(x, kernel="linear", threshold=1.0):
    """x [n, ...] -> Gram matrix [n, n] float64."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    k = x @ x.T
    if kernel == "linear":
        return k
    sq = np.diag(k)
    dist = np.maximum(sq[:, None] + sq[None, :] - 2 * k, 0)
    return np.exp(-dist / (2 * threshold ** 2 * np.median(dist)))


def hsic(k, l, unbiased=False):
    n = len(k)
    if not unbiased:
        h = np.eye(n) - 1.0 / n
        return np.trace(k @ h @ l @ h) / (n - 1) ** 2
    kt, lt = k.copy(), l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    one = np.ones(n)
    return (np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2))
            - 2.0 / (n - 2) * (one @ kt @ lt @ one)) / (n * (n - 3))


def minibatch_cka(xs, ys, kernel="linear", unbiased=False, threshold=1.0):
    """xs, ys: lists of minibatch representations [n_i, ...] of the same inputs."""
    kl = kk = ll = 0.0
    for x, y in zip(xs, ys):
        k, l = gram(x, kernel, threshold), gram(y, kernel, threshold)
        kl += hsic(k, l, unbiased)
        kk += hsic(k, k, unbiased)
        ll += hsic(l, l, unbiased)
    return kl / np.sqrt(kk * ll)


def cka(x, y, kernel="linear", unbiased=False, threshold=1.0):
    """Full-batch CKA of x [n, ...] and y [n, ...]."""
    return minibatch_cka([x], [y], kernel, unbiased, threshold)
