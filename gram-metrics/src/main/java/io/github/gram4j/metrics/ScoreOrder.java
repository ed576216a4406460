package io.github.gram4j.metrics;

/**
 * Which end of a score matrix is best for retrieval.
 *
 * <p>GRAM volumes are {@link #LOWER_IS_BETTER} (GRAM's {@code compute_metric_ret_area}, an ascending
 * sort); cosine similarities are {@link #HIGHER_IS_BETTER} ({@code compute_metric_ret}, a descending
 * sort).
 */
public enum ScoreOrder {

    /** Smaller scores rank first (volumes, distances). */
    LOWER_IS_BETTER,

    /** Larger scores rank first (cosine similarities, logits). */
    HIGHER_IS_BETTER;

    /**
     * Whether score {@code x} ranks strictly before score {@code y} in this order. Equal scores are
     * neither better nor worse; a NaN is never better.
     *
     * @param x a score
     * @param y another score
     * @return whether {@code x} is strictly better than {@code y}
     */
    public boolean isBetter(double x, double y) {
        return this == LOWER_IS_BETTER ? x < y : x > y;
    }
}
