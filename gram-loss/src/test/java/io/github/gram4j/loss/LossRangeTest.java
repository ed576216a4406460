package io.github.gram4j.loss;

import static io.github.gram4j.core.testing.ArrayAssert.assertAllFinite;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finite accepted input never gives an infinite or NaN loss or gradient: temperatures and scales
 * that would overflow are refused with a message naming τ, the largest score and the remedy;
 * extreme but representable ones give finite results.
 */
class LossRangeTest {

    private static INDArray rowsOfNorm(Random random, int rows, int dim, double norm, DataType type) {
        INDArray x = RandomArrays.gaussian(random, rows, dim, DataType.DOUBLE);
        x.diviColumnVector(x.norm2(1).reshape(rows, 1)).muli(norm);
        return x.castTo(type);
    }

    private static void assertFinite(String what, LossResult r) {
        assertTrue(Double.isFinite(r.loss()), what + ": loss " + r.loss());
        assertTrue(Double.isFinite(r.gradTemperature()), what + ": dL/dtau " + r.gradTemperature());
        assertAllFinite(what + " row losses", r.rowLossesAnchorToCandidate());
        assertAllFinite(what + " row losses", r.rowLossesCandidateToAnchor());
        assertAllFinite(what + " grad anchor", r.gradAnchor());
        for (INDArray g : r.gradCandidates()) {
            assertAllFinite(what + " grad candidate", g);
        }
    }

    @Test
    void doubleRowsOfNorm1e154GiveARefusalNamingTauAndTheLargestVolume() {
        Random random = new Random(1);
        INDArray a = rowsOfNorm(random, 6, 5, 1e154, DataType.DOUBLE);
        INDArray x = rowsOfNorm(random, 6, 5, 1e154, DataType.DOUBLE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GramLoss().compute(Temperature.of(0.07), a, x));
        assertTrue(e.getMessage().startsWith("temperature tau = 0.07 and the largest |V| = ")
                && e.getMessage().contains("use a larger tau") && e.getMessage().contains("normalise the rows"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new GramLoss().value(Temperature.of(0.07), a, x));
        // rows of norm 1e100 at tau = 1e10 are representable: a finite loss and finite gradients
        INDArray a2 = rowsOfNorm(random, 6, 5, 1e100, DataType.DOUBLE);
        INDArray x2 = rowsOfNorm(random, 6, 5, 1e100, DataType.DOUBLE);
        INDArray x3 = rowsOfNorm(random, 6, 5, 1e100, DataType.DOUBLE);
        assertFinite("norm 1e100, k = 3", new GramLoss().compute(Temperature.of(1e160), a2, x2, x3));
        assertFinite("norm 1e100, k = 2", new GramLoss().compute(Temperature.of(1e10), a2, x2));
    }

    @Test
    void floatRowsOfNorm1e18AreRefusedBeforeAnyWork() {
        Random random = new Random(2);
        INDArray a = rowsOfNorm(random, 5, 4, 1e18, DataType.FLOAT);
        INDArray x1 = rowsOfNorm(random, 5, 4, 1e18, DataType.FLOAT);
        INDArray x2 = rowsOfNorm(random, 5, 4, 1e18, DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GramLoss().compute(Temperature.of(0.07), a, x1, x2));
        assertTrue(e.getMessage().contains("beyond the FLOAT range") && e.getMessage().contains("or use DOUBLE"),
                e.getMessage());
        GatheredBatches gathered = GatheredBatches.of(a, List.of(x1, x2), Nd4j.vstack(a, a), List.of(Nd4j.vstack(x1, x1),
                Nd4j.vstack(x2, x2)), 5);
        assertThrows(IllegalArgumentException.class, () -> new GramLoss().compute(Temperature.of(0.07), gathered, true));
        // k = 2 at norm 1e15: V up to 1e30, logits up to 1e30: accepted and finite
        INDArray b = rowsOfNorm(random, 5, 4, 1e15, DataType.FLOAT);
        INDArray y = rowsOfNorm(random, 5, 4, 1e15, DataType.FLOAT);
        assertFinite("FLOAT norm 1e15", new GramLoss().compute(Temperature.of(1), b, y));
        assertFinite("FLOAT norm 1e15, cosine", new CosineInfoNce().compute(Temperature.of(1), b, y));
    }

    @Test
    void temperaturesThatBreakTheLossAreRefused() {
        for (double tau : new double[] {Double.MIN_VALUE, 1e-320, 0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Temperature.of(tau));
            assertTrue(e.getMessage().startsWith("temperature must be finite and >= 2.2250738585072014E-308"), e.getMessage());
        }
        for (double s : new double[] {-1000, -709, Double.NaN, Double.NEGATIVE_INFINITY}) {
            assertThrows(IllegalArgumentException.class, () -> Temperature.fromLogitScale(s), "s = " + s);
        }
        assertTrue(Double.isFinite(Temperature.fromLogitScale(-708).tau()));
        Random random = new Random(3);
        INDArray a = rowsOfNorm(random, 4, 3, 1, DataType.DOUBLE);
        INDArray x = rowsOfNorm(random, 4, 3, 1, DataType.DOUBLE);
        // DOUBLE at tau = 1e-300: dL/dtau ~ V/tau² overflows
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GramLoss().compute(Temperature.of(1e-300), a, x));
        assertTrue(e.getMessage().startsWith("temperature tau = 1.0E-300 and the largest |V| = "), e.getMessage());
        // FLOAT at tau = 1e-45: 1/tau is beyond FLOAT before any work
        e = assertThrows(IllegalArgumentException.class,
                () -> new GramLoss().compute(Temperature.of(1e-45), a.castTo(DataType.FLOAT), x.castTo(DataType.FLOAT)));
        assertEquals("temperature tau = 1.0E-45 is too small for FLOAT: the score gradients 1/tau = 1.00e+45 exceed the"
                + " FLOAT limit 5.32e+36; use a larger tau or DOUBLE", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new CosineInfoNce().compute(Temperature.of(1e-300), a, x));
        assertTrue(e.getMessage().contains("largest |S|"), e.getMessage());
        // a tiny but workable tau: finite
        assertFinite("tau 1e-100", new GramLoss().compute(Temperature.of(1e-100), a.mul(1e-150), x));
    }

    @Test
    void hardNegativesRefuseLogitsBeyondTheDtype() {
        INDArray v = Nd4j.create(new double[][] {{1e300, 1}, {2, 3}});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HardNegatives.fromVolumes(v, v.transpose(), Temperature.of(1e-10), 0));
        assertTrue(e.getMessage().startsWith("temperature tau = 1.0E-10 and the largest |anchorVolumes| = 1.00e+300"),
                e.getMessage());
        INDArray nan = Nd4j.create(new double[][] {{Double.NaN, 1}, {2, 3}});
        e = assertThrows(IllegalArgumentException.class,
                () -> HardNegatives.fromVolumes(nan, nan.transpose(), Temperature.of(1), 0));
        assertEquals("anchorVolumes (shape [2, 2]) contains NaN or infinite values", e.getMessage());
        HardNegatives.Weights w = HardNegatives.fromVolumes(v, v.transpose(), Temperature.of(1e10), 0);
        assertAllFinite("weights", w.anchorToCandidate());
        assertAllFinite("weights", w.candidateToAnchor());
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void tinyRowsGiveFiniteLossesAndGradients(DataType type) {
        Random random = new Random(4);
        double norm = type == DataType.DOUBLE ? 1e-150 : 1e-20;
        INDArray a = rowsOfNorm(random, 5, 4, norm, type);
        INDArray x1 = rowsOfNorm(random, 5, 4, norm, type);
        INDArray x2 = rowsOfNorm(random, 5, 4, 1, type);
        assertFinite("tiny rows", new GramLoss().compute(Temperature.of(0.07), a, x1, x2));
        assertFinite("tiny rows, cosine", new CosineInfoNce().compute(Temperature.of(0.07), a, x1));
    }

    @Test
    void cosineValueChecksLikeCompute() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 6, 5);
        INDArray x = Nd4j.rand(DataType.FLOAT, 6, 5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CosineInfoNce().value(null, a, x));
        assertTrue(e.getMessage().contains("temperature"), e.getMessage());
        // 1/tau beyond FLOAT: refused by value as by compute, never an infinite loss
        assertThrows(IllegalArgumentException.class, () -> new CosineInfoNce().compute(Temperature.of(1e-160), a, x));
        assertThrows(IllegalArgumentException.class, () -> new CosineInfoNce().value(Temperature.of(1e-160), a, x));
        assertEquals(new CosineInfoNce().compute(Temperature.of(0.07), a, x).loss(),
                new CosineInfoNce().value(Temperature.of(0.07), a, x), 1e-6);
    }
}
