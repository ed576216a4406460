package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link RowNormalization} against the formulas in double and central finite differences. */
class RowNormalizationTest {

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void forwardDividesEveryRowByItsNorm(DataType type) {
        INDArray z = RandomArrays.gaussian(new Random(3), 6, 9, type);
        INDArray before = z.dup();
        INDArray e = RowNormalization.forward(z);
        assertEquals(type, e.dataType());
        assertArrayEquals(z.shape(), e.shape());
        assertEquals(before, z, "the input is not modified");
        double tolerance = type == DataType.DOUBLE ? 1e-15 : 1e-6;
        double[][] zd = z.castTo(DataType.DOUBLE).toDoubleMatrix();
        double[][] ed = e.castTo(DataType.DOUBLE).toDoubleMatrix();
        for (int r = 0; r < zd.length; r++) {
            double norm = 0;
            for (double v : zd[r]) {
                norm += v * v;
            }
            norm = Math.sqrt(norm);
            for (int c = 0; c < zd[r].length; c++) {
                assertEquals(zd[r][c] / norm, ed[r][c], tolerance, "row " + r + ", column " + c);
            }
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random random = new Random(5);
        INDArray z = RandomArrays.gaussian(random, 4, 7, DataType.DOUBLE);
        INDArray w = RandomArrays.gaussian(random, 4, 7, DataType.DOUBLE);   // L = Σ w ∘ forward(z)
        INDArray e = RowNormalization.forward(z);
        INDArray grad = RowNormalization.backward(z, e, w);
        double h = 1e-6;
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 7; c++) {
                double v = z.getDouble(r, c);
                z.putScalar(r, c, v + h);
                double up = RowNormalization.forward(z).mul(w).sumNumber().doubleValue();
                z.putScalar(r, c, v - h);
                double down = RowNormalization.forward(z).mul(w).sumNumber().doubleValue();
                z.putScalar(r, c, v);
                assertEquals((up - down) / (2 * h), grad.getDouble(r, c), 1e-8, "dL/dz[" + r + ", " + c + "]");
            }
        }
        // the gradient is orthogonal to each row: a change of length does not change e
        INDArray along = grad.mul(z).sum(1);
        assertTrue(along.amaxNumber().doubleValue() < 1e-12, "row-wise (dL/dz)·z: " + along);
    }

    @Test
    void badInputIsRejectedNamingTheArgument() {
        INDArray z = RandomArrays.gaussian(new Random(7), 3, 4, DataType.DOUBLE);
        INDArray e = RowNormalization.forward(z);
        assertBad(() -> RowNormalization.forward(null), "z must not be null");
        assertBad(() -> RowNormalization.forward(Nd4j.createFromArray(1.0, 2.0)), "z must be 2-D", "[2]");
        assertBad(() -> RowNormalization.forward(Nd4j.createFromArray(new int[][] {{1, 2}})), "z must be floating point",
                "INT");
        INDArray zeroRow = z.dup();
        zeroRow.getRow(1).assign(0);
        assertBad(() -> RowNormalization.forward(zeroRow), "z row 1 has norm 0.0");
        INDArray nanRow = z.dup();
        nanRow.putScalar(2, 3, Double.NaN);
        assertBad(() -> RowNormalization.forward(nanRow), "z row 2 has norm NaN");
        assertBad(() -> RowNormalization.backward(z, e, null), "gradE must not be null");
        assertBad(() -> RowNormalization.backward(z, e.castTo(DataType.FLOAT), e), "e must have z's shape [3, 4]",
                "FLOAT");
        assertBad(() -> RowNormalization.backward(z, e, Nd4j.zeros(DataType.DOUBLE, 3, 5)), "gradE must have z's shape",
                "[3, 5]");
    }

    @Test
    void sharedConstantsAndChecks() {
        assertEquals(64 * Math.ulp(1.0), NumericalPolicy.degenerateFloor(DataType.DOUBLE));
        assertEquals(64 * Math.ulp(1.0f), NumericalPolicy.degenerateFloor(DataType.FLOAT), 0.0);
        assertEquals(NumericalPolicy.degenerateFloor(DataType.FLOAT), NumericalPolicy.degenerateFloor(DataType.HALF));
        assertEquals(Double.MIN_NORMAL, NumericalPolicy.tiny(DataType.DOUBLE));
        assertEquals(Float.MIN_NORMAL, NumericalPolicy.tiny(DataType.FLOAT), 0.0);
        assertBad(() -> NumericalPolicy.degenerateFloor(null), "type must not be null");
        assertEquals(0.1, ContrastiveParameters.DEFAULT_LABEL_SMOOTHING);
        assertEquals(100.0, ContrastiveParameters.MAX_LOGIT_SCALE);
        assertEquals(0.07, ContrastiveParameters.DEFAULT_TEMPERATURE);
        assertEquals(0.0, ContrastiveParameters.requireLabelSmoothing(0.0));
        assertEquals(1.0, ContrastiveParameters.requireLabelSmoothing(1.0));
        for (double bad : new double[] {-1e-9, 1.000001, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertBad(() -> ContrastiveParameters.requireLabelSmoothing(bad), "labelSmoothing must be in [0, 1], got " + bad);
        }
    }

    static void assertBad(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
    }
}
