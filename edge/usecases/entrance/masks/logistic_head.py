"""Class-balanced, L2-regularised logistic regression with SciPy's L-BFGS (no scikit-learn needed).

>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(-1, 1, (50, 2)), rng.normal(1, 1, (50, 2))])
>>> y = np.r_[np.zeros(50), np.ones(50)]
>>> head = fit_head(x, y, c=1.0)
>>> float(((head.predict(x) >= 0.5) == y).mean()) > 0.85
True
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize

from edge.usecases.entrance.masks.linear import LinearHead


def fit_head(x: npt.NDArray[np.floating], y: npt.NDArray[np.floating], c: float, meta: dict[str, object] | None = None) -> LinearHead:
    """Fit on features (n, d) and labels (n,) in {0, 1}; ``c`` is the inverse regularisation strength.

    Each class carries half of the loss whatever its size, so the 0.5 threshold balances recall.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    n, d = z.shape
    weight = np.where(y == 1, 0.5 / max(1.0, y.sum()), 0.5 / max(1.0, (1 - y).sum()))
    lam = 1.0 / (c * n)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:d], theta[d]
        s = z @ w + b
        # log(1 + exp(-s)) for y=1 and log(1 + exp(s)) for y=0, computed stably
        margin = np.where(y == 1, s, -s)
        ll = np.logaddexp(0.0, -margin)
        sig = 1.0 / (1.0 + np.exp(-s))
        g = weight * (sig - y)
        value = float((weight * ll).sum() + 0.5 * lam * w @ w)
        grad = np.concatenate([z.T @ g + lam * w, [g.sum()]])
        return value, grad

    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    return LinearHead(mean.astype(np.float32), scale.astype(np.float32), res.x[:d].astype(np.float32),
                      float(res.x[d]), dict(meta or {}, c=c, converged=bool(res.success)))
