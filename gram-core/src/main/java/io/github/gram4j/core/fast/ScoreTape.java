package io.github.gram4j.core.fast;

import io.github.gram4j.core.ModalityBatches;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The forward pass of a pairwise score matrix ({@code B1 × B2}) kept for its backward pass: the
 * common shape of {@link VolumeTape} (GRAM volumes) and {@link TriangleTape} (TRIANGLE areas), so
 * that one contrastive loss serves every score.
 *
 * <p>Arrays are allocated in the workspace that is current when the tape is recorded and when
 * {@link #backward} runs; one tape per thread.
 */
public interface ScoreTape {

    /** {@return the score matrix {@code S}, {@code B1 × B2}, in the batches' dtype} */
    INDArray scores();

    /** {@return the validated inputs this tape was recorded on} */
    ModalityBatches batches();

    /**
     * Back-propagates {@code g = ∂L/∂S} ({@code B1 × B2}).
     *
     * @param g {@code ∂L/∂S}, {@code B1 × B2}, in the batches' dtype
     * @param anchorGradient whether to compute {@code ∂L/∂anchor} ({@code B1 × d})
     * @param candidateGradients whether to compute {@code ∂L/∂candidates[m]} ({@code B2 × d} each)
     * @return {@code ∂L/∂anchor} and {@code ∂L/∂candidates[m]} (null or empty where not asked for)
     * @throws IllegalArgumentException if {@code g} is not {@code B1 × B2}
     */
    VolumeGradients backward(INDArray g, boolean anchorGradient, boolean candidateGradients);

    /**
     * Back-propagates {@code ∂L/∂S} given row by row. This default writes the rows into a
     * {@code B1 × B2} matrix and calls {@link #backward(INDArray, boolean, boolean)}; a tape may
     * instead consume each row inside its own pass over the pairs (the CPU path of
     * {@link VolumeTape} does), which saves writing and reading that matrix.
     *
     * @param g {@code ∂L/∂S}, row by row
     * @param anchorGradient whether to compute {@code ∂L/∂anchor} ({@code B1 × d})
     * @param candidateGradients whether to compute {@code ∂L/∂candidates[m]} ({@code B2 × d} each)
     * @return {@code ∂L/∂anchor} and {@code ∂L/∂candidates[m]} (null or empty where not asked for)
     */
    default VolumeGradients backward(GradientRows g, boolean anchorGradient, boolean candidateGradients) {
        return backward(GradientRows.matrix(scores(), g), anchorGradient, candidateGradients);
    }
}
