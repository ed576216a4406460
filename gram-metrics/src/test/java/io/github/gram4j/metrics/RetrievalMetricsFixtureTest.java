package io.github.gram4j.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Every case of {@code fixtures/metrics/}: ranks exactly, the five numbers per direction to 1e-12. */
class RetrievalMetricsFixtureTest {

    private static final double TOL = 1e-12;

    static List<MetricFixtures.Case> cases() {
        return MetricFixtures.all();
    }

    @Test
    void allTwelveCasesAreThere() {
        assertEquals(12, cases().size());
    }

    private static void assertMatches(MetricFixtures.Case c, RetrievalRanks ranks, String what) {
        assertArrayEquals(c.ints("a2c_ranks"), ranks.anchorToCandidate(), c + " " + what + ": a2c ranks");
        assertArrayEquals(c.ints("c2a_ranks"), ranks.candidateToAnchor(), c + " " + what + ": c2a ranks");
        RetrievalMetrics m = ranks.metrics();
        assertArrayEquals(c.doubles("a2c"), m.anchorToCandidate().toArray(), TOL, c + " " + what + ": a2c metrics");
        assertArrayEquals(c.doubles("c2a"), m.candidateToAnchor().toArray(), TOL, c + " " + what + ": c2a metrics");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void ranksAndMetricsMatchTheFixture(MetricFixtures.Case c) {
        INDArray s = c.scores();
        assertArrayEquals(new long[] {c.b1(), c.b2()}, s.shape());
        long[] aids = c.longs("anchor_ids");
        long[] cids = c.longs("candidate_ids");
        assertMatches(c, RetrievalRanks.compute(s, c.order(), aids, cids), "DOUBLE");

        RetrievalMetrics m = RetrievalMetrics.compute(s, c.order(), aids, cids);
        assertArrayEquals(c.doubles("a2c"), m.anchorToCandidate().toArray(), TOL);
        assertArrayEquals(c.doubles("c2a"), m.candidateToAnchor().toArray(), TOL);
        // R@k is the unrounded percentage: exactly (count / n) * 100
        assertEquals(c.doubles("a2c")[0], m.anchorToCandidate().recallAt1(), 0.0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void floatScoresGiveTheSameRanks(MetricFixtures.Case c) {
        // the fixture scores are float32-representable, so FLOAT keeps every tie and every order
        assertMatches(c, RetrievalRanks.compute(c.scores().castTo(DataType.FLOAT), c.order(), c.longs("anchor_ids"),
                c.longs("candidate_ids")), "FLOAT");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void layoutAndBlockingDoNotMatter(MetricFixtures.Case c) {
        long[] aids = c.longs("anchor_ids");
        long[] cids = c.longs("candidate_ids");
        INDArray s = c.scores();
        assertMatches(c, RetrievalRanks.compute(s.dup('f'), c.order(), aids, cids), "f-order");
        // a view into a larger array: the scores are the middle columns of [junk | s | junk]
        INDArray wide = org.nd4j.linalg.factory.Nd4j.rand(DataType.DOUBLE, c.b1(), c.b2() + 5);
        wide.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 2 + c.b2())).assign(s);
        INDArray view = wide.get(NDArrayIndex.all(), NDArrayIndex.interval(2, 2 + c.b2()));
        assertTrue(view.isView());
        assertMatches(c, RetrievalRanks.compute(view, c.order(), aids, cids), "view");
        // the transpose of the transpose: an f-order view of the same values
        assertMatches(c, RetrievalRanks.compute(s.transpose().dup().transpose(), c.order(), aids, cids), "transposed");
        // one row per host block, and a few rows per block
        for (int block : new int[] {1, c.b2(), 3 * c.b2() + 1}) {
            assertMatches(c, RetrievalRanks.compute(s, c.order(), aids, cids, block), "block " + block);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void identityIdCasesMatchTheDefaultIds(MetricFixtures.Case c) {
        long[] aids = c.longs("anchor_ids");
        long[] cids = c.longs("candidate_ids");
        boolean identity = c.b1() == c.b2();
        for (int i = 0; identity && i < aids.length; i++) {
            identity = aids[i] == i && cids[i] == i;
        }
        if (identity) {
            assertMatches(c, RetrievalRanks.compute(c.scores(), c.order()), "default ids");
            assertEquals(RetrievalMetrics.compute(c.scores(), c.order(), aids, cids),
                    RetrievalMetrics.compute(c.scores(), c.order()));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void negatedScoresInTheOtherOrderGiveTheSameRanks(MetricFixtures.Case c) {
        ScoreOrder other = c.order() == ScoreOrder.LOWER_IS_BETTER ? ScoreOrder.HIGHER_IS_BETTER
                : ScoreOrder.LOWER_IS_BETTER;
        assertMatches(c, RetrievalRanks.compute(c.scores().neg(), other, c.longs("anchor_ids"),
                c.longs("candidate_ids")), "negated");
    }
}
