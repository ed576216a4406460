package io.github.gram4j.core.fast;

import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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

    /**
     * Writes {@code g} into a {@code B1 × B2} matrix (c-order, the scores' dtype, in the current
     * workspace), one row at a time: for consumers that need {@code ∂L/∂S} as an array.
     *
     * @param scores {@code S}, {@code B1 × B2}
     * @param g {@code ∂L/∂S}, row by row
     * @return {@code ∂L/∂S}, {@code B1 × B2}
     */
    static INDArray matrix(INDArray scores, GradientRows g) {
        int rows = (int) scores.size(0);
        int cols = (int) scores.size(1);
        INDArray upstream = Nd4j.createUninitialized(scores.dataType(), new long[] {rows, cols}, 'c');
        if (HostArray.available()) {
            HostArray in = HostArray.ofAny(scores);
            HostArray out = HostArray.of(upstream);
            HostRows.forEach(rows, () -> new double[2][cols], (i, t) -> {
                in.read((long) i * cols, t[0], cols);
                g.fill(i, t[0], t[1]);
                out.write((long) i * cols, t[1], cols);
            });
        } else {
            double[][] values = scores.castTo(DataType.DOUBLE).toDoubleMatrix();
            double[][] gradient = new double[rows][cols];
            for (int i = 0; i < rows; i++) {
                g.fill(i, values[i], gradient[i]);
            }
            upstream.assign(Nd4j.create(gradient).castTo(scores.dataType()));
        }
        return upstream;
    }
}
