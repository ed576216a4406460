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
 * from the GEMM outputs {@code w_m}, optionally keeping {@code s} for a backward pass. Two
 * interchangeable implementations:
 * <ul>
 *   <li>{@link #HOST}: one fused pass on host memory, parallel over rows, arithmetic in double
 *       through {@link Lanes} (CPU backend: ND4J's float {@code sqrt} alone costs ~1.6 ns an
 *       element here, and every op of the chain is a full pass over memory);</li>
 *   <li>{@link #ND4J}: a chain of {@code 2K + 3} ND4J ops in place (any backend).</li>
 * </ul>
 * The {@code K} outputs are either {@code K} separate {@code rows × B2} matrices or one stacked
 * {@code rows × K·B2} matrix (the output of one GEMM against the stacked bases), whose row
 * {@code i} holds {@code w_{0,i·}, …, w_{K−1,i·}} one after another.
 */
enum VolumeEpilogue {

    HOST {
        @Override
        void apply(INDArray squaredNorms, Outputs w, INDArray rhoProduct, INDArray out, INDArray distances,
                RowVisitor<Object> visitor) {
            int rows = (int) out.size(0);
            int cols = (int) out.size(1);
            if (out.dataType() == DataType.FLOAT && distances == null) {
                applyInFloat(squaredNorms, w, rhoProduct, out, rows, cols, visitor);
                return;
            }
            HostArray sOut = distances == null ? null : HostArray.of(distances);
            double[] aa = new double[rows];
            HostArray.of(squaredNorms).read(0, aa, rows);
            double[] p = new double[cols];
            HostArray.of(rhoProduct).read(0, p, cols);
            HostArray v = HostArray.of(out);
            HostArray[] ws = w.host();
            long stride = w.rowStride();
            Lanes lanes = Lanes.get();
            boolean single = out.dataType() != DataType.DOUBLE;
            List<Object[]> chunks = HostRows.forEachCollecting(rows, () -> new Object[] {new double[2][cols],
                    visitor == null ? null : visitor.newChunk()}, (i, chunk) -> {
                double[][] scratch = (double[][]) chunk[0];
                double[] s = scratch[0];
                double[] x = scratch[1];
                java.util.Arrays.fill(s, aa[i]);
                for (int m = 0; m < ws.length; m++) {
                    ws[m].read(w.start(m) + i * stride, x, cols);
                    lanes.subtractSquares(x, 0, s, cols);
                }
                if (sOut != null) {
                    sOut.write((long) i * cols, s, cols);
                }
                lanes.volumes(s, p, x, cols, single);
                v.write((long) i * cols, x, cols);
                if (visitor != null) {
                    visitor.visit(i, x, chunk[1]);
                }
            });
            finish(visitor, chunks);
        }
    },

    ND4J {
        @Override
        void apply(INDArray squaredNorms, Outputs outputs, INDArray rhoProduct, INDArray out, INDArray distances,
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
            if (distances != null) {
                distances.assign(out);
            }
            Transforms.relu(out, false);
            Transforms.sqrt(out, false);
            out.muliRowVector(rhoProduct.reshape(1, out.size(1)));
        }
    };

    /** FLOAT without {@code s}: float rows and float lanes, no conversion to double. */
    private static void applyInFloat(INDArray squaredNorms, Outputs w, INDArray rhoProduct, INDArray out, int rows,
            int cols, RowVisitor<Object> visitor) {
        int kk = w.count();
        float[] aa = new float[rows];
        HostArray.of(squaredNorms).readFloats(0, aa, rows);
        float[] p = new float[cols];
        HostArray.of(rhoProduct).readFloats(0, p, cols);
        HostArray v = HostArray.of(out);
        HostArray[] ws = w.host();
        long stride = w.rowStride();
        boolean contiguous = w.stacked != null;
        Lanes lanes = Lanes.get();
        List<Object[]> chunks = HostRows.forEachCollecting(rows, () -> new Object[] {new float[2][kk * cols],
                visitor == null ? null : visitor.newChunk(), visitor == null ? null : new double[cols]}, (i, chunk) -> {
            float[][] t = (float[][]) chunk[0];
            if (contiguous) {
                ws[0].readFloats(i * stride, t[0], kk * cols);
            } else {
                float[] one = t[1];
                for (int m = 0; m < kk; m++) {
                    ws[m].readFloats(w.start(m) + i * stride, one, cols);
                    System.arraycopy(one, 0, t[0], m * cols, cols);
                }
            }
            lanes.volumes(t[0], kk, cols, aa[i], p, t[1]);
            v.writeFloats((long) i * cols, t[1], cols);
            if (visitor != null) {
                double[] scores = (double[]) chunk[2];
                lanes.widen(t[1], 0, scores, 0, cols);
                visitor.visit(i, scores, chunk[1]);
            }
        });
        finish(visitor, chunks);
    }

    /** Hands the visitor its chunk states (index 1 of each chunk's scratch), in chunk order. */
    private static void finish(RowVisitor<Object> visitor, List<Object[]> chunks) {
        if (visitor != null) {
            visitor.finish(chunks.stream().map(c -> c[1]).toList());
        }
    }

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
     * @param distances if not null, also receives {@code s = |a_i|² − Σ_m w²} ({@code rows × B2},
     *     c-contiguous; may not be one of {@code w})
     */
    void apply(INDArray squaredNorms, List<INDArray> w, INDArray rhoProduct, INDArray out, INDArray distances) {
        apply(squaredNorms, Outputs.separate(w), rhoProduct, out, distances, null);
    }

    /**
     * As {@link #apply(INDArray, List, INDArray, INDArray, INDArray)} on one stacked GEMM output.
     *
     * @param w {@code rows × K·B2}, c-contiguous, not {@code out}
     * @param kk {@code K}
     */
    void applyStacked(INDArray squaredNorms, INDArray w, int kk, INDArray rhoProduct, INDArray out,
            INDArray distances) {
        apply(squaredNorms, Outputs.stacked(w, kk), rhoProduct, out, distances, null);
    }

    /**
     * As {@link #applyStacked}, handing every row of {@code V} to {@code visitor} as it is
     * written ({@link #HOST} only; rows numbered from 0, {@link RowVisitor#finish} called).
     */
    void applyStackedVisiting(INDArray squaredNorms, INDArray w, int kk, INDArray rhoProduct, INDArray out,
            RowVisitor<Object> visitor) {
        apply(squaredNorms, Outputs.stacked(w, kk), rhoProduct, out, null, visitor);
    }

    abstract void apply(INDArray squaredNorms, Outputs w, INDArray rhoProduct, INDArray out, INDArray distances,
            RowVisitor<Object> visitor);

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

        private Outputs(List<INDArray> separate, INDArray stacked, int kk, long cols) {
            this.separate = separate;
            this.stacked = stacked;
            this.kk = kk;
            this.cols = cols;
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

        HostArray[] host() {
            HostArray[] arrays = new HostArray[kk];
            HostArray whole = stacked == null ? null : HostArray.of(stacked);
            for (int m = 0; m < kk; m++) {
                arrays[m] = whole != null ? whole : HostArray.of(separate.get(m));
            }
            return arrays;
        }

        int count() {
            return kk;
        }

        long start(int m) {
            return stacked == null ? 0 : m * cols;
        }

        long rowStride() {
            return stacked == null ? cols : kk * cols;
        }
    }
}
