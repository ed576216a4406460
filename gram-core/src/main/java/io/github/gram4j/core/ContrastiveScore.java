package io.github.gram4j.core;

import io.github.gram4j.core.fast.ResultMemory;
import io.github.gram4j.core.fast.RowVisitor;
import io.github.gram4j.core.fast.ScoreTape;
import io.github.gram4j.core.fast.TriangleTape;
import io.github.gram4j.core.fast.VolumeTape;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The pairwise score a contrastive loss or a retrieval ranks by; for all of them lower means
 * better aligned, and the loss's logits are {@code −score/τ}.
 */
public enum ContrastiveScore {

    /** GRAM's Gram-matrix volume ({@link GramVolumes}), any {@code k ≥ 2} modalities. */
    GRAM_VOLUME("volume"),

    /**
     * TRIANGLE's rootless score {@code (|u|²|w|² − (u·w)²)/2} ({@link TriangleScores#pairwise}),
     * exactly 3 modalities: what the TRIANGLE training code uses.
     */
    TRIANGLE("triangle"),

    /** TRIANGLE's geometric area {@code sqrt(|u|²|w|² − (u·w)²)/2} ({@link TriangleScores#areas}), exactly 3 modalities. */
    TRIANGLE_AREA("triangle-area");

    private final String cliName;

    ContrastiveScore(String cliName) {
        this.cliName = cliName;
    }

    /** {@return the name command lines use: {@code volume}, {@code triangle}, {@code triangle-area}} */
    public String cliName() {
        return cliName;
    }

    /** {@return whether this score needs exactly three modalities (anchor + 2 candidate batches)} */
    public boolean needsThreeModalities() {
        return this != GRAM_VOLUME;
    }

    /**
     * The score matrix of validated batches, {@code B1 × B2}, in the batches' dtype.
     *
     * @param batches validated inputs
     * @return the scores, {@code B1 × B2}
     * @throws IllegalArgumentException for a TRIANGLE score unless there are exactly 3 modalities
     */
    public INDArray pairwise(ModalityBatches batches) {
        return this == GRAM_VOLUME ? GramVolumes.pairwise(VolumeMethod.FAST, batches)
                : TriangleScores.compute(batches, this == TRIANGLE_AREA);
    }

    /**
     * Records the forward pass for a backward pass (arrays in the current workspace).
     *
     * @param batches validated inputs
     * @return the tape: the scores and what the backward needs
     * @throws IllegalArgumentException for a TRIANGLE score unless there are exactly 3 modalities
     */
    public ScoreTape record(ModalityBatches batches) {
        return this == GRAM_VOLUME ? VolumeTape.record(batches) : TriangleTape.record(batches, this == TRIANGLE_AREA);
    }

    /**
     * As {@link #record(ModalityBatches)}, handing every row of the scores to {@code visitor}: for
     * the GRAM volume inside the pass that writes them ({@link VolumeTape#record(ModalityBatches,
     * RowVisitor)}), for TRIANGLE in a pass of its own. Requires the CPU backend.
     *
     * @param batches validated inputs
     * @param visitor a reduction over the rows of the scores; finished when this returns
     * @param <S> the visitor's per-chunk state
     * @return the tape: the scores and what the backward needs
     * @throws IllegalArgumentException for a TRIANGLE score unless there are exactly 3 modalities
     * @throws IllegalStateException off the CPU backend
     */
    public <S> ScoreTape record(ModalityBatches batches, RowVisitor<S> visitor) {
        return record(batches, visitor, null);
    }

    /**
     * As {@link #record(ModalityBatches, RowVisitor)}; the GRAM volume's tape allocates its scores
     * and gradients in {@code results} ({@link VolumeTape#record(ModalityBatches, RowVisitor,
     * ResultMemory)}), the TRIANGLE tapes in the current workspace (copy what you keep with
     * {@link ResultMemory#keep}).
     *
     * @param batches validated inputs
     * @param visitor a reduction over the rows of the scores; finished when this returns
     * @param results where the GRAM volume's scores and gradients go; null for the current workspace
     * @param <S> the visitor's per-chunk state
     * @return the tape: the scores and what the backward needs
     * @throws IllegalArgumentException for a TRIANGLE score unless there are exactly 3 modalities
     * @throws IllegalStateException off the CPU backend
     */
    public <S> ScoreTape record(ModalityBatches batches, RowVisitor<S> visitor, ResultMemory results) {
        if (this == GRAM_VOLUME) {
            return VolumeTape.record(batches, visitor, results);
        }
        ScoreTape tape = record(batches);
        RowVisitor.visitAll(tape.scores(), visitor);
        return tape;
    }

    /**
     * The score named {@code name} ({@link #cliName()}, case-insensitive).
     *
     * @param name {@code volume}, {@code triangle} or {@code triangle-area}
     * @return the score
     * @throws IllegalArgumentException for any other name, listing the valid ones
     */
    public static ContrastiveScore fromCliName(String name) {
        for (ContrastiveScore s : values()) {
            if (s.cliName.equalsIgnoreCase(String.valueOf(name))) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown score '" + name + "'; expected volume, triangle or triangle-area");
    }
}
