#!/usr/bin/env python3
"""Generate the GRAM loss, hard-negative and retrieval-metric fixtures for the tests of gram-loss and gram-metrics.

Run from the repository root with Debian's torch (python3-torch is built for
/usr/bin/python3, not for a pyenv/venv python3 that may come first on PATH):

    apt-get install -y python3-torch
    /usr/bin/python3 reference/generate_loss_fixtures.py

Output (index.tsv + CASE.PART.npy in each directory):
    gram-loss/src/test/resources/fixtures/loss/
    gram-metrics/src/test/resources/fixtures/metrics/

Conventions are those of generate_fixtures.py (whose helpers are imported, not
copied): inputs are drawn in float32 (and L2-normalised in float32), stored as
float64, one torch.Generator per case seeded from the CRC32 of the case name,
torch single-threaded. Everything else is float64 autograd, volumes by the seed's
volume_computation with the determinant in float64. Re-running reproduces
byte-identical files on the same machine/torch build. See reference/README.md.

What GRAM does (ispamm/GRAM @ b70c5c2, MIT licence). The semantics below are
re-implemented here; only ranks_gram_literal follows GRAM's compute_metric_ret_area
line by line (adapted: returns the raw ranks), as a cross-check:

  model/gram.py forward_ret (lines 412-479), per process (rank r, local batch bs):
    feat_*      = F.normalize(head(...), dim=-1)             (lines 241-275)
    feat_*_all  = concat_all_gather(feat_*)   # @torch.no_grad (utils/distributed.py:50-66)
    volume  = volume_computation3/4/5(feat_t, feat_v_all, ...) / contra_temp      (bs x N)
    volumeT = volume_computation3/4/5(feat_t_all, feat_v, ...).T / contra_temp    (bs x N)
    targets = linspace(r*bs, r*bs+bs-1, bs, dtype=int)       (= offset + arange(bs))
    loss = (CE(-volume, targets, ls=0.1) + CE(-volumeT, targets, ls=0.1)) / 2
  contra_temp = nn.Parameter(tensor(0.07)) (line 37): a learnable temperature that
  divides the volumes directly; it is never clamped. label_smoothing is
  hard-coded 0.1. Because concat_all_gather has no grad (even at world size 1),
  the anchors get gradient only through `volume` and the candidates only through
  `volumeT`: that is this file's grad_anchor / grad_input{m} of the gathered form.
  The README snippet (lines 145-156) instead calls volume_computation twice on
  the same tensors with full autograd: that is the local form below.

  Hard-negative weights (lines 491-495), under torch.no_grad, from the
  temperature-scaled volumes above:
    w_t2cond = softmax(-volume,  dim=1) + 1e-4; w_t2cond[:, r*bs:r*bs+bs].fill_diagonal_(0)
    w_cond2t = softmax(-volumeT, dim=1) + 1e-4; w_cond2t[:, r*bs:r*bs+bs].fill_diagonal_(0)
  i.e. softmax(-V/tau) + 1e-4 with the positive (row b, column r*bs+b) set to 0,
  not renormalised (torch.multinomial normalises, lines 499 and 506).

  evaluation/evaluation_mm.py compute_metric_ret_area (lines 488-542), scores
  (len(ids_txt) x len(ids)): forward = for each row i, position of column
  ids.index(ids_txt[i]) (the FIRST candidate with the anchor's id) in
  score_matrix.sort(dim=-1, descending=False); backward = for each column j, min
  position over all rows whose id equals ids[j] in sort(dim=0). R@k = (rank0 < k)
  count / n (logged *100 rounded to 0.1), MedR = torch.median(rank0) + 1 (lower
  median for even n), MeanR = mean(rank0) + 1. compute_metric_ret (lines 431-485) is
  the same with descending=True (cosine scores).
"""

import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing generate_fixtures must not leave reference/__pycache__
sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_fixtures import (  # noqa: E402  (seed formula + input conventions)
    as_f64, check_f32_exact, gen_for, l2n, randn, unit_noise, volume_computation)

REPO = Path(__file__).resolve().parent.parent
OUT_LOSS = REPO / "gram-loss" / "src" / "test" / "resources" / "fixtures" / "loss"
OUT_METRICS = REPO / "gram-metrics" / "src" / "test" / "resources" / "fixtures" / "metrics"

torch.set_num_threads(1)
F64 = torch.float64

HARDNEG_EPS = 1e-4          # GRAM model/gram.py:492,494
# CLIP-style parametrisation tau = 1/min(exp(s), 100) with the clamp IN the graph (zero gradient
# while active). open_clip instead projects the parameter after each optimizer step,
# logit_scale.clamp_(0, ln 100) under no_grad (src/open_clip/task/image_text_task.py
# clamp_logit_scale, called from src/open_clip_train/train.py), so its forward never sees s > ln 100.
LOGIT_SCALE_MAX = 100.0
B_LOCAL, D = 10, 16
BS_G, N_G = 4, 12


# ---------------------------------------------------------------------------
# Losses (float64 autograd).
# ---------------------------------------------------------------------------

def vol64(anchor, *inputs):
    return volume_computation(anchor, *inputs, det_dtype=F64)


def two_way_ce(logits1, logits2t, targets, eps):
    """GRAM/open_clip structure: (CE(logits1, t) + CE(logits2t, t)) / 2, both bs x N."""
    loss = (F.cross_entropy(logits1, targets, label_smoothing=eps)
            + F.cross_entropy(logits2t, targets, label_smoothing=eps)) / 2
    r1 = F.cross_entropy(logits1, targets, label_smoothing=eps, reduction="none")
    r2 = F.cross_entropy(logits2t, targets, label_smoothing=eps, reduction="none")
    return loss, r1, r2


def volume_scores(a, xs, ga, gxs):
    """V1 = vol(local anchors, gathered candidates) (bs x N); V2 = vol(gathered anchors, local candidates) (N x bs)."""
    return vol64(a, *gxs), vol64(ga, *xs)


def cosine_scores(a, xs, ga, gxs):
    return a @ gxs[0].T, ga @ xs[0].T


def vol_qr(anchor, *inputs):
    """Check only: the same volumes as |prod diag R| of the QR factorisation of the stacked d x k
    matrix [anchor_i, input1_j, ...]; autograd through QR is an independent route to the gradient."""
    b1, b2 = anchor.shape[0], inputs[0].shape[0]
    cols = [anchor[:, None, :].expand(b1, b2, -1)] + [x[None, :, :].expand(b1, b2, -1) for x in inputs]
    r = torch.linalg.qr(torch.stack(cols, dim=-1), mode="reduced")[1]
    return torch.diagonal(r, dim1=-2, dim2=-1).prod(-1).abs()


def qr_check(loss_fn, leaves, grads, value):
    """max relative disagreement (loss, then every leaf's gradient vs its max) between the det and QR routes."""
    lv = [x.detach().clone().requires_grad_(True) for x in leaves]
    loss = loss_fn(lv)
    loss.backward()
    err = abs(loss.item() - value) / max(1.0, abs(value))
    for x, g in zip(lv, grads):
        err = max(err, float((x.grad - g).abs().max()) / max(float(g.abs().max()), 1e-300))
    return err


def loss_local(score, a, xs, tau, eps):
    """One process, full autograd: S = score(anchor, inputs) (B x B); logits -V/tau (volume) or S/tau (cosine)."""
    s = score(a, xs)
    logits = -(s / tau) if score is vol_local else s / tau   # GRAM: -(volume / contra_temp)
    t = torch.arange(a.shape[0])
    return (s,) + two_way_ce(logits, logits.T, t, eps)


def vol_local(a, xs):
    return vol64(a, *xs)


def cos_local(a, xs):
    return a @ xs[0].T


def loss_local_logit_scale(score, a, xs, s_param, eps):
    """Same loss with tau = 1/min(exp(s), 100) (clamp in the graph: zero gradient when active)."""
    s = score(a, xs)
    scale = torch.clamp(torch.exp(s_param), max=LOGIT_SCALE_MAX)
    logits = -(s * scale) if score is vol_local else s * scale
    t = torch.arange(a.shape[0])
    return two_way_ce(logits, logits.T, t, eps)[0]


def loss_gathered(kind, a, xs, ga, gxs, tau, eps, offset):
    s1, s2 = (volume_scores if kind == "volume" else cosine_scores)(a, xs, ga, gxs)
    if kind == "volume":
        l1, l2t = -(s1 / tau), -(s2.T / tau)
    else:
        l1, l2t = s1 / tau, s2.T / tau
    t = offset + torch.arange(a.shape[0])
    return (s1, s2) + two_way_ce(l1, l2t, t, eps)


def hardneg_weights(v1, v2, tau, offset):
    """GRAM model/gram.py:491-495 on temperature-scaled volumes (no grad, not renormalised)."""
    with torch.no_grad():
        bs = v1.shape[0]
        w_a2c = F.softmax(-(v1 / tau), dim=1) + HARDNEG_EPS
        w_a2c[:, offset:offset + bs].fill_diagonal_(0)
        w_c2a = F.softmax(-(v2.T / tau), dim=1) + HARDNEG_EPS
        w_c2a[:, offset:offset + bs].fill_diagonal_(0)
    return w_a2c, w_c2a


def ce_by_hand(logits, targets, eps):
    """Independent label-smoothed CE per row (float64 numpy): (1-eps)*nll + eps*mean_c(-log p_c)."""
    z = logits - logits.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    nll = -logp[np.arange(len(targets)), targets]
    return (1 - eps) * nll + eps * (-logp.mean(axis=1))


# ---------------------------------------------------------------------------
# Finite differences (central, float64) for the self-check.
# ---------------------------------------------------------------------------

def fd_check(fn, leaves, grads, h, per_leaf=True):
    """Five-point central differences, (-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h (error O(h^4)),
    on every coordinate of every leaf. Returns max |fd - autograd| divided by max |autograd| of the
    same leaf (per_leaf) or of all the leaves together (not per_leaf)."""
    worst, gmax = 0.0, max(float(g.abs().max()) for g in grads)
    for leaf, g in zip(leaves, grads):
        base = leaf.detach().clone()
        fd = torch.empty_like(base)
        flat, fflat = base.view(-1), fd.view(-1)
        with torch.no_grad():
            for i in range(flat.numel()):
                old = flat[i].item()
                f = {}
                for step in (-2, -1, 1, 2):
                    flat[i] = old + step * h
                    leaf.copy_(base)
                    f[step] = fn().item()
                flat[i] = old
                fflat[i] = (-f[2] + 8 * f[1] - 8 * f[-1] + f[-2]) / (12 * h)
            leaf.copy_(base)
        scale = max(float(g.abs().max()) if per_leaf else gmax, 1e-300)
        worst = max(worst, float((fd - g).abs().max()) / scale)
    return worst


# ---------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------

def save(out, name, part, arr):
    arr = np.asarray(arr)
    if arr.dtype.kind == "f":
        arr = arr.astype("<f8")
        assert np.all(np.isfinite(arr)), f"{name}.{part}: non-finite values"
    else:
        arr = arr.astype("<i8")
    arr = np.ascontiguousarray(arr)
    assert arr.ndim in (1, 2)
    np.save(out / f"{name}.{part}.npy", arr, allow_pickle=False)


def t2n(x):
    x = x.detach()
    return (x.reshape(1) if x.dim() == 0 else x).numpy()


def fmt(x):
    return repr(float(x))


def tag(x):
    """0.07 -> 0p07 (no dots in case names: files are NAME.PART.npy)."""
    return repr(float(x)).replace(".", "p").rstrip("0").rstrip("p") if x != 1.0 else "1"


def clean(out):
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():
        if p.is_file() and (p.suffix == ".npy" or p.name == "index.tsv"):
            p.unlink()


def leaf(a64):
    return torch.from_numpy(a64.copy()).requires_grad_(True)


# ---------------------------------------------------------------------------
# Loss case inputs (float32 draws stored as float64).
# ---------------------------------------------------------------------------

def draw_rows(g, n, k, normalized):
    rows = [randn(g, n, D) for _ in range(k)]
    return [l2n(r) for r in rows] if normalized else rows


def local_inputs(name, k, normalized, degenerate=None, delta=1e-3):
    g = gen_for(name)
    rows = draw_rows(g, B_LOCAL, k, True if degenerate else normalized)
    if degenerate == "inspan":
        coef = randn(g, B_LOCAL, k - 1)
        base = sum(coef[:, m:m + 1] * rows[1 + m] for m in range(k - 1))
        rows[0] = l2n(l2n(base) + delta * unit_noise(g, B_LOCAL, D))
    elif degenerate == "collinear":
        rows[2] = l2n(rows[1] + delta * unit_noise(g, B_LOCAL, D))
    out = [as_f64(r) for r in rows]
    for x in out:
        check_f32_exact(x)
    return out[0], out[1:]


def gathered_inputs(name, k, normalized, n, bs, offset):
    g = gen_for(name)
    rows = [as_f64(r) for r in draw_rows(g, n, k, normalized)]
    for x in rows:
        check_f32_exact(x)
    local = [np.ascontiguousarray(r[offset:offset + bs]) for r in rows]
    return local[0], local[1:], rows[0], rows[1:]


# ---------------------------------------------------------------------------
# Loss fixtures.
# ---------------------------------------------------------------------------

class LossWriter:
    def __init__(self):
        clean(OUT_LOSS)
        self.index = ["name\tform\tk\tbs\tn\toffset\td\ttemperature\tlabel_smoothing\tnote"]
        self.report = []   # (name, form, loss, fd_err, qr_err, min positive volume, extra)
        self.full_local = {}  # name -> (grads) for the world-size-1 cross-check

    def row(self, name, form, k, bs, n, offset, tau, eps, note):
        self.index.append(f"{name}\t{form}\t{k}\t{bs}\t{n}\t{offset}\t{D}\t{fmt(tau)}\t{fmt(eps)}\t{note}")

    def local(self, name, kind, a64, x64s, tau, eps, note, fd=False, degenerate=False):
        k = 1 + len(x64s)
        score = vol_local if kind == "volume" else cos_local
        a, xs = leaf(a64), [leaf(x) for x in x64s]
        tau_t = torch.tensor(tau, dtype=F64, requires_grad=True)
        s, loss, r1, r2 = loss_local(score, a, xs, tau_t, eps)
        loss.backward()
        g_a, g_xs, g_tau = a.grad.clone(), [x.grad.clone() for x in xs], tau_t.grad.clone()

        s_val = math.log(1.0 / tau)
        s_t = torch.tensor(s_val, dtype=F64, requires_grad=True)
        loss_s = loss_local_logit_scale(score, a.detach(), [x.detach() for x in xs], s_t, eps)
        loss_s.backward()
        g_s = s_t.grad.clone()
        clamped = math.exp(s_val) > LOGIT_SCALE_MAX

        # --- self-checks -------------------------------------------------------
        t = np.arange(a64.shape[0])
        sign = -1.0 if kind == "volume" else 1.0
        sn = s.detach().numpy()
        h1 = ce_by_hand(sign * sn / tau, t, eps)
        h2 = ce_by_hand(sign * sn.T / tau, t, eps)
        assert np.allclose(h1, r1.detach().numpy(), rtol=1e-13, atol=1e-13), name
        assert np.allclose(h2, r2.detach().numpy(), rtol=1e-13, atol=1e-13), name
        assert abs((r1.mean() + r2.mean()).item() / 2 - loss.item()) <= 1e-14 * max(1.0, loss.item())
        if clamped:
            assert g_s.item() == 0.0, name
            ref = loss_local(score, a.detach(), [x.detach() for x in xs],
                             torch.tensor(1.0 / LOGIT_SCALE_MAX, dtype=F64), eps)[1]
            assert abs(loss_s.item() - ref.item()) <= 1e-13 * max(1.0, ref.item())
        else:
            assert abs(loss_s.item() - loss.item()) <= 1e-13 * max(1.0, loss.item()), name
            # dL/ds = dL/dtau * dtau/ds = -tau * dL/dtau
            assert abs(g_s.item() + tau * g_tau.item()) <= 1e-12 * max(1.0, abs(g_s.item())), name
        fd_err = None
        if fd:
            lv = [a] + xs
            with torch.no_grad():
                fn = lambda: loss_local(score, a, xs, tau_t, eps)[1]  # noqa: E731
                fd_err = fd_check(fn, lv, [g_a] + g_xs, 1e-5 if degenerate else 1e-4, per_leaf=not degenerate)
                fd_err = max(fd_err, fd_check(fn, [tau_t], [g_tau], 1e-3 * tau))
                fns = lambda: loss_local_logit_scale(score, a, xs, s_t, eps)  # noqa: E731
                if clamped:  # exp(s +- h) > 100 on both sides: the loss is flat in s
                    fd_s = (loss_local_logit_scale(score, a, xs, s_t + 1e-6, eps)
                            - loss_local_logit_scale(score, a, xs, s_t - 1e-6, eps)).item()
                    assert fd_s == 0.0, name
                else:
                    fd_err = max(fd_err, fd_check(fns, [s_t], [g_s], 1e-4))
        qr_err = None
        if kind == "volume":
            t_ = torch.arange(a64.shape[0])

            def qr_loss(lv):
                lg = -(vol_qr(lv[0], *lv[1:]) / tau)
                return two_way_ce(lg, lg.T, t_, eps)[0]
            qr_err = qr_check(qr_loss, [a] + xs, [g_a] + g_xs, loss.item())
        self.full_local[name] = (g_a, g_xs, g_tau, loss.item())

        form = "local" if kind == "volume" else "cosine_local"
        save(OUT_LOSS, name, "anchor", a64)
        for m, x in enumerate(x64s, 1):
            save(OUT_LOSS, name, f"input{m}", x)
        save(OUT_LOSS, name, "loss", t2n(loss))
        save(OUT_LOSS, name, "rowloss_a2c", t2n(r1))
        save(OUT_LOSS, name, "rowloss_c2a", t2n(r2))
        save(OUT_LOSS, name, "volume" if kind == "volume" else "cosine", t2n(s))
        save(OUT_LOSS, name, "grad_anchor", t2n(g_a))
        for m, gx in enumerate(g_xs, 1):
            save(OUT_LOSS, name, f"grad_input{m}", t2n(gx))
        save(OUT_LOSS, name, "grad_temperature", t2n(g_tau))
        save(OUT_LOSS, name, "logit_scale", np.array([s_val]))
        save(OUT_LOSS, name, "loss_logit_scale", t2n(loss_s))
        save(OUT_LOSS, name, "grad_logit_scale", t2n(g_s))
        bsz = a64.shape[0]
        if clamped:
            note += f"; logit_scale clamp active: exp(s)={math.exp(s_val):.6g} -> 100, grad_logit_scale = 0"
        self.row(name, form, k, bsz, bsz, 0, tau, eps, note)
        diag = np.diag(sn)
        self.report.append((name, form, loss.item(), fd_err, qr_err,
                            float(diag.min()) if kind == "volume" else None,
                            ("clamp" if clamped else "")
                            + (" FD/max|grad| of all leaves" if degenerate and fd else "")))

    def gathered(self, name, kind, a64, x64s, ga64, gx64s, offset, tau, eps, note, fd=False,
                 ws1_of=None):
        k = 1 + len(x64s)
        bs, n = a64.shape[0], ga64.shape[0]
        a, xs = leaf(a64), [leaf(x) for x in x64s]
        ga, gxs = leaf(ga64), [leaf(x) for x in gx64s]
        tau_t = torch.tensor(tau, dtype=F64, requires_grad=True)
        s1, s2, loss, r1, r2 = loss_gathered(kind, a, xs, ga, gxs, tau_t, eps, offset)
        loss.backward()
        g_a, g_xs = a.grad.clone(), [x.grad.clone() for x in xs]
        g_ga, g_gxs = ga.grad.clone(), [x.grad.clone() for x in gxs]
        g_tau = tau_t.grad.clone()

        # --- self-checks -------------------------------------------------------
        for loc, gat in zip([a64] + x64s, [ga64] + gx64s):
            assert np.array_equal(loc, gat[offset:offset + bs]), name
        s1n, s2n = s1.detach().numpy(), s2.detach().numpy()
        # the bs x bs block of local pairs is the same in both directions
        assert np.allclose(s1n[:, offset:offset + bs], s2n[offset:offset + bs, :], rtol=1e-13, atol=1e-14), name
        t = offset + np.arange(bs)
        sign = -1.0 if kind == "volume" else 1.0
        assert np.allclose(ce_by_hand(sign * s1n / tau, t, eps), r1.detach().numpy(), rtol=1e-13, atol=1e-13)
        assert np.allclose(ce_by_hand(sign * s2n.T / tau, t, eps), r2.detach().numpy(), rtol=1e-13, atol=1e-13)
        # single leaf (gather with grad, one rank's view): local rows = slice of the gathered leaf
        ga2, gxs2 = leaf(ga64), [leaf(x) for x in gx64s]
        l2 = loss_gathered(kind, ga2[offset:offset + bs], [x[offset:offset + bs] for x in gxs2],
                           ga2, gxs2, torch.tensor(tau, dtype=F64), eps, offset)[2]
        l2.backward()
        for full, gl, gg in zip([ga2.grad] + [x.grad for x in gxs2], [g_a] + g_xs, [g_ga] + g_gxs):
            comb = gg.clone()
            comb[offset:offset + bs] += gl
            assert torch.allclose(full, comb, rtol=1e-12, atol=1e-14), name
        if ws1_of is not None:  # world size 1: local + gathered grads == full autograd of the local form
            fa, fxs, ftau, floss = self.full_local[ws1_of]
            assert abs(floss - loss.item()) <= 1e-13 * max(1.0, floss), name
            assert torch.allclose(g_a + g_ga, fa, rtol=1e-12, atol=1e-14), name
            for gl, gg, fx in zip(g_xs, g_gxs, fxs):
                assert torch.allclose(gl + gg, fx, rtol=1e-12, atol=1e-14), name
            assert torch.allclose(g_tau, ftau, rtol=1e-12, atol=1e-14), name
        qr_err = None
        if kind == "volume":
            t_ = offset + torch.arange(bs)
            nl = 1 + len(xs)

            def qr_loss(lv):
                la, lxs, lga, lgxs = lv[0], lv[1:nl], lv[nl], lv[nl + 1:]
                return two_way_ce(-(vol_qr(la, *lgxs) / tau), -(vol_qr(lga, *lxs).T / tau), t_, eps)[0]
            qr_err = qr_check(qr_loss, [a] + xs + [ga] + gxs, [g_a] + g_xs + [g_ga] + g_gxs, loss.item())
        fd_err = None
        if fd:
            with torch.no_grad():
                fn = lambda: loss_gathered(kind, a, xs, ga, gxs, tau_t, eps, offset)[2]  # noqa: E731
                fd_err = fd_check(fn, [a] + xs + [ga] + gxs, [g_a] + g_xs + [g_ga] + g_gxs, 1e-4)
                fd_err = max(fd_err, fd_check(fn, [tau_t], [g_tau], 1e-3 * tau))

        form = "gathered" if kind == "volume" else "cosine_gathered"
        save(OUT_LOSS, name, "anchor", a64)
        for m, x in enumerate(x64s, 1):
            save(OUT_LOSS, name, f"input{m}", x)
        save(OUT_LOSS, name, "gathered_anchor", ga64)
        for m, x in enumerate(gx64s, 1):
            save(OUT_LOSS, name, f"gathered_input{m}", x)
        save(OUT_LOSS, name, "loss", t2n(loss))
        save(OUT_LOSS, name, "rowloss_a2c", t2n(r1))
        save(OUT_LOSS, name, "rowloss_c2a", t2n(r2))
        base = "volume" if kind == "volume" else "cosine"
        save(OUT_LOSS, name, f"{base}1", s1n)
        save(OUT_LOSS, name, f"{base}2", s2n)
        save(OUT_LOSS, name, "grad_anchor", t2n(g_a))
        for m, gx in enumerate(g_xs, 1):
            save(OUT_LOSS, name, f"grad_input{m}", t2n(gx))
        save(OUT_LOSS, name, "grad_gathered_anchor", t2n(g_ga))
        for m, gx in enumerate(g_gxs, 1):
            save(OUT_LOSS, name, f"grad_gathered_input{m}", t2n(gx))
        save(OUT_LOSS, name, "grad_temperature", t2n(g_tau))
        self.row(name, form, k, bs, n, offset, tau, eps, note)
        pos = s1n[np.arange(bs), offset + np.arange(bs)]
        self.report.append((name, form, loss.item(), fd_err, qr_err,
                            float(pos.min()) if kind == "volume" else None,
                            f"ws1 of {ws1_of}" if ws1_of else ""))

    def hardneg(self, name, a64, x64s, ga64, gx64s, offset, tau, note):
        k = 1 + len(x64s)
        bs, n = a64.shape[0], ga64.shape[0]
        t = lambda x: torch.from_numpy(x)  # noqa: E731
        v1, v2 = volume_scores(t(a64), [t(x) for x in x64s], t(ga64), [t(x) for x in gx64s])
        w1, w2 = hardneg_weights(v1, v2, tau, offset)
        # self-check by hand (numpy)
        for v, w in ((v1.numpy(), w1.numpy()), (v2.numpy().T, w2.numpy())):
            z = -v / tau
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True) + HARDNEG_EPS
            p[np.arange(bs), offset + np.arange(bs)] = 0.0
            assert np.allclose(p, w, rtol=1e-13, atol=1e-16), name
        save(OUT_LOSS, name, "anchor", a64)
        for m, x in enumerate(x64s, 1):
            save(OUT_LOSS, name, f"input{m}", x)
        save(OUT_LOSS, name, "gathered_anchor", ga64)
        for m, x in enumerate(gx64s, 1):
            save(OUT_LOSS, name, f"gathered_input{m}", x)
        save(OUT_LOSS, name, "volume1", v1.numpy())
        save(OUT_LOSS, name, "volume2", v2.numpy())
        save(OUT_LOSS, name, "weights_a2c", w1.numpy())
        save(OUT_LOSS, name, "weights_c2a", w2.numpy())
        self.row(name, "hardneg", k, bs, n, offset, tau, 0.0, note)
        self.report.append((name, "hardneg", float("nan"), None, None, None,
                            f"row sums a2c {w1.sum(1).min().item():.6f}..{w1.sum(1).max().item():.6f}"))

    def finish(self):
        with open(OUT_LOSS / "index.tsv", "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(self.index) + "\n")


def build_loss():
    w = LossWriter()
    taus, epss = (0.07, 1.0), (0.0, 0.1)
    fd_local = "local_k3_norm_t0p07_ls0p1"
    fd_gathered = "gathered_k3_norm_o4_t0p07_ls0p1"

    # (1) volume loss, one process, full autograd (GRAM README lines 145-156)
    for k in (2, 3, 4, 5):
        for tau in taus:
            for eps in epss:
                name = f"local_k{k}_norm_t{tag(tau)}_ls{tag(eps)}"
                a, xs = local_inputs(name, k, True)
                w.local(name, "volume", a, xs, tau, eps, "randn rows, L2-normalised in float32",
                        fd=(name == fd_local))
    name = "local_k3_raw_t1_ls0p1"
    a, xs = local_inputs(name, 3, False)
    w.local(name, "volume", a, xs, 1.0, 0.1, "randn rows (not normalised)")
    name = "local_k3_norm_t0p005_ls0p1"
    a, xs = local_inputs(name, 3, True)
    w.local(name, "volume", a, xs, 0.005, 0.1, "randn rows, L2-normalised in float32", fd=True)
    name = "local_k3_inspan_1e-3"
    a, xs = local_inputs(name, 3, True, degenerate="inspan")
    w.local(name, "volume", a, xs, 0.07, 0.1,
            "normalised; anchor[i] = normalize(normalize(c1 input1[i] + c2 input2[i]) + 1e-3*unit_noise): "
            "positive volumes ~1e-3", fd=True, degenerate=True)
    name = "local_k3_collinear_1e-3"
    a, xs = local_inputs(name, 3, True, degenerate="collinear")
    w.local(name, "volume", a, xs, 0.07, 0.1,
            "normalised; input2 = normalize(input1 + 1e-3*unit_noise): every volume ~1e-3", fd=True,
            degenerate=True)

    # (2) volume loss, one rank of a gathered batch (GRAM model/gram.py:424-479)
    for k in (2, 3, 4, 5):
        for tau in taus:
            for eps in epss:
                offset = 4 if (k + (tau == 1.0) + (eps > 0)) % 2 == 0 else 8
                name = f"gathered_k{k}_norm_o{offset}_t{tag(tau)}_ls{tag(eps)}"
                if k == 3 and tau == 0.07 and eps == 0.1:
                    offset, name = 4, fd_gathered
                a, xs, ga, gxs = gathered_inputs(name, k, True, N_G, BS_G, offset)
                w.gathered(name, "volume", a, xs, ga, gxs, offset, tau, eps,
                           f"randn rows, L2-normalised in float32; rank {offset // BS_G} of {N_G // BS_G}",
                           fd=(name == fd_gathered))
    name = "gathered_k4_raw_o8_t1_ls0p1"
    a, xs, ga, gxs = gathered_inputs(name, 4, False, N_G, BS_G, 8)
    w.gathered(name, "volume", a, xs, ga, gxs, 8, 1.0, 0.1, "randn rows (not normalised); rank 2 of 3")
    # world size 1: the local case's inputs, gathered = local; GRAM's single-GPU gradients
    src = "local_k3_norm_t0p07_ls0p1"
    a, xs = local_inputs(src, 3, True)
    w.gathered("gathered_k3_ws1_t0p07_ls0p1", "volume", a, xs, a, xs, 0, 0.07, 0.1,
               f"world size 1 (inputs of {src}): grad_anchor/grad_input are GRAM's single-process gradients; "
               f"grad_X + grad_gathered_X = the full gradient of {src}", ws1_of=src)

    # (3) cosine InfoNCE baseline, k = 2
    for tau in taus:
        for eps in epss:
            name = f"cosine_local_t{tag(tau)}_ls{tag(eps)}"
            a, xs = local_inputs(name, 2, True)
            w.local(name, "cosine", a, xs, tau, eps, "randn rows, L2-normalised in float32",
                    fd=(tau == 0.07 and eps == 0.1))
    name = "cosine_local_t0p005_ls0p1"
    a, xs = local_inputs(name, 2, True)
    w.local(name, "cosine", a, xs, 0.005, 0.1, "randn rows, L2-normalised in float32")
    for tau in taus:
        for eps in epss:
            offset = 4 if eps == 0.0 else 8
            name = f"cosine_gathered_o{offset}_t{tag(tau)}_ls{tag(eps)}"
            a, xs, ga, gxs = gathered_inputs(name, 2, True, N_G, BS_G, offset)
            w.gathered(name, "cosine", a, xs, ga, gxs, offset, tau, eps,
                       f"randn rows, L2-normalised in float32; rank {offset // BS_G} of {N_G // BS_G}",
                       fd=(tau == 0.07 and eps == 0.1))

    # (4) hard-negative sampling weights (GRAM model/gram.py:491-495)
    for k, tau in ((3, 0.07), (4, 0.07), (3, 1.0)):
        name = f"hardneg_local_k{k}_t{tag(tau)}"
        a, xs = local_inputs(name, k, True)
        w.hardneg(name, a, xs, a, xs, 0, tau,
                  "local (world size 1): gathered_* = local tensors; randn rows, L2-normalised in float32")
    for k, offset in ((3, 4), (4, 8)):
        name = f"hardneg_gathered_k{k}_o{offset}_t0p07"
        a, xs, ga, gxs = gathered_inputs(name, k, True, N_G, BS_G, offset)
        w.hardneg(name, a, xs, ga, gxs, offset, 0.07,
                  f"randn rows, L2-normalised in float32; rank {offset // BS_G} of {N_G // BS_G}")
    w.finish()
    return w.report


# ---------------------------------------------------------------------------
# Retrieval metrics (GRAM evaluation/evaluation_mm.py compute_metric_ret_area).
# ---------------------------------------------------------------------------

def ranks_gram_literal(scores, anchor_ids, cand_ids, descending):
    """Port of compute_metric_ret_area / compute_metric_ret: torch's default (unstable) sort.
    Returns 0-based ranks (forward, backward)."""
    sm = torch.from_numpy(scores)
    ids, ids_txt = list(cand_ids), list(anchor_ids)
    ind = sm.sort(dim=-1, descending=descending)[1].tolist()
    fwd = [ind[i].index(ids.index(ids_txt[i])) for i in range(len(ids_txt))]
    ind = sm.sort(dim=0, descending=descending)[1].permute(1, 0).tolist()
    bwd = []
    for j in range(len(ids)):
        gt = [idx for idx, a in enumerate(ids_txt) if a == ids[j]]
        bwd.append(min(ind[j].index(idx) for idx in gt))
    return np.array(fwd), np.array(bwd)


def ranks_counting(scores, anchor_ids, cand_ids, descending):
    """Same semantics, tie rule made explicit (stable sort): 0-based rank of entry p in a row/column =
    #{strictly better} + #{equal with a smaller index}."""
    s = -scores if descending else scores

    def rank_in(vec, p):
        return int(np.sum(vec < vec[p]) + np.sum(vec[:p] == vec[p]))

    fwd = []
    for i, aid in enumerate(anchor_ids):
        j = int(np.nonzero(cand_ids == aid)[0][0])  # FIRST candidate with the anchor's id
        fwd.append(rank_in(s[i], j))
    bwd = []
    for j, cid in enumerate(cand_ids):
        bwd.append(min(rank_in(s[:, j], int(i)) for i in np.nonzero(anchor_ids == cid)[0]))
    return np.array(fwd), np.array(bwd)


def metrics_from_ranks(rank0):
    """[R@1, R@5, R@10, MedR, MeanR] as GRAM computes them (R@k in percent, not rounded)."""
    r = torch.from_numpy(rank0.astype(np.float64))
    n = len(rank0)
    rk = [((r < k).sum().item() / n) * 100 for k in (1, 5, 10)]
    med = torch.median(r).item() + 1   # torch: lower median for even n
    assert med == np.sort(rank0)[(n - 1) // 2] + 1
    mean = torch.mean(r).item() + 1
    return np.array(rk + [med, mean], dtype=np.float64)


def no_ties(scores):
    return all(len(np.unique(r)) == len(r) for r in scores) and all(len(np.unique(c)) == len(c) for c in scores.T)


def f32(x):
    a = x.numpy().astype(np.float64)
    check_f32_exact(a)
    return a


def build_metrics():
    clean(OUT_METRICS)
    index = ["name\tb1\tb2\tscore\tnote"]
    report = []

    def emit(name, scores, aids, cids, kind, note, expect_ties=False):
        assert scores.shape == (len(aids), len(cids))
        desc = kind == "cosine"
        f_lit, b_lit = ranks_gram_literal(scores, aids, cids, desc)
        f_cnt, b_cnt = ranks_counting(scores, aids, cids, desc)
        assert np.array_equal(f_lit, f_cnt) and np.array_equal(b_lit, b_cnt), name
        if expect_ties:
            assert not no_ties(scores) and max(scores.shape) <= 16, name
            # the positive ties with an earlier entry (counted after it) and with a later one (before it)
            before = after = 0
            for i, aid in enumerate(aids):
                j = int(np.nonzero(cids == aid)[0][0])
                before += int(np.sum(scores[i, :j] == scores[i, j]))
                after += int(np.sum(scores[i, j + 1:] == scores[i, j]))
            assert before > 0 and after > 0, name
        else:
            assert no_ties(scores), name
        a2c, c2a = metrics_from_ranks(f_cnt), metrics_from_ranks(b_cnt)
        save(OUT_METRICS, name, "scores", scores)
        save(OUT_METRICS, name, "anchor_ids", np.asarray(aids, dtype=np.int64))
        save(OUT_METRICS, name, "candidate_ids", np.asarray(cids, dtype=np.int64))
        save(OUT_METRICS, name, "a2c", a2c)
        save(OUT_METRICS, name, "c2a", c2a)
        save(OUT_METRICS, name, "a2c_ranks", f_cnt + 1)
        save(OUT_METRICS, name, "c2a_ranks", b_cnt + 1)
        index.append(f"{name}\t{scores.shape[0]}\t{scores.shape[1]}\t{kind}\t{note}")
        report.append((name, kind, scores.shape, a2c, c2a))

    def randu(g, *shape):
        return torch.rand(*shape, generator=g, dtype=torch.float32)

    # identity ids, 30 x 30
    for kind in ("volume", "cosine"):
        name = f"ident_{kind}_random_30"
        g = gen_for(name)
        s = f32(randu(g, 30, 30)) if kind == "volume" else f32(2 * randu(g, 30, 30) - 1)
        ids = np.arange(30)
        emit(name, s, ids, ids, kind, "ids 0..29 on both sides; uniform random scores")

        name = f"ident_{kind}_nearperfect_30"
        g = gen_for(name)
        off = 0.3 + 0.7 * randu(g, 30, 30)
        pos = 0.4 * randu(g, 30)
        s = off.clone()
        idx = torch.arange(30)
        s[idx, idx] = pos
        s = f32(s) if kind == "volume" else f32(1 - s)
        emit(name, s, ids, ids, kind,
             "ids 0..29; positives (diagonal) mostly best: volume diag U(0,0.4), off-diag U(0.3,1)"
             + ("" if kind == "volume" else "; cosine = 1 - that"))

    name = "perm_volume_20"
    g = gen_for(name)
    cids = (torch.randperm(20, generator=g) * 7 + 100).numpy()
    aids = (torch.randperm(20, generator=g) * 7 + 100).numpy()
    s = 0.3 + 0.7 * randu(g, 20, 20)
    for i in range(20):
        j = int(np.nonzero(cids == aids[i])[0][0])
        s[i, j] = 0.5 * randu(g, 1)[0]
    emit(name, f32(s), aids, cids, "volume",
         "unique ids 100+7m in different permutations on each side (positives off the diagonal)")

    # many-to-one: 5 captions per video (anchors = captions), and the transpose layout
    for kind in ("volume", "cosine"):
        name = f"many2one_{kind}_50x10"
        g = gen_for(name)
        vids = (torch.randperm(10, generator=g) + 500).numpy()
        caps = np.repeat(np.arange(10) + 500, 5)[torch.randperm(50, generator=g).numpy()]
        s = 0.4 + 0.6 * randu(g, 50, 10)
        for i in range(50):
            j = int(np.nonzero(vids == caps[i])[0][0])
            s[i, j] = 0.6 * randu(g, 1)[0]
        s = f32(s) if kind == "volume" else f32(1 - s)
        emit(name, s, caps, vids, kind,
             "anchors = 50 captions (5 per video id 500..509, shuffled), candidates = 10 videos (permuted ids)")
        st = np.ascontiguousarray(s.T)
        first = ranks_counting(st, vids, caps, kind == "cosine")[0]
        best = [min(int(np.sum((st[i] > st[i, j]) if kind == "cosine" else (st[i] < st[i, j])))
                    for j in np.nonzero(caps == v)[0]) for i, v in enumerate(vids)]
        assert not np.array_equal(first, best), name  # "first caption" differs from "best caption"
        emit(f"one2many_{kind}_10x50", st, vids, caps, kind,
             f"transpose layout of many2one_{kind}_50x10: anchors = 10 videos, candidates = 50 captions; "
             "a2c ranks the FIRST caption column with the video's id only")

    # exact ties (<= 16 per sorted row/column, where torch's default CPU sort is stable)
    for kind in ("volume", "cosine"):
        name = f"ties_{kind}_13"
        g = gen_for(name)
        q = torch.floor(4 * randu(g, 13, 13)) / 4          # values in {0, .25, .5, .75}
        s = f32(q) if kind == "volume" else f32(1 - 2 * q)
        ids = np.arange(13)
        emit(name, s, ids, ids, kind,
             "exact ties (4 score levels); ties ranked by index (stable sort): a tied candidate/anchor "
             "with a smaller index ranks before the positive", expect_ties=True)
    name = "ties_many2one_volume_12x4"
    g = gen_for(name)
    caps = np.repeat(np.arange(4) + 40, 3)[torch.randperm(12, generator=g).numpy()]
    vids = np.array([42, 40, 43, 41])
    s = f32(torch.floor(3 * randu(g, 12, 4)) / 2)         # values in {0, .5, 1}
    emit(name, s, caps, vids, "volume",
         "exact ties; 3 captions per video; ties ranked by index (stable sort)", expect_ties=True)

    with open(OUT_METRICS / "index.tsv", "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(index) + "\n")
    return report


# ---------------------------------------------------------------------------

def dir_summary(out):
    files = sorted(p for p in out.iterdir() if p.is_file())
    return len(files), sum(p.stat().st_size for p in files)


def main():
    loss_report = build_loss()
    metric_report = build_metrics()

    print(f"{'loss case':34s} {'form':15s} {'loss':>10s} {'FD err':>8s} {'det/QR':>8s} {'min pos V':>9s}  extra")
    for name, form, loss, fd, qr, vmin, extra in loss_report:
        fds = f"{fd:8.1e}" if fd is not None else " " * 8
        qrs = f"{qr:8.1e}" if qr is not None else " " * 8
        vms = f"{vmin:9.2e}" if vmin is not None else " " * 9
        print(f"{name:34s} {form:15s} {loss:10.6f} {fds} {qrs} {vms}  {extra}")
    print()
    print(f"{'metric case':30s} {'score':7s} {'shape':8s} {'a2c R1/R5/R10/MedR/MeanR':>38s}   c2a")
    for name, kind, shape, a2c, c2a in metric_report:
        fa = "/".join(f"{v:.4g}" for v in a2c)
        fc = "/".join(f"{v:.4g}" for v in c2a)
        print(f"{name:30s} {kind:7s} {shape[0]:>3d}x{shape[1]:<4d} {fa:>38s}   {fc}")
    print()
    fds = [r[3] for r in loss_report if r[3] is not None]
    worst = max(fds)
    assert worst < 1e-6, f"finite-difference check failed: {worst}"
    qrs = [r[4] for r in loss_report if r[4] is not None]
    worst_qr = max(qrs)
    assert worst_qr < 1e-8, f"det and QR routes disagree: {worst_qr}"
    for out in (OUT_LOSS, OUT_METRICS):
        n, b = dir_summary(out)
        print(f"{out.relative_to(REPO)}: {n} files, {b} bytes")
    print(f"loss cases: {len(loss_report)}; metric cases: {len(metric_report)}; "
          f"finite-difference checks: {len(fds)}, worst relative error {worst:.2e} (limit 1e-6); "
          f"det-vs-QR gradient checks: {len(qrs)}, worst {worst_qr:.2e} (limit 1e-8)")


if __name__ == "__main__":
    main()
