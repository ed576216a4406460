package io.github.gram4j.core;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.fast.FastVolume;
import io.github.gram4j.core.internal.Aliasing;
import io.github.gram4j.core.reference.ReferenceVolume;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GRAM volumes: the volume of the parallelotope spanned by {@code k} modality vectors,
 * {@code V = sqrt(|det G|)} with {@code G = A·Aᵀ} for the {@code k × d} matrix {@code A} of the
 * stacked vectors. Small volume means aligned modalities.
 *
 * <p>The pairwise form scores an anchor batch ({@code B1 × d}) against {@code K = k − 1}
 * candidate batches ({@code B2 × d} each): {@code V[i][j] = vol(anchor_i, x_{0,j}, …,
 * x_{K−1,j})}, as the PyTorch reference's {@code volume_computation(anchor, *inputs)}.
 *
 * <p>Dtypes: FLOAT and DOUBLE inputs are computed and returned in their dtype (the seed always
 * computes its determinant in float32; here DOUBLE stays DOUBLE). HALF and BFLOAT16 inputs are
 * computed and returned in FLOAT. All inputs must share one dtype.
 *
 * <p>Degenerate tuples (a zero vector, identical or collinear modalities, an anchor in the span of
 * the candidates) have volume 0, or the tiny value that rounding leaves; never NaN, never
 * negative.
 *
 * <p>Errors: every method throws {@link IllegalArgumentException} naming the argument and its
 * shape for null, non-2-D, empty, integer-typed, mixed-dtype, dimension-mismatched or
 * batch-mismatched inputs, for a missing candidate batch, and for inputs holding NaN or infinity
 * (see {@link ModalityBatches}).
 *
 * <p>Range: finite accepted input never gives Inf or NaN. A volume is at most the product of its
 * rows' norms; when that bound ({@code max_i |anchor_i| · max_j Π_m |candidates[m]_j|}) exceeds
 * the dtype's largest value (3.4e38 FLOAT, 1.8e308 DOUBLE) the call is refused before any work,
 * with the bound in the message (remedy: normalise the rows, or use DOUBLE). Rows of any norm
 * inside that range, subnormal ones included, give the exact volume: rows near the limits are
 * scaled by powers of two internally and the volumes scaled back (FAST and REFERENCE alike).
 *
 * <p>Views and orders: inputs may be views (strided rows, column slices) or 'f'-order; they are
 * copied to c-order once during validation.
 *
 * <p>Thread safety: all methods are stateless and safe to call from several threads at once; each
 * thread uses its own ND4J workspace for scratch. Results are new arrays, allocated in the
 * caller's current ND4J workspace if one is active; outside a workspace their off-heap memory is
 * freed when the garbage collector collects the array (or on {@code close()}), so loops should
 * reuse one result with {@link #pairwiseInto} (its per-call allocations are a few vectors of
 * {@code B1} and {@code B2} entries). gram4j's own scratch lives in per-thread workspaces that
 * are reused, never grown per call. The host loops' threads are capped by
 * {@link Gram4jConcurrency}.
 */
public final class GramVolumes {

    private GramVolumes() {
    }

    /**
     * The volume of one tuple of {@code k ≥ 2} vectors, the rows of {@code vectors}
     * ({@code k × d}); the seed's {@code simple_volume_computation} for any {@code k}.
     *
     * @param vectors the {@code k ≥ 2} vectors of one tuple, {@code k × d}, one per row
     * @return {@code sqrt(|det(vectors·vectorsᵀ)|)}, computed in the array's dtype (FAST method)
     * @throws IllegalArgumentException if {@code vectors} is null, not 2-D, has fewer than 2 rows,
     *     no columns, a non-float dtype or a non-finite value
     */
    public static double tuple(INDArray vectors) {
        if (vectors == null) {
            throw new IllegalArgumentException("vectors must not be null");
        }
        if (vectors.rank() != 2 || vectors.size(0) < 2) {
            throw new IllegalArgumentException("vectors must be a 2-D (k x dim) array with k >= 2 rows, got shape "
                    + ModalityBatches.shape(vectors));
        }
        ModalityBatches.checkFloatingPoint("vectors", vectors);
        int k = (int) vectors.size(0);
        List<String> names = new ArrayList<>(k - 1);
        List<INDArray> rows = new ArrayList<>(k - 1);
        for (int m = 1; m < k; m++) {
            names.add("vectors row " + m);
            rows.add(vectors.getRow(m, true));
        }
        ModalityBatches batches = ModalityBatches.named("vectors row 0", vectors.getRow(0, true), names, rows);
        try {
            INDArray v = FastVolume.volumes(batches);
            double volume = v.getDouble(0, 0);
            if (v.closeable()) {
                v.close();
            }
            return volume;
        } finally {
            batches.release();
        }
    }

    /**
     * The pairwise volume matrix by the {@link VolumeMethod#FAST} method.
     *
     * @param anchor {@code B1 × d}
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return {@code B1 × B2}, c-order, FLOAT or DOUBLE (see the class comment)
     */
    public static INDArray pairwise(INDArray anchor, INDArray... candidates) {
        return pairwise(VolumeMethod.FAST, anchor, candidates);
    }

    /**
     * The pairwise volume matrix {@code V[i][j] = vol(anchor_i, candidates[0]_j, …)}.
     *
     * @param method {@link VolumeMethod#FAST} (default) or {@link VolumeMethod#REFERENCE}
     * @param anchor {@code B1 × d}
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return {@code B1 × B2}, c-order, FLOAT or DOUBLE (see the class comment)
     */
    public static INDArray pairwise(VolumeMethod method, INDArray anchor, INDArray... candidates) {
        ModalityBatches batches = ModalityBatches.of(anchor, candidates);
        try {
            return pairwise(method, batches);
        } finally {
            batches.release();
        }
    }

    /**
     * The {@link VolumeMethod#FAST} pairwise volume matrix written into {@code out}: for loops
     * that reuse one result array. A new result is fresh off-heap memory that ND4J frees only when
     * the garbage collector collects the array (or it is closed); with a large heap, every call
     * then pays for faulting in new pages — at {@code B = 4096} more than its GEMMs cost.
     *
     * @param out {@code B1 × B2}, c-contiguous, in the computation dtype (the inputs' dtype; FLOAT
     *     for HALF and BFLOAT16 inputs); overwritten; must not share memory with any input (an
     *     input itself, a view of one, or a view of the array an input is a view of); an array
     *     that merely holds the same values as an input is fine
     * @param anchor {@code B1 × d}
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return {@code out}
     * @throws IllegalArgumentException as the class comment says, or if {@code out} is null, of
     *     another shape or dtype, not c-contiguous, or shares memory with an input, or if the
     *     volumes may exceed the dtype's range; {@code out} is then left as it was
     */
    public static INDArray pairwiseInto(INDArray out, INDArray anchor, INDArray... candidates) {
        ModalityBatches batches = ModalityBatches.of(anchor, candidates);
        try {
            return pairwiseInto(out, batches, anchor, candidates);
        } finally {
            batches.release();
        }
    }

    private static INDArray pairwiseInto(INDArray out, ModalityBatches batches, INDArray anchor, INDArray... candidates) {
        if (out == null) {
            throw new IllegalArgumentException("out must not be null");
        }
        long[] expected = {batches.anchorRows(), batches.candidateRows()};
        if (!java.util.Arrays.equals(out.shape(), expected) || out.dataType() != batches.dataType()) {
            throw new IllegalArgumentException("out must be " + expected[0] + " x " + expected[1] + " " + batches.dataType()
                    + " for anchor " + java.util.Arrays.toString(anchor.shape()) + " and candidates[0] "
                    + java.util.Arrays.toString(candidates[0].shape()) + ", got " + java.util.Arrays.toString(out.shape())
                    + " " + out.dataType());
        }
        if (out.ordering() != 'c' || out.elementWiseStride() != 1) {
            throw new IllegalArgumentException("out must be c-contiguous, got order " + out.ordering()
                    + " with element-wise stride " + out.elementWiseStride() + " (shape " + java.util.Arrays.toString(out.shape())
                    + ")");
        }
        if (Aliasing.sharesMemory(out, anchor)) {
            throw new IllegalArgumentException("out shares memory with anchor (out " + java.util.Arrays.toString(out.shape())
                    + ", anchor " + java.util.Arrays.toString(anchor.shape()) + "); pass an array that is not a view of an input");
        }
        for (int m = 0; m < candidates.length; m++) {
            if (Aliasing.sharesMemory(out, candidates[m])) {
                throw new IllegalArgumentException("out shares memory with candidates[" + m + "] (out "
                        + java.util.Arrays.toString(out.shape()) + ", candidates[" + m + "] "
                        + java.util.Arrays.toString(candidates[m].shape()) + "); pass an array that is not a view of an input");
            }
        }
        return FastVolume.volumesInto(batches, out);
    }

    /**
     * As {@link #pairwise(VolumeMethod, INDArray, INDArray...)} on already validated batches.
     *
     * @param method FAST or REFERENCE
     * @param batches validated inputs
     * @return {@code B1 × B2}, in {@link ModalityBatches#dataType()}
     */
    public static INDArray pairwise(VolumeMethod method, ModalityBatches batches) {
        if (method == null) {
            throw new IllegalArgumentException("method must not be null");
        }
        return method == VolumeMethod.FAST ? FastVolume.volumes(batches) : ReferenceVolume.volumes(batches);
    }

    /**
     * The pairwise Gram tensor {@code G[i][j] = T_ij·T_ijᵀ} for the tuples
     * {@code T_ij = (anchor_i, candidates[0]_j, …)}, laid out as the seed's
     * {@code volume_computation} stacks it: {@code G[i][j][0][0] = |anchor_i|²},
     * {@code G[i][j][0][m+1] = anchor_i·candidates[m]_j},
     * {@code G[i][j][m+1][l+1] = candidates[m]_j·candidates[l]_j}.
     *
     * @param anchor {@code B1 × d}
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return {@code (B1, B2, k, k)}, c-order, in the computation dtype
     * @throws IllegalArgumentException as the class comment says, or if the tensor has more than
     *     {@code 2³¹ − 9} entries
     */
    public static INDArray gramTensor(INDArray anchor, INDArray... candidates) {
        return ReferenceVolume.gramTensor(ModalityBatches.of(anchor, candidates));
    }
}
