#!/usr/bin/env python3
"""Generate the TRIANGLE score and loss fixtures for gram-core's and gram-loss's tests.

Run from the repository root with Debian's torch (see reference/README.md):

    /usr/bin/python3 reference/generate_triangle_fixtures.py

Output (index.tsv + CASE.PART.npy in each directory):
    gram-core/src/test/resources/fixtures/triangle/       pairwise scores
    gram-loss/src/test/resources/fixtures/triangle-loss/  losses, gradients, hard negatives

What TRIANGLE does (ispamm/TRIANGLE @ 6d4598a). The semantics are re-implemented here:
  utils/area.py area_computation(language, video, audio):
      u = language[:, None] - video[None]; v = language[:, None] - audio[None]   (B1 x B2 x d each)
      area = (|u|^2 |v|^2 - (u.v)^2) / 2          # "I remove sqrt calculation"
  README basic_area_computation (one tuple): sqrt(|u|^2 |v|^2 - (u.v)^2) / 2  (the geometric area)
  model/triangle.py forward_ret, per process (rank r, local batch bs):
      area  = area_computation(feat_t, feat_v_all, feat_a_all) / contra_temp        (bs x N)
      areaT = area_computation(feat_t_all, feat_v, feat_a).T / contra_temp          (bs x N)
      loss  = (CE(-area, targets, label_smoothing=0.1) + CE(-areaT, targets, 0.1)) / 2
      targets = rank*bs + arange(bs); the *_all tensors come from concat_all_gather (no gradient)
      hard negatives: softmax(-area, dim=1) + 1e-4, the positives' entries zeroed (both directions;
      `area` is already divided by the temperature)
  contra_temp is a plain learnable nn.Parameter initialised at 0.07 (as GRAM).

Conventions are those of generate_fixtures.py / generate_loss_fixtures.py: inputs are drawn in
float32 (L2-normalised in float32 where the case says so), stored as float64; one
torch.Generator per case seeded from the CRC32 of its name; torch single-threaded; re-running
reproduces byte-identical files on the same torch build.

Truth. The score fixtures carry the exact value of q = |u|^2|w|^2 - (u.w)^2 for every pair,
computed in integer arithmetic from the float32 inputs (then rounded once to float64), besides
the reference formula evaluated in float64 (ref64) and in float32 as the reference computes it
(ref32): near-coincident tuples show how much the expanded formula loses. Loss fixtures are float64
autograd through the same q written as |e|^2 |r - (r.e/|e|^2) e|^2 (e = v - a, r = t - a), which
does not cancel; autograd through the reference formula (and sqrt(.)/2 for the area variant) is
checked to agree with it to 1e-7 on every case (on the near-coincident ones it is the reference
that loses digits).
"""

import math
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.dont_write_bytecode = True  # importing the other generators must not leave reference/__pycache__

from generate_fixtures import as_f64, gen_for, l2n, randn  # noqa: E402  (input conventions)
from generate_loss_fixtures import clean, leaf, save, tag, two_way_ce  # noqa: E402  (output conventions)

REPO = Path(__file__).resolve().parent.parent
SCORES = REPO / "gram-core" / "src" / "test" / "resources" / "fixtures" / "triangle"
LOSSES = REPO / "gram-loss" / "src" / "test" / "resources" / "fixtures" / "triangle-loss"
F64 = torch.float64

torch.set_num_threads(1)


# ---------------------------------------------------------------------------
# The reference formula (utils/area.py, re-implemented) and its rooted variant.
# ---------------------------------------------------------------------------

def area_computation(language, video, audio):
    """The TRIANGLE training score: (|u|^2 |v|^2 - (u.v)^2) / 2, B1 x B2, by broadcasting."""
    u = language.unsqueeze(1) - video.unsqueeze(0)
    v = language.unsqueeze(1) - audio.unsqueeze(0)
    u_norm = torch.sum(u ** 2, dim=2)
    v_norm = torch.sum(v ** 2, dim=2)
    uv_dot = torch.sum(u * v, dim=2)
    return (u_norm * v_norm - uv_dot ** 2) / 2


def area_rooted(language, video, audio):
    """The geometric area sqrt(|u|^2 |v|^2 - (u.v)^2) / 2 (README's single-tuple function), batched."""
    return torch.sqrt(2 * area_computation(language, video, audio)) / 2


SCORE_FNS = {"triangle": area_computation, "triangle-area": area_rooted}


def stable_q(language, video, audio):
    """The same q = |u|^2|w|^2 - (u.w)^2, as |e|^2 |r - (r.e/|e|^2) e|^2 with e = v - a, r = t - a:
    differentiable and free of the expanded formula's cancellation when the points nearly coincide
    (the loss fixtures' truth; the generator checks it against the reference formula's autograd)."""
    r = language.unsqueeze(1) - audio.unsqueeze(0)
    e = (video - audio).unsqueeze(0)
    ee = torch.sum(e ** 2, dim=2)
    h = r - (torch.sum(r * e, dim=2) / ee).unsqueeze(2) * e
    return ee * torch.sum(h ** 2, dim=2)


STABLE_FNS = {"triangle": lambda t, v, a: stable_q(t, v, a) / 2,
              "triangle-area": lambda t, v, a: torch.sqrt(stable_q(t, v, a)) / 2}


def exact_q(t, v, a):
    """q = |u|^2|w|^2 - (u.w)^2 for every pair, exactly (integers), rounded once to float64."""
    scale = 200  # every float32 value times 2^200 is an integer (|x| > 2^-177)
    def ints(x):
        return [[int(val * 2.0 ** scale) for val in row] for row in x.tolist()]
    ti, vi, ai = ints(t), ints(v), ints(a)
    out = np.empty((len(ti), len(vi)))
    for i, tr in enumerate(ti):
        for j, (vr, ar) in enumerate(zip(vi, ai)):
            u = [x - y for x, y in zip(tr, vr)]
            w = [x - y for x, y in zip(tr, ar)]
            uu = sum(x * x for x in u)
            ww = sum(x * x for x in w)
            uw = sum(x * y for x, y in zip(u, w))
            out[i, j] = float(Fraction(uu * ww - uw * uw, 2 ** (4 * scale)))
    return out


# ---------------------------------------------------------------------------
# Inputs.
# ---------------------------------------------------------------------------

def regular(g, b1, b2, d, normalized):
    t, v, a = randn(g, b1, d), randn(g, b2, d), randn(g, b2, d)
    return [l2n(x) for x in (t, v, a)] if normalized else [t, v, a]


def tight(g, b, d, delta):
    """Aligned tuples: t_i, v_i, a_i = l2n(p_i + delta * noise): the diagonal triangles nearly collapse."""
    p = randn(g, b, d)
    return [l2n(p + delta * randn(g, b, d)) for _ in range(3)]


def close_candidates(g, b1, b2, d, delta):
    """v_j = l2n(a_j + delta * noise): every triangle has a short edge v_j - a_j."""
    t, a = l2n(randn(g, b1, d)), l2n(randn(g, b2, d))
    return [t, l2n(a + delta * randn(g, b2, d)), a]


def offset(g, b, d, delta):
    """A large common offset (|c| = 8) plus tight tuples: centring matters."""
    c = 8 * l2n(randn(g, 1, d))
    p = randn(g, b, d)
    return [c + p + delta * randn(g, b, d) for _ in range(3)]


# ---------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------

def rel_err(x, truth):
    return float(np.max(np.abs(x - truth)) / max(np.max(np.abs(truth)), 1e-300))


# ---------------------------------------------------------------------------
# Score fixtures.
# ---------------------------------------------------------------------------

def score_cases():
    cases = []
    for normalized in (False, True):
        for b1, b2, d in ((8, 6, 16), (33, 17, 64)):
            name = f"tri_{'norm' if normalized else 'raw'}_b{b1}x{b2}_d{d}"
            cases.append((name, regular(gen_for(name), b1, b2, d, normalized), normalized,
                          "randn rows" + (", L2-normalised in float32" if normalized else "")))
    for delta in (1e-2, 1e-3):
        name = f"tri_tight_{tag(delta)}"
        cases.append((name, tight(gen_for(name), 8, 32, delta), True,
                      f"aligned tuples l2n(p_i + {delta} noise): near-coincident diagonal"))
        name = f"tri_close_{tag(delta)}"
        cases.append((name, close_candidates(gen_for(name), 7, 9, 32, delta), True,
                      f"v_j = l2n(a_j + {delta} noise): short candidate edge"))
        name = f"tri_offset_{tag(delta)}"
        cases.append((name, offset(gen_for(name), 8, 32, delta), False,
                      f"common offset |c| = 8 plus p_i + {delta} noise"))
    return cases


def write_scores():
    clean(SCORES)
    lines = ["name\tkind\tk\tb1\tb2\td\tnormalized\tnote"]
    for name, (t, v, a), normalized, note in score_cases():
        t64, v64, a64 = as_f64(t), as_f64(v), as_f64(a)
        q = exact_q(t64, v64, a64)
        assert np.all(q >= 0)
        ref64 = area_computation(*(torch.from_numpy(x) for x in (t64, v64, a64))).numpy()
        ref32 = area_computation(t, v, a).numpy().astype(np.float64)
        for part, arr in (("anchor", t64), ("input1", v64), ("input2", a64), ("score", q / 2),
                          ("area", np.sqrt(q) / 2), ("ref64", ref64), ("ref32", ref32)):
            save(SCORES, name, part, arr)
        lines.append(f"{name}\ttriangle\t3\t{t64.shape[0]}\t{v64.shape[0]}\t{t64.shape[1]}\t"
                     f"{str(normalized).lower()}\t{note}")
        print(f"{name:24s} ref64 rel err {rel_err(ref64, q / 2):.2e}  ref32 rel err {rel_err(ref32, q / 2):.2e}"
              f"  (max |err| / max score)")
    (SCORES / "index.tsv").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# Loss fixtures (float64 autograd through the reference formula).
# ---------------------------------------------------------------------------

def hard_negatives(logits, offset):
    """softmax(-area / tau) + 1e-4 with the positives zeroed (model/triangle.py), no gradient."""
    with torch.no_grad():
        w = F.softmax(logits, dim=1) + 1e-4
        bs = w.shape[0]
        w[:, offset:offset + bs].fill_diagonal_(0)
    return w


def loss_case(out, lines, name, score, xs64, tau, eps, note, gathered=None, logit_scale=None):
    """One process (gathered None) or one rank of a gathered batch (gathered = (g64s, offset)).
    The fixture is autograd through the stable formula; autograd through the reference formula
    must agree with it to 1e-7 relative (it loses digits on the near-coincident cases)."""
    reference = run_loss(SCORE_FNS[score], xs64, tau, eps, gathered, logit_scale)
    truth = run_loss(STABLE_FNS[score], xs64, tau, eps, gathered, logit_scale)
    for (part, ref), (_, val) in zip(reference, truth):
        if part not in ("hn1", "hn2"):
            err = np.max(np.abs(ref - val)) / max(np.max(np.abs(val)), 1e-300)
            assert err < 1e-7, (name, part, err)
    for part, arr in truth:
        save(out, name, part, arr)
    bs = xs64[0].shape[0]
    n = bs if gathered is None else gathered[0][0].shape[0]
    offset = 0 if gathered is None else gathered[1]
    param_kind = "logit_scale" if logit_scale is not None else "tau"
    param_value = logit_scale if logit_scale is not None else tau
    lines.append(f"{name}\t{'local' if gathered is None else 'gathered'}\t{score}\t{bs}\t{n}\t{offset}\t"
                 f"{xs64[0].shape[1]}\t{param_kind}\t{param_value!r}\t{eps!r}\t{note}")


def run_loss(fn, xs64, tau, eps, gathered, logit_scale):
    """The loss, its parts and gradients (float64 autograd) as (part, array) pairs."""
    xs = [leaf(x) for x in xs64]
    if logit_scale is not None:
        param = torch.tensor(logit_scale, dtype=F64, requires_grad=True)
        temp = 1 / torch.clamp(param.exp(), max=100)
    else:
        param = torch.tensor(tau, dtype=F64, requires_grad=True)
        temp = param
    bs = xs64[0].shape[0]
    if gathered is None:
        s1 = fn(*xs)
        s2t = s1.T
        offset, gs = 0, None
    else:
        g64s, offset = gathered
        gs = [leaf(x) for x in g64s]
        s1 = fn(xs[0], gs[1], gs[2])          # local anchors vs gathered candidates, bs x N
        s2t = fn(gs[0], xs[1], xs[2]).T       # gathered anchors vs local candidates, transposed: bs x N
    logits1, logits2t = -(s1 / temp), -(s2t / temp)
    targets = torch.arange(bs) + offset
    loss, r1, r2 = two_way_ce(logits1, logits2t, targets, eps)
    loss.backward()
    parts = [("anchor", xs64[0]), ("input1", xs64[1]), ("input2", xs64[2]),
             ("loss", np.array([loss.item()])), ("rows1", r1.detach().numpy()), ("rows2", r2.detach().numpy()),
             ("scores1", s1.detach().numpy()), ("grad_anchor", xs[0].grad.numpy()),
             ("grad_input1", xs[1].grad.numpy()), ("grad_input2", xs[2].grad.numpy()),
             ("grad_temperature", np.array([param.grad.item()]))]
    if gathered is not None:
        parts += [("g_anchor", g64s[0]), ("g_input1", g64s[1]), ("g_input2", g64s[2]),
                  ("scores2", s2t.T.detach().numpy()),
                  ("g_grad_anchor", gs[0].grad.numpy()), ("g_grad_input1", gs[1].grad.numpy()),
                  ("g_grad_input2", gs[2].grad.numpy())]
    parts += [("hn1", hard_negatives(logits1.detach(), offset).numpy()),
              ("hn2", hard_negatives(logits2t.detach(), offset).numpy())]
    return parts


def fd_self_check():
    """Float64 central differences against autograd for both variants (the fixtures' own check)."""
    g = gen_for("fd_self_check")
    xs = [leaf(as_f64(x)) for x in regular(g, 4, 4, 5, True)]
    for score, fn in SCORE_FNS.items():
        def f():
            s = fn(*xs)
            return two_way_ce(-(s / 0.5), -(s.T / 0.5), torch.arange(4), 0.1)[0]
        for x in xs:
            x.grad = None
        f().backward()
        worst = 0.0
        h = 1e-6
        with torch.no_grad():
            for x in xs:
                flat = x.view(-1)
                for k in range(flat.numel()):
                    old = flat[k].item()
                    flat[k] = old + h
                    fp = f().item()
                    flat[k] = old - h
                    fm = f().item()
                    flat[k] = old
                    worst = max(worst, abs((fp - fm) / (2 * h) - x.grad.view(-1)[k].item()))
        assert worst < 1e-7, (score, worst)
        print(f"finite-difference self-check {score}: max |fd - autograd| = {worst:.1e}")


def write_losses():
    clean(LOSSES)
    lines = ["name\tform\tscore\tbs\tn\toffset\td\tparam\tvalue\tlabel_smoothing\tnote"]
    bs, d = 6, 8
    for score in SCORE_FNS:
        short = "tri" if score == "triangle" else "area"
        for normalized in (False, True):
            kind = "norm" if normalized else "raw"
            note = "randn rows" + (", L2-normalised in float32" if normalized else "")
            for tau in (0.07, 1.0):
                for eps in (0.0, 0.1):
                    name = f"{short}_local_{kind}_t{tag(tau)}_ls{tag(eps)}"
                    xs = [as_f64(x) for x in regular(gen_for(name), bs, bs, d, normalized)]
                    loss_case(LOSSES, lines, name, score, xs, tau, eps, note)
            name = f"{short}_gathered_{kind}"
            g = gen_for(name)
            gxs = [as_f64(x) for x in regular(g, 3 * bs, 3 * bs, d, normalized)]
            xs = [x[bs:2 * bs].copy() for x in gxs]
            loss_case(LOSSES, lines, name, score, xs, 0.07, 0.1, note + "; rank 1 of 3", gathered=(gxs, bs))
        name = f"{short}_local_tight"
        xs = [as_f64(x) for x in tight(gen_for(name), bs, d, 1e-3)]
        loss_case(LOSSES, lines, name, score, xs, 0.07, 0.1, "aligned tuples l2n(p_i + 1e-3 noise)")
        name = f"{short}_local_logitscale"
        xs = [as_f64(x) for x in regular(gen_for(name), bs, bs, d, True)]
        loss_case(LOSSES, lines, name, score, xs, None, 0.1, "CLIP log-scale temperature s = log(1/0.07)",
                  logit_scale=math.log(1 / 0.07))
    (LOSSES / "index.tsv").write_text("\n".join(lines) + "\n")


def main():
    fd_self_check()
    write_scores()
    write_losses()
    total = sum(p.stat().st_size for o in (SCORES, LOSSES) for p in o.iterdir())
    print(f"wrote {SCORES} and {LOSSES}: {total / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
