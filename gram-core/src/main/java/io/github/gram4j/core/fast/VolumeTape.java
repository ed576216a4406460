package io.github.gram4j.core.fast;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.NumericalPolicy;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.RowOps;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The FAST forward pass, keeping what its backward needs: the candidate bases, the GEMM outputs
 * {@code w_m = A·Q_mᵀ}, the squared distances {@code s} and the volumes. Then
 * {@link #backward} maps {@code g = ∂L/∂V} to the gradients of the anchor and candidate batches
 * with {@code 2K} GEMMs and {@code O(B1·B2·K²)} elementwise work — never a per-pair loop, never
 * the {@code (B1, B2, k, k)} tensor.
 *
 * <p>Identities (per pair, {@code c = g·V/s}, {@code y = R⁻¹w}, {@code C⁻¹ = R⁻¹R⁻ᵀ}):
 * {@code ∂L/∂a_i = a_i Σ_j c_ij − Σ_m Σ_j c_ij w_{m,ij} q_{m,j}} and
 * {@code ∂L/∂x_{m,j} = −Σ_i c_ij y_{m,ij} a_i + Σ_l [C⁻¹_{ml,j} Σ_i g_ij V_ij
 * + Σ_i c_ij y_{m,ij} y_{l,ij}] x_{l,j}}. Both gradients are GEMMs of the same {@code K} matrices
 * {@code c⊙w_m}: the first term of {@code ∂L/∂x_m} is {@code −Σ_{l ≥ m} R⁻¹_{ml,j} H_{l,j}} with
 * {@code H_l = (c⊙w_l)ᵀ·A}.
 *
 * <p><b>Degenerate floor.</b> The gradient of a volume is bounded, but these formulas reach it
 * through quotients that are 0/0 at degenerate tuples. So {@code s} is floored at
 * {@code η·|a_i|²} and each {@code ρ_{m,j}} at {@code sqrt(η)·|x_{m,j}|}, with
 * {@code η = 64 ulp(1)} of the dtype ({@link #floor}: 1.4e-14 in DOUBLE, 7.6e-6 in FLOAT). Above
 * the floor the gradient is exact; below it (a volume under ~{@code sqrt(η)} of its scale, where
 * rounding already dominates its direction) it is damped towards zero. Zero vectors give zero
 * gradient contributions. Gradients are always finite.
 *
 * <p><b>Memory.</b> The tape keeps {@code (K + 2)·B1·B2} numbers ({@code w}, {@code s},
 * {@code V}) and the backward {@code K·B1·B2} more ({@code c⊙w_m}). Above
 * {@value #TAPE_ELEMENTS} tape elements (on the CPU backend) it keeps only {@code V} and the backward recomputes {@code w} and {@code s}
 * in blocks of anchor rows, reusing {@value #BLOCK_ELEMENTS}-element scratch: {@code K} more
 * GEMMs, memory {@code O(B1·B2 + block)}.
 *
 * <p>All arrays, including the gradients, are allocated in the workspace that is current when
 * {@link #record} and {@link #backward} run: open one around both, and detach what you keep.
 * One tape per thread.
 */
public final class VolumeTape implements ScoreTape {

    private final ModalityBatches batches;
    private final CandidateBasis basis;
    private final List<INDArray> w;
    private final INDArray s;
    private final INDArray volumes;
    private final boolean onHost;
    /** Anchor rows per backward block; {@code B1} when {@link #w} and {@link #s} are kept whole. */
    private final int blockRows;

    /** Elements the tape may keep beyond {@code V}: {@code (K + 2)·B1·B2} above it, the tape goes blockwise. */
    static final long TAPE_ELEMENTS = 1L << 27;

    /** Scratch elements a blockwise tape uses per block (forward GEMM blocks, backward block arrays). */
    static final long BLOCK_ELEMENTS = 1L << 24;

    private VolumeTape(ModalityBatches batches, CandidateBasis basis, List<INDArray> w, INDArray s,
            INDArray volumes, boolean onHost, int blockRows) {
        this.batches = batches;
        this.basis = basis;
        this.w = w;
        this.s = s;
        this.volumes = volumes;
        this.onHost = onHost;
        this.blockRows = blockRows;
    }

    /**
     * {@code η} for a dtype: 64 units in the last place of 1 ({@link NumericalPolicy#degenerateFloor}).
     *
     * @param type the computation dtype
     * @return {@code η}: 1.4e-14 for DOUBLE, 7.6e-6 otherwise
     */
    public static double floor(DataType type) {
        return NumericalPolicy.degenerateFloor(type);
    }

    /**
     * Anchor rows per backward block: {@code B1} when the whole tape is kept, fewer when the tape
     * keeps only {@code V} and the backward recomputes it in blocks (for tests).
     */
    int blockRows() {
        return w == null ? blockRows : (int) batches.anchorRows();
    }

    /** Whether the tape keeps only {@code V} and the backward recomputes in blocks (for tests). */
    boolean blockwise() {
        return w == null;
    }

    /**
     * Runs the forward pass of the pairwise volume of validated batches.
     *
     * @param batches validated inputs
     * @return the tape: {@code V} and what the backward needs
     * @throws IllegalArgumentException if the volumes may exceed the dtype's range
     *     ({@link ModalityBatches#requireRepresentableVolumes()}), before any work
     */
    public static VolumeTape record(ModalityBatches batches) {
        return record(batches, HostArray.available(), TAPE_ELEMENTS);
    }

    /**
     * @param onHost elementwise work in fused host loops (CPU backend) or as ND4J ops (any
     *     backend); both give the same numbers up to rounding
     * @param tapeElements on the host, when {@code (K + 2)·B1·B2} exceeds this the tape keeps only
     *     {@code V} and the backward recomputes {@code w} and {@code s} in blocks of anchor rows
     *     ({@code K} more GEMMs; scratch per block bounded by {@code min(tapeElements,
     *     BLOCK_ELEMENTS)} elements)
     */
    static VolumeTape record(ModalityBatches batches, boolean onHost, long tapeElements) {
        batches.requireRepresentableVolumes();
        CandidateBasis basis = CandidateBasis.of(batches.candidates(), onHost);
        INDArray anchor = batches.anchor();
        DataType type = batches.dataType();
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        int kk = basis.size();
        if (onHost && (kk + 2) * b1 * b2 > tapeElements) {
            long blockElements = Math.min(tapeElements, BLOCK_ELEMENTS);
            INDArray volumes = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
            FastVolume.volumesInto(anchor, batches.anchorSquaredNorms(), basis, volumes, VolumeEpilogue.HOST,
                    blockElements);
            int rows = (int) Math.max(1, Math.min(b1, blockElements / ((2L * kk + 3) * b2)));
            return new VolumeTape(batches, basis, null, null, volumes, true, rows);
        }
        List<INDArray> w = new ArrayList<>(basis.size());
        for (int m = 0; m < basis.size(); m++) {
            w.add(Nd4j.gemm(anchor, basis.q(m), Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c'),
                    false, true, 1.0, 0.0));
        }
        INDArray s = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        INDArray volumes = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        if (onHost) {
            VolumeEpilogue.HOST.apply(batches.anchorSquaredNorms(), w, basis.rhoProduct(), volumes, s);
        } else {
            s.assign(w.get(0)).muli(w.get(0));
            for (int m = 1; m < w.size(); m++) {
                s.addi(w.get(m).mul(w.get(m)));
            }
            s.rsubiColumnVector(batches.anchorSquaredNorms().reshape(b1, 1));
            Transforms.relu(volumes.assign(s), false);
            Transforms.sqrt(volumes, false);
            volumes.muliRowVector(basis.rhoProduct().reshape(1, b2));
        }
        return new VolumeTape(batches, basis, w, s, volumes, onHost, (int) b1);
    }

    /** {@return {@code V}, {@code B1 × B2}, in the batches' dtype} */
    public INDArray volumes() {
        return volumes;
    }

    /** {@return {@code V}, the same array as {@link #volumes()}} */
    @Override
    public INDArray scores() {
        return volumes;
    }

    /** {@return the validated inputs this tape was recorded on} */
    @Override
    public ModalityBatches batches() {
        return batches;
    }

    /**
     * Back-propagates {@code g = ∂L/∂V} ({@code B1 × B2}, the batches' dtype).
     *
     * @param g {@code ∂L/∂V}, {@code B1 × B2}, in the batches' dtype
     * @param anchorGradient whether to compute {@code ∂L/∂anchor}
     * @param candidateGradients whether to compute {@code ∂L/∂candidates[m]}
     * @return {@code ∂L/∂anchor} and {@code ∂L/∂candidates[m]} (null where not asked for)
     */
    @Override
    public VolumeGradients backward(INDArray g, boolean anchorGradient, boolean candidateGradients) {
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        if (g.rank() != 2 || g.size(0) != b1 || g.size(1) != b2) {
            throw new IllegalArgumentException("g must be " + b1 + " x " + b2 + " (the volume matrix), got shape "
                    + java.util.Arrays.toString(g.shape()));
        }
        DataType type = batches.dataType();
        boolean contiguous = g.ordering() == 'c' && g.elementWiseStride() == 1;
        INDArray upstream = g.dataType() == type && contiguous ? g : g.castTo(type).dup('c');
        double eta = floor(type);
        double tinySquare = NumericalPolicy.tiny(type);
        double[] sFloor = batches.anchorSquaredNorms().castTo(DataType.DOUBLE).toDoubleVector();
        for (int i = 0; i < sFloor.length; i++) {
            sFloor[i] = sFloor[i] >= tinySquare ? eta * sFloor[i] : 1.0;
        }
        double[][][] rInv = candidateGradients ? flooredInverseR(eta, tinySquare) : null;
        int kk = basis.size();
        INDArray anchor = batches.anchor();
        INDArray anchorGrad = anchorGradient ? Nd4j.createUninitialized(type, new long[] {b1, batches.dim()}, 'c') : null;
        // H_l = Σ_i c_ij w_{l,ij} a_i, B2 × d: the candidate gradients are column-scaled sums of these
        List<INDArray> weightedAnchors = new ArrayList<>();
        for (int l = 0; candidateGradients && l < kk; l++) {
            weightedAnchors.add(Nd4j.createUninitialized(type, new long[] {b2, batches.dim()}, 'c'));
        }
        double[][][] cyy = candidateGradients ? new double[kk][kk][(int) b2] : null;
        double[] gv = candidateGradients ? new double[(int) b2] : null;

        BlockScratch scratch = w == null ? new BlockScratch(type, kk, blockRows, b2) : null;
        for (long r0 = 0; r0 < b1; r0 += blockRows) {
            long r1 = Math.min(b1, r0 + blockRows);
            boolean whole = r0 == 0 && r1 == b1;
            INDArray rowsOfAnchor = whole ? anchor : rows(anchor, r0, r1);
            List<INDArray> wBlock;
            INDArray sBlock;
            if (w != null) {
                wBlock = w;
                sBlock = s;
            } else {
                wBlock = scratch.w(r1 - r0);
                sBlock = scratch.s(r1 - r0);
                for (int m = 0; m < kk; m++) {
                    Nd4j.gemm(rowsOfAnchor, basis.q(m), wBlock.get(m), false, true, 1.0, 0.0);
                }
                INDArray norms = batches.anchorSquaredNorms().get(NDArrayIndex.interval(r0, r1));
                VolumeEpilogue.HOST.apply(norms, wBlock, basis.rhoProduct(), scratch.v(r1 - r0), sBlock);
            }
            INDArray gBlock = whole ? upstream : rows(upstream, r0, r1);
            INDArray vBlock = whole ? volumes : rows(volumes, r0, r1);
            PairTerms terms = onHost
                    ? pairTermsOnHost(gBlock, vBlock, sBlock, wBlock, sFloor, (int) r0, rInv,
                            scratch == null ? null : scratch.terms(r1 - r0))
                    : pairTermsWithOps(gBlock, vBlock, sBlock, wBlock, sFloor, rInv);
            if (anchorGradient) {
                INDArray part = rowsOfAnchor.mulColumnVector(terms.rowSumsOfC);
                for (int m = 0; m < kk; m++) {
                    Nd4j.gemm(terms.cw.get(m), basis.q(m), part, false, false, -1.0, 1.0);
                }
                if (whole) {
                    anchorGrad = part;
                } else {
                    rows(anchorGrad, r0, r1).assign(part);
                }
            }
            if (candidateGradients) {
                for (int m = 0; m < kk; m++) {
                    Nd4j.gemm(terms.cw.get(m), rowsOfAnchor, weightedAnchors.get(m), true, false, 1.0, r0 == 0 ? 0.0 : 1.0);
                    for (int l = 0; l < kk; l++) {
                        double[] from = terms.cyy[m][l];
                        double[] to = cyy[m][l];
                        for (int j = 0; j < to.length; j++) {
                            to[j] += from[j];
                        }
                    }
                }
                for (int j = 0; j < gv.length; j++) {
                    gv[j] += terms.gv[j];
                }
            }
        }
        List<INDArray> candidateGrads = new ArrayList<>();
        for (int m = 0; candidateGradients && m < kk; m++) {
            int rows = (int) b2;
            double[][] coefficients = new double[kk][rows];
            for (int l = 0; l < kk; l++) {
                for (int j = 0; j < rows; j++) {
                    double cInv = 0;
                    for (int p = Math.max(m, l); p < kk; p++) {
                        cInv += rInv[m][p][j] * rInv[l][p][j];
                    }
                    coefficients[l][j] = cyy[m][l][j] + cInv * gv[j];
                }
            }
            // −Σ_i c_ij y_{m,ij} a_i with y_m = Σ_{l ≥ m} R⁻¹_{ml} w_l: −Σ_{l ≥ m} R⁻¹_{ml,j} H_{l,j}
            double[][] weights = new double[kk][];
            for (int l = m; l < kk; l++) {
                weights[l] = new double[rows];
                for (int j = 0; j < rows; j++) {
                    weights[l][j] = -rInv[m][l][j];
                }
            }
            candidateGrads.add(candidateCombination(coefficients, weights, weightedAnchors));
        }
        return new VolumeGradients(anchorGrad, candidateGrads);
    }

    private static INDArray rows(INDArray x, long from, long to) {
        return x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
    }

    /**
     * Reused per-block arrays of the blockwise backward: {@code w_m}, {@code s}, a spare {@code V},
     * and the {@code K} pair-term outputs; allocated once, so the workspace does not grow with
     * the number of blocks.
     */
    private static final class BlockScratch {
        private final List<INDArray> w = new ArrayList<>();
        private final List<INDArray> terms = new ArrayList<>();
        private final INDArray s;
        private final INDArray v;
        private final int fullRows;

        BlockScratch(DataType type, int kk, int rows, long cols) {
            for (int m = 0; m < kk; m++) {
                w.add(Nd4j.createUninitialized(type, new long[] {rows, cols}, 'c'));
            }
            for (int m = 0; m < kk; m++) {
                terms.add(Nd4j.createUninitialized(type, new long[] {rows, cols}, 'c'));
            }
            s = Nd4j.createUninitialized(type, new long[] {rows, cols}, 'c');
            v = Nd4j.createUninitialized(type, new long[] {rows, cols}, 'c');
            fullRows = rows;
        }

        List<INDArray> w(long rows) {
            return rows == fullRows ? w : w.stream().map(x -> VolumeTape.rows(x, 0, rows)).toList();
        }

        List<INDArray> terms(long rows) {
            return rows == fullRows ? terms : terms.stream().map(x -> VolumeTape.rows(x, 0, rows)).toList();
        }

        INDArray s(long rows) {
            return rows == fullRows ? s : VolumeTape.rows(s, 0, rows);
        }

        INDArray v(long rows) {
            return rows == fullRows ? v : VolumeTape.rows(v, 0, rows);
        }
    }

    /**
     * The per-pair terms of the backward pass, reduced or laid out for GEMMs: {@code c⊙w_m}
     * ({@code B1 × B2} each; both gradients are GEMMs of these), the row sums of {@code c}
     * ({@code B1 × 1}), and the column sums {@code Σ_i c y_m y_l} and {@code Σ_i g V}
     * ({@code B2} each, in double; {@code y_m = Σ_{l ≥ m} R⁻¹_{ml} w_l} is never stored).
     */
    private record PairTerms(List<INDArray> cw, INDArray rowSumsOfC, double[][][] cyy, double[] gv) {
    }

    /**
     * One fused pass over the pairs, rows in parallel, arithmetic in double.
     *
     * @param reuse {@code K} arrays of the block's shape to write {@code c⊙w_m} into, or null to
     *     allocate them
     */
    private PairTerms pairTermsOnHost(INDArray g, INDArray volumes, INDArray s, List<INDArray> w, double[] sFloor,
            int rowOffset, double[][][] rInv, List<INDArray> reuse) {
        int kk = basis.size();
        int rows = (int) g.size(0);
        int cols = (int) batches.candidateRows();
        DataType type = batches.dataType();
        boolean candidates = rInv != null;
        HostArray gHost = HostArray.of(g);
        HostArray vHost = HostArray.of(volumes);
        HostArray sHost = HostArray.of(s);
        HostArray[] wHost = w.stream().map(HostArray::of).toArray(HostArray[]::new);
        List<INDArray> cw = new ArrayList<>();
        for (int m = 0; m < kk; m++) {
            cw.add(reuse != null ? reuse.get(m) : Nd4j.createUninitialized(type, new long[] {rows, cols}, 'c'));
        }
        HostArray[] cwHost = cw.stream().map(HostArray::of).toArray(HostArray[]::new);
        double[] rowSums = new double[rows];

        final class Scratch {
            final double[][] w = new double[kk][cols];
            final double[][] y = new double[kk][cols];
            final double[] gv = new double[cols];
            final double[] c = new double[cols];
            final double[] v = new double[cols];
            final double[] s = new double[cols];
            final double[] out = new double[cols];
            final double[][][] cyy = candidates ? new double[kk][kk][cols] : null;
            final double[] gvSum = candidates ? new double[cols] : null;
        }
        List<Scratch> partials = HostRows.forEachCollecting(rows, Scratch::new, (i, t) -> {
            long base = (long) i * cols;
            gHost.read(base, t.gv, cols);
            vHost.read(base, t.v, cols);
            sHost.read(base, t.s, cols);
            double floor = sFloor[rowOffset + i];
            double sum = 0;
            for (int j = 0; j < cols; j++) {
                double gvj = t.gv[j] * t.v[j];
                t.c[j] = gvj / Math.max(t.s[j], floor);
                t.gv[j] = gvj;
                sum += t.c[j];
            }
            rowSums[i] = sum;
            for (int m = 0; m < kk; m++) {
                wHost[m].read(base, t.w[m], cols);
            }
            for (int m = 0; m < kk; m++) {
                for (int j = 0; j < cols; j++) {
                    t.out[j] = t.c[j] * t.w[m][j];
                }
                cwHost[m].write(base, t.out, cols);
            }
            if (candidates) {
                for (int j = 0; j < cols; j++) {
                    t.gvSum[j] += t.gv[j];
                }
                for (int m = 0; m < kk; m++) {
                    double[] ym = t.y[m];
                    java.util.Arrays.fill(ym, 0.0);
                    for (int l = m; l < kk; l++) {
                        double[] coefficient = rInv[m][l];
                        double[] wl = t.w[l];
                        for (int j = 0; j < cols; j++) {
                            ym[j] += coefficient[j] * wl[j];
                        }
                    }
                }
                for (int m = 0; m < kk; m++) {
                    for (int l = m; l < kk; l++) {
                        double[] acc = t.cyy[m][l];
                        double[] ym = t.y[m];
                        double[] yl = t.y[l];
                        for (int j = 0; j < cols; j++) {
                            acc[j] += t.c[j] * ym[j] * yl[j];
                        }
                    }
                }
            }
        });
        double[][][] cyy = null;
        double[] gv = null;
        if (candidates) {
            cyy = new double[kk][kk][cols];
            gv = new double[cols];
            for (Scratch t : partials) {
                for (int j = 0; j < cols; j++) {
                    gv[j] += t.gvSum[j];
                }
                for (int m = 0; m < kk; m++) {
                    for (int l = m; l < kk; l++) {
                        for (int j = 0; j < cols; j++) {
                            cyy[m][l][j] += t.cyy[m][l][j];
                        }
                    }
                }
            }
            for (int m = 0; m < kk; m++) {
                for (int l = 0; l < m; l++) {
                    cyy[m][l] = cyy[l][m];
                }
            }
        }
        return new PairTerms(cw, column(rowSums, type), cyy, gv);
    }

    /** The same terms with ND4J ops (any backend). */
    private PairTerms pairTermsWithOps(INDArray g, INDArray volumes, INDArray s, List<INDArray> w, double[] sFloor,
            double[][][] rInv) {
        int kk = basis.size();
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        DataType type = batches.dataType();
        INDArray flooredS = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        Nd4j.getExecutioner().exec(new BroadcastMax(s, column(sFloor, type), flooredS, 0));
        INDArray c = g.mul(volumes).divi(flooredS);
        List<INDArray> cw = new ArrayList<>();
        for (int m = 0; m < kk; m++) {
            cw.add(c.mul(w.get(m)));
        }
        List<INDArray> cy = new ArrayList<>();
        double[][][] cyy = null;
        double[] gv = null;
        if (rInv != null) {
            List<INDArray> y = new ArrayList<>(kk);
            for (int m = 0; m < kk; m++) {
                INDArray ym = w.get(m).mulRowVector(row(rInv[m][m], type));
                for (int l = m + 1; l < kk; l++) {
                    ym.addi(w.get(l).mulRowVector(row(rInv[m][l], type)));
                }
                y.add(ym);
                cy.add(c.mul(ym));
            }
            cyy = new double[kk][kk][];
            for (int m = 0; m < kk; m++) {
                for (int l = 0; l < kk; l++) {
                    cyy[m][l] = RowOps.columnSums(cy.get(m).mul(y.get(l))).castTo(DataType.DOUBLE).toDoubleVector();
                }
            }
            gv = RowOps.columnSums(g.mul(volumes)).castTo(DataType.DOUBLE).toDoubleVector();
        }
        return new PairTerms(cw, c.sum(1).reshape(b1, 1), cyy, gv);
    }

    /** {@code R⁻¹} per candidate row ({@code [m][l][j]}, upper triangular), its diagonal floored. */
    private double[][][] flooredInverseR(double eta, double tinySquare) {
        int kk = basis.size();
        int b2 = (int) batches.candidateRows();
        double[][][] r = new double[kk][kk][];
        for (int m = 0; m < kk; m++) {
            for (int l = m; l < kk; l++) {
                r[m][l] = basis.r(m, l).castTo(DataType.DOUBLE).toDoubleVector();
            }
            double[] norms = batches.candidateSquaredNorms(m).castTo(DataType.DOUBLE).toDoubleVector();
            for (int j = 0; j < b2; j++) {
                r[m][m][j] = norms[j] >= tinySquare ? Math.max(r[m][m][j], Math.sqrt(eta * norms[j])) : 1.0;
            }
        }
        double[][][] rInv = new double[kk][kk][b2];
        for (int j = 0; j < b2; j++) {
            for (int l = 0; l < kk; l++) {
                rInv[l][l][j] = 1.0 / r[l][l][j];
                for (int m = l - 1; m >= 0; m--) {
                    double sum = 0;
                    for (int p = m + 1; p <= l; p++) {
                        sum += r[m][p][j] * rInv[p][l][j];
                    }
                    rInv[m][l][j] = -sum / r[m][m][j];
                }
            }
        }
        return rInv;
    }

    /**
     * A candidate gradient, row by row: {@code Σ_l coefficients[l][j]·x_{l,j} + Σ_l weights[l][j]·H_{l,j}}
     * over the candidate rows {@code j} ({@code weights[l]} null where it is zero).
     */
    private INDArray candidateCombination(double[][] coefficients, double[][] weights, List<INDArray> h) {
        int kk = coefficients.length;
        DataType type = batches.dataType();
        int rows = (int) batches.candidateRows();
        int dim = (int) batches.dim();
        if (!onHost) {
            INDArray grad = Nd4j.zeros(type, rows, dim);
            for (int l = 0; l < kk; l++) {
                grad.addi(batches.candidate(l).mulColumnVector(column(coefficients[l], type)));
                if (weights[l] != null) {
                    grad.addi(h.get(l).mulColumnVector(column(weights[l], type)));
                }
            }
            return grad;
        }
        INDArray grad = Nd4j.createUninitialized(type, new long[] {rows, dim}, 'c');
        HostArray out = HostArray.of(grad);
        HostArray[] xs = new HostArray[kk];
        HostArray[] hs = new HostArray[kk];
        for (int l = 0; l < kk; l++) {
            xs[l] = HostArray.ofAny(batches.candidate(l));
            hs[l] = HostArray.of(h.get(l));
        }
        HostRows.forEach(rows, () -> new double[2][dim], (j, t) -> {
            double[] acc = t[0];
            double[] x = t[1];
            java.util.Arrays.fill(acc, 0.0);
            for (int l = 0; l < kk; l++) {
                double coefficient = coefficients[l][j];
                xs[l].read((long) j * dim, x, dim);
                for (int e = 0; e < dim; e++) {
                    acc[e] += coefficient * x[e];
                }
                if (weights[l] != null) {
                    double weight = weights[l][j];
                    hs[l].read((long) j * dim, x, dim);
                    for (int e = 0; e < dim; e++) {
                        acc[e] += weight * x[e];
                    }
                }
            }
            out.write((long) j * dim, acc, dim);
        });
        return grad;
    }

    private static INDArray column(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(values.length, 1);
    }

    private static INDArray row(double[] values, DataType type) {
        return Nd4j.createFromArray(values).castTo(type).reshape(1, values.length);
    }
}
