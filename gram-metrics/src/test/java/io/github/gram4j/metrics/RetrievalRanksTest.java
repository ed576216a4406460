package io.github.gram4j.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Hand-made cases, a brute-force stable-sort oracle, properties and errors. */
class RetrievalRanksTest {

    private static final ScoreOrder LOWER = ScoreOrder.LOWER_IS_BETTER;
    private static final ScoreOrder HIGHER = ScoreOrder.HIGHER_IS_BETTER;

    private static INDArray m(double[][] v) {
        return Nd4j.create(v);
    }

    // ---------------------------------------------------------------- hand-made cases

    @Test
    void perfectVolumesRankEveryPositiveFirst() {
        INDArray s = m(new double[][] {{0.1, 0.9, 0.8}, {0.7, 0.2, 0.9}, {0.6, 0.5, 0.3}});
        RetrievalRanks r = RetrievalRanks.compute(s, LOWER);
        assertArrayEquals(new int[] {1, 1, 1}, r.anchorToCandidate());
        assertArrayEquals(new int[] {1, 1, 1}, r.candidateToAnchor());
        DirectionMetrics d = new DirectionMetrics(100, 100, 100, 1, 1);
        assertEquals(new RetrievalMetrics(d, d), r.metrics());
        // the same matrix read as similarities: every positive is now last
        RetrievalRanks worst = RetrievalRanks.compute(s, HIGHER);
        assertArrayEquals(new int[] {3, 3, 3}, worst.anchorToCandidate());
        assertArrayEquals(new int[] {3, 3, 3}, worst.candidateToAnchor());
    }

    @Test
    void handComputedRanksBothDirections() {
        // row 0: positive 0.5 at column 0; 0.2 and 0.4 are better (lower) -> rank 3
        // row 1: positive 0.1 at column 1 -> rank 1
        // row 2: positive 0.9 at column 2, worst of the row -> rank 3
        INDArray s = m(new double[][] {{0.5, 0.2, 0.4}, {0.3, 0.1, 0.6}, {0.8, 0.7, 0.9}});
        RetrievalRanks r = RetrievalRanks.compute(s, LOWER);
        assertArrayEquals(new int[] {3, 1, 3}, r.anchorToCandidate());
        // column 0: positive 0.5 (row 0); 0.3 is better -> 2; column 1: 0.1 -> 1; column 2: 0.9, worst -> 3
        assertArrayEquals(new int[] {2, 1, 3}, r.candidateToAnchor());
        RetrievalMetrics mt = r.metrics();
        assertEquals(new DirectionMetrics((1.0 / 3) * 100, 100, 100, 3, 4.0 / 3 + 1), mt.anchorToCandidate());
        assertEquals(new DirectionMetrics((1.0 / 3) * 100, 100, 100, 2, 2), mt.candidateToAnchor());
    }

    @Test
    void tiesCountEarlierIndicesBeforeAndLaterIndicesAfterThePositive() {
        INDArray s = m(new double[][] {{0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5}, {0.5, 0.5, 0.5, 0.5},
            {0.5, 0.5, 0.5, 0.5}});
        for (ScoreOrder order : ScoreOrder.values()) {
            RetrievalRanks r = RetrievalRanks.compute(s, order);
            assertArrayEquals(new int[] {1, 2, 3, 4}, r.anchorToCandidate(), order.name());
            assertArrayEquals(new int[] {1, 2, 3, 4}, r.candidateToAnchor(), order.name());
        }
        // a strictly better entry still counts wherever it is
        INDArray t = m(new double[][] {{0.5, 0.5, 0.1}, {0.5, 0.5, 0.5}, {0.5, 0.5, 0.5}});
        assertArrayEquals(new int[] {2, 2, 3}, RetrievalRanks.compute(t, LOWER).anchorToCandidate());
    }

    @Test
    void medianIsTheLowerMiddleForAnEvenCount() {
        DirectionMetrics d = DirectionMetrics.fromRanks(new int[] {4, 1, 3, 2});
        assertEquals(2.0, d.medianRank());
        assertEquals(2.5, d.meanRank());
        assertEquals(25.0, d.recallAt1());
        assertEquals(100.0, d.recallAt5());
        assertEquals(3.0, DirectionMetrics.fromRanks(new int[] {5, 1, 3}).medianRank());
        DirectionMetrics e = DirectionMetrics.fromRanks(new int[] {1, 6, 11, 30, 2, 10, 5});
        // GRAM's arithmetic: (count / n) * 100
        assertEquals((1.0 / 7) * 100, e.recallAt1());
        assertEquals((3.0 / 7) * 100, e.recallAt5());
        assertEquals((5.0 / 7) * 100, e.recallAt10());
        assertEquals(6.0, e.medianRank());
        assertEquals(58.0 / 7 + 1, e.meanRank());
        assertEquals(e.recallAt5(), e.recallAt(5));
        assertEquals(e.recallAt10(), RetrievalRanks.recallAt(new int[] {1, 6, 11, 30, 2, 10, 5}, 10));
        assertEquals((4.0 / 7) * 100, RetrievalRanks.recallAt(new int[] {1, 6, 11, 30, 2, 10, 5}, 6));
        assertArrayEquals(new double[] {e.recallAt1(), e.recallAt5(), e.recallAt10(), 6.0, e.meanRank()}, e.toArray());
    }

    @Test
    void manyCaptionsPerVideo() {
        // anchors: captions of videos 7, 9, 7, 9; candidates: videos 9, 7
        INDArray s = m(new double[][] {{0.6, 0.2}, {0.1, 0.5}, {0.3, 0.4}, {0.7, 0.8}});
        long[] caps = {7, 9, 7, 9};
        long[] vids = {9, 7};
        RetrievalRanks r = RetrievalRanks.compute(s, LOWER, caps, vids);
        assertArrayEquals(new int[] {1, 1, 2, 1}, r.anchorToCandidate());
        // video 9 (column 0): its captions are rows 1 (0.1, best) and 3 -> 1
        // video 7 (column 1): rows 0 (0.2) and 2 (0.4); 0.2 is the best of the column -> 1
        assertArrayEquals(new int[] {1, 1}, r.candidateToAnchor());
        // make the best caption of video 7 rank second in its column: row 1 gets 0.15 there
        s.putScalar(1, 1, 0.15);
        assertArrayEquals(new int[] {1, 2}, RetrievalRanks.compute(s, LOWER, caps, vids).candidateToAnchor());
    }

    @Test
    void anchorToCandidateUsesTheFirstCandidateWithTheId() {
        // one video anchor, three caption candidates of that video and one of another
        INDArray s = m(new double[][] {{0.9, 0.1, 0.2, 0.5}, {0.3, 0.4, 0.6, 0.05}});
        long[] vids = {1, 2};
        long[] caps = {1, 1, 1, 2};
        RetrievalRanks r = RetrievalRanks.compute(s, LOWER, vids, caps);
        // row 0: the first caption column (0.9) is the worst of the row, though 0.1 is the best
        assertArrayEquals(new int[] {4, 1}, r.anchorToCandidate());
        assertArrayEquals(new int[] {2, 1, 1, 1}, r.candidateToAnchor());
    }

    @Test
    void infinitiesAreOrdinaryExtremeScores() {
        double inf = Double.POSITIVE_INFINITY;
        INDArray s = m(new double[][] {{inf, 0.1}, {0.2, inf}});
        assertArrayEquals(new int[] {2, 2}, RetrievalRanks.compute(s, LOWER).anchorToCandidate());
        assertArrayEquals(new int[] {1, 1}, RetrievalRanks.compute(s, HIGHER).anchorToCandidate());
        INDArray t = m(new double[][] {{inf, inf}, {inf, inf}});
        assertArrayEquals(new int[] {1, 2}, RetrievalRanks.compute(t, LOWER).anchorToCandidate());
    }

    @Test
    void oneByOne() {
        RetrievalMetrics r = RetrievalMetrics.compute(m(new double[][] {{0.3}}), HIGHER);
        assertEquals(new DirectionMetrics(100, 100, 100, 1, 1), r.anchorToCandidate());
        assertEquals(r.anchorToCandidate(), r.candidateToAnchor());
    }

    @Test
    void accessorsReturnCopies() {
        RetrievalRanks r = RetrievalRanks.compute(m(new double[][] {{0.1, 0.2}, {0.3, 0.4}}), LOWER);
        int[] a = r.anchorToCandidate();
        assertNotSame(a, r.anchorToCandidate());
        a[0] = 99;
        assertEquals(1, r.anchorToCandidate()[0]);
        assertTrue(r.toString().contains("anchorToCandidate=[1, 2]"), r.toString());
    }

    @Test
    void halfPrecisionScoresAreAccepted() {
        INDArray s = m(new double[][] {{0.25, 0.5}, {0.75, 0.125}}).castTo(DataType.HALF);
        assertArrayEquals(new int[] {1, 1}, RetrievalRanks.compute(s, LOWER).anchorToCandidate());
    }

    // ---------------------------------------------------------------- oracle and properties

    /** The 1-based position of {@code p} after a stable best-first sort of {@code v}. */
    private static int stablePosition(double[] v, int p, ScoreOrder order) {
        List<Integer> idx = new ArrayList<>();
        for (int q = 0; q < v.length; q++) {
            idx.add(q);
        }
        Comparator<Integer> byScore = (a, b) -> Double.compare(v[a], v[b]);
        idx.sort(order == LOWER ? byScore : byScore.reversed()); // List.sort is stable
        return idx.indexOf(p) + 1;
    }

    /** GRAM's definition, by sorting: first positive column (a2c), best positive anchor (c2a). */
    private static int[][] oracle(double[][] s, ScoreOrder order, long[] aids, long[] cids) {
        int b1 = s.length;
        int b2 = s[0].length;
        int[] a2c = new int[b1];
        for (int i = 0; i < b1; i++) {
            int p = 0;
            while (cids[p] != aids[i]) {
                p++;
            }
            a2c[i] = stablePosition(s[i], p, order);
        }
        int[] c2a = new int[b2];
        for (int j = 0; j < b2; j++) {
            double[] col = new double[b1];
            for (int i = 0; i < b1; i++) {
                col[i] = s[i][j];
            }
            int best = Integer.MAX_VALUE;
            for (int i = 0; i < b1; i++) {
                if (aids[i] == cids[j]) {
                    best = Math.min(best, stablePosition(col, i, order));
                }
            }
            c2a[j] = best;
        }
        return new int[][] {a2c, c2a};
    }

    /** Random scores with {@code levels} distinct values (many ties), or continuous ones (levels 0). */
    private static double[][] randomScores(Random rnd, int b1, int b2, int levels) {
        double[][] s = new double[b1][b2];
        for (double[] row : s) {
            for (int j = 0; j < b2; j++) {
                row[j] = levels > 0 ? rnd.nextInt(levels) / (double) levels : rnd.nextDouble();
            }
        }
        return s;
    }

    /** {@code n} ids from {@code 0 … groups − 1}, each group used at least once (n ≥ groups), shuffled. */
    private static long[] randomIds(Random rnd, int n, int groups) {
        long[] ids = new long[n];
        for (int q = 0; q < n; q++) {
            ids[q] = q < groups ? q : rnd.nextInt(groups);
        }
        for (int q = n - 1; q > 0; q--) {
            int r = rnd.nextInt(q + 1);
            long t = ids[q];
            ids[q] = ids[r];
            ids[r] = t;
        }
        return ids;
    }

    static Stream<Arguments> oracleCases() {
        // b1, b2, groups, levels, block size
        return Stream.of(
                Arguments.of(1, 1, 1, 0, 1 << 20),
                Arguments.of(7, 7, 7, 3, 1 << 20),
                Arguments.of(9, 4, 4, 2, 5),
                Arguments.of(4, 9, 4, 2, 1),
                Arguments.of(20, 20, 3, 4, 40),
                Arguments.of(33, 17, 17, 0, 100),
                Arguments.of(17, 33, 5, 5, 1 << 20),
                Arguments.of(60, 60, 60, 6, 7),
                // large enough for the parallel paths (>= 2^15 entries per block, several column chunks)
                Arguments.of(300, 1100, 50, 8, 1 << 20),
                Arguments.of(300, 1100, 300, 0, 200_000));
    }

    @ParameterizedTest(name = "{0}x{1} groups={2} levels={3} block={4}")
    @MethodSource("oracleCases")
    void agreesWithAStableSortOracle(int b1, int b2, int groups, int levels, int block) {
        Random rnd = new Random(31L * b1 + 7L * b2 + groups + levels);
        double[][] s = randomScores(rnd, b1, b2, levels);
        long[] aids = randomIds(rnd, b1, groups);
        long[] cids = randomIds(rnd, b2, groups);
        for (ScoreOrder order : ScoreOrder.values()) {
            int[][] want = oracle(s, order, aids, cids);
            RetrievalRanks got = RetrievalRanks.compute(m(s), order, aids, cids, block);
            assertArrayEquals(want[0], got.anchorToCandidate(), order + " a2c");
            assertArrayEquals(want[1], got.candidateToAnchor(), order + " c2a");
        }
    }

    @Test
    void defaultBlockSizeSpansSeveralBlocksOnLargeInputs() {
        // 1200 x 1000 > 2^20 entries: two host blocks with the public method
        Random rnd = new Random(5);
        double[][] s = randomScores(rnd, 1200, 1000, 0);
        long[] aids = randomIds(rnd, 1200, 1000);
        long[] cids = new long[1000];
        Arrays.setAll(cids, j -> j);
        RetrievalRanks got = RetrievalRanks.compute(m(s), LOWER, aids, cids);
        RetrievalRanks oneBlock = RetrievalRanks.compute(m(s), LOWER, aids, cids, Integer.MAX_VALUE);
        assertArrayEquals(oneBlock.anchorToCandidate(), got.anchorToCandidate());
        assertArrayEquals(oneBlock.candidateToAnchor(), got.candidateToAnchor());
        int[][] want = oracle(s, LOWER, aids, cids);
        assertArrayEquals(want[0], got.anchorToCandidate());
        assertArrayEquals(want[1], got.candidateToAnchor());
    }

    @ParameterizedTest
    @EnumSource(ScoreOrder.class)
    void permutingCandidatesWithTheirIdsLeavesTheMetricsUnchanged(ScoreOrder order) {
        // unique candidate ids, several anchors per id, no ties: the metrics do not depend on column order
        Random rnd = new Random(order.ordinal() + 11);
        int b1 = 40;
        int b2 = 12;
        double[][] s = randomScores(rnd, b1, b2, 0);
        long[] cids = new long[b2];
        Arrays.setAll(cids, j -> 100 + 3L * j);
        long[] aids = randomIds(rnd, b1, b2);
        for (int i = 0; i < b1; i++) {
            aids[i] = 100 + 3L * aids[i];
        }
        RetrievalRanks base = RetrievalRanks.compute(m(s), order, aids, cids);
        for (int trial = 0; trial < 5; trial++) {
            int[] perm = permutation(rnd, b2);
            double[][] sp = new double[b1][b2];
            long[] cp = new long[b2];
            for (int j = 0; j < b2; j++) {
                cp[j] = cids[perm[j]];
                for (int i = 0; i < b1; i++) {
                    sp[i][j] = s[i][perm[j]];
                }
            }
            RetrievalRanks r = RetrievalRanks.compute(m(sp), order, aids, cp);
            assertEquals(base.metrics(), r.metrics());
            assertArrayEquals(base.anchorToCandidate(), r.anchorToCandidate());
            int[] c2a = r.candidateToAnchor();
            int[] baseC2a = base.candidateToAnchor();
            for (int j = 0; j < b2; j++) {
                assertEquals(baseC2a[perm[j]], c2a[j]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(ScoreOrder.class)
    void permutingAnchorsWithTheirIdsLeavesTheMetricsUnchanged(ScoreOrder order) {
        Random rnd = new Random(order.ordinal() + 23);
        int b1 = 30;
        int b2 = 10;
        double[][] s = randomScores(rnd, b1, b2, 0);
        long[] cids = new long[b2];
        Arrays.setAll(cids, j -> j);
        long[] aids = randomIds(rnd, b1, b2);
        RetrievalRanks base = RetrievalRanks.compute(m(s), order, aids, cids);
        int[] perm = permutation(rnd, b1);
        double[][] sp = new double[b1][];
        long[] ap = new long[b1];
        for (int i = 0; i < b1; i++) {
            sp[i] = s[perm[i]];
            ap[i] = aids[perm[i]];
        }
        RetrievalRanks r = RetrievalRanks.compute(m(sp), order, ap, cids);
        assertEquals(base.metrics(), r.metrics());
        assertArrayEquals(base.candidateToAnchor(), r.candidateToAnchor());
    }

    private static int[] permutation(Random rnd, int n) {
        int[] p = new int[n];
        Arrays.setAll(p, q -> q);
        for (int q = n - 1; q > 0; q--) {
            int r = rnd.nextInt(q + 1);
            int t = p[q];
            p[q] = p[r];
            p[r] = t;
        }
        return p;
    }

    // ---------------------------------------------------------------- errors

    private static void assertBad(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "expected '" + f + "' in: " + e.getMessage());
        }
    }

    private static final INDArray S23 = Nd4j.create(new double[][] {{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}});

    @Test
    void nullArguments() {
        assertBad(() -> RetrievalRanks.compute(null, LOWER), "scores must not be null");
        assertBad(() -> RetrievalMetrics.compute(null, LOWER, new long[0], new long[0]), "scores must not be null");
        assertBad(() -> RetrievalRanks.compute(S23, null, new long[] {1, 2}, new long[] {1, 2, 1}),
                "order must not be null");
        assertBad(() -> RetrievalRanks.compute(S23, LOWER, null, new long[] {1, 2, 1}), "anchorIds must not be null");
        assertBad(() -> RetrievalRanks.compute(S23, LOWER, new long[] {1, 2}, null), "candidateIds must not be null");
        assertBad(() -> new RetrievalMetrics(null, DirectionMetrics.fromRanks(new int[] {1})), "must not be null");
    }

    @Test
    void scoresMustBeANonEmptyFloatingPointMatrix() {
        assertBad(() -> RetrievalRanks.compute(Nd4j.create(new double[] {0.1, 0.2}), LOWER),
                "scores must be a 2-D", "rank 1", "[2]");
        assertBad(() -> RetrievalRanks.compute(Nd4j.rand(DataType.DOUBLE, 2, 2, 2), LOWER),
                "scores must be a 2-D", "rank 3", "[2, 2, 2]");
        assertBad(() -> RetrievalRanks.compute(Nd4j.scalar(1.0), LOWER), "scores must be a 2-D", "rank 0");
        assertBad(() -> RetrievalRanks.compute(Nd4j.create(DataType.DOUBLE, 0, 3), LOWER, new long[0],
                new long[] {1, 2, 3}), "at least one row and one column", "[0, 3]");
        assertBad(() -> RetrievalRanks.compute(Nd4j.create(new int[][] {{1, 2}, {3, 4}}), LOWER),
                "scores has dtype INT", "[2, 2]", "floating-point");
    }

    @Test
    void defaultIdsNeedASquareMatrix() {
        assertBad(() -> RetrievalRanks.compute(S23, LOWER), "[2, 3]", "B1 == B2", "pass anchorIds and candidateIds");
        assertBad(() -> RetrievalMetrics.compute(S23, HIGHER), "[2, 3]", "anchorIds");
    }

    @Test
    void idLengthsMustMatchTheShape() {
        assertBad(() -> RetrievalRanks.compute(S23, LOWER, new long[] {1, 2, 3}, new long[] {1, 2, 1}),
                "anchorIds has 3 entries", "2 rows", "[2, 3]");
        assertBad(() -> RetrievalRanks.compute(S23, LOWER, new long[] {1, 2}, new long[] {1, 2}),
                "candidateIds has 2 entries", "3 columns", "[2, 3]");
    }

    @Test
    void everyAnchorNeedsACandidateAndEveryCandidateAnAnchor() {
        assertBad(() -> RetrievalRanks.compute(S23, LOWER, new long[] {1, 5}, new long[] {1, 2, 1}),
                "anchorIds[1] = 5", "occurs nowhere in candidateIds", "[2, 3]");
        assertBad(() -> RetrievalRanks.compute(S23, LOWER, new long[] {1, 2}, new long[] {1, 2, 4}),
                "candidateIds[2] = 4", "occurs nowhere in anchorIds", "[2, 3]");
    }

    @Test
    void nanScoresAreRejectedWithTheirPosition() {
        INDArray s = S23.dup();
        s.putScalar(1, 2, Double.NaN);
        assertBad(() -> RetrievalRanks.compute(s, LOWER, new long[] {1, 2}, new long[] {1, 2, 1}),
                "scores (shape [2, 3]) contains NaN (first at row 1, column 2)");
        INDArray f = S23.castTo(DataType.FLOAT);
        f.putScalar(0, 0, Float.NaN);
        f.putScalar(1, 1, Float.NaN);
        assertBad(() -> RetrievalRanks.compute(f, HIGHER, new long[] {1, 2}, new long[] {1, 2, 1}, 3),
                "first at row 0, column 0");
    }

    @Test
    void ranksMustBeOneBased() {
        assertBad(() -> DirectionMetrics.fromRanks(null), "ranks must not be null");
        assertBad(() -> DirectionMetrics.fromRanks(new int[0]), "must not be empty");
        assertBad(() -> DirectionMetrics.fromRanks(new int[] {1, 0}), "ranks[1] = 0");
        assertBad(() -> RetrievalRanks.recallAt(new int[] {1}, 0), "k must be at least 1");
        assertBad(() -> RetrievalRanks.recallAt(new int[0], 1), "ranks");
        assertBad(() -> DirectionMetrics.fromRanks(new int[] {1}).recallAt(3), "k must be 1, 5 or 10");
    }
}
