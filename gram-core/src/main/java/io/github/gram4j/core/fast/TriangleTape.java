package io.github.gram4j.core.fast;

import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.RowOps;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The TRIANGLE score (ispamm/TRIANGLE, {@code utils/area.py}) of an anchor batch {@code T}
 * ({@code B1 × d}) against two candidate batches {@code V}, {@code A} ({@code B2 × d}) in GEMM
 * form, kept for its backward pass.
 *
 * <p><b>Scores.</b> For the triangle {@code (t_i, v_j, a_j)} with {@code u = t_i − v_j},
 * {@code w = t_i − a_j}: {@code q_ij = |u|²|w|² − (u·w)² = 4·area²}. The rootless score (the
 * training code's {@code area_computation}) is {@code q/2}; the geometric area (the README's
 * single-tuple function) is {@code sqrt(q)/2}.
 *
 * <p><b>How it is computed.</b> Not by expanding {@code |u|²|w|² − (u·w)²}, which cancels
 * catastrophically when the three points nearly coincide or when {@code v_j ≈ a_j}. With the
 * candidate-side edge {@code e_j = v_j − a_j} (an exact row difference, no GEMM) and
 * {@code r_ij = t_i − a_j}, {@code q = |e_j|²·h_ij²} where {@code h_ij² = |r|² − (r·ê_j)²} is the
 * squared distance of {@code t_i} from the line through {@code a_j} along {@code e_j}. Every term
 * comes from two GEMMs, {@code P = T'·A'ᵀ} and {@code Q = T'·Êᵀ}, and per-row constants:
 * {@code |r|² = |t'_i|² − 2P_ij + |a'_j|²}, {@code r·ê = Q_ij − a'_j·ê_j}. The primes mark rows
 * shifted by one common point {@code c} (the mean of the anchor and {@code A} rows' means): the
 * score is translation invariant, and the shift shrinks the magnitudes that the GEMM's rounding
 * scales with when the embeddings share a common offset. The GEMM form still leaves an absolute
 * error of a few ulps of {@code |t'_i|² + |a'_j|²} in {@code h²}; on the CPU backend the pairs
 * where that could matter ({@code h²} below {@link #refineThreshold} of it: the positives of
 * aligned embeddings, typically {@code O(B)} pairs) are recomputed directly from the input rows in
 * double ({@code O(d)} each; {@code O(B1·B2·d)} only if every pair nearly coincides).
 * {@code h²} is clamped at 0, so scores are never negative and never NaN.
 *
 * <p><b>Accuracy</b> (measured against exact arithmetic on the fixtures of
 * {@code reference/generate_triangle_fixtures.py}, element by element): DOUBLE within 3e-12,
 * FLOAT within 6e-7, near-coincident tuples included; the reference formula itself loses up to
 * 1.2e-9 in float64 and 49% in float32 on the same pairs.
 *
 * <p><b>Backward.</b> With {@code γ = ∂L/∂S·∂S/∂q·2} folded into {@code c1 = γ|e_j|²},
 * {@code c2 = γ (r·e)}, {@code c3 = γ|r|²} ({@code B1 × B2}):
 * {@code ∂L/∂t_i = t'_i Σ_j c1 − (C1·A')_i − (C2·E)_i},
 * {@code ∂L/∂v_j = e_j Σ_i c3 − (C2ᵀT')_j + a'_j Σ_i c2} and
 * {@code ∂L/∂a_j = (C2ᵀT' − C1ᵀT')_j + a'_j Σ_i (c1 − c2) + e_j Σ_i (c2 − c3)}: four GEMMs.
 *
 * <p><b>Degenerate floor (area only).</b> {@code ∂area/∂S = 1/(4·area)} is 1/0 at a zero-area
 * triangle, although the area's gradient is bounded (by half the longest edge). So {@code q} is
 * floored at {@code η·|e_j|²·(|t'_i|² + |a'_j|²)} (and at the dtype's smallest normal), that is
 * the triangle's height {@code h} at {@code sqrt(η)·sqrt(|t'_i|² + |a'_j|²)}: above the floor the
 * gradient is exact; below it, where rounding decides the direction of the height, it is damped
 * towards zero. On the host path, whose forward recomputes small heights exactly, the backward's
 * GEMMs resolve the height's direction down to a few ulps of the scale, so {@code sqrt(η)} is
 * {@code 64 ulp(1)} (7.6e-6 in FLOAT, 1.4e-14 in DOUBLE; {@link #floor}); the ND4J-ops path
 * keeps the GEMM-form heights, good to {@code sqrt(ulp)} of the scale, so there
 * {@code η = 64 ulp(1)} itself, as {@link VolumeTape#floor}. The rootless
 * score's gradient is a polynomial and needs no floor. Gradients are always finite.
 *
 * <p><b>Memory.</b> The tape keeps three {@code B1 × B2} arrays ({@code |r|²}, {@code r·ê}, the
 * scores); the backward two more ({@code C1}, {@code C2}).
 */
public final class TriangleTape implements ScoreTape {

    private final ModalityBatches batches;
    private final boolean rooted;
    private final boolean onHost;
    private final INDArray anchor;
    private final INDArray base;
    private final INDArray edge;
    private final double[] anchorSquares;
    private final double[] baseSquares;
    private final double[] edgeSquares;
    private final INDArray rr;
    private final INDArray re;
    private final INDArray scores;
    /** Per anchor row, the candidate columns the forward recomputed directly (null: none); null off the host. */
    private final int[][] refined;

    private TriangleTape(ModalityBatches batches, boolean rooted, boolean onHost, INDArray anchor, INDArray base,
            INDArray edge, double[] anchorSquares, double[] baseSquares, double[] edgeSquares, INDArray rr, INDArray re,
            INDArray scores, int[][] refined) {
        this.batches = batches;
        this.rooted = rooted;
        this.onHost = onHost;
        this.anchor = anchor;
        this.base = base;
        this.edge = edge;
        this.anchorSquares = anchorSquares;
        this.baseSquares = baseSquares;
        this.edgeSquares = edgeSquares;
        this.rr = rr;
        this.re = re;
        this.scores = scores;
        this.refined = refined;
    }

    /**
     * Runs the forward pass.
     *
     * @param batches the anchor and exactly two candidate batches ({@code V}, then {@code A})
     * @param rooted the geometric area {@code sqrt(q)/2} instead of the rootless {@code q/2}
     * @return the tape: the scores and what the backward needs
     * @throws IllegalArgumentException unless {@code batches} hold exactly three modalities, or if
     *     the scores could overflow the dtype
     */
    public static TriangleTape record(ModalityBatches batches, boolean rooted) {
        return record(batches, rooted, HostArray.available(), null);
    }

    /**
     * @param onHost elementwise work in fused host loops (CPU backend) or as ND4J ops (any backend)
     * @param out where to write the scores ({@code B1 × B2}, c-contiguous, the batches' dtype), or
     *     null to allocate them in the current workspace
     */
    static TriangleTape record(ModalityBatches batches, boolean rooted, boolean onHost, INDArray out) {
        requireThreeModalities(batches);
        DataType type = batches.dataType();
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        long d = batches.dim();
        INDArray v = batches.candidate(0);
        INDArray a = batches.candidate(1);
        // column means as GEMVs (RowOps.columnSums): ND4J's mean(0) walks strided columns of a c-order matrix
        INDArray shift = RowOps.columnSums(batches.anchor()).muli(0.5 / b1).addi(RowOps.columnSums(a).muli(0.5 / b2))
                .reshape(1, d);
        INDArray t = batches.anchor().subRowVector(shift);
        INDArray base = a.subRowVector(shift);
        INDArray edge = v.sub(a);
        double[] tt = RowOps.rowDots(t, t).castTo(DataType.DOUBLE).toDoubleVector();
        double[] aa = RowOps.rowDots(base, base).castTo(DataType.DOUBLE).toDoubleVector();
        double[] ee = RowOps.rowDots(edge, edge).castTo(DataType.DOUBLE).toDoubleVector();
        requireNoOverflow(type, tt, aa, ee);
        double[] inverseLength = new double[(int) b2];
        for (int j = 0; j < inverseLength.length; j++) {
            inverseLength[j] = ee[j] > 0 ? 1 / Math.sqrt(ee[j]) : 0.0;
        }
        INDArray unitEdge = edge.mulColumnVector(column(inverseLength, type));
        double[] baseAlongEdge = RowOps.rowDots(base, unitEdge).castTo(DataType.DOUBLE).toDoubleVector();
        INDArray rr = Nd4j.gemm(t, base, Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c'), false, true, 1.0, 0.0);
        INDArray re = Nd4j.gemm(t, unitEdge, Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c'), false, true, 1.0,
                0.0);
        INDArray scores = out != null ? out : Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        int[][] refined = null;
        if (onHost) {
            refined = epilogueOnHost(batches, tt, aa, ee, baseAlongEdge, rr, re, scores, rooted);
        } else {
            rr.muli(-2.0).addiColumnVector(column(tt, type)).addiRowVector(row(aa, type));
            Transforms.relu(rr, false);
            re.subiRowVector(row(baseAlongEdge, type));
            INDArray h2 = Transforms.relu(rr.sub(re.mul(re)), false);
            scores.assign(h2.muliRowVector(row(ee, type)));
            if (rooted) {
                Transforms.sqrt(scores, false);
            }
            scores.muli(0.5);
        }
        return new TriangleTape(batches, rooted, onHost, t, base, edge, tt, aa, ee, rr, re, scores, refined);
    }

    /**
     * {@code rr ← max(|r|², 0)}, {@code re ← r·ê}, {@code S ← q/2} or {@code sqrt(q)/2}, in double;
     * pairs whose GEMM-form {@code h²} is below {@link #refineThreshold} of
     * {@code |t'_i|² + |a'_j|²} (where the GEMM's rounding could cost digits) are recomputed
     * directly from the input rows.
     *
     * @return per row, the recomputed columns (null where none)
     */
    private static int[][] epilogueOnHost(ModalityBatches batches, double[] tt, double[] aa, double[] ee,
            double[] baseAlongEdge, INDArray rr, INDArray re, INDArray scores, boolean rooted) {
        int rows = (int) rr.size(0);
        int cols = (int) rr.size(1);
        int dim = (int) batches.dim();
        double kappa = refineThreshold(batches.dataType());
        HostArray p = HostArray.of(rr);
        HostArray q = HostArray.of(re);
        HostArray s = HostArray.of(scores);
        InputRows in = InputRows.of(batches);
        int[][] refined = new int[rows][];
        HostRows.forEach(rows, () -> new double[][] {new double[cols], new double[cols], new double[cols],
            new double[dim], new double[dim], new double[dim], new double[dim], new double[dim]}, (i, scratch) -> {
            int[] columns = null;
            int count = 0;
            double[] x = scratch[0];
            double[] y = scratch[1];
            double[] out = scratch[2];
            double[] t = scratch[3];
            double[] v = scratch[4];
            double[] a = scratch[5];
            double[] r = scratch[6];
            double[] e = scratch[7];
            boolean anchorRead = false;
            p.read((long) i * cols, x, cols);
            q.read((long) i * cols, y, cols);
            for (int j = 0; j < cols; j++) {
                double squaredDistance = Math.max(tt[i] - 2 * x[j] + aa[j], 0.0);
                double along = y[j] - baseAlongEdge[j];
                double height2 = Math.max(squaredDistance - along * along, 0.0);
                double edge2 = ee[j];
                if (height2 < kappa * (tt[i] + aa[j]) && ee[j] > 0) {
                    if (!anchorRead) {
                        in.t().read((long) i * dim, t, dim);
                        anchorRead = true;
                    }
                    in.v().read((long) j * dim, v, dim);
                    in.a().read((long) j * dim, a, dim);
                    PairVectors pair = PairVectors.of(t, v, a, r, e);
                    double unit = pair.re / pair.ee;
                    height2 = 0;
                    for (int c = 0; c < dim; c++) {
                        double residual = r[c] - unit * e[c];
                        height2 += residual * residual;
                    }
                    edge2 = pair.ee;
                    squaredDistance = pair.rr;
                    along = pair.re / Math.sqrt(edge2);
                    if (columns == null || count == columns.length) {
                        columns = java.util.Arrays.copyOf(columns == null ? new int[0] : columns, Math.max(4, 2 * count));
                    }
                    columns[count++] = j;
                }
                double four = edge2 * height2;
                out[j] = rooted ? 0.5 * Math.sqrt(four) : 0.5 * four;
                x[j] = squaredDistance;
                y[j] = along;
            }
            p.write((long) i * cols, x, cols);
            q.write((long) i * cols, y, cols);
            s.write((long) i * cols, out, cols);
            refined[i] = columns == null ? null : java.util.Arrays.copyOf(columns, count);
        });
        for (int[] row : refined) {
            if (row != null) {
                return refined;
            }
        }
        return null;
    }

    /**
     * {@code κ}: pairs with {@code h² < κ·(|t'_i|² + |a'_j|²)} are recomputed directly. The GEMM
     * form's {@code h²} carries an absolute error of a few ulps of {@code |t'_i|² + |a'_j|²}, so
     * the pairs it keeps have a relative error of at most a few {@code ulp/κ}: ~1e-5 in FLOAT
     * ({@code κ = 1e-2}), ~1e-12 in DOUBLE ({@code κ = 1e-4}).
     */
    static double refineThreshold(DataType type) {
        return type == DataType.DOUBLE ? 1e-4 : 1e-2;
    }

    @Override
    public INDArray scores() {
        return scores;
    }

    @Override
    public ModalityBatches batches() {
        return batches;
    }

    /** How many pairs the forward recomputed from the rows (0 off the host). */
    int refinedPairCount() {
        int count = 0;
        for (int n = 0; refined != null && n < refined.length; n++) {
            count += refined[n] == null ? 0 : refined[n].length;
        }
        return count;
    }

    /** {@return whether the scores are the geometric area ({@code sqrt(q)/2}) rather than {@code q/2}} */
    public boolean rooted() {
        return rooted;
    }

    @Override
    public VolumeGradients backward(INDArray g, boolean anchorGradient, boolean candidateGradients) {
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        if (g == null || g.rank() != 2 || g.size(0) != b1 || g.size(1) != b2) {
            throw new IllegalArgumentException("g must be " + b1 + " x " + b2 + " (the score matrix), got shape "
                    + (g == null ? "null" : java.util.Arrays.toString(g.shape())));
        }
        DataType type = batches.dataType();
        boolean contiguous = g.ordering() == 'c' && g.elementWiseStride() == 1;
        INDArray upstream = g.dataType() == type && contiguous ? g : g.castTo(type).dup('c');
        INDArray c1 = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        INDArray c2 = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        double[] rowSums1 = new double[(int) b1];
        double[][] columnSums = new double[3][(int) b2];
        pairTerms(upstream, c1, c2, rowSums1, columnSums);
        INDArray anchorGrad = null;
        if (anchorGradient) {
            anchorGrad = anchor.mulColumnVector(column(rowSums1, type));
            Nd4j.gemm(c1, base, anchorGrad, false, false, -1.0, 1.0);
            Nd4j.gemm(c2, edge, anchorGrad, false, false, -1.0, 1.0);
            if (refined != null) {
                addRefinedAnchorTerms(upstream, anchorGrad);
            }
        }
        List<INDArray> candidateGrads = List.of();
        if (candidateGradients) {
            INDArray h2 = Nd4j.gemm(c2, anchor, true, false);
            int n = (int) b2;
            double[] edgeWeight = new double[n];
            double[] baseWeightV = columnSums[1];
            double[] baseWeightA = new double[n];
            double[] edgeWeightA = new double[n];
            for (int j = 0; j < n; j++) {
                edgeWeight[j] = columnSums[2][j];
                baseWeightA[j] = columnSums[0][j] - columnSums[1][j];
                edgeWeightA[j] = columnSums[1][j] - columnSums[2][j];
            }
            INDArray gradV = edge.mulColumnVector(column(edgeWeight, type))
                    .addi(base.mulColumnVector(column(baseWeightV, type))).subi(h2);
            INDArray gradA = Nd4j.gemm(c1, anchor, h2, true, false, -1.0, 1.0)
                    .addi(base.mulColumnVector(column(baseWeightA, type)))
                    .addi(edge.mulColumnVector(column(edgeWeightA, type)));
            if (refined != null) {
                addRefinedCandidateTerms(upstream, gradV, gradA);
            }
            candidateGrads = List.of(gradV, gradA);
        }
        return new VolumeGradients(anchorGrad, candidateGrads);
    }

    /**
     * Fills {@code C1 = γ|e|²}, {@code C2 = γ (r·e)}, the row sums of {@code C1} and the column sums
     * of {@code C1}, {@code C2}, {@code C3 = γ|r|²}, where {@code γ = g} for the rootless score
     * and {@code g / (2·max(sqrt(q), sqrt(floor)))} for the area, with {@code sqrt(q) = 2·area}
     * taken from the forward scores (exact where the forward refined the pair).
     */
    private void pairTerms(INDArray g, INDArray c1, INDArray c2, double[] rowSums1, double[][] columnSums) {
        DataType type = batches.dataType();
        double eta = floor(type, onHost);
        double tiny = type == DataType.DOUBLE ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        int rows = (int) g.size(0);
        int cols = (int) g.size(1);
        double[] edgeLength = new double[cols];
        for (int j = 0; j < cols; j++) {
            edgeLength[j] = Math.sqrt(edgeSquares[j]);
        }
        if (!onHost) {
            INDArray gamma = g.dup('c');
            if (rooted) {
                INDArray floor = Nd4j.zeros(type, rows, cols).addiColumnVector(column(anchorSquares, type))
                        .addiRowVector(row(baseSquares, type)).muliRowVector(row(edgeSquares, type)).muli(eta);
                INDArray rootFloor = Transforms.sqrt(Transforms.max(floor, tiny, false), false);
                gamma.divi(Transforms.max(scores.mul(2.0), rootFloor, false).muli(2.0));
            }
            c1.assign(gamma.mulRowVector(row(edgeSquares, type)));
            c2.assign(gamma.mul(re).muliRowVector(row(edgeLength, type)));
            INDArray c3 = gamma.mul(rr);
            System.arraycopy(c1.sum(1).castTo(DataType.DOUBLE).toDoubleVector(), 0, rowSums1, 0, rows);
            System.arraycopy(RowOps.columnSums(c1).castTo(DataType.DOUBLE).toDoubleVector(), 0, columnSums[0], 0, cols);
            System.arraycopy(RowOps.columnSums(c2).castTo(DataType.DOUBLE).toDoubleVector(), 0, columnSums[1], 0, cols);
            System.arraycopy(RowOps.columnSums(c3).castTo(DataType.DOUBLE).toDoubleVector(), 0, columnSums[2], 0, cols);
            return;
        }
        HostArray gHost = HostArray.of(g);
        HostArray rrHost = HostArray.of(rr);
        HostArray reHost = HostArray.of(re);
        HostArray areaHost = HostArray.of(scores);
        HostArray c1Host = HostArray.of(c1);
        HostArray c2Host = HostArray.of(c2);
        final class Scratch {
            final double[] g = new double[cols];
            final double[] rr = new double[cols];
            final double[] re = new double[cols];
            final double[] area = new double[cols];
            final double[] x = new double[cols];
            final double[] y = new double[cols];
            final double[][] sums = new double[3][cols];
            final boolean[] skip = new boolean[cols];
        }
        List<Scratch> partials = HostRows.forEachCollecting(rows, Scratch::new, (i, s) -> {
            gHost.read((long) i * cols, s.g, cols);
            rrHost.read((long) i * cols, s.rr, cols);
            reHost.read((long) i * cols, s.re, cols);
            if (rooted) {
                areaHost.read((long) i * cols, s.area, cols);
            }
            double rowSum = 0;
            int[] exact = refined == null ? null : refined[i];
            if (exact != null) {
                for (int j : exact) {
                    s.skip[j] = true;
                }
            }
            for (int j = 0; j < cols; j++) {
                if (s.skip[j]) {
                    // a recomputed pair: its exact terms are added by addRefined…Terms, not through the GEMMs
                    s.skip[j] = false;
                    s.x[j] = 0;
                    s.y[j] = 0;
                    continue;
                }
                double gamma = s.g[j];
                if (rooted) {
                    double floor = Math.max(eta * edgeSquares[j] * (anchorSquares[i] + baseSquares[j]), tiny);
                    gamma /= 2 * Math.max(2 * s.area[j], Math.sqrt(floor));
                }
                double term1 = gamma * edgeSquares[j];
                double term2 = gamma * s.re[j] * edgeLength[j];
                s.x[j] = term1;
                s.y[j] = term2;
                rowSum += term1;
                s.sums[0][j] += term1;
                s.sums[1][j] += term2;
                s.sums[2][j] += gamma * s.rr[j];
            }
            rowSums1[i] = rowSum;
            c1Host.write((long) i * cols, s.x, cols);
            c2Host.write((long) i * cols, s.y, cols);
        });
        for (Scratch s : partials) {
            for (int k = 0; k < 3; k++) {
                for (int j = 0; j < cols; j++) {
                    columnSums[k][j] += s.sums[k][j];
                }
            }
        }
    }

    /** {@code γ_ij = ∂L/∂q_ij · 2}: {@code g} for the rootless score, {@code g / (2·max(2·area, sqrt(floor)))} for the area. */
    private double gamma(int i, int j, double g, double area, double eta, double tiny) {
        if (!rooted) {
            return g;
        }
        double floor = Math.max(eta * edgeSquares[j] * (anchorSquares[i] + baseSquares[j]), tiny);
        return g / (2 * Math.max(2 * area, Math.sqrt(floor)));
    }

    /**
     * Adds {@code Σ_j γ_ij (|e_j|² r_ij − (r_ij·e_j) e_j)} over the recomputed pairs of each anchor
     * row to {@code anchorGrad}, with {@code r} and {@code e} taken directly from the input rows in
     * double (the GEMM form would resolve the small heights of these pairs only to a few ulps of
     * the scale).
     */
    private void addRefinedAnchorTerms(INDArray g, INDArray anchorGrad) {
        int rows = (int) batches.anchorRows();
        int cols = (int) batches.candidateRows();
        int dim = (int) batches.dim();
        DataType type = batches.dataType();
        double eta = floor(type, onHost);
        double tiny = type == DataType.DOUBLE ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        HostArray gHost = HostArray.of(g);
        HostArray areaHost = HostArray.of(scores);
        InputRows in = InputRows.of(batches);
        double[][] extra = new double[rows][];
        HostRows.forEach(rows, () -> new double[5][dim], (i, w) -> {
            if (refined[i] == null) {
                return;
            }
            double[] acc = new double[dim];
            in.t().read((long) i * dim, w[0], dim);
            for (int j : refined[i]) {
                in.readCandidates(j, w);
                PairVectors pv = PairVectors.of(w[0], w[1], w[2], w[3], w[4]);
                double gamma = gamma(i, j, gHost.get((long) i * cols + j), areaHost.get((long) i * cols + j), eta, tiny);
                for (int c = 0; c < dim; c++) {
                    acc[c] += gamma * (pv.ee * w[3][c] - pv.re * w[4][c]);
                }
            }
            extra[i] = acc;
        });
        addRows(anchorGrad, extra);
    }

    /**
     * Adds the recomputed pairs' exact terms to the candidate gradients:
     * {@code ∂v_j += Σ_i γ (|r|² e − (r·e) r)} and {@code ∂a_j += −Σ_i γ ((|e|² − r·e) r + (|r|² − r·e) e)}.
     */
    private void addRefinedCandidateTerms(INDArray g, INDArray gradV, INDArray gradA) {
        int rows = (int) batches.anchorRows();
        int cols = (int) batches.candidateRows();
        int dim = (int) batches.dim();
        DataType type = batches.dataType();
        double eta = floor(type, onHost);
        double tiny = type == DataType.DOUBLE ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        int[] counts = new int[cols];
        for (int[] row : refined) {
            if (row != null) {
                for (int j : row) {
                    counts[j]++;
                }
            }
        }
        int[][] byColumn = new int[cols][];
        for (int j = 0; j < cols; j++) {
            byColumn[j] = counts[j] == 0 ? null : new int[counts[j]];
            counts[j] = 0;
        }
        for (int i = 0; i < rows; i++) {
            if (refined[i] != null) {
                for (int j : refined[i]) {
                    byColumn[j][counts[j]++] = i;
                }
            }
        }
        HostArray gHost = HostArray.of(g);
        HostArray areaHost = HostArray.of(scores);
        InputRows in = InputRows.of(batches);
        double[][] extraV = new double[cols][];
        double[][] extraA = new double[cols][];
        HostRows.forEach(cols, () -> new double[5][dim], (j, w) -> {
            if (byColumn[j] == null) {
                return;
            }
            double[] accV = new double[dim];
            double[] accA = new double[dim];
            in.readCandidates(j, w);
            for (int i : byColumn[j]) {
                in.t().read((long) i * dim, w[0], dim);
                PairVectors pv = PairVectors.of(w[0], w[1], w[2], w[3], w[4]);
                double gamma = gamma(i, j, gHost.get((long) i * cols + j), areaHost.get((long) i * cols + j), eta, tiny);
                for (int c = 0; c < dim; c++) {
                    double r = w[3][c];
                    double e = w[4][c];
                    double dv = gamma * (pv.rr * e - pv.re * r);
                    double dt = gamma * (pv.ee * r - pv.re * e);
                    accV[c] += dv;
                    accA[c] -= dv + dt;
                }
            }
            extraV[j] = accV;
            extraA[j] = accA;
        });
        addRows(gradV, extraV);
        addRows(gradA, extraA);
    }

    /** Host views of the three input batches: anchor {@code t}, candidates {@code v} and {@code a}. */
    private record InputRows(HostArray t, HostArray v, HostArray a, int dim) {
        static InputRows of(ModalityBatches batches) {
            return new InputRows(HostArray.ofAny(batches.anchor()), HostArray.ofAny(batches.candidate(0)),
                    HostArray.ofAny(batches.candidate(1)), (int) batches.dim());
        }

        /** Candidate row {@code j} of {@code v} into {@code w[1]} and of {@code a} into {@code w[2]}. */
        void readCandidates(int j, double[][] w) {
            v.read((long) j * dim, w[1], dim);
            a.read((long) j * dim, w[2], dim);
        }
    }

    /** {@code r = t − a}, {@code e = v − a} (written into {@code r}, {@code e}) and their dot products. */
    private record PairVectors(double rr, double re, double ee) {
        static PairVectors of(double[] t, double[] v, double[] a, double[] r, double[] e) {
            double rr = 0;
            double re = 0;
            double ee = 0;
            for (int c = 0; c < t.length; c++) {
                r[c] = t[c] - a[c];
                e[c] = v[c] - a[c];
                rr += r[c] * r[c];
                re += r[c] * e[c];
                ee += e[c] * e[c];
            }
            return new PairVectors(rr, re, ee);
        }
    }

    /** {@code target[n] += rows[n]} for the rows that are not null (only those are touched). */
    private static void addRows(INDArray target, double[][] rows) {
        int dim = (int) target.size(1);
        INDArray contiguous = target.ordering() == 'c' && target.elementWiseStride() == 1 ? target : target.dup('c');
        HostArray host = HostArray.of(contiguous);
        double[] row = new double[dim];
        for (int n = 0; n < rows.length; n++) {
            if (rows[n] != null) {
                host.read((long) n * dim, row, dim);
                for (int c = 0; c < dim; c++) {
                    row[c] += rows[n][c];
                }
                host.write((long) n * dim, row, dim);
            }
        }
        if (contiguous != target) {
            target.assign(contiguous);
        }
    }

    /** {@code η} of the area's gradient floor (see the class comment). */
    static double floor(DataType type, boolean onHost) {
        double eta = VolumeTape.floor(type);
        return onHost ? eta * eta : eta;
    }

    /**
     * Refuses anything but three modalities.
     *
     * @param batches validated inputs
     * @throws IllegalArgumentException unless the batches hold exactly three modalities (an anchor
     *     and two candidate batches)
     */
    public static void requireThreeModalities(ModalityBatches batches) {
        if (batches.k() != 3) {
            throw new IllegalArgumentException("TRIANGLE needs exactly 3 modalities (an anchor and 2 candidate batches),"
                    + " got " + batches.k() + " (" + batches.candidateModalities() + " candidate batch"
                    + (batches.candidateModalities() == 1 ? "" : "es") + ")");
        }
    }

    /**
     * Refuses batches whose rootless score (at most {@code |e|²(|t'| + |a'|)²/2}) or squared distance
     * {@code |t' − a'|²} (at most {@code (|t'| + |a'|)²}, kept in the dtype) could overflow the dtype,
     * with a factor 4 to spare for the backward's products.
     */
    private static void requireNoOverflow(DataType type, double[] tt, double[] aa, double[] ee) {
        double reach = Math.pow(Math.sqrt(max(tt)) + Math.sqrt(max(aa)), 2); // bounds |t'_i - a'_j|², held in the dtype
        double bound = Math.max(0.5 * max(ee) * reach, reach);
        double limit = (type == DataType.DOUBLE ? Double.MAX_VALUE : Float.MAX_VALUE) / 4;
        if (!(bound <= limit)) {
            throw new IllegalArgumentException("TRIANGLE scores of these batches may reach " + bound + ", beyond the "
                    + type + " range (max |v_j - a_j|^2 = " + max(ee) + "); rescale the embeddings"
                    + (type == DataType.DOUBLE ? "" : " or use DOUBLE"));
        }
    }

    private static double max(double[] values) {
        double m = 0;
        for (double x : values) {
            m = Math.max(m, x);
        }
        return m;
    }

    private static INDArray column(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(values.length, 1);
    }

    private static INDArray row(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(1, values.length);
    }
}
