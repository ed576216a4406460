package io.github.gram4j.core.fast;

import java.util.List;

import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A reduction over the rows of a score matrix that rides on the pass producing them: the
 * volume epilogue hands each row of {@code S} to the visitor right after writing it, while it is
 * in cache, so that a loss's forward statistics cost no second pass over {@code B1 × B2} memory.
 *
 * <p>Rows are split into chunks as {@link HostRows} splits them (by the row count alone), each
 * chunk with its own state; {@link #finish} receives the states in chunk order, so a reduction
 * that merges them in that order is deterministic whatever the thread count. {@link #visit} runs
 * on several threads at once (different rows) and exactly once per row. Host memory only (the ND4J
 * CPU backend).
 *
 * @param <S> the per-chunk state
 */
public interface RowVisitor<S> {

    /** {@return a fresh state for one chunk of rows} */
    S newChunk();

    /**
     * Folds one row into its chunk's state.
     *
     * @param row the row {@code i}, {@code 0 ≤ i < B1}
     * @param scores row {@code i} of {@code S}, {@code B2} values, exactly as stored (rounded to the
     *     dtype); the visitor may overwrite it
     * @param chunk the state of the chunk holding the row
     */
    void visit(int row, double[] scores, S chunk);

    /**
     * Called once, after every row was visited.
     *
     * @param chunks the chunk states in chunk order
     */
    void finish(List<S> chunks);

    /**
     * Visits every row of {@code scores} in a pass of its own (for scores whose producer does not
     * visit): the same chunks, the same order.
     *
     * @param scores {@code B1 × B2}, FLOAT or DOUBLE, in host memory
     * @param visitor the visitor
     * @param <S> the per-chunk state
     */
    static <S> void visitAll(INDArray scores, RowVisitor<S> visitor) {
        int rows = (int) scores.size(0);
        int cols = (int) scores.size(1);
        HostArray in = HostArray.ofAny(scores);
        List<Object[]> chunks = HostRows.forEachCollecting(rows, () -> new Object[] {new double[cols],
                visitor.newChunk()}, (i, t) -> {
                    double[] row = (double[]) t[0];
                    in.read((long) i * cols, row, cols);
                    @SuppressWarnings("unchecked")
                    S state = (S) t[1];
                    visitor.visit(i, row, state);
                });
        visitor.finish(states(chunks));
    }

    /** The visitor states held at index 1 of each chunk's scratch array, in chunk order. */
    @SuppressWarnings("unchecked")
    private static <S> List<S> states(List<Object[]> chunks) {
        return chunks.stream().map(c -> (S) c[1]).toList();
    }
}
