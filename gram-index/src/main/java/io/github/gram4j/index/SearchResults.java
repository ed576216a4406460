package io.github.gram4j.index;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The top {@code k} items of every query, best (lowest volume) first; ties in volume are broken by
 * the item index, ascending, so the order equals a stable sort of each query's row of volumes.
 *
 * <p>Row-major: the results of query {@code i} are entries {@code i·k … i·k + k − 1} of
 * {@link #items} and {@link #volumes}. {@code k} is {@code min(requested k, items searched)}.
 *
 * @param queries the number of queries
 * @param k results per query
 * @param items global item indices, {@code queries · k}
 * @param volumes the volumes, {@code queries · k}, in the index's dtype's precision (FLOAT values are
 *     exact as doubles)
 * @serial exclude As for every record, the serialized form is exactly the components documented above
 *     (Java Object Serialization Specification, 1.13); this keeps the JDK 17 javadoc from asking for
 *     comments on the record's implicit private fields (JDK-8275199).
 */
public record SearchResults(int queries, int k, long[] items, double[] volumes) implements Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * Checks the sizes.
     *
     * @param queries the number of queries, at least 0
     * @param k results per query, at least 0
     * @param items global item indices, {@code queries · k}, row-major by query
     * @param volumes the volumes, {@code queries · k}, row-major by query (not copied)
     * @throws IllegalArgumentException if the arrays do not hold {@code queries · k} entries
     */
    public SearchResults {
        if (queries < 0 || k < 0 || items == null || volumes == null || items.length != (long) queries * k
                || volumes.length != items.length) {
            throw new IllegalArgumentException("need queries * k = " + queries + " * " + k + " items and volumes, got "
                    + (items == null ? "null" : items.length) + " and " + (volumes == null ? "null" : volumes.length));
        }
    }

    /**
     * The item at a rank of a query.
     *
     * @param i the query, {@code 0 … queries − 1}
     * @param r the rank, 0-based, {@code 0 … k − 1}
     * @return the global item index at rank {@code r} of query {@code i}
     */
    public long item(int i, int r) {
        return items[i * k + r];
    }

    /**
     * The volume at a rank of a query.
     *
     * @param i the query, {@code 0 … queries − 1}
     * @param r the rank, 0-based, {@code 0 … k − 1}
     * @return the GRAM volume of query {@code i} and its item at rank {@code r}
     */
    public double volume(int i, int r) {
        return volumes[i * k + r];
    }

    /**
     * The top {@code limit} of the union of two results over disjoint item sets for the same queries
     * (e.g. two partitions of a gallery): a merge by (volume, item index).
     *
     * @param other results for the same queries over items disjoint from this one's
     * @param limit results per query to keep, at least 1
     * @return new results with {@code min(limit, k + other.k)} items per query, best first
     * @throws IllegalArgumentException if the query counts differ or {@code limit < 1}
     */
    public SearchResults merge(SearchResults other, int limit) {
        if (other.queries != queries) {
            throw new IllegalArgumentException("cannot merge results of " + queries + " and " + other.queries + " queries");
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        int kk = Math.min(limit, k + other.k);
        if ((long) queries * kk > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("queries = " + queries + " queries x k = " + kk + " results exceed one Java array"
                    + " (2^31 - 9 entries); search the queries in smaller batches or ask for a smaller k");
        }
        long[] it = new long[queries * kk];
        double[] vo = new double[queries * kk];
        for (int i = 0; i < queries; i++) {
            int a = 0;
            int b = 0;
            for (int r = 0; r < kk; r++) {
                boolean takeA;
                if (a >= k) {
                    takeA = false;
                } else if (b >= other.k) {
                    takeA = true;
                } else {
                    double va = volume(i, a);
                    double vb = other.volume(i, b);
                    takeA = va < vb || (va == vb && item(i, a) < other.item(i, b));
                }
                it[i * kk + r] = takeA ? item(i, a) : other.item(i, b);
                vo[i * kk + r] = takeA ? volume(i, a++) : other.volume(i, b++);
            }
        }
        return new SearchResults(queries, kk, it, vo);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SearchResults s && s.queries == queries && s.k == k && Arrays.equals(s.items, items)
                && Arrays.equals(s.volumes, volumes);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(items) + Arrays.hashCode(volumes);
    }

    @Override
    public String toString() {
        return "SearchResults[queries=" + queries + ", k=" + k + "]";
    }
}
