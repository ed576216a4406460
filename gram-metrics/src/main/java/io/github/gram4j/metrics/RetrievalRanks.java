package io.github.gram4j.metrics;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The 1-based rank of the positive for every query of a retrieval evaluation, in both directions,
 * from a score matrix of {@code B1} anchors (rows) × {@code B2} candidates (columns). These are the
 * ranks behind GRAM's {@code compute_metric_ret_area} (volumes, {@link ScoreOrder#LOWER_IS_BETTER})
 * and {@code compute_metric_ret} (cosine, {@link ScoreOrder#HIGHER_IS_BETTER}).
 *
 * <p>Positives are given by ids: anchor {@code i} and candidate {@code j} form a positive pair when
 * {@code anchorIds[i] == candidateIds[j]}. Several anchors may share an id (several captions of one
 * video), and so may several candidates.
 * <ul>
 *   <li><b>anchor→candidate</b>, one rank per anchor row {@code i}: the position, in row {@code i}
 *       sorted best-first, of the <em>first</em> candidate column (lowest {@code j}) whose id equals
 *       the anchor's id. Other candidates with the same id count as negatives, as in GRAM
 *       ({@code ids.index(ids_txt[i])}).</li>
 *   <li><b>candidate→anchor</b>, one rank per candidate column {@code j}: the <em>best</em>
 *       (smallest) position, in column {@code j} sorted best-first, over all anchors with the
 *       candidate's id.</li>
 * </ul>
 *
 * <p>Ties follow a stable sort: the position of entry {@code p} among entries {@code q} of the same
 * row (or column) is {@code 1 + #{q : score_q strictly better} + #{q < p : score_q == score_p}}, so a
 * tied entry with a smaller index ranks before the positive and one with a larger index after it. In
 * both orders. (GRAM's {@code torch.sort} agrees with this on CPU for at most 16 entries; beyond
 * that its tie order is unspecified.)
 *
 * <p>Cost: {@code O(B1·B2)} time and no sort; the scores are copied to the host as doubles in blocks
 * of about {@value #BLOCK_ELEMENTS} entries (outside any active ND4J workspace), twice, and large
 * blocks are processed in parallel on the common fork-join pool.
 *
 * <p>Instances are immutable; the accessors return copies.
 */
public final class RetrievalRanks {

    /** Scores copied to the host per block (8 MiB of doubles). */
    static final int BLOCK_ELEMENTS = 1 << 20;
    /** Below this many entries a block is processed on the calling thread. */
    private static final int PARALLEL_THRESHOLD = 1 << 15;
    /** Candidate columns per parallel task of the candidate→anchor pass. */
    private static final int COLUMN_CHUNK = 512;
    /** The largest {@code B1} or {@code B2}: ranks are {@code int}s. */
    private static final long MAX_SIDE = Integer.MAX_VALUE - 8;

    private final int[] anchorToCandidate;
    private final int[] candidateToAnchor;

    private RetrievalRanks(int[] anchorToCandidate, int[] candidateToAnchor) {
        this.anchorToCandidate = anchorToCandidate;
        this.candidateToAnchor = candidateToAnchor;
    }

    /**
     * The ranks with identity ids: anchor {@code i} ↔ candidate {@code i}, on a square matrix.
     *
     * @param scores {@code B × B}, any floating-point dtype, no NaN
     * @param order which end of the scores is best
     * @return the ranks of both directions
     * @throws IllegalArgumentException if an argument is null, {@code scores} is not a non-empty
     *     2-D floating-point matrix, is not square, or holds a NaN
     */
    public static RetrievalRanks compute(INDArray scores, ScoreOrder order) {
        int[] size = checkScores(scores, order);
        if (size[0] != size[1]) {
            throw new IllegalArgumentException("scores has shape " + Arrays.toString(scores.shape())
                    + ": without ids, anchor i pairs with candidate i, which needs B1 == B2;"
                    + " pass anchorIds and candidateIds");
        }
        long[] ids = new long[size[0]];
        Arrays.setAll(ids, i -> i);
        return compute(scores, order, ids, ids);
    }

    /**
     * The ranks with explicit ids.
     *
     * @param scores {@code B1 × B2}: row {@code i} scores anchor {@code i} against every candidate;
     *     any floating-point dtype, any layout; no NaN (infinities are ordinary extreme scores)
     * @param order which end of the scores is best
     * @param anchorIds {@code B1} ids; every one must occur in {@code candidateIds}
     * @param candidateIds {@code B2} ids; every one must occur in {@code anchorIds}
     * @return the ranks of both directions
     * @throws IllegalArgumentException naming the argument and the shapes, if an argument is null,
     *     {@code scores} is not a non-empty 2-D floating-point matrix, an id array's length does not
     *     match the scores, an anchor id has no candidate, a candidate id has no anchor, or a score
     *     is NaN
     */
    public static RetrievalRanks compute(INDArray scores, ScoreOrder order, long[] anchorIds, long[] candidateIds) {
        return compute(scores, order, anchorIds, candidateIds, BLOCK_ELEMENTS);
    }

    /** As the public method, with another host block size (tests: several blocks on small inputs). */
    static RetrievalRanks compute(INDArray scores, ScoreOrder order, long[] anchorIds, long[] candidateIds,
            int blockElements) {
        int[] size = checkScores(scores, order);
        Positives positives = Positives.of(anchorIds, candidateIds, size[0], size[1], Arrays.toString(scores.shape()));
        return new Counter(scores, order, positives, size[0], size[1], blockElements).run();
    }

    /** {@return anchor→candidate: {@code B1} 1-based ranks, one per anchor row (a copy)} */
    public int[] anchorToCandidate() {
        return anchorToCandidate.clone();
    }

    /** {@return candidate→anchor: {@code B2} 1-based ranks, one per candidate column (a copy)} */
    public int[] candidateToAnchor() {
        return candidateToAnchor.clone();
    }

    /** {@return the metrics of both directions} */
    public RetrievalMetrics metrics() {
        return new RetrievalMetrics(DirectionMetrics.fromRanks(anchorToCandidate),
                DirectionMetrics.fromRanks(candidateToAnchor));
    }

    /**
     * Recall at any {@code k ≥ 1}: the percentage (0–100, not rounded) of {@code ranks} that are at
     * most {@code k}, {@code (count / n) · 100}.
     *
     * @param ranks 1-based ranks
     * @param k the cut-off
     * @return R@k in percent, 0–100
     * @throws IllegalArgumentException if {@code ranks} is null or empty, or {@code k < 1}
     */
    public static double recallAt(int[] ranks, int k) {
        if (ranks == null || ranks.length == 0) {
            throw new IllegalArgumentException("ranks must not be null or empty");
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        long count = Arrays.stream(ranks).filter(r -> r <= k).count();
        return ((double) count / ranks.length) * 100.0;
    }

    @Override
    public String toString() {
        return "RetrievalRanks[anchorToCandidate=" + Arrays.toString(anchorToCandidate) + ", candidateToAnchor="
                + Arrays.toString(candidateToAnchor) + "]";
    }

    // ------------------------------------------------------------------------------------------

    /** Checks the scores and the order; returns {@code {B1, B2}}. */
    private static int[] checkScores(INDArray scores, ScoreOrder order) {
        if (scores == null) {
            throw new IllegalArgumentException("scores must not be null");
        }
        if (order == null) {
            throw new IllegalArgumentException("order must not be null");
        }
        String shape = Arrays.toString(scores.shape());
        if (scores.rank() != 2) {
            throw new IllegalArgumentException("scores must be a 2-D (anchors x candidates) matrix, got rank "
                    + scores.rank() + " with shape " + shape);
        }
        if (scores.size(0) == 0 || scores.size(1) == 0) {
            throw new IllegalArgumentException("scores must have at least one row and one column, got shape " + shape);
        }
        if (scores.size(0) > MAX_SIDE || scores.size(1) > MAX_SIDE) {
            throw new IllegalArgumentException("scores has shape " + shape + "; at most " + MAX_SIDE
                    + " anchors and candidates are supported");
        }
        if (!scores.dataType().isFPType()) {
            throw new IllegalArgumentException("scores has dtype " + scores.dataType() + " (shape " + shape
                    + "); a floating-point dtype is required");
        }
        return new int[] {(int) scores.size(0), (int) scores.size(1)};
    }

    /**
     * The positive pairs, by dense group number: candidates with equal ids form a group; every
     * anchor belongs to one group and every group has an anchor.
     */
    private static final class Positives {
        /** Group of each anchor row. */
        final int[] anchorGroup;
        /** First candidate column of each group. */
        final int[] firstColumn;
        /** Candidate columns of group {@code g}: {@code columns[start[g] … start[g + 1] − 1]}, ascending. */
        final int[] start;
        final int[] columns;

        private Positives(int[] anchorGroup, int[] firstColumn, int[] start, int[] columns) {
            this.anchorGroup = anchorGroup;
            this.firstColumn = firstColumn;
            this.start = start;
            this.columns = columns;
        }

        static Positives of(long[] anchorIds, long[] candidateIds, int b1, int b2, String shape) {
            if (anchorIds == null) {
                throw new IllegalArgumentException("anchorIds must not be null");
            }
            if (candidateIds == null) {
                throw new IllegalArgumentException("candidateIds must not be null");
            }
            if (anchorIds.length != b1) {
                throw new IllegalArgumentException("anchorIds has " + anchorIds.length
                        + " entries but scores has " + b1 + " rows (shape " + shape + "); need one id per anchor row");
            }
            if (candidateIds.length != b2) {
                throw new IllegalArgumentException("candidateIds has " + candidateIds.length
                        + " entries but scores has " + b2 + " columns (shape " + shape
                        + "); need one id per candidate column");
            }
            Map<Long, Integer> groups = new HashMap<>();
            int[] candidateGroup = new int[b2];
            int[] count = new int[b2];
            int[] firstColumn = new int[b2];
            for (int j = 0; j < b2; j++) {
                Integer g = groups.get(candidateIds[j]);
                if (g == null) {
                    g = groups.size();
                    groups.put(candidateIds[j], g);
                    firstColumn[g] = j;
                }
                candidateGroup[j] = g;
                count[g]++;
            }
            int nGroups = groups.size();
            int[] start = new int[nGroups + 1];
            for (int g = 0; g < nGroups; g++) {
                start[g + 1] = start[g] + count[g];
            }
            int[] fill = Arrays.copyOf(start, nGroups);
            int[] columns = new int[b2];
            for (int j = 0; j < b2; j++) {
                columns[fill[candidateGroup[j]]++] = j;
            }
            int[] anchorGroup = new int[b1];
            boolean[] hasAnchor = new boolean[nGroups];
            for (int i = 0; i < b1; i++) {
                Integer g = groups.get(anchorIds[i]);
                if (g == null) {
                    throw new IllegalArgumentException("anchorIds[" + i + "] = " + anchorIds[i]
                            + " occurs nowhere in candidateIds (scores shape " + shape
                            + "); every anchor needs at least one candidate with its id");
                }
                anchorGroup[i] = g;
                hasAnchor[g] = true;
            }
            for (int j = 0; j < b2; j++) {
                if (!hasAnchor[candidateGroup[j]]) {
                    throw new IllegalArgumentException("candidateIds[" + j + "] = " + candidateIds[j]
                            + " occurs nowhere in anchorIds (scores shape " + shape
                            + "); every candidate needs at least one anchor with its id for candidate->anchor"
                            + " retrieval");
                }
            }
            return new Positives(anchorGroup, Arrays.copyOf(firstColumn, nGroups), start, columns);
        }
    }

    /** The two counting passes over the score blocks. */
    private static final class Counter {
        private final INDArray scores;
        private final boolean lower;
        private final ScoreOrder order;
        private final Positives positives;
        private final int b1;
        private final int b2;
        private final int rowsPerBlock;

        Counter(INDArray scores, ScoreOrder order, Positives positives, int b1, int b2, int blockElements) {
            this.scores = scores;
            this.order = order;
            this.lower = order == ScoreOrder.LOWER_IS_BETTER;
            this.positives = positives;
            this.b1 = b1;
            this.b2 = b2;
            this.rowsPerBlock = Math.max(1, Math.min(b1, blockElements / b2));
        }

        RetrievalRanks run() {
            int[] a2c = new int[b1];
            double[] bestValue = new double[b2];
            int[] bestRow = new int[b2];
            Arrays.fill(bestRow, -1);
            int[] c2a = new int[b2];
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                // Pass 1: anchor->candidate ranks, NaN check, and the best positive anchor of each column.
                double[] whole = null; // kept for pass 2 when one block holds every row
                for (int r0 = 0; r0 < b1; r0 += rowsPerBlock) {
                    int rows = Math.min(rowsPerBlock, b1 - r0);
                    double[] s = hostRows(r0, rows);
                    if (rows == b1) {
                        whole = s;
                    }
                    int[] nanColumn = new int[rows];
                    int first = r0;
                    range(rows, (long) rows * b2).forEach(r -> {
                        nanColumn[r] = firstNaN(s, r * b2);
                        int p = positives.firstColumn[positives.anchorGroup[first + r]];
                        a2c[first + r] = 1 + countBefore(s, r * b2, p);
                    });
                    for (int r = 0; r < rows; r++) {
                        if (nanColumn[r] >= 0) {
                            throw new IllegalArgumentException("scores (shape " + Arrays.toString(scores.shape())
                                    + ") contains NaN (first at row " + (r0 + r) + ", column " + nanColumn[r] + ")");
                        }
                    }
                    for (int r = 0; r < rows; r++) {
                        int g = positives.anchorGroup[r0 + r];
                        for (int q = positives.start[g]; q < positives.start[g + 1]; q++) {
                            int j = positives.columns[q];
                            double x = s[r * b2 + j];
                            // rows come in increasing order: a tie keeps the smaller row index
                            if (bestRow[j] < 0 || order.isBetter(x, bestValue[j])) {
                                bestValue[j] = x;
                                bestRow[j] = r0 + r;
                            }
                        }
                    }
                }
                // Pass 2: candidate->anchor ranks, the position of the best positive anchor in each column.
                int chunks = (b2 + COLUMN_CHUNK - 1) / COLUMN_CHUNK;
                for (int r0 = 0; r0 < b1; r0 += rowsPerBlock) {
                    int rows = Math.min(rowsPerBlock, b1 - r0);
                    double[] s = whole != null ? whole : hostRows(r0, rows);
                    int first = r0;
                    range(chunks, (long) rows * b2).forEach(c -> {
                        int j0 = c * COLUMN_CHUNK;
                        int j1 = Math.min(b2, j0 + COLUMN_CHUNK);
                        for (int r = 0; r < rows; r++) {
                            countColumns(s, r * b2, first + r, j0, j1, bestValue, bestRow, c2a);
                        }
                    });
                }
            }
            for (int j = 0; j < b2; j++) {
                c2a[j] += 1;
            }
            return new RetrievalRanks(a2c, c2a);
        }

        private static IntStream range(int n, long work) {
            IntStream s = IntStream.range(0, n);
            return work >= PARALLEL_THRESHOLD && n > 1 ? s.parallel() : s;
        }

        /**
         * {@code #{q ≠ p : v_q better than v_p} + #{q < p : v_q == v_p}} over the {@code B2} entries
         * {@code v_q = s[off + q]} of one row: the 0-based stable-sort position of entry {@code p}.
         */
        private int countBefore(double[] s, int off, int p) {
            double v = s[off + p];
            int count = 0;
            if (lower) {
                for (int q = 0; q < p; q++) {
                    count += s[off + q] <= v ? 1 : 0;
                }
                for (int q = p + 1; q < b2; q++) {
                    count += s[off + q] < v ? 1 : 0;
                }
            } else {
                for (int q = 0; q < p; q++) {
                    count += s[off + q] >= v ? 1 : 0;
                }
                for (int q = p + 1; q < b2; q++) {
                    count += s[off + q] > v ? 1 : 0;
                }
            }
            return count;
        }

        /**
         * For anchor row {@code i} (at {@code s[off …]}) and columns {@code j0 … j1 − 1}: adds 1 to
         * {@code counts[j]} if the row's score ranks before the column's best positive anchor.
         */
        private void countColumns(double[] s, int off, int i, int j0, int j1, double[] bestValue, int[] bestRow,
                int[] counts) {
            if (lower) {
                for (int j = j0; j < j1; j++) {
                    double x = s[off + j];
                    double v = bestValue[j];
                    int p = bestRow[j];
                    counts[j] += (x < v || (x == v && i < p)) ? 1 : 0;
                }
            } else {
                for (int j = j0; j < j1; j++) {
                    double x = s[off + j];
                    double v = bestValue[j];
                    int p = bestRow[j];
                    counts[j] += (x > v || (x == v && i < p)) ? 1 : 0;
                }
            }
        }

        /** The first NaN column of the row at {@code s[off …]}, or −1. */
        private int firstNaN(double[] s, int off) {
            for (int j = 0; j < b2; j++) {
                if (Double.isNaN(s[off + j])) {
                    return j;
                }
            }
            return -1;
        }

        /** Rows {@code r0 … r0 + rows − 1} of the scores as c-order doubles on the host. */
        private double[] hostRows(int r0, int rows) {
            INDArray block = r0 == 0 && rows == b1 ? scores
                    : scores.get(NDArrayIndex.interval(r0, r0 + rows), NDArrayIndex.all());
            if (block.dataType() != DataType.DOUBLE) {
                block = block.castTo(DataType.DOUBLE);
            }
            long n = (long) rows * b2;
            if (block.ordering() != 'c' || block.offset() != 0 || block.elementWiseStride() != 1
                    || block.data().length() != n) {
                block = block.dup('c');
            }
            double[] flat = block.data().asDouble();
            if (flat.length != n) {
                throw new IllegalStateException("host copy of scores rows " + r0 + ".." + (r0 + rows - 1) + " has "
                        + flat.length + " values, expected " + n);
            }
            return flat;
        }
    }
}
