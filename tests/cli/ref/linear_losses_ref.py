"""Reference for the linear learner's losses and L1: scikit-learn on the same
standardized data.

usage: linear_losses_ref.py MODE FEATURES.csv TARGET MODEL.json [ARGS...]

FEATURES is ml-preprocess apply's output (label and features), MODEL the
ml-train -a linear model trained on the same rows with the default
normalize_data and normalize_label.  Both sides are compared on the
objective ml-train(1) documents, over z = StandardScaler(x) and
t = (y - mean y) / std y:

    F(b, w) = mean(loss(t - b - z.w)) + wd |w|^2 + l1 |w|_1

Modes (each prints its figures and exits 1 when a bound is missed):

  elasticnet WD L1       Lasso (WD 0) or ElasticNet with alpha = l1/2 + wd and
                         l1_ratio = (l1/2) / alpha: coefficients to 1e-4 relative
  quantile TAU L1        QuantileRegressor(quantile=TAU, alpha=L1, highs):
                         objective within 0.5%
  absolute L1            QuantileRegressor(quantile=0.5, alpha=L1/2): objective
                         (of |r|, twice the pinball) within 0.5%
  huber-map EPS ALPHA    fit HuberRegressor(epsilon=EPS, alpha=ALPHA) and print
                         "huber_delta wd" of the same problem in our terms:
                         delta = EPS sigma, wd = ALPHA sigma / (2n)
  huber EPS ALPHA        HuberRegressor again: our coefficients to 1e-4 relative,
                         our objective within 0.5% of (and not above) its own
  near LOSS WD L1 TOL OTHER.json [huber_delta|quantile]
                         MODEL's objective within TOL relative of OTHER's
                         (SGD/Adam against the exact optimum)
  validation LOSS VALID.csv [P]
                         MODEL's num_models "models" list: the selected one has
                         the least validation_loss, and it equals the mean loss
                         of MODEL's own weights on VALID (features as FEATURES)
"""
import csv
import json
import sys

import numpy as np


def load(features, target):
    with open(features, newline="") as f:
        rows = list(csv.reader(f))
    header, data = rows[0], np.array(rows[1:], dtype=float)
    t = header.index(target)
    return np.delete(data, t, axis=1), data[:, t]


class Std:
    """StandardScaler with population std; the label standardized too."""

    def __init__(self, x, y):
        self.m, self.s = x.mean(axis=0), x.std(axis=0)
        self.const = self.s <= 1e-12 * (np.abs(self.m) + 1)
        self.s[self.const] = 1
        self.ym, self.ys = y.mean(), y.std()

    def z(self, x):
        return (x - self.m) / self.s

    def t(self, y):
        return (y - self.ym) / self.ys

    def ours(self, model):
        """The model's weights and bias in standardized units."""
        m = json.load(open(model))["model"]
        w = np.array(m["weights"]) * self.s / self.ys
        b = (m["bias"] + np.dot(m["weights"], self.m) - self.ym) / self.ys
        return w, b, m


def loss(kind, r, delta=1.0, tau=0.5):
    a = np.abs(r)
    if kind == "squared_loss":
        return r * r
    if kind == "absolute_loss":
        return a
    if kind == "huber_loss":
        return np.where(a <= delta, r * r / 2, delta * (a - delta / 2))
    if kind == "quantile_loss":
        return np.where(r >= 0, tau * r, (tau - 1) * r)
    raise ValueError(kind)


def objective(kind, z, t, w, b, wd, l1, **kw):
    return float(np.mean(loss(kind, t - b - z @ w, **kw)) + wd * np.dot(w, w) + l1 * np.sum(np.abs(w)))


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))) / max(np.max(np.abs(b)), 1e-300))


def main():
    mode, features, target, model = sys.argv[1:5]
    args = sys.argv[5:]
    x, y = load(features, target)
    st = Std(x, y)
    z, t = st.z(x), st.t(y)
    n = len(t)
    if mode == "elasticnet":
        from sklearn.linear_model import ElasticNet, Lasso

        wd, l1 = float(args[0]), float(args[1])
        alpha = l1 / 2 + wd
        if wd == 0:
            ref = Lasso(alpha=l1 / 2, tol=1e-12, max_iter=1000000).fit(z, t)
        else:
            ref = ElasticNet(alpha=alpha, l1_ratio=(l1 / 2) / alpha, tol=1e-12, max_iter=1000000).fit(z, t)
        w, b, _ = st.ours(model)
        cerr = rel(w, ref.coef_)
        ours = objective("squared_loss", z, t, w, b, wd, l1)
        theirs = objective("squared_loss", z, t, ref.coef_, ref.intercept_, wd, l1)
        print(f"coef_rel_err={cerr:.2e} intercept_diff={abs(b - ref.intercept_):.2e} "
              f"objective={ours:.10g} sklearn={theirs:.10g} zeros={int(np.sum(ref.coef_ == 0))}")
        return cerr <= 1e-4
    if mode in ("quantile", "absolute"):
        from sklearn.linear_model import QuantileRegressor

        if mode == "quantile":
            tau, l1 = float(args[0]), float(args[1])
            kind, alpha = "quantile_loss", l1
        else:
            tau, l1 = 0.5, float(args[0])
            kind, alpha = "absolute_loss", l1 / 2
        ref = QuantileRegressor(quantile=tau, alpha=alpha, solver="highs").fit(z, t)
        w, b, _ = st.ours(model)
        ours = objective(kind, z, t, w, b, 0, l1, tau=tau)
        theirs = objective(kind, z, t, ref.coef_, ref.intercept_, 0, l1, tau=tau)
        gap = (ours - theirs) / theirs
        print(f"objective={ours:.10g} sklearn={theirs:.10g} rel_gap={gap:.2e} coef_rel_err={rel(w, ref.coef_):.2e}")
        return abs(gap) <= 0.005
    if mode in ("huber-map", "huber"):
        from sklearn.linear_model import HuberRegressor

        eps, alpha = float(args[0]), float(args[1])
        ref = HuberRegressor(epsilon=eps, alpha=alpha, max_iter=100000, tol=1e-12).fit(z, t)
        delta, wd = eps * ref.scale_, alpha * ref.scale_ / (2 * n)
        if mode == "huber-map":
            print(f"{delta:.17g} {wd:.17g}")
            return True
        w, b, _ = st.ours(model)
        ours = objective("huber_loss", z, t, w, b, wd, 0, delta=delta)
        theirs = objective("huber_loss", z, t, ref.coef_, ref.intercept_, wd, 0, delta=delta)
        gap = (ours - theirs) / theirs
        cerr = rel(w, ref.coef_)
        print(f"coef_rel_err={cerr:.2e} objective={ours:.10g} sklearn={theirs:.10g} rel_gap={gap:.2e} "
              f"delta={delta:.6g} wd={wd:.6g}")
        return cerr <= 1e-4 and -0.005 <= gap <= 1e-9
    if mode == "near":
        kind, wd, l1, tol, other = args[0], float(args[1]), float(args[2]), float(args[3]), args[4]
        kw = {}
        if kind == "huber_loss":
            kw["delta"] = float(args[5])
        if kind == "quantile_loss":
            kw["tau"] = float(args[5])
        w, b, _ = st.ours(model)
        w2, b2, _ = st.ours(other)
        ours = objective(kind, z, t, w, b, wd, l1, **kw)
        best = objective(kind, z, t, w2, b2, wd, l1, **kw)
        gap = (ours - best) / best
        print(f"objective={ours:.8g} optimum={best:.8g} rel_gap={gap:.2e}")
        return -1e-9 <= gap <= tol
    if mode == "validation":
        kind, valid = args[0], args[1]
        kw = {"delta": float(args[2])} if kind == "huber_loss" else {"tau": float(args[2])} if len(args) > 2 else {}
        vx, vy = load(valid, target)
        w, b, m = st.ours(model)
        got = float(np.mean(loss(kind, st.t(vy) - b - st.z(vx) @ w, **kw)))
        losses = [v["validation_loss"] for v in m["models"]]
        sel = m["selected_model"]
        print(f"selected={sel} of {len(losses)} validation_loss={losses[sel]:.8g} recomputed={got:.8g} "
              f"model0={losses[0]:.8g} worst={max(losses):.8g}")
        return sel == int(np.argmin(losses)) and abs(got - losses[sel]) <= 1e-9 * abs(got)
    raise SystemExit(f"unknown mode {mode}")


sys.exit(0 if main() else 1)
