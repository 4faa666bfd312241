"""Weighted logistic regression and ROC AUC, in numpy (no scikit-learn needed)."""

from __future__ import annotations

import numpy as np

# L2 penalty on the weights (not the bias), per unit of sample weight: keeps the fit
# finite when a feature separates the lines perfectly, and barely moves it otherwise.
RIDGE = 1.0


def fit_logistic(x, y, sample_weight=None, *, ridge: float = RIDGE, iterations: int = 100) -> tuple[np.ndarray, float]:
    """Weights and bias maximising the (weighted, L2-penalised) likelihood of the
    labels ``y`` (1: right) given the rows of ``x``; Newton's method."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    w = w * (len(w) / w.sum())  # mean 1, so the penalty means the same whatever the weighting
    design = np.hstack([np.ones((len(x), 1)), x])
    penalty = np.full(design.shape[1], ridge)
    penalty[0] = 0.0
    beta = np.zeros(design.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ beta, -700, 700)))
        gradient = design.T @ (w * (y - p)) - penalty * beta
        hessian = design.T @ (design * (w * p * (1 - p))[:, None]) + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta += step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta[1:], float(beta[0])


def roc_auc(scores, y, sample_weight=None) -> float:
    """The (weighted) chance that a right line scores above a wrong one, ties
    counting half. Needs both kinds of line."""
    scores = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=bool)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    right, wrong = w[y].sum(), w[~y].sum()
    if right <= 0 or wrong <= 0:
        raise ValueError("AUC needs both right and wrong lines")
    values, group = np.unique(scores, return_inverse=True)
    wrong_at = np.bincount(group, weights=np.where(y, 0.0, w), minlength=len(values))
    wrong_below = np.cumsum(wrong_at) - wrong_at
    credit = wrong_below[group] + 0.5 * wrong_at[group]
    return float((w[y] * credit[y]).sum() / (right * wrong))
