package io.github.gram4j.loss;

import static io.github.gram4j.core.testing.ArrayAssert.assertAllFinite;
import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.TriangleScores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The TRIANGLE loss through {@link GramLoss}: central finite differences of the loss for every
 * gradient (both variants, both forms, {@code τ} and the log-scale {@code s}), degenerate
 * (coincident) tuples, and the modality-count check. Step and bound as {@link FiniteDifferenceTest}.
 */
class TriangleLossTest {

    private final Random random = new Random(2025);

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ContrastiveScore.class, names = {"TRIANGLE", "TRIANGLE_AREA"})
    void oneProcessGradientsMatchFiniteDifferences(ContrastiveScore score) {
        GramLoss loss = new GramLoss(0.1, score);
        INDArray t = FiniteDifferenceTest.gaussian(random, 3, 3);
        INDArray v = FiniteDifferenceTest.gaussian(random, 3, 3);
        INDArray a = FiniteDifferenceTest.gaussian(random, 3, 3);
        Temperature tau = Temperature.of(0.3);
        LossResult r = loss.compute(tau, t, v, a);
        assertArrayClose("anchor", r.gradAnchor(), FiniteDifferenceTest.numericGradient(t, x -> loss.value(tau, x, v, a)),
                FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("v", r.gradCandidates().get(0),
                FiniteDifferenceTest.numericGradient(v, x -> loss.value(tau, t, x, a)), FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("a", r.gradCandidates().get(1),
                FiniteDifferenceTest.numericGradient(a, x -> loss.value(tau, t, v, x)), FiniteDifferenceTest.TOLERANCE);
        double dTau = FiniteDifferenceTest.numericDerivative(x -> loss.value(Temperature.of(x), t, v, a), 0.3);
        assertEquals(dTau, r.gradTemperature(), 1e-6 * Math.abs(dTau) + 1e-9);
        double s = Math.log(1 / 0.3);
        double dS = FiniteDifferenceTest.numericDerivative(x -> loss.value(Temperature.fromLogitScale(x), t, v, a), s);
        assertEquals(dS, loss.compute(Temperature.fromLogitScale(s), t, v, a).gradTemperature(), 1e-6 * Math.abs(dS) + 1e-9);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ContrastiveScore.class, names = {"TRIANGLE", "TRIANGLE_AREA"})
    void gatheredGradientsMatchFiniteDifferences(ContrastiveScore score) {
        GramLoss loss = new GramLoss(0.1, score);
        int bs = 1;
        int offset = 1;
        INDArray ga = FiniteDifferenceTest.gaussian(random, 3, 3);
        INDArray gv = FiniteDifferenceTest.gaussian(random, 3, 3);
        INDArray gw = FiniteDifferenceTest.gaussian(random, 3, 3);
        INDArray t = rows(ga, offset, bs);
        INDArray v = rows(gv, offset, bs);
        INDArray a = rows(gw, offset, bs);
        Temperature tau = Temperature.of(0.5);
        LossResult r = loss.compute(tau, GatheredBatches.of(t, List.of(v, a), ga, List.of(gv, gw), offset), true);
        // local gradients: the gathered tensors are constants (GRAM's and TRIANGLE's concat_all_gather)
        assertArrayClose("local anchor", r.gradAnchor(), FiniteDifferenceTest.numericGradient(t,
                x -> loss.compute(tau, GatheredBatches.of(x, List.of(v, a), ga, List.of(gv, gw), offset), false).loss()),
                FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("local v", r.gradCandidates().get(0), FiniteDifferenceTest.numericGradient(v,
                x -> loss.compute(tau, GatheredBatches.of(t, List.of(x, a), ga, List.of(gv, gw), offset), false).loss()),
                FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("local a", r.gradCandidates().get(1), FiniteDifferenceTest.numericGradient(a,
                x -> loss.compute(tau, GatheredBatches.of(t, List.of(v, x), ga, List.of(gv, gw), offset), false).loss()),
                FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("gathered anchor", r.gradGatheredAnchor(), FiniteDifferenceTest.numericGradient(ga,
                x -> loss.compute(tau, GatheredBatches.of(t, List.of(v, a), x, List.of(gv, gw), offset), false).loss()),
                FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("gathered v", r.gradGatheredCandidates().get(0), FiniteDifferenceTest.numericGradient(gv,
                x -> loss.compute(tau, GatheredBatches.of(t, List.of(v, a), ga, List.of(x, gw), offset), false).loss()),
                FiniteDifferenceTest.TOLERANCE);
        assertArrayClose("gathered a", r.gradGatheredCandidates().get(1), FiniteDifferenceTest.numericGradient(gw,
                x -> loss.compute(tau, GatheredBatches.of(t, List.of(v, a), ga, List.of(gv, x), offset), false).loss()),
                FiniteDifferenceTest.TOLERANCE);
        double dTau = FiniteDifferenceTest.numericDerivative(x -> loss.compute(Temperature.of(x),
                GatheredBatches.of(t, List.of(v, a), ga, List.of(gv, gw), offset), false).loss(), 0.5);
        assertEquals(dTau, r.gradTemperature(), 1e-6 * Math.abs(dTau) + 1e-9);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = ContrastiveScore.class, names = {"TRIANGLE", "TRIANGLE_AREA"})
    void coincidentPositivesGiveFiniteGradients(ContrastiveScore score) {
        // perfectly aligned positives: every diagonal triangle has zero area (the area's 1/area floor)
        INDArray p = FiniteDifferenceTest.gaussian(random, 5, 8);
        LossResult r = new GramLoss(0.1, score).compute(Temperature.of(0.07), p, p.dup(), p.dup());
        assertTrue(Double.isFinite(r.loss()));
        assertAllFinite("anchor", r.gradAnchor());
        assertAllFinite("v", r.gradCandidates().get(0));
        assertAllFinite("a", r.gradCandidates().get(1));
        assertTrue(Double.isFinite(r.gradTemperature()));
        for (int i = 0; i < 5; i++) {
            assertEquals(0.0, r.anchorScores().getDouble(i, i), 0.0);
        }
        // all three batches equal to one point: every score 0, the loss is log-uniform and flat
        INDArray one = Nd4j.ones(4, 3);
        LossResult flat = new GramLoss(0.0, score).compute(Temperature.of(0.07), one, one, one);
        assertEquals(Math.log(4), flat.loss(), 1e-12);
        assertEquals(0.0, flat.gradAnchor().amaxNumber().doubleValue(), 0.0);
    }

    @Test
    void theScoresAreTheTriangleScores() {
        INDArray t = FiniteDifferenceTest.gaussian(random, 3, 6);
        INDArray v = FiniteDifferenceTest.gaussian(random, 3, 6);
        INDArray a = FiniteDifferenceTest.gaussian(random, 3, 6);
        assertEquals(TriangleScores.pairwise(t, v, a),
                new GramLoss(0.1, ContrastiveScore.TRIANGLE).compute(Temperature.of(0.07), t, v, a).anchorScores());
        assertEquals(TriangleScores.areas(t, v, a),
                new GramLoss(0.1, ContrastiveScore.TRIANGLE_AREA).compute(Temperature.of(0.07), t, v, a).anchorScores());
        assertEquals(ContrastiveScore.GRAM_VOLUME, new GramLoss().score());
    }

    @Test
    void triangleNeedsExactlyThreeModalities() {
        INDArray t = FiniteDifferenceTest.gaussian(random, 3, 6);
        GramLoss loss = new GramLoss(0.1, ContrastiveScore.TRIANGLE);
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class,
                () -> loss.compute(Temperature.of(0.07), t, t.dup()));
        assertTrue(two.getMessage().contains("exactly 3 modalities") && two.getMessage().contains("got 2"), two.getMessage());
        IllegalArgumentException four = assertThrows(IllegalArgumentException.class,
                () -> loss.value(Temperature.of(0.07), t, t.dup(), t.dup(), t.dup()));
        assertTrue(four.getMessage().contains("got 4"), four.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GramLoss(0.1, null));
    }

    private static INDArray rows(INDArray x, int from, int count) {
        return x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, from + count),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
    }
}
