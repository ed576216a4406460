package io.github.gram4j.metrics;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Retrieval metrics in both directions of a score matrix of {@code B1} anchors (rows) ×
 * {@code B2} candidates (columns), as GRAM's {@code compute_metric_ret_area} (volumes,
 * {@link ScoreOrder#LOWER_IS_BETTER}) and {@code compute_metric_ret} (cosine,
 * {@link ScoreOrder#HIGHER_IS_BETTER}) compute them: R@1, R@5, R@10 in percent (not rounded; GRAM
 * logs them rounded to 0.1), the lower median rank and the mean rank.
 *
 * <p>Which ranks enter each direction, the id semantics (first positive candidate for
 * anchor→candidate, best positive anchor for candidate→anchor) and the tie rule are those of
 * {@link RetrievalRanks}; use it directly for the ranks themselves.
 *
 * <pre>{@code
 * INDArray v = GramVolumes.pairwise(text, video, audio);             // B1 x B2
 * RetrievalMetrics m = RetrievalMetrics.compute(v, ScoreOrder.LOWER_IS_BETTER, captionVideoIds, videoIds);
 * double r1 = m.anchorToCandidate().recallAt1();                     // text -> video R@1, percent
 * }</pre>
 *
 * @param anchorToCandidate metrics over the {@code B1} anchor queries
 * @param candidateToAnchor metrics over the {@code B2} candidate queries
 */
public record RetrievalMetrics(DirectionMetrics anchorToCandidate, DirectionMetrics candidateToAnchor) {

    /**
     * @throws IllegalArgumentException if either direction is null
     *
     * @param anchorToCandidate the anchor→candidate metrics
     * @param candidateToAnchor the candidate→anchor metrics
     */
    public RetrievalMetrics {
        if (anchorToCandidate == null || candidateToAnchor == null) {
            throw new IllegalArgumentException("anchorToCandidate and candidateToAnchor must not be null");
        }
    }

    /**
     * The metrics with identity ids: anchor {@code i} ↔ candidate {@code i}.
     *
     * @param scores {@code B × B}, floating-point, no NaN
     * @param order which end of the scores is best
     * @return the metrics of both directions
     * @throws IllegalArgumentException as {@link RetrievalRanks#compute(INDArray, ScoreOrder)}
     */
    public static RetrievalMetrics compute(INDArray scores, ScoreOrder order) {
        return RetrievalRanks.compute(scores, order).metrics();
    }

    /**
     * The metrics with explicit ids (equal ids mark positive pairs; many-to-one allowed).
     *
     * @param scores {@code B1 × B2}, floating-point, no NaN
     * @param order which end of the scores is best
     * @param anchorIds {@code B1} ids, each occurring in {@code candidateIds}
     * @param candidateIds {@code B2} ids, each occurring in {@code anchorIds}
     * @return the metrics of both directions
     * @throws IllegalArgumentException as {@link RetrievalRanks#compute(INDArray, ScoreOrder, long[], long[])}
     */
    public static RetrievalMetrics compute(INDArray scores, ScoreOrder order, long[] anchorIds, long[] candidateIds) {
        return RetrievalRanks.compute(scores, order, anchorIds, candidateIds).metrics();
    }
}
