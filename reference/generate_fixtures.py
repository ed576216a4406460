#!/usr/bin/env python3
"""Generate the GRAM volume test fixtures used by gram-core's tests.

Run from the repository root with Debian's torch (python3-torch is built for
/usr/bin/python3, not for a pyenv/venv python3 that may come first on PATH):

    apt-get install -y python3-torch
    /usr/bin/python3 reference/generate_fixtures.py

Output: gram-core/src/test/resources/fixtures/volume/ (index.tsv + .npy files).
Everything is seeded (one torch.Generator per case, seeded from a CRC32 of the
case name), torch runs single-threaded, so re-running reproduces byte-identical
files on the same machine/torch build. See reference/README.md.
"""

import math
import operator
import zlib
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "gram-core" / "src" / "test" / "resources" / "fixtures" / "volume"

# Pairwise cases with B1*B2 <= this also get the full float64 Gram tensor.
GRAM_MAX_PAIRS = 64

torch.set_num_threads(1)  # deterministic float32 reductions / LAPACK calls


# ---------------------------------------------------------------------------
# Reference formulas.
#
# volume_computation and simple_volume_computation are taken from the GRAM
# seed README (ispamm/GRAM README, "Takeaway functions": simple_volume_computation
# and volume_computation). Changes, all marked below:
#   * volume_computation: `det_dtype` parameter. The seed hard-codes
#     torch.det(G.float()), i.e. the determinant is always taken in float32;
#     det_dtype=torch.float32 (the default) is exactly the seed. The float64
#     truth uses the same formula on float64 inputs with det_dtype=torch.float64.
#     `return_gram` additionally returns the stacked Gram tensor G.
#   * simple_volume_computation: generalised from (language, video, audio) to k
#     stacked vectors; optional det_dtype (None = determinant in the input dtype,
#     as in the seed). Like the seed, it takes sqrt(det) WITHOUT abs(), so a
#     determinant that rounds negative gives NaN (the generator asserts that no
#     fixture contains NaN).
#
# ispamm/GRAM utils/volume.py also has volume_computation3/4/5 (fixed k = 3, 4,
# 5: anchor + 2/3/4 candidate modalities). They compute the same thing as
# volume_computation with k = 3/4/5: same dot products (einsum for the
# per-row self/cross terms of the candidates and the anchor's self term, matmul
# anchor @ input.T for anchor-candidate terms), same stacking into a symmetric
# k x k Gram matrix per (i, j), same torch.det(G.float()) and sqrt(abs(.)).
# The only difference is bookkeeping: they compute each candidate-candidate dot
# product once and place it in both (r, c) and (c, r), whereas
# volume_computation computes <x_r, x_c> and <x_c, x_r> separately. Elementwise
# products commute, so the two are bitwise equal; this generator checks that the
# float32 Gram tensor of volume_computation is exactly symmetric, which proves
# the mirrored construction yields the identical matrix (hence identical
# determinant). So volume_computation is evaluated for every k. (Their
# docstrings all say "4x4 Gram matrix"; that is a copy-paste leftover, the
# matrices are 3x3 / 4x4 / 5x5.)
# ---------------------------------------------------------------------------

def volume_computation(anchor, *inputs, det_dtype=torch.float32, return_gram=False):
    """
    General function to compute volume for contrastive learning loss functions.
    Compute the volume metric for each vector in anchor batch and all the other modalities listed in *inputs.
    Args:
    - anchor (torch.Tensor): Tensor of shape (batch_size1, dim)
    - *inputs (torch.Tensor): Variable number of tensors of shape (batch_size2, dim)
    - det_dtype: dtype of the determinant (added; seed = torch.float32)
    - return_gram: also return G (added)
    Returns:
    - torch.Tensor: Tensor of shape (batch_size1, batch_size2) representing the volume for each pair.
    """
    batch_size1 = anchor.shape[0]
    batch_size2 = inputs[0].shape[0]
    # Compute pairwise dot products for language with itself
    aa = torch.einsum('bi,bi->b', anchor, anchor).unsqueeze(1).expand(-1, batch_size2)
    # Compute pairwise dot products for language with each input
    l_inputs = [anchor @ input.T for input in inputs]
    # Compute pairwise dot products for each input with themselves and with each other
    input_dot_products = []
    for i, input1 in enumerate(inputs):
        row = []
        for j, input2 in enumerate(inputs):
            dot_product = torch.einsum('bi,bi->b', input1, input2).unsqueeze(0).expand(batch_size1, -1)
            row.append(dot_product)
        input_dot_products.append(row)
    # Stack the results to form the Gram matrix for each pair
    G = torch.stack([
        torch.stack([aa] + l_inputs, dim=-1),
        *[torch.stack([l_inputs[i]] + input_dot_products[i], dim=-1) for i in range(len(inputs))]
    ], dim=-2)
    # Compute the determinant for each Gram matrix
    gram_det = torch.det(G.to(det_dtype))  # seed: torch.det(G.float())
    # Compute the square root of the absolute value of the determinants
    res = torch.sqrt(torch.abs(gram_det))
    return (res, G) if return_gram else res


def simple_volume_computation(*vectors, det_dtype=None):
    """Seed's simple_volume_computation(language, video, audio), generalised to k vectors."""
    A = torch.stack(vectors)
    G = A @ A.T
    gramian = torch.linalg.det(G if det_dtype is None else G.to(det_dtype))
    return torch.sqrt(gramian)


# ---------------------------------------------------------------------------
# Exact reference (sanity check only, not written to the fixtures).
# Every input is float32-representable, i.e. m * 2^e with an integer m of at most
# 24 bits. Scaling each row by its own power of two turns the Gram matrix into
# D M D with M an integer matrix and D = diag(2^e_r), so det(G) = det(M) 2^(2 sum e)
# is computed exactly (Bareiss) and the volume is rounded once at the end.
# ---------------------------------------------------------------------------

def _exact_rows(x):
    """float64 (n, d) array of float32-representable values -> [(int list, exponent)]."""
    rows = []
    for r in np.asarray(x, dtype=np.float64):
        m, e = np.frexp(r)
        mi = m * 2.0 ** 24
        assert np.all(mi == np.round(mi)), "value not float32-representable"
        mi = mi.astype(np.int64)
        ee = e.astype(np.int64) - 24
        nz = mi != 0
        emin = int(ee[nz].min()) if nz.any() else 0
        ints = [int(a) << int(b - emin) if a != 0 else 0 for a, b in zip(mi, ee)]
        rows.append((ints, emin))
    return rows


def _idot(a, b):
    return sum(map(operator.mul, a, b))


def _bareiss_det(M):
    M = [list(r) for r in M]
    n = len(M)
    sign, prev = 1, 1
    for k in range(n - 1):
        if M[k][k] == 0:
            for r in range(k + 1, n):
                if M[r][k] != 0:
                    M[k], M[r] = M[r], M[k]
                    sign = -sign
                    break
            else:
                return 0
        for i in range(k + 1, n):
            for j in range(k + 1, n):
                M[i][j] = (M[i][j] * M[k][k] - M[i][k] * M[k][j]) // prev
        prev = M[k][k]
    return sign * M[n - 1][n - 1]


def _exact_volume(M, E):
    """sqrt(det(M)) * 2^E rounded to float64 (M integer Gram matrix)."""
    det = _bareiss_det(M)
    assert det >= 0, "exact Gram determinant must be >= 0"
    if det == 0:
        return 0.0
    p = max(0, 70 - det.bit_length() // 2)
    s = math.isqrt(det << (2 * p))  # floor(sqrt(det) * 2^p), >= 70 bits
    sh = max(0, s.bit_length() - 80)
    return math.ldexp(float(s >> sh), E - p + sh)


def exact_pairwise(anchor, inputs):
    A = _exact_rows(anchor)
    Ins = [_exact_rows(x) for x in inputs]
    b1, b2 = len(A), len(Ins[0])
    aa = [_idot(a, a) for a, _ in A]
    cand = []  # per j: candidate-candidate integer Gram block and exponent sum
    for j in range(b2):
        rows = [Ins[m][j] for m in range(len(Ins))]
        block = [[_idot(r[0], c[0]) for c in rows] for r in rows]
        cand.append((block, sum(r[1] for r in rows)))
    out = np.empty((b1, b2))
    for i in range(b1):
        ai, ei = A[i]
        for j in range(b2):
            block, ej = cand[j]
            la = [_idot(ai, Ins[m][j][0]) for m in range(len(Ins))]
            M = [[aa[i]] + la] + [[la[r]] + block[r] for r in range(len(Ins))]
            out[i, j] = _exact_volume(M, ei + ej)
    return out


def exact_tuple(vectors):
    R = _exact_rows(vectors)
    M = [[_idot(r[0], c[0]) for c in R] for r in R]
    return _exact_volume(M, sum(r[1] for r in R))


# ---------------------------------------------------------------------------
# Input generation: everything in float32 (torch), stored as float64.
# ---------------------------------------------------------------------------

def gen_for(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode("ascii")))


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=torch.float32)


def l2n(x):
    """Row-wise L2 normalisation, in float32."""
    return x / torch.linalg.vector_norm(x, dim=-1, keepdim=True)


def unit_noise(g, *shape):
    return l2n(randn(g, *shape))


def as_f64(x):
    a = x.detach().cpu().numpy()
    assert a.dtype == np.float32
    return np.ascontiguousarray(a.astype("<f8"))


# Near-degenerate cases: why delta >= 1e-3.
# The volume is sqrt(det G). The float64 determinant of G carries an absolute
# error of order eps64 * scale^2 (eps64 ~ 1.1e-16, scale = product of the row
# norms), and d sqrt(x) = dx / (2 sqrt(x)), so the float64 volume error is about
# eps64 * scale^2 / (2 * volume). With volume ~ delta * scale and delta >= 1e-3
# this is <~ 1e-13 * scale, i.e. the float64 truth is good to ~1e-12 of scale
# (the exact-arithmetic check below confirms it). Smaller deltas would make the
# "truth" itself unreliable; exactly degenerate tuples (volume 0) are covered in
# Java by property tests, not by fixtures.
DELTAS = ("1e-2", "1e-3")


def pairwise_regular(k, normalized, b1, b2, d):
    name = f"pw_k{k}_{'norm' if normalized else 'raw'}_b{b1}x{b2}_d{d}"
    g = gen_for(name)
    anchor = randn(g, b1, d)
    inputs = [randn(g, b2, d) for _ in range(k - 1)]
    if normalized:
        anchor, inputs = l2n(anchor), [l2n(x) for x in inputs]
        note = "randn rows, L2-normalised in float32"
    else:
        note = "randn rows"
    return name, anchor, inputs, normalized, note


DEG_B1, DEG_B2, DEG_D = 12, 9, 32


def pairwise_collinear(k, delta):
    """(a) two candidate modalities nearly collinear (k >= 3)."""
    name = f"deg_k{k}_collinear_{delta}"
    g = gen_for(name)
    dl = float(delta)
    anchor = l2n(randn(g, DEG_B1, DEG_D))
    inputs = [l2n(randn(g, DEG_B2, DEG_D)) for _ in range(k - 1)]
    inputs[1] = l2n(inputs[0] + dl * unit_noise(g, DEG_B2, DEG_D))
    note = f"normalised; input2 = normalize(input1 + {delta}*unit_noise) for every row"
    return name, anchor, inputs, True, note


def pairwise_inspan(k, delta):
    """(b) anchor row i nearly in the span of the candidates of row j = i (i < B2)."""
    name = f"deg_k{k}_inspan_{delta}"
    g = gen_for(name)
    dl = float(delta)
    anchor = l2n(randn(g, DEG_B1, DEG_D))
    inputs = [l2n(randn(g, DEG_B2, DEG_D)) for _ in range(k - 1)]
    coef = randn(g, DEG_B2, k - 1)
    base = sum(coef[:, m:m + 1] * inputs[m] for m in range(k - 1))
    near = l2n(l2n(base) + dl * unit_noise(g, DEG_B2, DEG_D))
    anchor = torch.cat([near, anchor[DEG_B2:]], dim=0)
    note = (f"normalised; anchor[i] = normalize(normalize(sum_m c_m input_m[i]) + {delta}*unit_noise) "
            f"for i < {DEG_B2}, so the diagonal (i, i) volumes are ~{delta}")
    return name, anchor, inputs, True, note


def pairwise_nearident(delta):
    """(c) k = 2: input1 row j = anchor row j + delta noise (near-identical)."""
    name = f"deg_k2_nearident_{delta}"
    g = gen_for(name)
    dl = float(delta)
    anchor = l2n(randn(g, DEG_B1, DEG_D))
    inputs = [l2n(anchor[:DEG_B2] + dl * unit_noise(g, DEG_B2, DEG_D))]
    note = (f"normalised; input1[j] = normalize(anchor[j] + {delta}*unit_noise) for every j < {DEG_B2}, "
            f"so the diagonal (j, j) volumes are ~{delta}")
    return name, anchor, inputs, True, note


def tuple_regular(k, normalized, d):
    name = f"tuple_k{k}_{'norm' if normalized else 'raw'}_d{d}"
    g = gen_for(name)
    v = randn(g, k, d)
    if normalized:
        v = l2n(v)
        note = "randn rows, L2-normalised in float32"
    else:
        note = "randn rows"
    return name, v, normalized, note


def tuple_collinear(k, delta, d):
    name = f"tuple_k{k}_collinear_{delta}"
    g = gen_for(name)
    v = l2n(randn(g, k, d))
    last = l2n(v[k - 2:k - 1] + float(delta) * unit_noise(g, 1, d))
    v = torch.cat([v[:k - 1], last], dim=0)
    return name, v, True, f"normalised; v{k - 1} = normalize(v{k - 2} + {delta}*unit_noise)"


def tuple_inspan(k, delta, d):
    name = f"tuple_k{k}_inspan_{delta}"
    g = gen_for(name)
    v = l2n(randn(g, k, d))
    coef = randn(g, k - 1, 1)
    base = l2n((coef * v[:k - 1]).sum(dim=0, keepdim=True))
    last = l2n(base + float(delta) * unit_noise(g, 1, d))
    v = torch.cat([v[:k - 1], last], dim=0)
    return name, v, True, (f"normalised; v{k - 1} = normalize(normalize(sum_m c_m v_m) + "
                           f"{delta}*unit_noise), m < {k - 1}")


# ---------------------------------------------------------------------------

def save(name, suffix, arr, dtype):
    arr = np.ascontiguousarray(np.asarray(arr).astype(dtype))
    assert np.lib.format.dtype_to_descr(arr.dtype) in ("<f4", "<f8") and arr.ndim in (1, 2, 4)
    assert np.all(np.isfinite(arr)), f"{name}.{suffix}: non-finite values"
    np.save(OUT / f"{name}.{suffix}.npy", arr, allow_pickle=False)


def check_f32_exact(a64):
    assert np.array_equal(a64.astype(np.float32).astype(np.float64), a64)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for p in OUT.iterdir():  # drop stale outputs of earlier runs
        if p.is_file() and (p.suffix == ".npy" or p.name == "index.tsv"):
            p.unlink()

    index = ["name\tkind\tk\tb1\tb2\td\tnormalized\tnote"]
    report = []  # (name, err_f32 vs f64, err_f64 vs exact) relative to scale

    pw_cases = []
    for k in (2, 3, 4, 5):
        for normalized in (False, True):
            for (b1, b2, d) in ((8, 6, 16), (33, 17, 64), (40, 24, 256)):
                pw_cases.append(pairwise_regular(k, normalized, b1, b2, d))
    for k in (3, 4, 5):
        for delta in DELTAS:
            pw_cases.append(pairwise_collinear(k, delta))
    for k in (2, 3, 4, 5):
        for delta in DELTAS:
            pw_cases.append(pairwise_inspan(k, delta))
    for delta in DELTAS:
        pw_cases.append(pairwise_nearident(delta))

    for name, anchor32, inputs32, normalized, note in pw_cases:
        k = len(inputs32) + 1
        b1, d = anchor32.shape
        b2 = inputs32[0].shape[0]
        assert b1 != b2
        v32, G32 = volume_computation(anchor32, *inputs32, return_gram=True)
        assert v32.dtype == torch.float32
        # volume_computation3/4/5 == volume_computation: G is exactly symmetric.
        assert torch.equal(G32, G32.transpose(-1, -2)), name
        a64 = as_f64(anchor32)
        in64 = [as_f64(x) for x in inputs32]
        for x in [a64] + in64:
            check_f32_exact(x)
        v64, G64 = volume_computation(torch.from_numpy(a64), *[torch.from_numpy(x) for x in in64],
                                      det_dtype=torch.float64, return_gram=True)
        assert v64.dtype == torch.float64 and G64.dtype == torch.float64
        v64 = v64.numpy()

        save(name, "anchor", a64, "<f8")
        for m, x in enumerate(in64, start=1):
            save(name, f"input{m}", x, "<f8")
        save(name, "volume_f32", v32.numpy(), "<f4")
        save(name, "volume_f64", v64, "<f8")
        if b1 * b2 <= GRAM_MAX_PAIRS:
            save(name, "gram_f64", G64.numpy(), "<f8")
        index.append(f"{name}\tpairwise\t{k}\t{b1}\t{b2}\t{d}\t{str(normalized).lower()}\t{note}")

        # sanity
        scale = np.linalg.norm(a64, axis=1)[:, None] * np.prod(
            [np.linalg.norm(x, axis=1) for x in in64], axis=0)[None, :]
        err32 = np.max(np.abs(v32.numpy().astype(np.float64) - v64) / scale)
        ex = exact_pairwise(a64, in64)
        err64 = np.max(np.abs(v64 - ex) / scale)
        # the generalised simple formula agrees with volume_computation on corner pairs
        for (i, j) in ((0, 0), (b1 - 1, b2 - 1)):
            sv = simple_volume_computation(*[torch.from_numpy(x[r]) for x, r in
                                             zip([a64] + in64, [i] + [j] * (k - 1))]).item()
            assert abs(sv - v64[i, j]) <= 1e-13 * scale[i, j], (name, i, j, sv, v64[i, j])
        report.append((name, "pairwise", err32, err64, float(np.min(v64 / scale))))

    tup_cases = []
    for k in (2, 3, 4, 5):
        for normalized in (False, True):
            for d in (16, 64):
                tup_cases.append(tuple_regular(k, normalized, d))
    tup_cases.append(tuple_collinear(3, "1e-3", 16))
    tup_cases.append(tuple_inspan(4, "1e-3", 64))

    for name, v32in, normalized, note in tup_cases:
        k, d = v32in.shape
        v32 = simple_volume_computation(*v32in)
        assert v32.dtype == torch.float32
        x64 = as_f64(v32in)
        check_f32_exact(x64)
        v64 = simple_volume_computation(*torch.from_numpy(x64), det_dtype=torch.float64).item()
        save(name, "vectors", x64, "<f8")
        save(name, "volume_f32", v32.reshape(1).numpy(), "<f4")
        save(name, "volume_f64", np.array([v64]), "<f8")
        index.append(f"{name}\ttuple\t{k}\t1\t1\t{d}\t{str(normalized).lower()}\t{note}")
        scale = float(np.prod(np.linalg.norm(x64, axis=1)))
        ex = exact_tuple(x64)
        report.append((name, "tuple", abs(v32.item() - v64) / scale, abs(v64 - ex) / scale, v64 / scale))

    with open(OUT / "index.tsv", "w", encoding="ascii", newline="\n") as f:
        f.write("\n".join(index) + "\n")

    # summary
    files = sorted(p for p in OUT.iterdir() if p.is_file())
    total = sum(p.stat().st_size for p in files)
    print(f"{'case':34s} {'kind':8s} {'|f32-f64|/scale':>16s} {'|f64-exact|/scale':>18s} {'min vol/scale':>14s}")
    for name, kind, e32, e64, vmin in report:
        print(f"{name:34s} {kind:8s} {e32:16.3e} {e64:18.3e} {vmin:14.3e}")
    n_pw = sum(1 for r in report if r[1] == "pairwise")
    print()
    print(f"cases: {len(report)} ({n_pw} pairwise, {len(report) - n_pw} tuple); "
          f"files: {len(files)}; total bytes: {total}")
    groups = (("pairwise (regular)", lambda r: r[0].startswith("pw_")),
              ("pairwise (near-degenerate)", lambda r: r[0].startswith("deg_")),
              ("tuple", lambda r: r[1] == "tuple"))
    for kind, sel in groups:
        rs = [r for r in report if sel(r)]
        w32 = max(rs, key=lambda r: r[2])
        w64 = max(rs, key=lambda r: r[3])
        print(f"{kind}: largest max|f32 - f64|/scale = {w32[2]:.3e} ({w32[0]}); "
              f"largest max|f64 - exact|/scale = {w64[3]:.3e} ({w64[0]})")
    assert max(r[3] for r in report) < 1e-12, "float64 truth not accurate to 1e-12 of scale"


if __name__ == "__main__":
    main()
