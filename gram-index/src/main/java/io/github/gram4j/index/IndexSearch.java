package io.github.gram4j.index;

import java.io.IOException;
import java.util.stream.IntStream;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Exact top-{@code k} search of a {@link GramIndex}: the {@code k} items of lowest GRAM volume
 * {@code V(query, q_{1,j}, …, q_{K,j})} for every query, equal to ranking the full
 * {@code GramVolumes.pairwise} matrix with a stable sort (ties: lower item index first).
 *
 * <p>Streamed: for each chunk, {@code K} GEMMs of a block of queries against a slice of the chunk's
 * memory-mapped bases into reused scratch, the FAST epilogue, then a per-query bounded top-k. Memory:
 * the queries, {@code K · min(Q, 256) · cols ≤ 2^24} scratch elements and {@code Q · k} results,
 * independent of the gallery's size.
 */
public final class IndexSearch {

    private IndexSearch() {
    }

    /** Progress callback: items scanned so far and in all, after each chunk. */
    @FunctionalInterface
    public interface Progress {
        /**
         * Called after each chunk.
         *
         * @param itemsDone the items of the chunks scanned so far
         * @param itemsTotal the items of all chunks being searched
         */
        void update(long itemsDone, long itemsTotal);
    }

    /**
     * The top {@code k} items of every query over the whole index.
     *
     * @param index the index to search
     * @param queries {@code Q × d}, floating point (converted to the index's dtype), finite
     * @param k results per query, at least 1 (fewer if the index has fewer items)
     * @return for each of the {@code Q} queries, its {@code min(k, size)} items of lowest volume, best
     *     first, with their volumes
     * @throws IllegalArgumentException naming the argument if {@code queries} has the wrong shape,
     *     dtype or non-finite values, or {@code k < 1}
     * @throws IndexFormatException if a chunk turns out corrupted when it is first read
     * @throws IOException if a chunk file cannot be read or mapped
     */
    public static SearchResults search(GramIndex index, INDArray queries, int k) throws IOException {
        return search(index, queries, k, IntStream.range(0, index.chunkCount()).toArray(), null);
    }

    /**
     * As {@link #search(GramIndex, INDArray, int)} over some chunks only (a partition of the
     * gallery); {@link SearchResults#merge} combines the results of disjoint partitions.
     *
     * @param index the index to search
     * @param queries {@code Q × d}, floating point (converted to the index's dtype), finite
     * @param k results per query, at least 1 (fewer if the chunks hold fewer items)
     * @param chunks chunk numbers, each at most once, in any order
     * @param progress called after each chunk, or null
     * @return for each of the {@code Q} queries, its {@code min(k, items of the chunks)} items of lowest
     *     volume among those chunks, best first, with their volumes (global item indices)
     * @throws IllegalArgumentException naming the argument if {@code queries} has the wrong shape,
     *     dtype or non-finite values, {@code k < 1}, or a chunk number is out of range or repeated
     * @throws IndexFormatException if a chunk turns out corrupted when it is first read
     * @throws IOException if a chunk file cannot be read or mapped
     */
    public static SearchResults search(GramIndex index, INDArray queries, int k, int[] chunks, Progress progress)
            throws IOException {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        int[] sorted = chunks.clone();
        java.util.Arrays.sort(sorted);
        long items = 0;
        for (int c = 0; c < sorted.length; c++) {
            if (sorted[c] < 0 || sorted[c] >= index.chunkCount() || (c > 0 && sorted[c] == sorted[c - 1])) {
                throw new IllegalArgumentException("chunks: " + sorted[c] + " is out of range 0.."
                        + (index.chunkCount() - 1) + " or repeated");
            }
            items += index.manifest().chunks().get(sorted[c]).items();
        }
        ChunkScanner scanner = new ChunkScanner(index, queries);
        int q = scanner.queryCount();
        int kk = (int) Math.min(k, items);
        if ((long) q * kk > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("q = " + q + " queries x k = " + kk + " results exceed one Java array"
                    + " (2^31 - 9 entries); search the queries in smaller batches or ask for a smaller k");
        }
        long[] bestItems = new long[q * kk];
        double[] bestVolumes = new double[q * kk];
        int[] filled = new int[q];
        // Chunks in ascending item order: a volume equal to the current k-th never displaces it.
        scanner.scan(sorted, block -> {
            block.forEachRow((r, v) -> {
                int i = block.q0 + r;
                int base = i * kk;
                int size = filled[i];
                for (int c = 0; c < block.cols; c++) {
                    double x = v[c];
                    if (size == kk && !(x < bestVolumes[base + kk - 1])) {
                        continue;
                    }
                    // insert after every entry <= x (ties keep the earlier, smaller item first)
                    int pos = size == kk ? kk - 1 : size;
                    while (pos > 0 && bestVolumes[base + pos - 1] > x) {
                        bestVolumes[base + pos] = bestVolumes[base + pos - 1];
                        bestItems[base + pos] = bestItems[base + pos - 1];
                        pos--;
                    }
                    bestVolumes[base + pos] = x;
                    bestItems[base + pos] = block.item0 + c;
                    if (size < kk) {
                        size++;
                    }
                }
                filled[i] = size;
            });
        }, progress == null ? null : progress::update);
        return new SearchResults(q, kk, bestItems, bestVolumes);
    }
}
