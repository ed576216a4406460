package io.github.gram4j.core.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import io.github.gram4j.core.Gram4jConcurrency;

/**
 * Parallel loops over the rows of host arrays: rows are split into contiguous chunks, each chunk
 * run with its own fresh scratch, on at most {@link Gram4jConcurrency#getMaxThreads()} threads
 * (the caller and helpers from the common fork-join pool).
 *
 * <p>The chunks depend only on the row count and the machine's processor count, never on the
 * thread cap, and collected scratches come back in chunk order: results are bit-identical for
 * every setting of {@link Gram4jConcurrency}.
 *
 * <p>A loop returns only when every chunk has finished, also when one fails: a failing chunk
 * stops further chunks from starting, the running ones complete, and the first failure is rethrown
 * with the others attached as suppressed exceptions. So no worker still touches the caller's
 * arrays (or a workspace the caller closes) after the call.
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
     * As {@link #forEach}, returning every chunk's scratch in chunk order, for reductions across
     * rows (each chunk accumulates into its own scratch; the caller sums them).
     */
    public static <S> List<S> forEachCollecting(int rows, Supplier<S> scratch, RowBody<S> body) {
        return forEachCollecting(rows, scratch, body, Gram4jConcurrency.getMaxThreads());
    }

    /** The number of chunks {@code rows} rows are split into: independent of the thread cap. */
    static int chunks(int rows) {
        return Math.max(1, Math.min(rows, 8 * Runtime.getRuntime().availableProcessors()));
    }

    static <S> List<S> forEachCollecting(int rows, Supplier<S> scratch, RowBody<S> body, int maxThreads) {
        int chunks = chunks(rows);
        Object[] results = new Object[chunks];
        AtomicInteger next = new AtomicInteger();
        // one count per chunk, run or skipped: zero once every claimed chunk has finished
        CountDownLatch unfinished = new CountDownLatch(chunks);
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        Runnable worker = () -> {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    if (failures.isEmpty()) {
                        S s = scratch.get();
                        int end = (int) ((long) rows * (c + 1) / chunks);
                        for (int row = (int) ((long) rows * c / chunks); row < end; row++) {
                            body.run(row, s);
                        }
                        results[c] = s;
                    }
                } catch (Throwable t) {
                    failures.add(t);
                } finally {
                    unfinished.countDown();
                }
            }
        };
        // helpers that start after every chunk is claimed find none and touch nothing
        int helpers = Math.min(chunks, Math.max(1, maxThreads)) - 1;
        for (int h = 0; h < helpers; h++) {
            ForkJoinPool.commonPool().execute(worker);
        }
        worker.run();
        boolean interrupted = false;
        while (true) {
            try {
                unfinished.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;     // the chunks read the caller's memory: wait for them regardless
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (!failures.isEmpty()) {
            Throwable first = failures.get(0);
            for (Throwable other : failures.subList(1, failures.size())) {
                first.addSuppressed(other);
            }
            if (first instanceof RuntimeException e) {
                throw e;
            }
            if (first instanceof Error e) {
                throw e;
            }
            throw new IllegalStateException(first);
        }
        @SuppressWarnings("unchecked")
        List<S> list = (List<S>) Arrays.asList(results);
        return list;
    }
}
