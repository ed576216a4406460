package io.github.gram4j.metrics;

import java.util.Arrays;

/**
 * Retrieval metrics of one direction (anchor→candidate or candidate→anchor), from the 1-based
 * rank of the positive for each query, as GRAM's {@code compute_metric_ret_area} computes them.
 *
 * @param recallAt1 percentage (0–100, not rounded) of queries whose positive ranks first:
 *     {@code (count(rank ≤ 1) / n) · 100}
 * @param recallAt5 the same for rank ≤ 5
 * @param recallAt10 the same for rank ≤ 10
 * @param medianRank the lower median of the ranks, {@code sorted[(n − 1) / 2]}: for an even
 *     number of queries the smaller of the two middle ranks, not their average (GRAM's
 *     {@code torch.median(rank0) + 1})
 * @param meanRank the mean rank, {@code mean(rank − 1) + 1}
 */
public record DirectionMetrics(double recallAt1, double recallAt5, double recallAt10, double medianRank,
        double meanRank) {

    /**
     * The metrics of the given ranks.
     *
     * @param ranks 1-based ranks, one per query; at least one
     * @return R@1, R@5, R@10, median and mean rank
     * @throws IllegalArgumentException if {@code ranks} is null, empty, or holds a rank below 1
     */
    public static DirectionMetrics fromRanks(int[] ranks) {
        if (ranks == null) {
            throw new IllegalArgumentException("ranks must not be null");
        }
        int n = ranks.length;
        if (n == 0) {
            throw new IllegalArgumentException("ranks must not be empty (no queries)");
        }
        long at1 = 0;
        long at5 = 0;
        long at10 = 0;
        long sumRank0 = 0;
        for (int q = 0; q < n; q++) {
            int r = ranks[q];
            if (r < 1) {
                throw new IllegalArgumentException("ranks[" + q + "] = " + r + "; ranks are 1-based");
            }
            at1 += r <= 1 ? 1 : 0;
            at5 += r <= 5 ? 1 : 0;
            at10 += r <= 10 ? 1 : 0;
            sumRank0 += r - 1;
        }
        int[] sorted = ranks.clone();
        Arrays.sort(sorted);
        // The same floating-point operations as GRAM: ((count / n) * 100), mean(rank0) + 1. The sum
        // of the integer ranks is exact in a long, so the mean is rounded once, as in torch.
        return new DirectionMetrics(
                percent(at1, n), percent(at5, n), percent(at10, n),
                sorted[(n - 1) / 2],
                (double) sumRank0 / n + 1.0);
    }

    private static double percent(long count, int n) {
        return ((double) count / n) * 100.0;
    }

    /**
     * Recall at {@code k} ∈ {1, 5, 10}, in percent.
     *
     * @param k 1, 5 or 10
     * @return R@k in percent, 0–100
     * @throws IllegalArgumentException for another {@code k}
     */
    public double recallAt(int k) {
        switch (k) {
            case 1:
                return recallAt1;
            case 5:
                return recallAt5;
            case 10:
                return recallAt10;
            default:
                throw new IllegalArgumentException("k must be 1, 5 or 10, got " + k
                        + "; use RetrievalRanks.recallAt for other k");
        }
    }

    /** {@return {@code [R@1, R@5, R@10, MedR, MeanR]}, the layout of the fixtures' {@code a2c}/{@code c2a} files} */
    public double[] toArray() {
        return new double[] {recallAt1, recallAt5, recallAt10, medianRank, meanRank};
    }
}
