package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finite accepted input never gives Inf or NaN: volumes beyond the dtype are refused up front,
 * rows near the dtype's limits (huge, tiny, subnormal) give exact volumes in FAST and REFERENCE.
 */
class VolumeRangeTest {

    /** Orthogonal rows of the given norms: every volume is the product of the norms. */
    private static INDArray scaledUnit(DataType type, int dim, int axis, double norm) {
        INDArray row = Nd4j.zeros(DataType.DOUBLE, 1, dim);
        row.putScalar(0, axis, norm);
        return row.castTo(type);
    }

    @Test
    void doubleRowsOfNorm1e150AndTheirInversesGiveExactVolumesByBothMethods() {
        for (double norm : new double[] {1e-150, 1e150, 1e-160, 1e-300}) {
            INDArray a = scaledUnit(DataType.DOUBLE, 4, 0, norm);
            INDArray x = scaledUnit(DataType.DOUBLE, 4, 1, norm);
            double expected = norm * norm;
            for (VolumeMethod method : VolumeMethod.values()) {
                double v = GramVolumes.pairwise(method, a, x).getDouble(0, 0);
                assertEquals(expected, v, expected * 1e-14, method + " at norm " + norm);
            }
            assertEquals(expected, GramVolumes.tuple(Nd4j.vstack(a, x)), expected * 1e-14, "tuple at norm " + norm);
        }
    }

    @Test
    void floatRowsWithSubnormalSquaredNormsGiveAccurateVolumes() {
        // |a|² = 1e-40 and |x|² = 1e-44 are subnormal in FLOAT: unscaled, the volume loses its digits
        for (double[] norms : new double[][] {{1e-20, 1e-15}, {1e-20, 1e10}, {3e-23, 2e-12}}) {
            INDArray a = Nd4j.create(new double[][] {{norms[0] * 0.6, norms[0] * 0.8, 0}}).castTo(DataType.FLOAT);
            INDArray x = Nd4j.create(new double[][] {{0, 0, norms[1]}}).castTo(DataType.FLOAT);
            double expected = (double) a.getFloat(0, 0) == 0 ? 0 : Math.hypot(a.getFloat(0, 0), a.getFloat(0, 1))
                    * x.getFloat(0, 2);
            for (VolumeMethod method : VolumeMethod.values()) {
                double v = GramVolumes.pairwise(method, a, x).getDouble(0, 0);
                assertEquals(expected, v, Math.abs(expected) * 1e-6, method + " at norms " + norms[0] + ", " + norms[1]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT", "DOUBLE"})
    void rowsScaledByPowersOfTwoScaleTheVolumeByTheProductOfTheScales(DataType type) {
        Random random = new Random(17);
        int k = 3;
        int b1 = 9;
        int b2 = 11;
        int dim = 6;
        int span = type == DataType.DOUBLE ? 330 : 40;
        INDArray anchor = RandomArrays.gaussian(random, b1, dim, type).castTo(DataType.DOUBLE);
        INDArray[] xs = RandomArrays.gaussianBatches(random, k - 1, b2, dim, type);
        for (int m = 0; m < xs.length; m++) {
            xs[m] = xs[m].castTo(DataType.DOUBLE);
        }
        INDArray unit = GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor, xs);
        int[] ea = new int[b1];
        int[] ex = new int[b2];
        INDArray scaledAnchor = anchor.dup();
        INDArray[] scaledXs = new INDArray[xs.length];
        for (int i = 0; i < b1; i++) {
            ea[i] = random.nextInt(2 * span + 1) - span;
            scaledAnchor.getRow(i).muli(Math.scalb(1.0, ea[i]));
        }
        for (int m = 0; m < xs.length; m++) {
            scaledXs[m] = xs[m].dup();
            for (int j = 0; j < b2; j++) {
                int e = random.nextInt(2 * span + 1) - span;
                ex[j] += e;
                scaledXs[m].getRow(j).muli(Math.scalb(1.0, e));
            }
        }
        INDArray a = scaledAnchor.castTo(type);
        INDArray[] cs = new INDArray[xs.length];
        for (int m = 0; m < xs.length; m++) {
            cs[m] = scaledXs[m].castTo(type);
        }
        double tolerance = type == DataType.DOUBLE ? 1e-12 : 1e-4;
        INDArray out = Nd4j.createUninitialized(type, new long[] {b1, b2}, 'c');
        for (VolumeMethod method : VolumeMethod.values()) {
            INDArray v = method == VolumeMethod.FAST ? GramVolumes.pairwiseInto(out, a, cs) : GramVolumes.pairwise(method, a, cs);
            for (int i = 0; i < b1; i++) {
                for (int j = 0; j < b2; j++) {
                    double expected = Math.scalb(unit.getDouble(i, j), ea[i] + ex[j]);
                    double scale = Math.scalb(1.0, ea[i] + ex[j]) * norm(anchor, i) * norm(xs[0], j) * norm(xs[1], j);
                    double actual = v.getDouble(i, j);
                    assertTrue(Double.isFinite(actual) && Math.abs(actual - expected) <= tolerance * scale,
                            method + " (" + i + ", " + j + "): " + actual + " vs " + expected + " (scale " + scale + ")");
                }
            }
        }
    }

    private static double norm(INDArray x, int row) {
        return x.getRow(row).norm2Number().doubleValue();
    }

    @Test
    void volumesBeyondTheDtypeAreRefusedBeforeAnyWorkAndOutIsLeftAlone() {
        // DOUBLE rows of norm 1e154, k = 3: volumes up to 1e462
        INDArray a = Nd4j.zeros(DataType.DOUBLE, 2, 3);
        a.putScalar(0, 0, 1e154);
        INDArray x1 = Nd4j.zeros(DataType.DOUBLE, 2, 3);
        x1.putScalar(0, 1, 1e154);
        INDArray x2 = Nd4j.zeros(DataType.DOUBLE, 2, 3);
        x2.putScalar(1, 2, 1e154);
        x2.putScalar(0, 2, 1e154);
        for (VolumeMethod method : VolumeMethod.values()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GramVolumes.pairwise(method, a, x1, x2));
            assertTrue(e.getMessage().contains("1.00e+462") && e.getMessage().contains("DOUBLE range")
                    && e.getMessage().contains("normalise the rows") && e.getMessage().startsWith("anchor"), e.getMessage());
        }
        INDArray out = Nd4j.ones(DataType.DOUBLE, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> GramVolumes.pairwiseInto(out, a, x1, x2));
        assertEquals(Nd4j.ones(DataType.DOUBLE, 2, 2), out);
        // FLOAT rows of norm 1e18, k = 3: volumes up to 1e54
        INDArray f = Nd4j.create(new double[][] {{1e18, 0, 0}, {0, 1e18, 0}, {0, 0, 1e18}}).castTo(DataType.FLOAT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GramVolumes.tuple(f));
        assertTrue(e.getMessage().contains("FLOAT range") && e.getMessage().contains("or use DOUBLE"), e.getMessage());
        // the same rows in DOUBLE are fine
        assertEquals(1e54, GramVolumes.tuple(f.castTo(DataType.DOUBLE)), 1e54 * 1e-6);
    }

    @Test
    void aZeroAnchorBesideHugeCandidatesGivesZeroNotNaN() {
        // Π|x| = 1e57 overflows FLOAT though every volume is 0: the candidate product is not formed in FLOAT
        INDArray a = Nd4j.zeros(DataType.FLOAT, 1, 4);
        INDArray x = Nd4j.create(new double[][] {{1e19, 0, 0, 0}}).castTo(DataType.FLOAT);
        INDArray y = Nd4j.create(new double[][] {{0, 1e19, 0, 0}}).castTo(DataType.FLOAT);
        INDArray z = Nd4j.create(new double[][] {{0, 0, 1e19, 0}}).castTo(DataType.FLOAT);
        for (VolumeMethod method : VolumeMethod.values()) {
            assertEquals(0.0, GramVolumes.pairwise(method, a, x, y, z).getDouble(0, 0), method.toString());
        }
    }
}
