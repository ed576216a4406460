#!/usr/bin/env python3
"""Side by side: the PyTorch seed's formula, the same GEMM formulation in plain PyTorch, and gram4j.

For each shape (every --batch times every --k, d = --dim, float32) this times, in one run:

1. the seed: its volume (`volume_computation`, one k×k determinant per pair, float32 as the seed
   computes it) and its loss forward + backward (the seed README's loss, autograd);
2. the GEMM-form peer: the formulation gram4j uses, written in plain PyTorch as a user would
   (`gemm_form_volume`: Gram–Schmidt of the k − 1 candidate batches per row, vectorised over the
   rows, with one re-orthogonalisation pass; W_m = anchor @ q_mᵀ, K = k − 1 GEMMs;
   s = |a_i|² − Σ_m W_m²; V = (Π_m ρ_m)[None, :] · sqrt(clamp(s, min=tiny)), tiny = the dtype's
   smallest normal number) and the same loss on that V, backward by autograd;
3. gram4j: `bin/gram bench --op all --json` on the same shape (skipped with --no-gram4j), which
   also times the GEMMs each operation needs in the same process (the "GEMM floor"), each run
   interleaved with one of its floor. It runs each operation as a loop would: the volume into one
   reused result (`pairwiseInto`), the loss forward + backward in a per-step ND4J workspace that
   recycles its results. (The peer's torch tensors are new each call, but freed as soon as they
   go out of scope, so the C allocator can hand the next call the same memory; ND4J frees an
   array outside a workspace only when the garbage collector finds it.)

The two processes run one after the other, and on a shared VM the speed of the same GEMM can
change by half between them. So torch also times, interleaved with the peer, the same GEMMs that
bin/gram times as gram4j's floor; the column "vs peer, per floor" is (peer / torch floor) /
(gram4j / gram4j floor): each side against its own GEMMs, robust to such drift (torch's and
gram4j's OpenBLAS run these GEMMs at the same speed here), next to the plain "vs peer".

Seed and peer are timed alternately (their runs are interleaved evenly, so machine load drifts hit
both), each after one warm-up run, in the same process; "volume" runs under torch.no_grad(), "loss
+backward" builds fresh leaves, evaluates the loss and calls backward(). Reported times are
medians. With --rounds R the whole measurement (torch, then bin/gram) is repeated R times per
shape; the table shows the median over the rounds and a second listing the per-round medians.
torch uses every core (torch.set_num_threads(os.cpu_count())).

Before any timing the script checks that the peer computes the seed's formula: in float64 on
random L2-normalised rows (B = 16, d = 32, k = 3 and 5) the peer's V, loss and gradients must
match the seed's (determinant taken in float64) to 1e-10 absolute (`check_peer_against_seed`; a
fraction of a second). --check runs only that check and prints the differences.

Run from the repository root with Debian's torch (/usr/bin/python3, not a pyenv python3):

    apt-get install -y python3-torch
    /usr/bin/python3 reference/compare_with_pytorch.py [--batch 1024 ...] [--dim 512] [--k 3 5]
        [--repeats 5] [--peer-repeats N] [--rounds 1] [--no-gram4j] [--check]

--no-gram4j leaves out bin/gram (no Java build needed); the gram4j columns then read "-".

The BLAS matters: Debian's python3-torch does its matmuls through the system libblas.so.3, which
is the unoptimised reference BLAS unless an optimised one is installed (`apt-get install
libopenblas0-pthread` switches the alternative for the whole system). The reference BLAS makes
every torch GEMM ~10x slower (256x512 @ 512x256: ~25 ms, against ~3 ms with OpenBLAS even on its
SSE kernels, on a 2-core VM), which leaves the GEMM-form peer far behind where a user with an
optimised BLAS would have it. The header prints the BLAS library torch loaded and warns when it
is the reference one. Without root, OpenBLAS can be used for this script alone:

    apt-get download libopenblas0-pthread && dpkg-deb -x libopenblas0-pthread_*.deb /tmp/openblas
    LD_LIBRARY_PATH=/tmp/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread \\
        /usr/bin/python3 reference/compare_with_pytorch.py ...

OpenBLAS picks its kernels from the CPU model; on a VM that reports an unknown model (e.g.
"Intel(R) Xeon(R) Processor") Debian's OpenBLAS 0.3.21 falls back to its SSE3 "Prescott"
kernels, ~4x slower than its AVX-512 ones here: set OPENBLAS_CORETYPE (SkylakeX for AVX-512,
Haswell for AVX2) for the run; the script does not pass OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE on
to bin/gram (nor LD_LIBRARY_PATH), whose own OpenBLAS 0.3.31 detects the CPU itself. The header prints the core
OpenBLAS chose and warns on such a fallback. The script sets OMP_WAIT_POLICY=PASSIVE and
OPENBLAS_THREAD_TIMEOUT=4 unless they are set, the defaults bin/gram uses: without them torch's
spinning OpenMP threads and OpenBLAS' spinning threads fight over the cores (on 2 cores,
elementwise ops right after a GEMM ran ~50x slower).
"""

import argparse
import ctypes
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The threading environment bin/gram gives gram4j (README, Performance), unless the caller set it:
# torch's OpenMP threads sleep instead of spinning between ops, and an OpenBLAS' threads stop
# spinning soon after a GEMM, so the two pools do not steal the cores from each other. Both are
# read when the libraries load, hence before `import torch`.
THREAD_ENV = {"OMP_WAIT_POLICY": "PASSIVE", "OPENBLAS_THREAD_TIMEOUT": "4"}
for _name, _value in THREAD_ENV.items():
    os.environ.setdefault(_name, _value)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_fixtures import volume_computation  # noqa: E402  (the seed's formula)

torch.set_num_threads(os.cpu_count())  # the fixture generator pins torch to one thread; not here

REPO = Path(__file__).resolve().parent.parent
TEMPERATURE = 0.07
LABEL_SMOOTHING = 0.1
CHECK_TOLERANCE = 1e-10


def seed_loss(anchor, inputs, temperature=TEMPERATURE, label_smoothing=LABEL_SMOOTHING,
              det_dtype=torch.float32):
    """The seed README's GRAM loss (one process). det_dtype=float32 is the seed as written."""
    volume = volume_computation(anchor, *inputs, det_dtype=det_dtype) / temperature
    volume_t = volume_computation(anchor, *inputs, det_dtype=det_dtype).T / temperature
    bs = anchor.shape[0]
    targets = torch.linspace(0, bs - 1, bs, dtype=int)
    return (F.cross_entropy(-volume, targets, label_smoothing=label_smoothing)
            + F.cross_entropy(-volume_t, targets, label_smoothing=label_smoothing)) / 2


# ---------------------------------------------------------------------------
# The GEMM-form peer: gram4j's formulation, written in plain PyTorch.
# ---------------------------------------------------------------------------

def orthonormalise_rows(inputs):
    """Gram–Schmidt of the candidate batches x_1..x_K (each B×d), row by row, vectorised over rows.

    Each step is a row-wise dot and a row-wise axpy on B×d tensors; every candidate is projected
    twice (one re-orthogonalisation pass). Returns the unit rows q_m (B×d each) and the residual
    norms rho_m (B each): rho_m[j] = distance of x_m[j] from span(x_1[j], ..., x_{m-1}[j]).
    """
    qs, rhos = [], []
    for x in inputs:
        v = x
        for _ in range(2):  # Gram–Schmidt, then one re-orthogonalisation pass
            for q in qs:
                v = v - (v * q).sum(dim=1, keepdim=True) * q
        rho = v.norm(dim=1)
        qs.append(v / rho[:, None])
        rhos.append(rho)
    return qs, rhos


def gemm_form_volume(anchor, *inputs):
    """Pairwise GRAM volumes V (B1×B2) by GEMMs: V_ij = (Π_m rho_m[j]) · dist(a_i, span of candidate j).

    s_ij = |a_i|² − Σ_m (a_i · q_m[j])² is clamped at the dtype's smallest normal number before the
    square root, so degenerate pairs give V ≈ 0 with finite (zero) gradients instead of inf/NaN.
    """
    qs, rhos = orthonormalise_rows(inputs)
    s = (anchor * anchor).sum(dim=1)[:, None]
    for q in qs:
        w = anchor @ q.T  # one GEMM per candidate modality
        s = s - w * w
    rho = torch.stack(rhos).prod(dim=0)
    return rho[None, :] * torch.sqrt(torch.clamp(s, min=torch.finfo(s.dtype).tiny))


def gemm_form_loss(anchor, inputs, temperature=TEMPERATURE, label_smoothing=LABEL_SMOOTHING):
    """The seed README's loss on the GEMM-form V: ½[CE(−V/τ, t; ε) + CE(−Vᵀ/τ, t; ε)], t = arange(B)."""
    v = gemm_form_volume(anchor, *inputs)
    targets = torch.arange(anchor.shape[0])
    return (F.cross_entropy(-v / temperature, targets, label_smoothing=label_smoothing)
            + F.cross_entropy(-v.T / temperature, targets, label_smoothing=label_smoothing)) / 2


def random_rows(batch, dim, k, dtype, seed):
    """An L2-normalised anchor and k − 1 L2-normalised candidate batches, batch×dim each."""
    g = torch.Generator().manual_seed(seed)
    rows = [F.normalize(torch.randn(batch, dim, generator=g, dtype=dtype), dim=1) for _ in range(k)]
    return rows[0], rows[1:]


def check_peer_against_seed(ks=(3, 5), batch=16, dim=32, tolerance=CHECK_TOLERANCE, verbose=False):
    """Asserts that the GEMM-form peer computes the seed's formula, in float64.

    For each k: random L2-normalised rows (B = batch, d = dim); V, the loss and the gradients with
    respect to the anchor and every candidate batch, peer vs the seed's formula with a float64
    determinant. Returns {k: (max|ΔV|, |Δloss|, max|Δgrad|)}; raises AssertionError beyond tolerance.
    """
    diffs = {}
    for k in ks:
        anchor, inputs = random_rows(batch, dim, k, torch.float64, seed=1000 + k)
        with torch.no_grad():
            dv = (gemm_form_volume(anchor, *inputs)
                  - volume_computation(anchor, *inputs, det_dtype=torch.float64)).abs().max().item()
        results = []
        for loss_fn in (lambda a, xs: seed_loss(a, xs, det_dtype=torch.float64), gemm_form_loss):
            leaves = [anchor.clone().requires_grad_(True)] + [x.clone().requires_grad_(True) for x in inputs]
            loss = loss_fn(leaves[0], leaves[1:])
            loss.backward()
            results.append((loss.detach(), [leaf.grad for leaf in leaves]))
        (loss_seed, grads_seed), (loss_peer, grads_peer) = results
        dloss = (loss_peer - loss_seed).abs().item()
        dgrad = max((gp - gs).abs().max().item() for gp, gs in zip(grads_peer, grads_seed))
        diffs[k] = (dv, dloss, dgrad)
        if verbose:
            print(f"check k={k} B={batch} d={dim} float64: max|dV| {dv:.2e}  |dloss| {dloss:.2e} "
                  f"(loss {loss_seed.item():.6f})  max|dgrad| {dgrad:.2e} "
                  f"(max|grad| {max(g.abs().max().item() for g in grads_seed):.3f})")
        worst = max(dv, dloss, dgrad)
        assert worst <= tolerance, (f"GEMM-form peer disagrees with the seed at k={k}: max|dV| {dv:.3e}, "
                                    f"|dloss| {dloss:.3e}, max|dgrad| {dgrad:.3e} (tolerance {tolerance:g})")
    return diffs


# ---------------------------------------------------------------------------
# Timing.
# ---------------------------------------------------------------------------

def interleaved_medians(fns, repeats):
    """Median ms of each function in fns (name -> callable), their runs interleaved evenly.

    Each function runs once as warm-up, then repeats[name] timed times; the runs of all functions
    are spread over the same stretch of time (run i of n at position (i + ½)/n), so load drifts
    on the machine hit every function alike.
    """
    for fn in fns.values():
        fn()
    schedule = sorted(((i + 0.5) / repeats[name], name) for name in fns for i in range(repeats[name]))
    times = {name: [] for name in fns}
    for _, name in schedule:
        t0 = time.perf_counter()
        fns[name]()
        times[name].append((time.perf_counter() - t0) * 1e3)
    return {name: statistics.median(ts) for name, ts in times.items()}


def torch_times(batch, dim, k, repeats, peer_repeats):
    """{("volume" | "loss+backward", "seed" | "peer" | "floor"): median ms} and max|V_peer − V_seed| (float32).

    "floor" is torch's own run of the GEMMs that bin/gram times as gram4j's floor (the same shapes,
    into preallocated outputs), interleaved with the peer's runs.
    """
    anchor, inputs = random_rows(batch, dim, k, torch.float32, seed=42)
    square = torch.empty(batch, batch)
    tall = torch.empty(batch, dim)

    def floor(gemms_per_modality):
        def run():
            with torch.no_grad():
                for x in inputs:
                    torch.matmul(anchor, x.t(), out=square)
                    if gemms_per_modality == 3:
                        torch.matmul(square, x, out=tall)
                        torch.matmul(square.t(), anchor, out=tall)
        return run

    def volume(formula):
        def run():
            with torch.no_grad():
                return formula(anchor, *inputs)
        return run

    def loss_backward(loss_fn):
        def run():
            a = anchor.clone().requires_grad_(True)
            xs = [x.clone().requires_grad_(True) for x in inputs]
            loss_fn(a, xs).backward()
        return run

    with torch.no_grad():
        dv32 = (gemm_form_volume(anchor, *inputs) - volume_computation(anchor, *inputs)).abs().max().item()
    reps = {"seed": repeats, "peer": peer_repeats, "floor": peer_repeats}
    out = {}
    for op, fns in (("volume", {"seed": volume(volume_computation), "peer": volume(gemm_form_volume),
                                "floor": floor(1)}),
                    ("loss+backward", {"seed": loss_backward(seed_loss), "peer": loss_backward(gemm_form_loss),
                                       "floor": floor(3)})):
        for name, ms in interleaved_medians(fns, reps).items():
            out[(op, name)] = ms
    return out, dv32


def gram4j_times(batch, dim, k, repeats):
    """bin/gram bench's JSON rows: {"volume": row, "loss+backward": row}, each with median_ms, floor_ms, ratio."""
    cmd = [str(REPO / "bin" / "gram"), "bench", "--op", "all", "--batch", str(batch), "--dim", str(dim),
           "--k", str(k), "--repeats", str(max(4 * repeats, 20)), "--json"]
    # gram4j's own OpenBLAS (0.3.31, bundled with the build) picks its kernels itself: the
    # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE / LD_LIBRARY_PATH set for torch's system OpenBLAS are
    # not passed on (an LD_LIBRARY_PATH with another libopenblas would replace gram4j's)
    env = {key: value for key, value in os.environ.items()
           if key not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "LD_LIBRARY_PATH")}
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rows = {r["op"]: r for r in (json.loads(line) for line in out.splitlines() if line.strip())}
    return {"volume": rows["volume"], "loss+backward": rows["loss-backward"]}


OPS = ("volume", "loss+backward")


def loaded_blas():
    """The BLAS shared libraries mapped into this process (Linux /proc/self/maps), after one matmul."""
    torch.ones(2, 2) @ torch.ones(2, 2)
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.rsplit("/", 1)[-1].lower()}
    except OSError:
        return []
    return sorted(paths)


def is_reference_blas(paths):
    """True when the only BLAS mapped is Debian's reference (netlib) libblas, .../blas/libblas.so.3*."""
    return bool(paths) and all("/blas/libblas.so" in p for p in paths)


def openblas_core(paths):
    """The kernel family a mapped OpenBLAS chose (openblas_get_corename), or None if there is none."""
    for path in paths:
        if "openblas" in path.rsplit("/", 1)[-1]:
            try:
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                return lib.openblas_get_corename().decode()
            except (OSError, AttributeError):
                return None
    return None


# OpenBLAS kernel families without AVX: what it falls back to on a CPU model it does not know.
SSE_ONLY_CORES = ("Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
                  "Northwood", "Banias")


def fmt(value, spec, width):
    return f"{'-':>{width}}" if value is None else f"{value:>{width}{spec}}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batch", type=int, nargs="+", default=[1024], help="batch sizes B (default 1024)")
    p.add_argument("--dim", type=int, default=512, help="embedding width d (default 512)")
    p.add_argument("--k", type=int, nargs="+", default=[3], help="modalities per tuple, >= 2 (default 3)")
    p.add_argument("--repeats", type=int, default=5,
                   help="timed runs of the seed per op (default 5); bin/gram gets max(4x this, 20)")
    p.add_argument("--peer-repeats", type=int, default=None,
                   help="timed runs of the GEMM-form peer per op (default: --repeats)")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat the whole measurement per shape (torch, then bin/gram) this often (default 1)")
    p.add_argument("--no-gram4j", action="store_true", help="skip bin/gram (no Java build needed)")
    p.add_argument("--check", action="store_true",
                   help="only check the peer against the seed's formula (float64) and print the differences")
    args = p.parse_args()
    peer_repeats = args.peer_repeats if args.peer_repeats is not None else args.repeats
    if min(args.k) < 2:
        p.error(f"--k must be >= 2, got {args.k}")
    if min(args.batch) < 1 or args.dim < 1 or min(args.repeats, peer_repeats, args.rounds) < 1:
        p.error("--batch, --dim, --repeats, --peer-repeats and --rounds must be >= 1")

    diffs = check_peer_against_seed(verbose=args.check)
    if args.check:
        print(f"OK: the GEMM-form peer matches the seed's formula within {CHECK_TOLERANCE:g}")
        return

    print(f"# {time.strftime('%Y-%m-%d')}  {platform.processor() or platform.machine()}  "
          f"cores={os.cpu_count()}  torch {torch.__version__} threads={torch.get_num_threads()}  float32  "
          f"tau={TEMPERATURE} eps={LABEL_SMOOTHING}  seed runs {args.repeats}, peer runs {peer_repeats}, "
          f"rounds {args.rounds}")
    blas = loaded_blas()
    print(f"# torch BLAS: {', '.join(blas) or 'unknown (not a shared library in /proc/self/maps)'}")
    core = openblas_core(blas)
    print("# threads: " + " ".join(f"{name}={os.environ.get(name)}" for name in THREAD_ENV)
          + (f"  OpenBLAS core {core} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')})" if core else ""))
    if is_reference_blas(blas):
        print("# WARNING: torch runs on the reference (netlib) BLAS, ~10x slower GEMMs than OpenBLAS: the "
              "GEMM-form peer is far slower here than with an optimised BLAS (see the module docstring)")
    if core in SSE_ONLY_CORES:
        print(f"# WARNING: OpenBLAS picked its {core} kernels (no AVX); on a CPU it does not recognise, "
              "set OPENBLAS_CORETYPE (Haswell for AVX2, SkylakeX for AVX-512; see the module docstring)")
    print("# peer = seed check (float64, B=16 d=32): "
          + "; ".join(f"k={k} max|dV| {dv:.1e} |dloss| {dl:.1e} max|dgrad| {dg:.1e}"
                      for k, (dv, dl, dg) in diffs.items()))

    rows, per_round = [], []
    for batch in args.batch:
        for k in args.k:
            shape = f"B={batch} d={args.dim} k={k}"
            rounds = []
            for _ in range(args.rounds):
                t, dv32 = torch_times(batch, args.dim, k, args.repeats, peer_repeats)
                g = None if args.no_gram4j else gram4j_times(batch, args.dim, k, args.repeats)
                rounds.append((t, g))
                per_round.append((shape, t, g))
            print(f"# {shape}: float32 max|V_peer - V_seed| = {dv32:.1e}")
            for op in OPS:
                seed = statistics.median(t[(op, "seed")] for t, _ in rounds)
                peer = statistics.median(t[(op, "peer")] for t, _ in rounds)
                torch_floor = statistics.median(t[(op, "floor")] for t, _ in rounds)
                if args.no_gram4j:
                    gram = floor = None
                else:
                    gram = statistics.median(g[op]["median_ms"] for _, g in rounds)
                    floor = statistics.median(g[op]["floor_ms"] for _, g in rounds)
                rows.append((op, shape, seed, peer, torch_floor, gram, floor))

    print(f"{'op':<14} {'shape':<18} {'seed ms':>9} {'peer ms':>8} {'torch floor':>12} {'peer/floor':>11} "
          f"{'gram4j ms':>10} {'gram4j floor':>13} {'gram4j/floor':>13} {'vs seed':>8} {'vs peer':>8} "
          f"{'vs peer, per floor':>19} {'seed/peer':>10}")
    for op, shape, seed, peer, torch_floor, gram, floor in rows:
        none = gram is None
        print(f"{op:<14} {shape:<18} {seed:>9.1f} {peer:>8.1f} {torch_floor:>12.1f} {peer / torch_floor:>11.2f} "
              f"{fmt(gram, '.1f', 10)} {fmt(floor, '.1f', 13)} "
              f"{fmt(None if none else gram / floor, '.2f', 13)} "
              f"{fmt(None if none else seed / gram, '.1f', 7)}{'' if none else 'x'} "
              f"{fmt(None if none else peer / gram, '.2f', 7)}{'' if none else 'x'} "
              f"{fmt(None if none else (peer / torch_floor) / (gram / floor), '.2f', 18)}{'' if none else 'x'} "
              f"{seed / peer:>9.1f}x")
    print("(ms: medians; vs seed / vs peer: gram4j's speed-up over the seed / over the GEMM-form peer; "
          "seed/peer: the peer's speed-up over the seed; torch floor / gram4j floor: the GEMMs gram4j's "
          "operation needs, timed by torch (interleaved with the peer) and by bin/gram (interleaved with "
          "gram4j) in their own processes; vs peer, per floor: (peer/torch floor) / (gram4j/gram4j floor), "
          "the speed-up with each side measured against its own GEMMs, which a slower or faster moment of "
          "the machine between the two processes does not move)")
    if args.rounds > 1:
        print("# per round (ms): seed / peer / torch floor / gram4j / gram4j floor")
        for shape, t, g in per_round:
            print("#   " + shape + "  " + "  ".join(
                f"{op} {t[(op, 'seed')]:.1f} / {t[(op, 'peer')]:.1f} / {t[(op, 'floor')]:.1f} / "
                + ("- / -" if g is None else f"{g[op]['median_ms']:.1f} / {g[op]['floor_ms']:.1f}") for op in OPS))


if __name__ == "__main__":
    main()
