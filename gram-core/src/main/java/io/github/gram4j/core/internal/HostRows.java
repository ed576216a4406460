package io.github.gram4j.core.internal;

import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Parallel loops over the rows of host arrays: rows are split into contiguous chunks run on the
 * common fork-join pool, each chunk with its own scratch.
 */
public final class HostRows {

    /** A body run for each row with its chunk's scratch. */
    @FunctionalInterface
    public interface RowBody<S> {
        void run(int row, S scratch);
    }

    private HostRows() {
    }

    /** Runs {@code body} for rows {@code 0 … rows − 1}, in parallel chunks. */
    public static <S> void forEach(int rows, Supplier<S> scratch, RowBody<S> body) {
        forEachCollecting(rows, scratch, body);
    }

    /**
     * As {@link #forEach}, returning every chunk's scratch, for reductions across rows (each
     * chunk accumulates into its own scratch; the caller sums them).
     */
    public static <S> List<S> forEachCollecting(int rows, Supplier<S> scratch, RowBody<S> body) {
        int chunks = Math.max(1, Math.min(rows, 8 * Runtime.getRuntime().availableProcessors()));
        return IntStream.range(0, chunks).parallel().mapToObj(c -> {
            S s = scratch.get();
            int end = (int) ((long) rows * (c + 1) / chunks);
            for (int row = (int) ((long) rows * c / chunks); row < end; row++) {
                body.run(row, s);
            }
            return s;
        }).toList();
    }
}
