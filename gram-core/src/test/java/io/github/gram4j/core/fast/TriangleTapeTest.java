package io.github.gram4j.core.fast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.testing.ArrayAssert;
import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link TriangleTape}'s backward against central finite differences of {@code L = Σ g ⊙ S} (every
 * coordinate of the anchor and both candidate batches, in DOUBLE), on the host loops and the
 * ND4J-ops path, and its degenerate floor.
 */
class TriangleTapeTest {

    private final Random random = new Random(1515);

    /**
     * {@code Σ g_ij S_ij} per pair in double, independent of the tape: {@code q = |e|²·|r − (r·e/|e|²) e|²}
     * ({@code e = v − a}, {@code r = t − a}), which, unlike the expanded {@code |u|²|w|² − (u·w)²},
     * keeps its digits when {@code v ≈ a} (the near-coincident test would otherwise measure the
     * finite differences' own cancellation).
     */
    private static double objective(double[][] t, double[][] v, double[][] a, double[][] g, boolean rooted) {
        double sum = 0;
        for (int i = 0; i < t.length; i++) {
            for (int j = 0; j < v.length; j++) {
                int d = t[i].length;
                double ee = 0;
                double re = 0;
                for (int c = 0; c < d; c++) {
                    double e = v[j][c] - a[j][c];
                    ee += e * e;
                    re += (t[i][c] - a[j][c]) * e;
                }
                double h2 = 0;
                for (int c = 0; c < d; c++) {
                    double residual = (t[i][c] - a[j][c]) - re / ee * (v[j][c] - a[j][c]);
                    h2 += residual * residual;
                }
                double q = ee * h2;
                sum += g[i][j] * (rooted ? Math.sqrt(q) / 2 : q / 2);
            }
        }
        return sum;
    }

    @ParameterizedTest(name = "rooted={0}")
    @ValueSource(booleans = {false, true})
    void gradientsMatchFiniteDifferencesOnBothPaths(boolean rooted) {
        INDArray t = RandomArrays.gaussian(random, 4, 5, DataType.DOUBLE);
        INDArray v = RandomArrays.gaussian(random, 3, 5, DataType.DOUBLE);
        INDArray a = RandomArrays.gaussian(random, 3, 5, DataType.DOUBLE);
        for (boolean onHost : new boolean[] {true, false}) {
            assertGradientsMatchFiniteDifferences(t, v, a, rooted, onHost, 1e-5);
        }
    }

    @ParameterizedTest(name = "rooted={0}")
    @ValueSource(booleans = {false, true})
    void recomputedNearCoincidentPairsHaveExactGradients(boolean rooted) {
        // aligned tuples: the diagonal triangles are tiny and the forward recomputes them from the rows
        INDArray p = RandomArrays.gaussian(random, 3, 5, DataType.DOUBLE);
        INDArray t = p.add(RandomArrays.gaussian(random, 3, 5, DataType.DOUBLE).muli(1e-3));
        INDArray v = p.add(RandomArrays.gaussian(random, 3, 5, DataType.DOUBLE).muli(1e-3));
        INDArray a = p.add(RandomArrays.gaussian(random, 3, 5, DataType.DOUBLE).muli(1e-3));
        TriangleTape tape = TriangleTape.record(ModalityBatches.of(t, v, a), rooted, true, null);
        assertTrue(tape.refinedPairCount() >= 3, "the diagonal pairs are recomputed: " + tape.refinedPairCount());
        assertGradientsMatchFiniteDifferences(t, v, a, rooted, true, 1e-7);
    }

    private void assertGradientsMatchFiniteDifferences(INDArray t, INDArray v, INDArray a, boolean rooted, boolean onHost,
            double h) {
        int d = (int) t.size(1);
        INDArray g = RandomArrays.gaussian(random, (int) t.size(0), (int) v.size(0), DataType.DOUBLE);
        VolumeGradients grads = TriangleTape.record(ModalityBatches.of(t, v, a), rooted, onHost, null)
                .backward(g, true, true);
        double[][][] inputs = {t.toDoubleMatrix(), v.toDoubleMatrix(), a.toDoubleMatrix()};
        double[][] weights = g.toDoubleMatrix();
        INDArray[] analytic = {grads.anchor(), grads.candidates().get(0), grads.candidates().get(1)};
        for (int m = 0; m < 3; m++) {
            INDArray fd = Nd4j.zeros(DataType.DOUBLE, analytic[m].shape());
            for (int r = 0; r < inputs[m].length; r++) {
                for (int c = 0; c < d; c++) {
                    double old = inputs[m][r][c];
                    inputs[m][r][c] = old + h;
                    double plus = objective(inputs[0], inputs[1], inputs[2], weights, rooted);
                    inputs[m][r][c] = old - h;
                    double minus = objective(inputs[0], inputs[1], inputs[2], weights, rooted);
                    inputs[m][r][c] = old;
                    fd.putScalar(r, c, (plus - minus) / (2 * h));
                }
            }
            ArrayAssert.assertArrayClose("input " + m + " onHost=" + onHost, analytic[m], fd, 1e-6);
        }
    }

    @ParameterizedTest(name = "rooted={0}")
    @ValueSource(booleans = {false, true})
    void hostAndOpsPathsAgree(boolean rooted) {
        INDArray t = RandomArrays.gaussian(random, 9, 16, DataType.FLOAT);
        INDArray v = RandomArrays.gaussian(random, 7, 16, DataType.FLOAT);
        INDArray a = RandomArrays.gaussian(random, 7, 16, DataType.FLOAT);
        INDArray g = RandomArrays.gaussian(random, 9, 7, DataType.FLOAT);
        ModalityBatches b = ModalityBatches.of(t, v, a);
        TriangleTape host = TriangleTape.record(b, rooted, true, null);
        TriangleTape ops = TriangleTape.record(b, rooted, false, null);
        ArrayAssert.assertArrayClose("scores", ops.scores(), host.scores(), 1e-5);
        VolumeGradients gh = host.backward(g, true, true);
        VolumeGradients go = ops.backward(g, true, true);
        ArrayAssert.assertArrayClose("anchor", go.anchor(), gh.anchor(), 1e-4);
        for (int m = 0; m < 2; m++) {
            ArrayAssert.assertArrayClose("candidate " + m, go.candidates().get(m), gh.candidates().get(m), 1e-4);
        }
    }

    @Test
    void translationInvarianceMakesTheGradientsSumToZero() {
        INDArray t = RandomArrays.gaussian(random, 5, 6, DataType.DOUBLE);
        INDArray v = RandomArrays.gaussian(random, 4, 6, DataType.DOUBLE);
        INDArray a = RandomArrays.gaussian(random, 4, 6, DataType.DOUBLE);
        INDArray g = RandomArrays.gaussian(random, 5, 4, DataType.DOUBLE);
        VolumeGradients grads = TriangleTape.record(ModalityBatches.of(t, v, a), true).backward(g, true, true);
        INDArray total = grads.anchor().sum(0).addi(grads.candidates().get(0).sum(0)).addi(grads.candidates().get(1).sum(0));
        assertTrue(total.amaxNumber().doubleValue() < 1e-12 * grads.anchor().amaxNumber().doubleValue(),
                "sum of all gradients " + total);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"DOUBLE", "FLOAT"})
    void degenerateTrianglesGiveFiniteBoundedAreaGradients(String dtype) {
        DataType type = DataType.valueOf(dtype);
        INDArray p = RandomArrays.gaussian(random, 3, 4, type);
        INDArray q = RandomArrays.gaussian(random, 3, 4, type);
        INDArray g = Nd4j.ones(type, 3, 3);
        // coincident points, v = a, collinear, and a zero-length everything
        List<INDArray[]> cases = List.of(new INDArray[] {p, p, p}, new INDArray[] {p, q, q},
                new INDArray[] {p.mul(3), p, p.mul(2)}, new INDArray[] {Nd4j.zeros(type, 3, 4), Nd4j.zeros(type, 3, 4),
                    Nd4j.zeros(type, 3, 4)});
        for (INDArray[] x : cases) {
            for (boolean rooted : new boolean[] {true, false}) {
                for (boolean onHost : new boolean[] {true, false}) {
                    VolumeGradients grads = TriangleTape.record(ModalityBatches.of(x[0], x[1], x[2]), rooted, onHost, null)
                            .backward(g, true, true);
                    double bound = 0;
                    for (INDArray y : x) {
                        bound = Math.max(bound, y.norm2Number().doubleValue());
                    }
                    // |∂area/∂x| <= half the longest edge per pair; 9 pairs, edges <= 2 * bound
                    for (INDArray grad : List.of(grads.anchor(), grads.candidates().get(0), grads.candidates().get(1))) {
                        ArrayAssert.assertAllFinite("gradient", grad);
                        if (rooted) {
                            assertTrue(grad.norm2Number().doubleValue() <= 9 * 2 * bound + 1e-30,
                                    "area gradient " + grad.norm2Number() + " above its bound " + 18 * bound);
                        }
                    }
                }
            }
        }
        // exactly coincident tuples: the rootless score's gradient there is exactly 0
        VolumeGradients zero = TriangleTape.record(ModalityBatches.of(p.getRow(0, true), p.getRow(0, true),
                p.getRow(0, true)), false).backward(Nd4j.ones(type, 1, 1), true, true);
        assertEquals(0.0, zero.anchor().amaxNumber().doubleValue(), 0.0);
    }
}
