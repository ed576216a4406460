package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;

import io.github.gram4j.core.testing.Fixtures;
import io.github.gram4j.core.testing.Fixtures.Case;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link TriangleScores} against {@code reference/generate_triangle_fixtures.py}: {@code score}
 * and {@code area} are exact (integer arithmetic on the float32 inputs, rounded once);
 * {@code ref64}/{@code ref32} are the TRIANGLE repository's {@code area_computation} in float64 and
 * in float32 as it computes it. Cases: random rows (raw, L2-normalised), aligned tuples whose
 * points nearly coincide ({@code tight}, δ = 1e-2, 1e-3), candidates with a short edge
 * {@code v_j ≈ a_j} ({@code close}), and tight tuples behind a large common offset.
 *
 * <p>Tolerances (element by element, relative to the exact value):
 * <ul>
 *   <li>DOUBLE: 1e-9 (measured worst 2.9e-12; pairs whose GEMM-form {@code h²} is under 1e-4 of
 *       the scale are recomputed from the rows, the rest lose at most a few {@code 1.1e-16/1e-4}).
 *       For comparison, the reference formula itself in float64 is off by up to 1.2e-9 on the
 *       near-coincident fixtures;</li>
 *   <li>FLOAT: 2e-5. Pairs the GEMM form keeps have {@code h² ≥ 1e-2·(|t'|² + |a'|²)}, so the
 *       GEMM's few-ulp absolute error in {@code h²} is at most a few {@code 6e-8/1e-2} relative;
 *       refined pairs are exact up to the final rounding. Measured worst: 5.5e-7.</li>
 * </ul>
 * And FLOAT must be at least as close to the truth as the reference's own float32 output, which
 * loses up to 30% of the largest score of a case on the near-coincident fixtures.
 */
class TriangleFixtureTest {

    static final double DOUBLE_TOLERANCE = 1e-9;
    static final double FLOAT_TOLERANCE = 2e-5;

    static Stream<Case> cases() {
        return Fixtures.load("triangle", c -> true).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void doubleMatchesExactTruthElementwise(Case c) {
        INDArray[] x = inputs(c, DataType.DOUBLE);
        assertElementwise(c + " rootless DOUBLE", TriangleScores.pairwise(x[0], x[1], x[2]), c.array("score"),
                DOUBLE_TOLERANCE);
        assertElementwise(c + " area DOUBLE", TriangleScores.areas(x[0], x[1], x[2]), c.array("area"), DOUBLE_TOLERANCE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void floatMatchesExactTruthElementwise(Case c) {
        INDArray[] x = inputs(c, DataType.FLOAT);
        INDArray scores = TriangleScores.pairwise(x[0], x[1], x[2]);
        assertTrue(scores.dataType() == DataType.FLOAT, "FLOAT in, FLOAT out");
        assertElementwise(c + " rootless FLOAT", scores, c.array("score"), FLOAT_TOLERANCE);
        assertElementwise(c + " area FLOAT", TriangleScores.areas(x[0], x[1], x[2]), c.array("area"), FLOAT_TOLERANCE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void floatIsAtLeastAsAccurateAsTheReferenceInFloat32(Case c) {
        INDArray[] x = inputs(c, DataType.FLOAT);
        INDArray truth = c.array("score");
        double ours = maxError(TriangleScores.pairwise(x[0], x[1], x[2]), truth);
        double reference = maxError(c.array("ref32"), truth);
        double scale = truth.amaxNumber().doubleValue();
        assertTrue(ours <= reference + 1e-7 * scale, c + ": FLOAT max error " + ours + " vs the reference's float32 "
                + reference + " (max score " + scale + ")");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void referenceFormulaInFloat64AgreesWithTheExactTruth(Case c) {
        // the fixtures' own consistency: area_computation in float64 is the same function
        INDArray truth = c.array("score");
        double scale = truth.amaxNumber().doubleValue();
        assertTrue(maxError(c.array("ref64"), truth) <= 1e-9 * scale, c + ": ref64 disagrees with the exact score");
    }

    static INDArray[] inputs(Case c, DataType type) {
        return new INDArray[] {c.array("anchor").castTo(type), c.array("input1").castTo(type),
            c.array("input2").castTo(type)};
    }

    static double maxError(INDArray actual, INDArray expected) {
        return actual.castTo(DataType.DOUBLE).sub(expected).amaxNumber().doubleValue();
    }

    static void assertElementwise(String what, INDArray actual, INDArray expected, double tolerance) {
        double[] a = actual.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] e = expected.dup('c').data().asDouble();
        double worst = 0;
        int at = -1;
        for (int n = 0; n < a.length; n++) {
            assertTrue(Double.isFinite(a[n]) && a[n] >= 0, what + ": " + a[n] + " at " + n);
            double err = Math.abs(a[n] - e[n]) / Math.max(Math.abs(e[n]), Double.MIN_NORMAL);
            if (err > worst) {
                worst = err;
                at = n;
            }
        }
        assertTrue(worst <= tolerance, what + ": worst relative error " + worst + " at " + at + " (expected "
                + (at < 0 ? 0 : e[at]) + ", got " + (at < 0 ? 0 : a[at]) + ") > " + tolerance);
    }
}
