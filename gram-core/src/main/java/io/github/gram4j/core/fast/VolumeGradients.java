package io.github.gram4j.core.fast;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gradients of a scalar loss with respect to the inputs of a pairwise volume matrix.
 *
 * @param anchor {@code ∂L/∂anchor}, {@code B1 × d}, or {@code null} if not requested
 * @param candidates {@code ∂L/∂candidates[m]}, {@code B2 × d} each, or an empty list if not requested
 */
public record VolumeGradients(INDArray anchor, List<INDArray> candidates) {

    /**
     * Copies {@code candidates} into an unmodifiable list.
     *
     * @param anchor {@code ∂L/∂anchor}, or {@code null}
     * @param candidates {@code ∂L/∂candidates[m]}
     * @throws NullPointerException if {@code candidates} is null or holds a null
     */
    public VolumeGradients {
        candidates = List.copyOf(candidates);
    }
}
