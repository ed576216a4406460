package io.github.gram4j.core;

import java.util.Arrays;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Row-wise L2 normalisation {@code e = z / |z|} and its backward, the step between an encoder's
 * output and GRAM's embeddings (GRAM and CLIP normalise every modality's embeddings).
 *
 * <p>Backward: for {@code e_r = z_r / |z_r|} and an upstream gradient {@code g_r = ∂L/∂e_r},
 * {@code ∂L/∂z_r = (g_r − e_r·(e_r·g_r)) / |z_r|}: the component of {@code g_r} along
 * {@code e_r} is removed (a change of length does not change {@code e_r}) and the rest is scaled by
 * {@code 1/|z_r|}.
 *
 * <p>Both take {@code n × d} FLOAT or DOUBLE arrays and return new arrays of the same shape and
 * dtype; the inputs are not modified. Stateless and thread-safe.
 */
public final class RowNormalization {

    private RowNormalization() {
    }

    /**
     * {@code e = z / |z|} row-wise.
     *
     * @param z {@code n × d}, floating point, every row finite and non-zero
     * @return {@code e}, {@code n × d}, unit rows
     * @throws IllegalArgumentException if {@code z} is null, not 2-D, not floating point, or has a
     *     row whose norm is 0 or not finite (naming the row)
     */
    public static INDArray forward(INDArray z) {
        INDArray norms = norms(z, "z");
        return z.divColumnVector(norms);
    }

    /**
     * {@code ∂L/∂z} of {@code e = forward(z)}, given {@code ∂L/∂e}.
     *
     * @param z the input of {@link #forward}, {@code n × d}
     * @param e {@code forward(z)}, {@code n × d}, same dtype
     * @param gradE {@code ∂L/∂e}, {@code n × d}, same dtype
     * @return {@code ∂L/∂z}, {@code n × d}
     * @throws IllegalArgumentException if an argument is null, the shapes or dtypes differ, or
     *     {@code z} is not a valid input of {@link #forward}
     */
    public static INDArray backward(INDArray z, INDArray e, INDArray gradE) {
        INDArray norms = norms(z, "z");
        requireLike(e, "e", z);
        requireLike(gradE, "gradE", z);
        INDArray along = e.mul(gradE).sum(1).reshape(z.size(0), 1);
        return gradE.sub(e.mulColumnVector(along)).divColumnVector(norms);
    }

    /** The row norms of a checked {@code z}, {@code n × 1}. */
    private static INDArray norms(INDArray z, String name) {
        if (z == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (z.rank() != 2) {
            throw new IllegalArgumentException(name + " must be 2-D (n × d), got shape "
                    + Arrays.toString(z.shape()));
        }
        if (!z.dataType().isFPType()) {
            throw new IllegalArgumentException(name + " must be floating point, got " + z.dataType());
        }
        INDArray norms = z.norm2(1).reshape(z.size(0), 1);
        double[] values = norms.toDoubleVector();
        for (int r = 0; r < values.length; r++) {
            if (!(values[r] > 0) || Double.isInfinite(values[r])) {
                throw new IllegalArgumentException(name + " row " + r + " has norm " + values[r]
                        + ": every row must be finite and non-zero");
            }
        }
        return norms;
    }

    private static void requireLike(INDArray x, String name, INDArray z) {
        if (x == null) {
            throw new IllegalArgumentException(name + " must not be null");
        }
        if (!Arrays.equals(x.shape(), z.shape()) || x.dataType() != z.dataType()) {
            throw new IllegalArgumentException(name + " must have z's shape " + Arrays.toString(z.shape())
                    + " and dtype " + z.dataType() + ", got " + Arrays.toString(x.shape()) + " "
                    + x.dataType());
        }
    }
}
