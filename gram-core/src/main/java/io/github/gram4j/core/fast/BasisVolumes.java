package io.github.gram4j.core.fast;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The FAST volume of anchor rows against candidate bases computed earlier (by
 * {@link CandidateBasis}) and kept, e.g. stored in a retrieval index: {@code K} GEMMs
 * {@code w_m = A·Q_mᵀ} followed by the same fused epilogue as {@link FastVolume},
 * {@code V_ij = P_j · sqrt(max(|a_i|² − Σ_m w_{m,ij}², 0))}.
 *
 * <p>The caller owns every array, so repeated calls (one per gallery chunk and query block) reuse
 * the same scratch; nothing is allocated here beyond what the backend's GEMM needs.
 */
public final class BasisVolumes {

    private BasisVolumes() {
    }

    /**
     * Writes the volumes of {@code anchor}'s rows against the {@code n} stored candidates into
     * {@code w.get(0)}.
     *
     * @param anchor {@code rows × d}, FLOAT or DOUBLE, any layout ND4J's GEMM accepts
     * @param anchorSquaredNorms {@code |a_i|²}, {@code rows} entries, c-contiguous, the anchor's dtype
     * @param q the {@code K} orthonormal bases {@code Q_m}, {@code n × d} each (row {@code j} is
     *     {@code q_{m,j}}), the anchor's dtype
     * @param rhoProduct {@code Π_m ρ_{m,j}}, {@code n} entries, c-contiguous, the anchor's dtype
     * @param w {@code K} scratch matrices, {@code rows × n}, c-contiguous, the anchor's dtype;
     *     on return {@code w.get(0)} holds the volumes and the others are overwritten
     * @throws IllegalArgumentException if the counts or shapes do not match
     */
    public static void volumesInto(INDArray anchor, INDArray anchorSquaredNorms, List<INDArray> q,
            INDArray rhoProduct, List<INDArray> w) {
        if (q.isEmpty() || q.size() != w.size()) {
            throw new IllegalArgumentException("need K >= 1 bases and K scratch matrices, got " + q.size()
                    + " bases and " + w.size() + " scratch matrices");
        }
        long rows = anchor.size(0);
        long n = q.get(0).size(0);
        for (int m = 0; m < q.size(); m++) {
            INDArray wm = w.get(m);
            if (wm.rank() != 2 || wm.size(0) != rows || wm.size(1) != n || q.get(m).size(0) != n
                    || q.get(m).size(1) != anchor.size(1)) {
                throw new IllegalArgumentException("bases[" + m + "] " + java.util.Arrays.toString(q.get(m).shape())
                        + " and scratch " + java.util.Arrays.toString(wm.shape()) + " do not fit anchor "
                        + java.util.Arrays.toString(anchor.shape()));
            }
        }
        if (anchorSquaredNorms.length() != rows || rhoProduct.length() != n) {
            throw new IllegalArgumentException("anchorSquaredNorms has " + anchorSquaredNorms.length()
                    + " entries for " + rows + " rows; rhoProduct has " + rhoProduct.length() + " for " + n
                    + " candidates");
        }
        for (int m = 0; m < q.size(); m++) {
            Nd4j.gemm(anchor, q.get(m), w.get(m), false, true, 1.0, 0.0);
        }
        VolumeEpilogue.forBackend().apply(anchorSquaredNorms, w, rhoProduct, w.get(0));
    }
}
