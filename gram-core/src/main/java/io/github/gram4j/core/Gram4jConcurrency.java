package io.github.gram4j.core;

/**
 * The switch for gram4j's own host parallelism (modelled on EJML's {@code EjmlConcurrency}).
 *
 * <p>On the CPU backend gram4j runs its fused elementwise loops (the FAST epilogue, the
 * Gram–Schmidt of the candidates, the loss's cross-entropy passes, the tiled transposes) over
 * rows in parallel, on the common fork-join pool. {@link #setMaxThreads} caps how many threads one
 * such loop uses at a time, the calling thread included; {@code 1} runs every loop sequentially on
 * the calling thread (for applications that parallelise over calls themselves, or that must not
 * touch the common pool). The default is {@link Runtime#availableProcessors()}.
 *
 * <p>The setting changes speed only, never a result: rows are split into the same chunks
 * whatever the setting, and partial sums are combined in chunk order, so results are
 * bit-identical for every thread count.
 *
 * <p>It does not govern ND4J's own threads (OpenMP, set with {@code OMP_NUM_THREADS}) or
 * OpenBLAS's ({@code OPENBLAS_NUM_THREADS}), which run the GEMMs. Thread-safe: the value is read
 * once when a loop starts.
 */
public final class Gram4jConcurrency {

    private static volatile int maxThreads = Runtime.getRuntime().availableProcessors();

    private Gram4jConcurrency() {
    }

    /**
     * Caps the threads one gram4j host loop uses.
     *
     * @param threads at least 1; 1 means sequential, on the calling thread
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public static void setMaxThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1 (1 = sequential), got " + threads);
        }
        maxThreads = threads;
    }

    /** {@return the current cap, at least 1 (default: the number of available processors)} */
    public static int getMaxThreads() {
        return maxThreads;
    }

    /** {@return whether gram4j's host loops may run on more than one thread ({@code getMaxThreads() > 1})} */
    public static boolean isParallel() {
        return maxThreads > 1;
    }
}
