package io.github.gram4j.samediff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.listeners.records.History;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.adapter.SingletonMultiDataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Pins the ND4J 1.0.0-M2.1 SameDiff bugs that gram4j works around. Every test asserts that the
 * bug is <b>still present</b>: after an ND4J upgrade, a failing test here names a workaround that
 * may be removable (then delete the test and the workaround together, after checking the fix).
 *
 * <ul>
 *   <li>the backward of {@code div} by a broadcast scalar divisor is wrong: gram-samediff multiplies
 *       by a reciprocal instead ({@link SameDiffTemperatures#inverse}, {@link SameDiffVolumes});</li>
 *   <li>the determinant op has no gradient ({@code UnsupportedOperationException}): the volume graph
 *       is built from Gram–Schmidt and matrix products ({@link SameDiffVolumes}), never from
 *       {@code matrixDeterminant};</li>
 *   <li>{@code sd.fit}'s {@link History} reads 0 for a loss whose last op's backward does not need
 *       its output: gram-examples' {@code SameDiffAlignmentExample} records each step's loss with
 *       its own forward pass;</li>
 *   <li>building a gradient graph prints one "Added differentiated op" line per op to
 *       {@code System.out}: the build sends test output to files ({@code redirectTestOutputToFile}),
 *       the benchmark builds its graphs during set-up.</li>
 * </ul>
 */
class SameDiffWorkaroundsTest {

    static final INDArray X = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {4, 5, 6}});

    /** {@code ∂/∂t sum(X ∘ op(t))} for a scalar variable {@code t = 2}. */
    static double scalarGradient(java.util.function.BiFunction<SDVariable, SDVariable, SDVariable> op) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", X.dup());
        SDVariable t = sd.var("t", Nd4j.scalar(2.0));
        sd.setLossVariables(sd.sum("loss", op.apply(x, t)));
        return sd.calculateGradients(Map.of(), "t").get("t").getDouble(0);
    }

    @Test
    void divisionBackwardWithABroadcastScalarDivisorIsWrong() {
        double expected = -X.sumNumber().doubleValue() / 4;          // ∂/∂t Σ x/t = −Σx / t² = −5.25
        double byDivision = scalarGradient(SDVariable::div);
        // BUG: measured −31.5 (the divisor's gradient is not the sum over the broadcast)
        assertTrue(Math.abs(byDivision - expected) > 1, "div backward gave " + byDivision + ", exact " + expected);
        // the workaround: multiply by the reciprocal
        double byReciprocal = scalarGradient((x, t) -> x.mul(t.getSameDiff().math.reciprocal(t)));
        assertEquals(expected, byReciprocal, 1e-12);
    }

    @Test
    void divisionBackwardWithAColumnDivisorIsRight() {
        // Not a bug, the boundary of the one above: a [n, 1] divisor (a row norm) gets the right
        // gradient in 1.0.0-M2.1, so only scalar divisors need the reciprocal form.
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.var("x", X.dup());
        SDVariable c = sd.var("c", Nd4j.createFromArray(new double[][] {{2}, {4}}));
        sd.setLossVariables(sd.sum("loss", x.div(c)));
        INDArray g = sd.calculateGradients(Map.of(), "c").get("c");
        assertArrayEquals(new double[] {-6.0 / 4, -15.0 / 16}, g.toDoubleVector(), 1e-12);
    }

    @Test
    void determinantHasNoGradient() {
        SameDiff sd = SameDiff.create();
        SDVariable m = sd.var("m", Nd4j.createFromArray(new double[][] {{2, 1}, {0.5, 3}}));
        SDVariable det = sd.math.matrixDeterminant("det", m);
        sd.setLossVariables(sd.sum("loss", det));
        assertEquals(5.5, sd.output(Map.of(), "det").get("det").getDouble(0), 1e-12);
        // BUG: the backward is missing (the gradient would be [[3, -0.5], [-1, 2]])
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> sd.calculateGradients(Map.of(), "m"));
        assertEquals("Not yet implemented", e.getMessage());
    }

    @Test
    void fitHistoryReadsZeroForTheLoss() {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("x", DataType.DOUBLE, -1, 3);
        SDVariable w = sd.var("w", Nd4j.createFromArray(new double[][] {{1}, {2}, {3}}));
        SDVariable y = x.mmul(w);
        sd.setLossVariables(sd.sum(y.mul(y)).mul("loss", 0.5));
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Sgd(1e-3)).dataSetFeatureMapping("x")
                .markLabelsUnused().minimize("loss").build());
        INDArray features = Nd4j.createFromArray(new double[][] {{1, 2, 3}, {0.5, -1, 2}});
        double loss = sd.output(Map.of("x", features), "loss").get("loss").getDouble(0);
        assertEquals(0.5 * (14 * 14 + 4.5 * 4.5), loss, 1e-12);
        History history = sd.fit(new SingletonMultiDataSetIterator(
                new MultiDataSet(new INDArray[] {features}, new INDArray[0])), 2);
        // BUG: the training session never runs the op that outputs the loss, so it records 0
        assertArrayEquals(new double[] {0, 0}, history.lossCurve().getLossValues().toDoubleVector(), 0.0);
    }

    @Test
    void gradientGraphCreationPrintsEveryOpToStandardOutput() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            scalarGradient(SDVariable::mul);
        } finally {
            System.setOut(original);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        // BUG (noise): one line per differentiated op, on System.out, not through a logger
        assertTrue(out.contains("Added differentiated op"), "standard output while building gradients: " + out);
    }
}
