package io.github.gram4j.core.fast;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.NumericalPolicy;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.Lanes;
import io.github.gram4j.core.internal.RowOps;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The FAST forward pass, keeping what its backward needs: the candidate bases, the GEMM outputs
 * {@code w_m = A·Q_mᵀ} (one stacked GEMM) and the volumes. Then {@link #backward} maps
 * {@code g = ∂L/∂V} to the gradients of the anchor and candidate batches with {@code 2K} GEMMs'
 * work (two GEMM calls against the stacked bases) and {@code O(B1·B2·K²)} elementwise work in one
 * pass over the pairs — never a per-pair loop, never the {@code (B1, B2, k, k)} tensor. On the
 * CPU backend that pass can take {@code g} row by row from the loss ({@link GradientRows}), so
 * the {@code B1 × B2} matrix {@code g} is never stored.
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
 * <p><b>Memory.</b> The tape keeps {@code (K + 1)·B1·B2} numbers ({@code w}, {@code V}; off
 * the CPU backend also the squared distances {@code s}, which the host pass recomputes from
 * {@code w}) and the backward {@code K·B1·B2} more ({@code c⊙w_m}). Above {@value #TAPE_ELEMENTS}
 * elements of {@code (K + 2)·B1·B2} (on the CPU backend) it keeps only {@code V} and the backward
 * recomputes {@code w} in blocks of anchor rows, reusing {@value #BLOCK_ELEMENTS}-element scratch:
 * {@code K} more GEMMs' work, memory {@code O(B1·B2 + block)}.
 *
 * <p>All arrays, including the gradients, are allocated in the workspace that is current when
 * {@link #record} runs: open one around {@link #record} and {@link #backward}, and detach what you
 * keep.
 * Recorded with a {@link ResultMemory}, {@code V} and the gradients go there instead, written in
 * place. One tape per thread.
 */
public final class VolumeTape implements ScoreTape {

    private final ModalityBatches batches;
    private final CandidateBasis basis;
    /** {@code w_{m,ij} = a_i·q_{m,j}} at column {@code m·B2 + j}, {@code B1 × K·B2}; null when blockwise. */
    private final INDArray w;
    private final INDArray s;
    /** Set once the row-by-row backward has written {@code c⊙w} over {@link #w}. */
    private boolean consumed;
    private final INDArray volumes;
    private final boolean onHost;
    /** Anchor rows per backward block; {@code B1} when {@link #w} and {@link #s} are kept whole. */
    private final int blockRows;
    /** Where {@code V} and the gradients go. */
    private final ResultMemory results;

    /** Elements the tape may keep beyond {@code V}: {@code (K + 2)·B1·B2} above it, the tape goes blockwise. */
    static final long TAPE_ELEMENTS = 1L << 27;

    /** Scratch elements a blockwise tape uses per block (forward GEMM blocks, backward block arrays). */
    static final long BLOCK_ELEMENTS = 1L << 24;

    private VolumeTape(ModalityBatches batches, CandidateBasis basis, INDArray w, INDArray s,
            INDArray volumes, boolean onHost, int blockRows, ResultMemory results) {
        this.batches = batches;
        this.basis = basis;
        this.w = w;
        this.s = s;
        this.volumes = volumes;
        this.onHost = onHost;
        this.blockRows = blockRows;
        this.results = results;
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
        return record(batches, HostArray.available(), TAPE_ELEMENTS, null, ResultMemory.ofCaller());
    }

    /**
     * As {@link #record(ModalityBatches)}, handing every row of {@code V} to {@code visitor}: on
     * the CPU backend inside the epilogue that writes it (a blockwise tape, see Memory, visits in
     * a pass of its own). Requires the CPU backend.
     *
     * @param batches validated inputs
     * @param visitor a reduction over the rows of {@code V}; its {@link RowVisitor#finish} has run
     *     when this returns
     * @param <S> the visitor's per-chunk state
     * @return the tape
     * @throws IllegalArgumentException as {@link #record(ModalityBatches)}
     * @throws IllegalStateException off the CPU backend
     */
    public static <S> VolumeTape record(ModalityBatches batches, RowVisitor<S> visitor) {
        return record(batches, visitor, null);
    }

    /**
     * As {@link #record(ModalityBatches, RowVisitor)}, allocating {@code V} and (in {@link
     * #backward}) the gradients in {@code results}, where the caller wants them, while the rest of
     * the tape stays in the current workspace: the kernels write them in place, no copy.
     *
     * @param batches validated inputs
     * @param visitor a reduction over the rows of {@code V}; its {@link RowVisitor#finish} has run
     *     when this returns
     * @param results where {@code V} and the gradients go; null for the current workspace
     * @param <S> the visitor's per-chunk state
     * @return the tape
     * @throws IllegalArgumentException as {@link #record(ModalityBatches)}
     * @throws IllegalStateException off the CPU backend
     */
    public static <S> VolumeTape record(ModalityBatches batches, RowVisitor<S> visitor, ResultMemory results) {
        if (!HostArray.available()) {
            throw new IllegalStateException("row visitors need host memory (the ND4J CPU backend)");
        }
        @SuppressWarnings("unchecked")
        RowVisitor<Object> any = (RowVisitor<Object>) visitor;
        return record(batches, true, TAPE_ELEMENTS, any, results == null ? ResultMemory.ofCaller() : results);
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
        return record(batches, onHost, tapeElements, null, ResultMemory.ofCaller());
    }

    // results: where V and the gradients go (ResultMemory.ofCaller() for the current workspace)
    private static VolumeTape record(ModalityBatches batches, boolean onHost, long tapeElements,
            RowVisitor<Object> visitor, ResultMemory results) {
        batches.requireRepresentableVolumes();
        CandidateBasis basis = CandidateBasis.of(batches.candidates(), onHost);
        INDArray anchor = batches.anchor();
        DataType type = batches.dataType();
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        int kk = basis.size();
        if (onHost && (kk + 2) * b1 * b2 > tapeElements) {
            long blockElements = Math.min(tapeElements, BLOCK_ELEMENTS);
            INDArray volumes = results.createUninitialized(type, b1, b2);
            FastVolume.volumesInto(anchor, batches.anchorSquaredNorms(), basis, volumes, VolumeEpilogue.HOST,
                    blockElements);
            int rows = (int) Math.max(1, Math.min(b1, blockElements / ((2L * kk + 3) * b2)));
            if (visitor != null) {
                RowVisitor.visitAll(volumes, visitor);
            }
            return new VolumeTape(batches, basis, null, null, volumes, true, rows, results);
        }
        // the K GEMMs as one, against the stacked bases
        INDArray w = Nd4j.gemm(anchor, basis.stacked(), Nd4j.createUninitialized(type, new long[] {b1, kk * b2}, 'c'),
                false, true, 1.0, 0.0);
        INDArray volumes = results.createUninitialized(type, b1, b2);
        INDArray s = null;
        if (onHost) {
            // the host backward recomputes s from the row of w it reads anyway: not stored
            VolumeEpilogue.HOST.applyStacked(batches.anchorSquaredNorms(), w, kk, basis.rhoProduct(), volumes,
                    visitor);
        } else {
            s = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
            List<INDArray> wm = columnBlocks(w, kk);
            s.assign(wm.get(0)).muli(wm.get(0));
            for (int m = 1; m < kk; m++) {
                s.addi(wm.get(m).mul(wm.get(m)));
            }
            s.rsubiColumnVector(batches.anchorSquaredNorms().reshape(b1, 1));
            Transforms.relu(volumes.assign(s), false);
            Transforms.sqrt(volumes, false);
            volumes.muliRowVector(basis.rhoProduct().reshape(1, b2));
        }
        return new VolumeTape(batches, basis, w, s, volumes, onHost, (int) b1, results);
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
     * @throws IllegalStateException if the row-by-row backward has consumed this tape
     */
    @Override
    public VolumeGradients backward(INDArray g, boolean anchorGradient, boolean candidateGradients) {
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        if (g.rank() != 2 || g.size(0) != b1 || g.size(1) != b2) {
            throw new IllegalArgumentException("g must be " + b1 + " x " + b2 + " (the volume matrix), got shape "
                    + java.util.Arrays.toString(g.shape()));
        }
        requireNotConsumed();
        DataType type = batches.dataType();
        boolean contiguous = g.ordering() == 'c' && g.elementWiseStride() == 1;
        INDArray upstream = g.dataType() == type && contiguous ? g : g.castTo(type).dup('c');
        return backward(upstream, null, anchorGradient, candidateGradients);
    }

    /**
     * Back-propagates {@code g = ∂L/∂V} given row by row. On the CPU backend each row of
     * {@code g} is computed inside the pass over the pairs, right after the row of {@code V} is
     * read, and never stored; elsewhere it is written into a matrix first.
     *
     * <p>On the CPU backend this <b>consumes the tape</b>: the pass writes its products
     * {@code c⊙w} over the tape's {@code w} (one stream over memory instead of two), so it must be
     * the tape's last backward; any later one throws {@link IllegalStateException}.
     *
     * @param g {@code ∂L/∂V}, row by row
     * @param anchorGradient whether to compute {@code ∂L/∂anchor}
     * @param candidateGradients whether to compute {@code ∂L/∂candidates[m]}
     * @return {@code ∂L/∂anchor} and {@code ∂L/∂candidates[m]} (null where not asked for)
     * @throws IllegalStateException if the row-by-row backward has already consumed this tape
     */
    @Override
    public VolumeGradients backward(GradientRows g, boolean anchorGradient, boolean candidateGradients) {
        requireNotConsumed();
        if (!onHost) {
            return ScoreTape.super.backward(g, anchorGradient, candidateGradients);
        }
        consumed = w != null;
        return backward(null, g, anchorGradient, candidateGradients);
    }

    private void requireNotConsumed() {
        if (consumed) {
            throw new IllegalStateException("this tape was consumed by its row-by-row backward (which writes over "
                    + "its GEMM outputs): record the batches again for another backward");
        }
    }

    /** The backward from {@code upstream} ({@code B1 × B2}, c-order, the dtype) or, when null, from {@code rowsOfG}. */
    private VolumeGradients backward(INDArray upstream, GradientRows rowsOfG, boolean anchorGradient,
            boolean candidateGradients) {
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        DataType type = batches.dataType();
        double eta = floor(type);
        double tinySquare = NumericalPolicy.tiny(type);
        double[] squaredNorms = RowOps.toDoubles(batches.anchorSquaredNorms());
        double[] sFloor = new double[squaredNorms.length];
        for (int i = 0; i < sFloor.length; i++) {
            sFloor[i] = squaredNorms[i] >= tinySquare ? eta * squaredNorms[i] : 1.0;
        }
        double[][][] rInv = candidateGradients ? flooredInverseR(eta, tinySquare) : null;
        int kk = basis.size();
        INDArray anchor = batches.anchor();
        // allocated when the first block is not the whole batch (the whole batch's GEMM writes its own)
        INDArray anchorGrad = null;
        // whether the host passes that write the gradients found every entry finite
        boolean anchorFinite = !anchorGradient;
        AtomicBoolean candidatesFinite = new AtomicBoolean(onHost || !candidateGradients);
        // H_l = Σ_i c_ij w_{l,ij} a_i, B2 × d, stacked (K·B2 × d): the candidate gradients are
        // column-scaled sums of these
        INDArray weightedAnchors = candidateGradients
                ? Nd4j.createUninitialized(type, new long[] {kk * b2, batches.dim()}, 'c') : null;
        double[][][] cyy = candidateGradients ? new double[kk][kk][(int) b2] : null;
        double[] gv = candidateGradients ? new double[(int) b2] : null;

        BlockScratch scratch = w == null ? new BlockScratch(type, kk, blockRows, b2) : null;
        for (long r0 = 0; r0 < b1; r0 += blockRows) {
            long r1 = Math.min(b1, r0 + blockRows);
            boolean whole = r0 == 0 && r1 == b1;
            INDArray rowsOfAnchor = whole ? anchor : rows(anchor, r0, r1);
            INDArray wBlock;
            if (w != null) {
                wBlock = w;
            } else {
                wBlock = scratch.w(r1 - r0);
                Nd4j.gemm(rowsOfAnchor, basis.stacked(), wBlock, false, true, 1.0, 0.0);
                INDArray norms = batches.anchorSquaredNorms().get(NDArrayIndex.interval(r0, r1));
                VolumeEpilogue.HOST.applyStacked(norms, wBlock, kk, basis.rhoProduct(), scratch.v(r1 - r0), null);
            }
            INDArray gBlock = upstream == null ? null : whole ? upstream : rows(upstream, r0, r1);
            INDArray vBlock = whole ? volumes : rows(volumes, r0, r1);
            PairTerms terms = onHost
                    ? pairTermsOnHost(gBlock, rowsOfG, vBlock, wBlock, squaredNorms, sFloor, (int) r0, rInv,
                            // c⊙w over w itself: a block's w is recomputed for it anyway; the whole
                            // tape's w only when the row-by-row backward consumes the tape
                            scratch != null || rowsOfG != null ? wBlock : null)
                    : pairTermsWithOps(gBlock, vBlock, s, wBlock, sFloor, rInv);
            if (anchorGradient && whole && onHost) {
                // −Σ_m (c⊙w_m)·Q_m as one GEMM: [c⊙w_0 … c⊙w_{K−1}] · [Q_0; …; Q_{K−1}], then + a_i Σ_j c_ij
                anchorGrad = Nd4j.gemm(terms.cw, basis.stacked(), results.createUninitialized(type, b1, batches.dim()),
                        false, false, -1.0, 0.0);
                anchorFinite = addScaledRows(anchorGrad, anchor, terms.rowSums);
            } else if (anchorGradient) {
                INDArray part = rowsOfAnchor.mulColumnVector(column(terms.rowSums, type));
                Nd4j.gemm(terms.cw, basis.stacked(), part, false, false, -1.0, 1.0);
                if (whole) {
                    anchorGrad = part;
                } else {
                    if (anchorGrad == null) {
                        anchorGrad = results.createUninitialized(type, b1, batches.dim());
                    }
                    rows(anchorGrad, r0, r1).assign(part);
                }
            }
            if (candidateGradients) {
                // every H_l as one GEMM: [c⊙w_0 … c⊙w_{K−1}]ᵀ · A
                Nd4j.gemm(terms.cw, rowsOfAnchor, weightedAnchors, true, false, 1.0, r0 == 0 ? 0.0 : 1.0);
                for (int m = 0; m < kk; m++) {
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
        if (candidateGradients) {
            int rows = (int) b2;
            double[][][] coefficients = new double[kk][kk][rows];
            double[][][] weights = new double[kk][kk][];
            for (int m = 0; m < kk; m++) {
                for (int l = 0; l < kk; l++) {
                    for (int j = 0; j < rows; j++) {
                        double cInv = 0;
                        for (int p = Math.max(m, l); p < kk; p++) {
                            cInv += rInv[m][p][j] * rInv[l][p][j];
                        }
                        coefficients[m][l][j] = cyy[m][l][j] + cInv * gv[j];
                    }
                }
                // −Σ_i c_ij y_{m,ij} a_i with y_m = Σ_{l ≥ m} R⁻¹_{ml} w_l: −Σ_{l ≥ m} R⁻¹_{ml,j} H_{l,j}
                for (int l = m; l < kk; l++) {
                    weights[m][l] = new double[rows];
                    for (int j = 0; j < rows; j++) {
                        weights[m][l][j] = -rInv[m][l][j];
                    }
                }
            }
            candidateGrads.addAll(candidateCombinations(coefficients, weights, rowBlocks(weightedAnchors, kk),
                    candidatesFinite));
        }
        return new VolumeGradients(anchorGrad, candidateGrads, anchorFinite && candidatesFinite.get());
    }

    private static INDArray rows(INDArray x, long from, long to) {
        return x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
    }

    /** The {@code K} column blocks of a stacked {@code rows × K·B2} matrix (strided views). */
    private static List<INDArray> columnBlocks(INDArray stacked, int kk) {
        long cols = stacked.size(1) / kk;
        List<INDArray> blocks = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            blocks.add(stacked.get(NDArrayIndex.all(), NDArrayIndex.interval(m * cols, (m + 1) * cols)));
        }
        return blocks;
    }

    /** The {@code K} row blocks of a stacked {@code K·B2 × d} matrix (c-contiguous views). */
    private static List<INDArray> rowBlocks(INDArray stacked, int kk) {
        long rows = stacked.size(0) / kk;
        List<INDArray> blocks = new ArrayList<>(kk);
        for (int m = 0; m < kk; m++) {
            blocks.add(rows(stacked, m * rows, (m + 1) * rows));
        }
        return blocks;
    }

    /**
     * Reused per-block arrays of the blockwise backward: the stacked {@code w} (the pair pass
     * writes {@code c⊙w} over it) and a spare {@code V}; allocated once, so the workspace does not
     * grow with the number of blocks.
     */
    private static final class BlockScratch {
        private final INDArray w;
        private final INDArray v;
        private final int fullRows;

        BlockScratch(DataType type, int kk, int rows, long cols) {
            w = Nd4j.createUninitialized(type, new long[] {rows, kk * cols}, 'c');
            v = Nd4j.createUninitialized(type, new long[] {rows, cols}, 'c');
            fullRows = rows;
        }

        INDArray w(long rows) {
            return first(w, rows);
        }

        INDArray v(long rows) {
            return first(v, rows);
        }

        private INDArray first(INDArray x, long rows) {
            return rows == fullRows ? x : VolumeTape.rows(x, 0, rows);
        }
    }

    /**
     * The per-pair terms of the backward pass, reduced or laid out for GEMMs: {@code c⊙w_m}
     * (stacked like {@code w}, {@code B1 × K·B2}; both gradients are GEMMs of it), the row sums of {@code c}
     * ({@code B1}, in double), and the column sums {@code Σ_i c y_m y_l} and {@code Σ_i g V}
     * ({@code B2} each, in double; {@code y_m = Σ_{l ≥ m} R⁻¹_{ml} w_l} is never stored).
     */
    private record PairTerms(INDArray cw, double[] rowSums, double[][][] cyy, double[] gv) {
    }

    /** {@code out[i] += factors[i]·x[i]} for every row {@code i}, on the host; whether every result is finite. */
    private static boolean addScaledRows(INDArray out, INDArray x, double[] factors) {
        int rows = (int) out.size(0);
        int dim = (int) out.size(1);
        HostArray o = HostArray.of(out);
        HostArray in = HostArray.ofAny(x);
        Lanes lanes = Lanes.get();
        AtomicBoolean finite = new AtomicBoolean(true);
        double limit = finiteLimit(out.dataType());
        HostRows.forEach(rows, () -> new double[2][dim], (i, t) -> {
            o.read((long) i * dim, t[0], dim);
            in.read((long) i * dim, t[1], dim);
            lanes.axpy(factors[i], t[1], t[0], dim);
            o.write((long) i * dim, t[0], dim);
            if (!(lanes.maxAbs(t[0], dim) <= limit)) {
                finite.set(false);
            }
        });
        return finite.get();
    }

    /** The largest magnitude a double may have to stay finite when stored in {@code type} (conservative for FLOAT). */
    private static double finiteLimit(DataType type) {
        return type == DataType.DOUBLE ? Double.MAX_VALUE : Float.MAX_VALUE;
    }

    /**
     * One fused pass over the pairs, rows in parallel, arithmetic in double.
     *
     * @param g {@code ∂L/∂V} of the block, or null to take each row from {@code rowsOfG}
     * @param rowsOfG {@code ∂L/∂V} row by row (rows numbered from the first anchor row of the whole batch)
     * @param w the block's stacked {@code w}, {@code rows × K·B2}
     * @param reuse an array of {@code w}'s shape to write {@code c⊙w} into, or null to allocate it
     */
    private PairTerms pairTermsOnHost(INDArray g, GradientRows rowsOfG, INDArray volumes, INDArray w,
            double[] squaredNorms, double[] sFloor, int rowOffset, double[][][] rInv, INDArray reuse) {
        int kk = basis.size();
        int rows = (int) volumes.size(0);
        int cols = (int) batches.candidateRows();
        DataType type = batches.dataType();
        boolean candidates = rInv != null;
        HostArray gHost = g == null ? null : HostArray.of(g);
        HostArray vHost = HostArray.of(volumes);
        VolumeEpilogue.Outputs rowsOfW = VolumeEpilogue.Outputs.stacked(w, kk).onHost();
        INDArray cw = reuse != null ? reuse : Nd4j.createUninitialized(type, new long[] {rows, (long) kk * cols}, 'c');
        HostArray cwHost = HostArray.of(cw);
        int stride = kk * cols;
        double[] rowSums = new double[rows];

        Lanes lanes = Lanes.get();
        boolean single = type != DataType.DOUBLE;

        final class Scratch {
            /** The row of {@code w} (and {@code s}, and {@code V} in its spare row). */
            final VolumeEpilogue.Row row = new VolumeEpilogue.Row(rowsOfW, kk, cols);
            /** {@code c⊙w_0 … c⊙w_{K−1}}, one after another. */
            final double[] cw = new double[stride];
            final double[] c = new double[cols];
            /** {@code Σ_i c_ij w_{p,ij} w_{q,ij}} for {@code p ≤ q}: {@code Σ_i c y_m y_l} is {@code R⁻¹ M R⁻ᵀ}. */
            final double[][][] cww = candidates ? new double[kk][kk][cols] : null;
            final double[] gvSum = new double[cols];
        }
        List<Scratch> partials = HostRows.forEachCollecting(rows, Scratch::new, (i, t) -> {
            long base = (long) i * cols;
            double[] v = t.row.v;
            vHost.read(base, v, cols);
            if (gHost != null) {
                gHost.read(base, t.c, cols);
            } else {
                rowsOfG.fill(rowOffset + i, v, t.c);
            }
            // the row of w, and s = |a_i|² − Σ_m w_m² exactly as the forward epilogue computed it
            rowsOfW.distances(i, squaredNorms[rowOffset + i], t.row, true);
            double[] wRow = t.row.w;
            // c = g·V / max(s, floor), over g; Σ_i g·V accumulates per column
            rowSums[i] = lanes.pairWeights(t.c, v, t.row.s, sFloor[rowOffset + i], t.gvSum, cols, single);
            for (int m = 0; m < kk; m++) {
                lanes.multiply(wRow, m * cols, t.c, t.cw, m * cols, cols);
            }
            cwHost.write((long) i * stride, t.cw, stride);
            if (candidates) {
                for (int p = 0; p < kk; p++) {
                    for (int q = p; q < kk; q++) {
                        lanes.accumulateProduct(t.cw, p * cols, wRow, q * cols, t.cww[p][q], cols);
                    }
                }
            }
        });
        double[][][] cyy = null;
        double[] gv = null;
        if (candidates) {
            // M_pq = Σ_i c w_p w_q over every chunk (chunk order), then Σ_i c y_m y_l = Σ_{p ≥ m, q ≥ l} R⁻¹_mp R⁻¹_lq M_pq
            double[][][] cww = new double[kk][kk][cols];
            gv = new double[cols];
            for (Scratch t : partials) {
                lanes.axpy(1.0, t.gvSum, gv, cols);
                for (int p = 0; p < kk; p++) {
                    for (int q = p; q < kk; q++) {
                        lanes.axpy(1.0, t.cww[p][q], cww[p][q], cols);
                    }
                }
            }
            cyy = new double[kk][kk][cols];
            for (int m = 0; m < kk; m++) {
                for (int l = m; l < kk; l++) {
                    double[] out = cyy[m][l];
                    for (int p = m; p < kk; p++) {
                        for (int q = l; q < kk; q++) {
                            double[] pq = p <= q ? cww[p][q] : cww[q][p];
                            double[] a = rInv[m][p];
                            double[] b = rInv[l][q];
                            for (int j = 0; j < cols; j++) {
                                out[j] += a[j] * b[j] * pq[j];
                            }
                        }
                    }
                }
                for (int l = 0; l < m; l++) {
                    cyy[m][l] = cyy[l][m];
                }
            }
        }
        return new PairTerms(cw, rowSums, cyy, gv);
    }

    /** The same terms with ND4J ops (any backend). */
    private PairTerms pairTermsWithOps(INDArray g, INDArray volumes, INDArray s, INDArray stacked, double[] sFloor,
            double[][][] rInv) {
        int kk = basis.size();
        long b1 = batches.anchorRows();
        long b2 = batches.candidateRows();
        DataType type = batches.dataType();
        INDArray flooredS = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        Nd4j.getExecutioner().exec(new BroadcastMax(s, column(sFloor, type), flooredS, 0));
        INDArray c = g.mul(volumes).divi(flooredS);
        List<INDArray> w = columnBlocks(stacked, kk);
        INDArray cw = Nd4j.createUninitialized(type, new long[] {b1, kk * b2}, 'c');
        List<INDArray> cwBlocks = columnBlocks(cw, kk);
        for (int m = 0; m < kk; m++) {
            cwBlocks.get(m).assign(c.mul(w.get(m)));
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
        return new PairTerms(cw, RowOps.toDoubles(c.sum(1)), cyy, gv);
    }

    /** {@code R⁻¹} per candidate row ({@code [m][l][j]}, upper triangular), its diagonal floored. */
    private double[][][] flooredInverseR(double eta, double tinySquare) {
        int kk = basis.size();
        int b2 = (int) batches.candidateRows();
        double[][][] r = new double[kk][kk][];
        for (int m = 0; m < kk; m++) {
            for (int l = m; l < kk; l++) {
                r[m][l] = RowOps.toDoubles(basis.r(m, l));
            }
            double[] norms = RowOps.toDoubles(batches.candidateSquaredNorms(m));
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
     * The candidate gradients, row by row: gradient {@code m} is
     * {@code Σ_l coefficients[m][l][j]·x_{l,j} + Σ_l weights[m][l][j]·H_{l,j}} over the candidate
     * rows {@code j} ({@code weights[m][l]} null where it is zero). On the host one pass computes
     * all {@code K}, reading each row of {@code x_l} and {@code H_l} once, and clears
     * {@code finite} if an entry is not finite in the dtype.
     */
    private List<INDArray> candidateCombinations(double[][][] coefficients, double[][][] weights, List<INDArray> h,
            AtomicBoolean finite) {
        int kk = coefficients.length;
        DataType type = batches.dataType();
        int rows = (int) batches.candidateRows();
        int dim = (int) batches.dim();
        List<INDArray> grads = new ArrayList<>(kk);
        if (!onHost) {
            for (int m = 0; m < kk; m++) {
                INDArray grad = Nd4j.zeros(type, rows, dim);
                for (int l = 0; l < kk; l++) {
                    grad.addi(batches.candidate(l).mulColumnVector(column(coefficients[m][l], type)));
                    if (weights[m][l] != null) {
                        grad.addi(h.get(l).mulColumnVector(column(weights[m][l], type)));
                    }
                }
                grads.add(grad);
            }
            return grads;
        }
        HostArray[] out = new HostArray[kk];
        HostArray[] xs = new HostArray[kk];
        HostArray[] hs = new HostArray[kk];
        for (int l = 0; l < kk; l++) {
            grads.add(results.createUninitialized(type, rows, dim));
            out[l] = HostArray.of(grads.get(l));
            xs[l] = HostArray.ofAny(batches.candidate(l));
            hs[l] = HostArray.of(h.get(l));
        }
        Lanes lanes = Lanes.get();
        double limit = finiteLimit(type);
        HostRows.forEach(rows, () -> new double[2 * kk + 1][dim], (j, t) -> {
            double[] acc = t[2 * kk];
            for (int l = 0; l < kk; l++) {
                xs[l].read((long) j * dim, t[l], dim);
                hs[l].read((long) j * dim, t[kk + l], dim);
            }
            for (int m = 0; m < kk; m++) {
                java.util.Arrays.fill(acc, 0.0);
                for (int l = 0; l < kk; l++) {
                    lanes.axpy(coefficients[m][l][j], t[l], acc, dim);
                    if (weights[m][l] != null) {
                        lanes.axpy(weights[m][l][j], t[kk + l], acc, dim);
                    }
                }
                out[m].write((long) j * dim, acc, dim);
                if (!(lanes.maxAbs(acc, dim) <= limit)) {
                    finite.set(false);
                }
            }
        });
        return grads;
    }

    private static INDArray column(double[] values, DataType type) {
        return RowOps.vector(values, type).reshape(values.length, 1);
    }

    private static INDArray row(double[] values, DataType type) {
        return RowOps.vector(values, type).reshape(1, values.length);
    }
}
