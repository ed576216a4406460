package io.github.gram4j.core.fast;

import java.util.List;

import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The elementwise tail of the FAST volume: {@code V_ij = P_j · sqrt(max(|a_i|² − Σ_m w_{m,ij}², 0))}
 * from the GEMM outputs {@code w_m}, optionally keeping {@code s} for a backward pass. Two
 * interchangeable implementations:
 * <ul>
 *   <li>{@link #HOST}: one fused pass on host memory, parallel over rows, arithmetic in double
 *       (CPU backend: ND4J's float {@code sqrt} alone costs ~1.6 ns an element here, and every op of
 *       the chain is a full pass over memory);</li>
 *   <li>{@link #ND4J}: a chain of {@code 2K + 3} ND4J ops in place (any backend).</li>
 * </ul>
 */
enum VolumeEpilogue {

    HOST {
        @Override
        void apply(INDArray squaredNorms, List<INDArray> w, INDArray rhoProduct, INDArray out, INDArray distances) {
            int rows = (int) out.size(0);
            int cols = (int) out.size(1);
            HostArray sOut = distances == null ? null : HostArray.of(distances);
            double[] aa = new double[rows];
            HostArray.of(squaredNorms).read(0, aa, rows);
            double[] p = new double[cols];
            HostArray.of(rhoProduct).read(0, p, cols);
            HostArray v = HostArray.of(out);
            HostArray[] ws = w.stream().map(HostArray::of).toArray(HostArray[]::new);
            HostRows.forEach(rows, () -> new double[2][cols], (i, scratch) -> {
                double[] s = scratch[0];
                double[] x = scratch[1];
                java.util.Arrays.fill(s, aa[i]);
                for (HostArray wm : ws) {
                    wm.read((long) i * cols, x, cols);
                    for (int j = 0; j < cols; j++) {
                        s[j] -= x[j] * x[j];
                    }
                }
                if (sOut != null) {
                    sOut.write((long) i * cols, s, cols);
                }
                for (int j = 0; j < cols; j++) {
                    s[j] = p[j] * Math.sqrt(Math.max(s[j], 0.0));
                }
                v.write((long) i * cols, s, cols);
            });
        }
    },

    ND4J {
        @Override
        void apply(INDArray squaredNorms, List<INDArray> w, INDArray rhoProduct, INDArray out, INDArray distances) {
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
    abstract void apply(INDArray squaredNorms, List<INDArray> w, INDArray rhoProduct, INDArray out,
            INDArray distances);
}
