package io.github.gram4j.index;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import io.github.gram4j.metrics.DirectionMetrics;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.core.internal.HostRows;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Retrieval ranks and metrics (R@1/5/10, MedR, MeanR) of a query set against a whole index,
 * streamed: the {@code Q × N} volume matrix is never held, only one block of it at a time.
 *
 * <p>Semantics are those of {@code RetrievalRanks} / {@code bin/gram eval} with the queries as
 * anchors and the gallery items as candidates (positives: equal ids):
 * <ul>
 *   <li><b>anchor→candidate</b> (query→gallery), one rank per query: the position of the
 *       <em>first</em> item (lowest index) with the query's id, counting every item with a smaller
 *       volume, or an equal volume and a smaller index;</li>
 *   <li><b>candidate→anchor</b> (gallery→query), one rank per gallery item <em>whose id occurs among
 *       the queries</em>: the best position, over the queries with its id, among all queries (ties:
 *       smaller query index first). Items whose id has no query are left out of this direction (the
 *       in-memory {@code eval} refuses them instead); when every item has a query, both directions
 *       equal {@code RetrievalRanks} on the full matrix.</li>
 * </ul>
 *
 * <p>Cost: two scans: first the chunks holding positives (to learn each query's positive volume and
 * each positive item's best query), then every chunk (to count). So between one and two searches'
 * work; memory is the queries, one block of scratch and {@code O(Q + positives)} counters.
 */
public final class StreamedRetrieval {

    private StreamedRetrieval() {
    }

    /**
     * The ranks of both directions.
     *
     * @param anchorToCandidate one 1-based rank per query
     * @param candidateItems the gallery items that have a query with their id, ascending
     * @param candidateToAnchor one 1-based rank per entry of {@code candidateItems}
     */
    public record Ranks(int[] anchorToCandidate, long[] candidateItems, int[] candidateToAnchor) {

        /** {@return R@1/5/10, MedR and MeanR of both directions, computed from these ranks} */
        public RetrievalMetrics metrics() {
            return new RetrievalMetrics(DirectionMetrics.fromRanks(anchorToCandidate),
                    DirectionMetrics.fromRanks(candidateToAnchor));
        }
    }

    /**
     * Ranks every query against the whole index and every positive item against the queries.
     *
     * @param index the gallery
     * @param queries {@code Q × d}, floating point, finite
     * @param queryIds {@code Q} ids; each must be the id of at least one item
     * @param progress called after each chunk of each scan (items count twice when a chunk is scanned
     *     in both), or null
     * @throws IllegalArgumentException naming the argument if the shapes or ids do not fit, or a
     *     query id has no item
     * @return the ranks of both directions, 1-based
     * @throws IndexFormatException if a chunk turns out corrupted when it is first read
     * @throws IOException if a chunk file cannot be read or mapped
     */
    public static Ranks evaluate(GramIndex index, INDArray queries, List<String> queryIds,
            IndexSearch.Progress progress) throws IOException {
        ChunkScanner scanner = new ChunkScanner(index, queries);
        int q = scanner.queryCount();
        if (queryIds == null || queryIds.size() != q) {
            throw new IllegalArgumentException("queryIds: need one id per query (" + q + "), got "
                    + (queryIds == null ? "null" : queryIds.size()));
        }
        Map<String, Integer> group = new HashMap<>();
        int[] queryGroup = new int[q];
        for (int i = 0; i < q; i++) {
            Integer g = group.putIfAbsent(queryIds.get(i), group.size());
            queryGroup[i] = g == null ? group.size() - 1 : g;
        }
        int groups = group.size();
        // queries of each group, ascending
        int[] groupStart = new int[groups + 1];
        for (int g : queryGroup) {
            groupStart[g + 1]++;
        }
        for (int g = 0; g < groups; g++) {
            groupStart[g + 1] += groupStart[g];
        }
        int[] groupQueries = new int[q];
        int[] fill = Arrays.copyOf(groupStart, groups);
        for (int i = 0; i < q; i++) {
            groupQueries[fill[queryGroup[i]]++] = i;
        }
        // positive items: ids that occur among the queries
        List<Long> posItems = new ArrayList<>();
        List<Integer> posGroups = new ArrayList<>();
        long[] firstItemOfGroup = new long[groups];
        Arrays.fill(firstItemOfGroup, -1);
        boolean[] chunkHasPositive = new boolean[index.chunkCount()];
        for (int c = 0; c < index.chunkCount(); c++) {
            List<String> ids = index.ids(c);
            long first = index.manifest().chunks().get(c).firstItem();
            for (int j = 0; j < ids.size(); j++) {
                Integer g = group.get(ids.get(j));
                if (g != null) {
                    posItems.add(first + j);
                    posGroups.add(g);
                    chunkHasPositive[c] = true;
                    if (firstItemOfGroup[g] < 0) {
                        firstItemOfGroup[g] = first + j;
                    }
                }
            }
        }
        for (int i = 0; i < q; i++) {
            if (firstItemOfGroup[queryGroup[i]] < 0) {
                throw new IllegalArgumentException("queryIds[" + i + "] = '" + queryIds.get(i)
                        + "' is the id of no item in the index " + index.directory()
                        + "; every query needs a positive item");
            }
        }
        long[] positives = posItems.stream().mapToLong(Long::longValue).toArray();
        int[] positiveGroup = posGroups.stream().mapToInt(Integer::intValue).toArray();
        long[] target = new long[q];
        for (int i = 0; i < q; i++) {
            target[i] = firstItemOfGroup[queryGroup[i]];
        }

        // Pass 1: the positive volumes, and each positive item's best query.
        double[] targetVolume = new double[q];
        double[] bestVolume = new double[positives.length];
        int[] bestQuery = new int[positives.length];
        Arrays.fill(bestQuery, -1);
        int[] withPositives = IntStream.range(0, index.chunkCount()).filter(c -> chunkHasPositive[c]).toArray();
        scanner.scan(withPositives, block -> {
            int from = lowerBound(positives, block.item0);
            int to = lowerBound(positives, block.item0 + block.cols);
            for (int p = from; p < to; p++) {
                long item = positives[p];
                int c = (int) (item - block.item0);
                int g = positiveGroup[p];
                for (int s = groupStart[g]; s < groupStart[g + 1]; s++) {
                    int i = groupQueries[s];
                    if (i < block.q0 || i >= block.q0 + block.rows) {
                        continue;
                    }
                    double v = block.get(i - block.q0, c);
                    if (item == target[i]) {
                        targetVolume[i] = v;
                    }
                    // queries come in ascending order: a tie keeps the smaller query index
                    if (bestQuery[p] < 0 || v < bestVolume[p]) {
                        bestVolume[p] = v;
                        bestQuery[p] = i;
                    }
                }
            }
        }, progress == null ? null : progress::update);

        // Pass 2: count what ranks before each positive, in both directions.
        int[] a2c = new int[q];
        int[] c2a = new int[positives.length];
        scanner.scan(IntStream.range(0, index.chunkCount()).toArray(), block -> {
            block.forEachRow((r, v) -> {
                int i = block.q0 + r;
                double t = targetVolume[i];
                long tieLimit = Math.min(block.cols, Math.max(0, target[i] - block.item0));
                int count = 0;
                for (int c = 0; c < tieLimit; c++) {
                    count += v[c] <= t ? 1 : 0;
                }
                for (int c = (int) tieLimit; c < block.cols; c++) {
                    count += v[c] < t ? 1 : 0;
                }
                a2c[i] += count;
            });
            int from = lowerBound(positives, block.item0);
            int to = lowerBound(positives, block.item0 + block.cols);
            HostRows.forEach(to - from, () -> null, (n, unused) -> {
                int p = from + n;
                int c = (int) (positives[p] - block.item0);
                double best = bestVolume[p];
                int bestI = bestQuery[p];
                int count = 0;
                for (int r = 0; r < block.rows; r++) {
                    double x = block.get(r, c);
                    int i = block.q0 + r;
                    count += (x < best || (x == best && i < bestI)) ? 1 : 0;
                }
                c2a[p] += count;
            });
        }, progress == null ? null : progress::update);
        for (int i = 0; i < q; i++) {
            a2c[i] += 1;
        }
        for (int p = 0; p < c2a.length; p++) {
            c2a[p] += 1;
        }
        return new Ranks(a2c, positives, c2a);
    }

    /** The first index of {@code sorted} whose value is {@code >= key}. */
    private static int lowerBound(long[] sorted, long key) {
        int lo = 0;
        int hi = sorted.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid] < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
