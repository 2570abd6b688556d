"""L-BFGS (torch.optim.LBFGS): quasi-Newton steps from a short history of gradient differences.

All parameters are treated as one flat vector x (their values concatenated in order), with g the
flat gradient. Each ``step(closure)`` runs up to ``max_iter`` iterations; the closure must clear the
gradients, compute the loss, call backward and return the loss; it is called again wherever a new
loss and gradient are needed.

One iteration:
    s_k = x_{k+1} - x_k,  y_k = g_{k+1} - g_k,  rho_k = 1 / (y_k . s_k)   (kept only if y.s > 1e-10;
                                                                            at most history_size pairs)
    d = -H g by the two-loop recursion (two_loop_recursion), with H_0 = (y.s / y.y) I from the newest pair
    x = x + t d, where t = lr (first iteration: min(1, 1/|g|_1) * lr), or the t that the strong-Wolfe
    line search finds when line_search_fn="strong_wolfe"
It stops when max_iter iterations or max_eval closure calls are used, when max|g| <= tolerance_grad,
or when the step or the change in loss falls below tolerance_change.

The scalar bookkeeping (dot products, step lengths) is done in Python floats, i.e. float64; the
vectors keep the parameters' dtype and backend.

The state keeps torch's names, so a state_dict means the same in both libraries: ``old_stps`` holds
the s_k, ``old_dirs`` the y_k, ``ro`` the rho_k and ``al`` the alpha_k of the last recursion.
"""

import math

from ..backend import backend_of
from ..tensor import Tensor
from .optimizer import Optimizer, check_grads, check_range


def _as_float(loss):
    return loss.item() if isinstance(loss, Tensor) else float(loss)


def two_loop_recursion(g, s, y, rho, H_diag, alpha):
    """d = -H g for the inverse-Hessian estimate H of the pairs (s[k], y[k], rho[k]), oldest first.

        q = -g
        for k from newest to oldest:  alpha_k = rho_k s_k . q;   q = q - alpha_k y_k
        r = H_diag q                                      (H_0 = H_diag I)
        for k from oldest to newest:  beta = rho_k y_k . r;      r = r + (alpha_k - beta) s_k
        d = r
    ``alpha`` is the list the alpha_k are written into (kept in the state, as torch keeps it).
    """
    q = -g
    for k in reversed(range(len(s))):
        alpha[k] = float(s[k].dot(q)) * rho[k]
        q += -alpha[k] * y[k]
    r = q * H_diag
    for k in range(len(s)):
        beta = float(y[k].dot(r)) * rho[k]
        r += (alpha[k] - beta) * s[k]
    return r


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """Minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to ``bounds``.

        d1 = g1 + g2 - 3 (f1 - f2) / (x1 - x2)
        d2 = sqrt(d1^2 - g1 g2)
        x  = x2 - (x2 - x1) (g2 + d2 - d1) / (g2 - g1 + 2 d2)      (x1 <= x2; mirrored otherwise)
    With no real minimiser (d1^2 < g1 g2) it returns the middle of the bounds.
    """
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Find a step t along d satisfying the strong Wolfe conditions, as torch's _strong_wolfe does.

        sufficient decrease:  f(x + t d) <= f + c1 t gtd
        curvature:            |g(x + t d) . d| <= -c2 gtd
    First grow t (by cubic interpolation, between 1.01 t and 10 t) until an interval brackets a
    point that satisfies both; then shrink the bracket ("zoom") by cubic interpolation, keeping the
    trial at least 10% of the bracket away from its ends when progress stalls.
    ``obj_func(x, t, d)`` returns (loss, flat gradient) at x + t d. Returns (f, g, t, evaluations).
    """
    xp = backend_of(d).xp
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))

    # Bracketing phase.
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break

        # Extrapolate: the cubic's minimiser, kept within [t + 0.01 (t - t_prev), 10 t].
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

    if ls_iter == max_ls:  # out of evaluations while still bracketing
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # Zoom phase: shrink the bracket until a point satisfies both conditions.
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break  # the bracket is too small to matter

        t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])

        # A trial too close to an end of the bracket makes little progress: if that happens twice in
        # a row, or the trial sits on an end, move it 10% of the bracket inside.
        hi, lo = max(bracket), min(bracket)
        eps = 0.1 * (hi - lo)
        if min(hi - t, t - lo) < eps:
            if insuf_progress or t >= hi or t <= lo:
                t = hi - eps if abs(t - hi) < abs(t - lo) else lo + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not a sufficient decrease, or not below the low end: t becomes the new high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True  # both Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the minimum lies on the other side of t: the old low end becomes the high end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    requires_closure = True  # the loss is evaluated again within step(), once per iteration or line-search trial

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None, *, maximize=False):
        check_range("lr", lr, label="learning rate")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn, maximize=maximize)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ----- the parameters as one flat vector --------------------------------------------------
    def _gather_flat_grad(self):
        xp = backend_of(self._params[0].data).xp
        views = []
        for p in self._params:
            if p.grad is None:
                views.append(xp.zeros(p.data.size, dtype=p.data.dtype))
            elif getattr(p.grad.data, "is_sparse", False):  # a row-sparse grad is made dense, as torch does
                views.append(p.grad.data.to_dense().reshape(-1))
            else:
                views.append(p.grad.data.reshape(-1))
        flat_grad = xp.concatenate(views)  # a fresh array: later in-place work cannot touch p.grad
        if self.param_groups[0]["maximize"]:
            xp.negative(flat_grad, out=flat_grad)
        return flat_grad

    def _add_grad(self, step_size, update):
        """x += step_size * update, parameter by parameter."""
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += step_size * update[offset:offset + n].reshape(p.data.shape)
            p._bump_version()
            offset += n

    def _clone_param(self):
        return [p.data.copy() for p in self._params]

    def _set_param(self, params_data):
        for p, saved in zip(self._params, params_data):
            p.data[...] = saved
            p._bump_version()

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, d)
        loss = _as_float(self._closure_loss(closure))
        if self.param_groups[0]["maximize"]:
            loss = -loss
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ----- one step: up to max_iter iterations ------------------------------------------------
    def step(self, closure):
        group = self.param_groups[0]
        line_search_fn = group["line_search_fn"]
        if line_search_fn not in (None, "strong_wolfe"):
            raise RuntimeError("only 'strong_wolfe' is supported")  # torch's message, raised before any change
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, maximize = group["history_size"], group["maximize"]
        xp = backend_of(self._params[0].data).xp

        # L-BFGS keeps one global state; like torch, it is filed under the first parameter.
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = self._closure_loss(closure)
        check_grads(self.param_groups, "LBFGS", sparse_ok=True)
        loss = -_as_float(orig_loss) if maximize else _as_float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
        if opt_cond:  # already at a stationary point
            return orig_loss

        d, t = state.get("d"), state.get("t")
        s, y, rho = state.get("old_stps"), state.get("old_dirs"), state.get("ro")  # torch's names (module doc)
        H_diag = state.get("H_diag")
        prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # --- direction ---
            if state["n_iter"] == 1:
                d = -flat_grad
                s, y, rho = [], [], []
                H_diag = 1
            else:
                y_k = flat_grad - prev_flat_grad
                s_k = d * t
                ys = float(y_k.dot(s_k))
                if ys > 1e-10:  # keep the pair only where the curvature is positive
                    if len(s) == history_size:
                        del s[0], y[0], rho[0]
                    s.append(s_k)
                    y.append(y_k)
                    rho.append(1.0 / ys)
                    H_diag = ys / float(y_k.dot(y_k))  # scale of the initial inverse Hessian
                alpha = state.setdefault("al", [None] * history_size)
                d = two_loop_recursion(flat_grad, s, y, rho, H_diag, alpha)

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # --- step length ---
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = float(flat_grad.dot(d))  # directional derivative
            if gtd > -tolerance_change:
                break  # d is not a descent direction (any more)

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                 max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)  # fixed step
                if n_iter != max_iter:  # the last iteration's loss is not needed: skip that evaluation
                    loss = _as_float(self._closure_loss(closure))
                    if maximize:
                        loss = -loss
                    flat_grad = self._gather_flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # --- stopping tests ---
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:
                break  # the step no longer moves the parameters
            if abs(loss - prev_loss) < tolerance_change:
                break  # the loss no longer changes

        state.update(d=d, t=t, old_dirs=y, old_stps=s, ro=rho, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss
