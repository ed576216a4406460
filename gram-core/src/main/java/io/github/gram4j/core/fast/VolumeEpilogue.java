package io.github.gram4j.core.fast;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.Lanes;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The elementwise tail of the FAST volume: {@code V_ij = P_j · sqrt(max(|a_i|² − Σ_m w_{m,ij}², 0))}
 * from the GEMM outputs {@code w_m}. Two interchangeable implementations:
 * <ul>
 *   <li>{@link #HOST}: one fused pass on host memory, parallel over rows, through {@link Lanes}
 *       (CPU backend: ND4J's float {@code sqrt} alone costs ~1.6 ns an element here, and every op
 *       of the chain is a full pass over memory);</li>
 *   <li>{@link #ND4J}: a chain of {@code 2K + 3} ND4J ops in place (any backend).</li>
 * </ul>
 * The {@code K} outputs are either {@code K} separate {@code rows × B2} matrices or one stacked
 * {@code rows × K·B2} matrix (the output of one GEMM against the stacked bases), whose row
 * {@code i} holds {@code w_{0,i·}, …, w_{K−1,i·}} one after another.
 */
enum VolumeEpilogue {

    HOST {
        @Override
        void apply(INDArray squaredNorms, Outputs w, INDArray rhoProduct, INDArray out, RowVisitor<Object> visitor) {
            int rows = (int) out.size(0);
            int cols = (int) out.size(1);
            int kk = w.onHost().count();
            double[] aa = new double[rows];
            HostArray.of(squaredNorms).read(0, aa, rows);
            double[] p = new double[cols];
            HostArray.of(rhoProduct).read(0, p, cols);
            HostArray v = HostArray.of(out);
            Lanes lanes = Lanes.get();
            boolean single = out.dataType() != DataType.DOUBLE;
            List<Object[]> chunks = HostRows.forEachCollecting(rows, () -> new Object[] {new Row(w, kk, cols),
                    visitor == null ? null : visitor.newChunk()}, (i, chunk) -> {
                Row t = (Row) chunk[0];
                w.distances(i, aa[i], t, false);
                // V as stored: for FLOAT a float square root of the float s times the float P (see Lanes)
                lanes.volumes(t.s, p, t.v, cols, single);
                v.write((long) i * cols, t.v, cols);
                if (visitor != null) {
                    visitor.visit(i, t.v, chunk[1]);
                }
            });
            if (visitor != null) {
                visitor.finish(chunks.stream().map(c -> c[1]).toList());
            }
        }
    },

    ND4J {
        @Override
        void apply(INDArray squaredNorms, Outputs outputs, INDArray rhoProduct, INDArray out,
                RowVisitor<Object> visitor) {
            if (visitor != null) {
                throw new IllegalStateException("row visitors need host memory");
            }
            List<INDArray> w = outputs.matrices();
            for (int m = 0; m < w.size(); m++) {
                INDArray wm = w.get(m);
                if (m == 0) {
                    if (wm != out) {
                        out.assign(wm);
                    }
                    out.muli(out);
                } else {
                    out.addi(wm.muli(wm));
                }
            }
            out.rsubiColumnVector(squaredNorms.reshape(out.size(0), 1));
            Transforms.relu(out, false);
            Transforms.sqrt(out, false);
            out.muliRowVector(rhoProduct.reshape(1, out.size(1)));
        }
    };

    /** The implementation for the active backend. */
    static VolumeEpilogue forBackend() {
        return HostArray.available() ? HOST : ND4J;
    }

    /**
     * Writes the volumes of a block of anchor rows into {@code out}.
     *
     * @param squaredNorms {@code |a_i|²} of the block's rows, c-contiguous, {@code rows} entries
     * @param w the {@code K} GEMM outputs {@code a_i·q_{m,j}}, {@code rows × B2} c-order each;
     *     {@code w.get(0)} may be {@code out} itself; all may be overwritten
     * @param rhoProduct {@code Π_m ρ_{m,j}}, {@code B2} entries, c-contiguous
     * @param out {@code rows × B2}, c-contiguous
     */
    void apply(INDArray squaredNorms, List<INDArray> w, INDArray rhoProduct, INDArray out) {
        apply(squaredNorms, Outputs.separate(w), rhoProduct, out, null);
    }

    /**
     * As {@link #apply(INDArray, List, INDArray, INDArray)} on one stacked GEMM output, handing
     * every row of {@code V} to {@code visitor} (if not null; {@link #HOST} only) as it is written.
     *
     * @param w {@code rows × K·B2}, c-contiguous, not {@code out}
     * @param kk {@code K}
     * @param visitor null, or a visitor of the rows of {@code V} (numbered from 0), finished here
     */
    void applyStacked(INDArray squaredNorms, INDArray w, int kk, INDArray rhoProduct, INDArray out,
            RowVisitor<Object> visitor) {
        apply(squaredNorms, Outputs.stacked(w, kk), rhoProduct, out, visitor);
    }

    abstract void apply(INDArray squaredNorms, Outputs w, INDArray rhoProduct, INDArray out,
            RowVisitor<Object> visitor);

    /** One row's scratch for {@link Outputs#distances}: the row of {@code w}, {@code s}, and a spare row. */
    static final class Row {
        /** The row's {@code w_0 … w_{K−1}} one after another, as doubles. */
        final double[] w;
        /** The same row as stored, for FLOAT outputs (else null). */
        final float[] floats;
        final double[] s;
        /** A spare row of {@code B2} values (the epilogue's {@code V}, the pair pass's {@code V}). */
        final double[] v;

        Row(Outputs outputs, int kk, int cols) {
            w = new double[kk * cols];
            floats = outputs.floats ? new float[kk * cols] : null;
            s = new double[cols];
            v = new double[cols];
        }
    }

    /**
     * The {@code K} GEMM outputs of a block: separate matrices, or column blocks of one stacked
     * matrix. Element {@code (m, i, j)} lies at {@code start(m) + i·rowStride() + j} of
     * {@code host()[m]}.
     */
    static final class Outputs {
        private final List<INDArray> separate;
        private final INDArray stacked;
        private final int kk;
        private final long cols;
        final boolean floats;
        private HostArray[] host;

        private Outputs(List<INDArray> separate, INDArray stacked, int kk, long cols) {
            this.separate = separate;
            this.stacked = stacked;
            this.kk = kk;
            this.cols = cols;
            this.floats = (stacked != null ? stacked : separate.get(0)).dataType() == DataType.FLOAT;
        }

        static Outputs separate(List<INDArray> w) {
            return new Outputs(w, null, w.size(), w.get(0).size(1));
        }

        static Outputs stacked(INDArray w, int kk) {
            return new Outputs(null, w, kk, w.size(1) / kk);
        }

        /** The outputs as {@code rows × B2} matrices (views of the stacked matrix, strided). */
        List<INDArray> matrices() {
            if (separate != null) {
                return separate;
            }
            List<INDArray> views = new ArrayList<>(kk);
            for (int m = 0; m < kk; m++) {
                views.add(stacked.get(NDArrayIndex.all(), NDArrayIndex.interval(m * cols, (m + 1) * cols)));
            }
            return views;
        }

        int count() {
            return kk;
        }

        /**
         * Opens the host views of the outputs (CPU backend), once, before rows are read from
         * several threads.
         *
         * @return this
         */
        Outputs onHost() {
            host();
            return this;
        }

        /**
         * Reads row {@code i} of the outputs and computes
         * {@code t.s = |a_i|² − Σ_m w_m²}: from FLOAT outputs by float fused multiply-adds on the
         * float row ({@link Lanes#distances}; the GEMM's own rounding already dominates {@code s}),
         * from DOUBLE ones in double. The epilogue and the backward's pair pass both call this,
         * so they agree on {@code s} to the bit.
         *
         * @param i the row
         * @param aa {@code |a_i|²}
         * @param t the scratch; {@code t.w} holds the row afterwards when {@code wanted} (always for DOUBLE)
         * @param wanted whether the caller needs the row itself, as doubles, in {@code t.w}
         */
        void distances(int i, double aa, Row t, boolean wanted) {
            HostArray[] arrays = host();
            int n = (int) cols;
            for (int m = 0; m < kk; m++) {
                long from = (stacked == null ? 0 : m * cols) + i * (stacked == null ? cols : kk * cols);
                if (floats) {
                    arrays[m].readFloats(from, t.floats, n, m * n);
                } else {
                    arrays[m].read(from, t.w, n, m * n);
                }
            }
            Lanes lanes = Lanes.get();
            if (floats) {
                lanes.distances(t.floats, kk, n, (float) aa, t.s);
                if (wanted) {
                    lanes.widen(t.floats, 0, t.w, 0, kk * n);
                }
                return;
            }
            java.util.Arrays.fill(t.s, aa);
            for (int m = 0; m < kk; m++) {
                lanes.subtractSquares(t.w, m * n, t.s, n);
            }
        }

        private HostArray[] host() {
            if (host == null) {
                HostArray[] arrays = new HostArray[kk];
                HostArray whole = stacked == null ? null : HostArray.of(stacked);
                for (int m = 0; m < kk; m++) {
                    arrays[m] = whole != null ? whole : HostArray.of(separate.get(m));
                }
                host = arrays;
            }
            return host;
        }
    }
}
