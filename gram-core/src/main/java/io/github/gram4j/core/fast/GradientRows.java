package io.github.gram4j.core.fast;

/**
 * {@code ∂L/∂S} of a pairwise score matrix, one row at a time: lets a loss hand its gradient to a
 * {@link ScoreTape} without writing the {@code B1 × B2} matrix, so that the tape's backward pass
 * computes each row where it needs it, while the row of {@code S} it has just read is in cache.
 *
 * <p>The tape calls {@link #fill} exactly once for every row {@code 0 ≤ i < B1}, possibly from
 * several threads at once (for different rows) and in any order; an implementation that keeps
 * per-row results writes them to per-row slots.
 */
@FunctionalInterface
public interface GradientRows {

    /**
     * Writes row {@code i} of {@code ∂L/∂S}.
     *
     * @param row the row {@code i}, {@code 0 ≤ i < B1}
     * @param scores row {@code i} of {@code S} as the tape holds it, {@code B2} values; read only
     * @param gradient receives row {@code i} of {@code ∂L/∂S}, {@code B2} values
     */
    void fill(int row, double[] scores, double[] gradient);
}
