package io.github.gram4j.core;

import java.util.Arrays;
import java.util.List;

import io.github.gram4j.core.fast.TriangleTape;
import io.github.gram4j.core.internal.Workspaces;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * TRIANGLE scores (Cicchetti, Grassucci, Comminiello, "A TRIANGLE Enables Multimodal Alignment
 * Beyond Cosine Similarity", NeurIPS 2025; ispamm/TRIANGLE): three modalities are aligned when the
 * triangle whose vertices are their embeddings is small. Lower is better.
 *
 * <p>For an anchor batch {@code T} ({@code B1 × d}) and two candidate batches {@code V}, {@code A}
 * ({@code B2 × d} each), pair {@code (i, j)} is the triangle {@code (t_i, v_j, a_j)}; with
 * {@code u = t_i − v_j}, {@code w = t_i − a_j}, {@code q = |u|²|w|² − (u·w)²}:
 * <ul>
 *   <li>{@link #pairwise}: the <b>rootless score</b> {@code q/2} (= 2·area²), what the
 *       TRIANGLE training code ({@code utils/area.py}, {@code area_computation}) returns and
 *       trains with; the default;</li>
 *   <li>{@link #areas}: the <b>geometric area</b> {@code sqrt(q)/2}, as the README's single-tuple
 *       function computes it.</li>
 * </ul>
 * Both rank the candidates of one anchor identically (the root is monotone); they differ as
 * logits of a loss.
 *
 * <p>Computation: two GEMMs ({@code T·Aᵀ} and {@code T·Êᵀ} with {@code Ê} the unit rows of
 * {@code V − A}) and one elementwise pass, memory {@code O(B1·B2)}, never the reference's
 * {@code B1 × B2 × d} broadcast; written to avoid the cancellation of the expanded formula when
 * the points nearly coincide (see {@link TriangleTape}). Scores are never negative, never NaN.
 *
 * <p>Dtypes: as {@link GramVolumes}: FLOAT and DOUBLE in their dtype, HALF and BFLOAT16 computed
 * and returned in FLOAT.
 *
 * <p>Errors: {@link IllegalArgumentException} for every invalid batch that {@link ModalityBatches}
 * rejects (with its messages), for any other number of modalities than three (naming the count),
 * and for inputs so large that the rootless score could overflow the dtype.
 *
 * <p>Stateless and thread-safe; results are new arrays in the caller's current workspace.
 */
public final class TriangleScores {

    private static final String WORKSPACE = "gram4j.triangle";

    private TriangleScores() {
    }

    /**
     * The rootless TRIANGLE score matrix {@code S_ij = (|u|²|w|² − (u·w)²)/2}.
     *
     * @param anchor {@code B1 × d}
     * @param candidates exactly two batches {@code V}, {@code A} of {@code B2 × d}
     * @return {@code B1 × B2}, c-order, FLOAT or DOUBLE
     */
    public static INDArray pairwise(INDArray anchor, INDArray... candidates) {
        return computeAndRelease(ModalityBatches.of(anchor, candidates), false);
    }

    /**
     * The geometric triangle areas {@code sqrt(|u|²|w|² − (u·w)²)/2}.
     *
     * @param anchor {@code B1 × d}
     * @param candidates exactly two batches {@code V}, {@code A} of {@code B2 × d}
     * @return {@code B1 × B2}, c-order, FLOAT or DOUBLE
     */
    public static INDArray areas(INDArray anchor, INDArray... candidates) {
        return computeAndRelease(ModalityBatches.of(anchor, candidates), true);
    }

    /** {@link #compute}, then frees what validation allocated (as {@link GramVolumes}' entry points do). */
    private static INDArray computeAndRelease(ModalityBatches batches, boolean rooted) {
        try {
            return compute(batches, rooted);
        } finally {
            batches.release();
        }
    }

    /**
     * The rootless scores ({@code rooted = false}) or areas of already validated batches.
     *
     * @param batches validated inputs: an anchor and exactly two candidate batches
     * @param rooted the geometric area ({@code true}) or the rootless training score
     * @return the scores, {@code B1 × B2}, in the batches' dtype
     * @throws IllegalArgumentException unless the batches hold exactly three modalities
     */
    public static INDArray compute(ModalityBatches batches, boolean rooted) {
        TriangleTape.requireThreeModalities(batches);
        INDArray out = Nd4j.createUninitialized(batches.dataType(), new long[] {batches.anchorRows(),
            batches.candidateRows()}, 'c');
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            return out.assign(TriangleTape.record(batches, rooted).scores());
        }
    }

    /**
     * The area of one triangle, the rows of {@code vertices} ({@code 3 × d}): the README's
     * single-tuple function, {@code sqrt(|u|²|w|² − (u·w)²)/2} with {@code u = x₀ − x₁},
     * {@code w = x₀ − x₂}. The rootless score of the same triangle is {@code 2·area²}.
     *
     * @param vertices the three vertices, {@code 3 × d}
     * @return the area, computed in double
     * @throws IllegalArgumentException if {@code vertices} is null, not {@code 3 × d}, empty,
     *     non-float or holds a non-finite value
     */
    public static double tupleArea(INDArray vertices) {
        if (vertices == null) {
            throw new IllegalArgumentException("vertices must not be null");
        }
        if (vertices.rank() != 2 || vertices.size(0) != 3) {
            throw new IllegalArgumentException("vertices must be a 2-D (3 x dim) array, got shape "
                    + Arrays.toString(vertices.shape()));
        }
        ModalityBatches.checkFloatingPoint("vertices", vertices);
        ModalityBatches batches = ModalityBatches.named("vertices row 0", vertices.getRow(0, true),
                List.of("vertices row 1", "vertices row 2"), List.of(vertices.getRow(1, true), vertices.getRow(2, true)));
        try {
            return compute(batches, true).getDouble(0, 0);
        } finally {
            batches.release();
        }
    }
}
