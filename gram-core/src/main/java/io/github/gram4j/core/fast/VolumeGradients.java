package io.github.gram4j.core.fast;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Gradients of a scalar loss with respect to the inputs of a pairwise volume matrix.
 *
 * @param anchor {@code ∂L/∂anchor}, {@code B1 × d}, or {@code null} if not requested
 * @param candidates {@code ∂L/∂candidates[m]}, {@code B2 × d} each, or an empty list if not requested
 * @param checkedFinite true when the producer has checked that every entry of these gradients is
 *     finite (the CPU path of {@link VolumeTape} does so in the pass that writes them); false when
 *     nothing is known, never when an entry is NaN or infinite
 */
public record VolumeGradients(INDArray anchor, List<INDArray> candidates, boolean checkedFinite) {

    /**
     * Copies {@code candidates} into an unmodifiable list.
     *
     * @param anchor {@code ∂L/∂anchor}, or {@code null}
     * @param candidates {@code ∂L/∂candidates[m]}
     * @param checkedFinite whether every entry was checked to be finite
     * @throws NullPointerException if {@code candidates} is null or holds a null
     */
    public VolumeGradients {
        candidates = List.copyOf(candidates);
    }

    /**
     * Gradients not checked for finiteness.
     *
     * @param anchor {@code ∂L/∂anchor}, or {@code null}
     * @param candidates {@code ∂L/∂candidates[m]}
     * @throws NullPointerException if {@code candidates} is null or holds a null
     */
    public VolumeGradients(INDArray anchor, List<INDArray> candidates) {
        this(anchor, candidates, false);
    }
}
