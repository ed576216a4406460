package io.github.gram4j.loss;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The value and gradients of a bidirectional contrastive loss for one step. Arrays are new, in
 * the computation dtype (FLOAT or DOUBLE), and live where the caller's results live: in the ND4J
 * workspace that was current when the loss was called (valid until that workspace's scope
 * closes, after which ND4J refuses them with a "leaked workspace pointer" error; a training loop's
 * workspace recycles them step after step, without fresh memory or copies; {@code detach()} what
 * must outlive the step), or in ordinary off-heap memory when none was.
 *
 * @param loss {@code L = ½ (L_{a→c} + L_{c→a})}
 * @param rowLossesAnchorToCandidate the {@code bs} per-row losses of the anchor→candidate direction
 *     (their mean is {@code L_{a→c}})
 * @param rowLossesCandidateToAnchor the {@code bs} per-row losses of the candidate→anchor direction
 * @param anchorScores the scores of the local anchors against the (gathered) candidates,
 *     {@code bs × N}: volumes for GRAM, TRIANGLE scores or areas, similarities for the cosine baseline
 * @param candidateScores the scores of the (gathered) anchors against the local candidates,
 *     {@code N × bs}; on one process the same matrix as {@code anchorScores}
 * @param gradAnchor {@code ∂L/∂anchor}, {@code bs × d}
 * @param gradCandidates {@code ∂L/∂candidates[m]}, {@code bs × d} each
 * @param gradTemperature {@code ∂L/∂τ}, or {@code ∂L/∂s} for a log-scale {@link Temperature}
 * @param gradGatheredAnchor {@code ∂L/∂gatheredAnchor} ({@code N × d}), or {@code null} unless
 *     requested in the gathered form
 * @param gradGatheredCandidates {@code ∂L/∂gatheredCandidates[m]} ({@code N × d} each), or empty
 *     unless requested in the gathered form
 */
public record LossResult(double loss, INDArray rowLossesAnchorToCandidate, INDArray rowLossesCandidateToAnchor,
        INDArray anchorScores, INDArray candidateScores, INDArray gradAnchor, List<INDArray> gradCandidates,
        double gradTemperature, INDArray gradGatheredAnchor, List<INDArray> gradGatheredCandidates) {

    /**
     * Copies the gradient lists into unmodifiable lists.
     *
     * @param loss see the record's description
     * @param rowLossesAnchorToCandidate see the record's description
     * @param rowLossesCandidateToAnchor see the record's description
     * @param anchorScores see the record's description
     * @param candidateScores see the record's description
     * @param gradAnchor see the record's description
     * @param gradCandidates see the record's description
     * @param gradTemperature see the record's description
     * @param gradGatheredAnchor see the record's description
     * @param gradGatheredCandidates see the record's description
     * @throws NullPointerException if {@code gradCandidates} or {@code gradGatheredCandidates} is
     *     null or holds a null
     */
    public LossResult {
        gradCandidates = List.copyOf(gradCandidates);
        gradGatheredCandidates = List.copyOf(gradGatheredCandidates);
    }

    /**
     * Frees the off-heap memory of this result's arrays now, instead of when the garbage collector
     * finds their handles (ND4J's rule for arrays outside workspaces): for a training loop that is
     * done with a step's results, so that the next step does not write into fresh memory. An array
     * held twice (the one-process scores) is freed once; arrays in a workspace are left to it. The
     * result's arrays must not be used afterwards.
     */
    public void release() {
        java.util.Set<INDArray> arrays = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.Collections.addAll(arrays, rowLossesAnchorToCandidate, rowLossesCandidateToAnchor, anchorScores,
                candidateScores, gradAnchor, gradGatheredAnchor);
        arrays.addAll(gradCandidates);
        arrays.addAll(gradGatheredCandidates);
        for (INDArray x : arrays) {
            if (x != null && x.closeable() && !x.wasClosed()) {
                x.close();
            }
        }
    }
}
