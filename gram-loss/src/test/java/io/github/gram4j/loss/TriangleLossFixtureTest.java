package io.github.gram4j.loss;

import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static io.github.gram4j.core.testing.ArrayAssert.assertRelative;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.stream.Stream;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.loss.LossFixtures.Case;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link GramLoss} with the TRIANGLE scores against PyTorch autograd in float64 through the
 * TRIANGLE repository's formula ({@code reference/generate_triangle_fixtures.py}): loss, per-row
 * losses, scores, every local and gathered gradient, {@code ∂L/∂τ} or {@code ∂L/∂s}, and the
 * hard-negative weights {@code softmax(−S/τ) + 1e-4}; both variants ({@code triangle} rootless,
 * {@code triangle-area} rooted), raw and L2-normalised rows, ε ∈ {0, 0.1}, τ ∈ {0.07, 1},
 * aligned (near-coincident) positives, the one-process and the gathered forms.
 *
 * <p>The fixtures are autograd through the cancellation-free form of the same score; the
 * generator checks that autograd through the reference formula agrees to 1e-7 (it loses up to
 * ~1e-9 on the near-coincident case, which would otherwise be the fixture's own error).
 *
 * <p>Tolerances, relative to the largest magnitude of each expected array: DOUBLE 1e-9 (measured
 * worst 4.7e-15); FLOAT 1e-4 as for GRAM (measured worst 4.5e-6): the float32 scores carry ~1e-7
 * relative error which {@code 1/τ} scales in the logits; the gradients' float32 GEMMs add a few
 * hundred ulps. The near-coincident positives are held to the same bounds: their pairs are
 * recomputed from the rows in both passes (see {@link io.github.gram4j.core.fast.TriangleTape}).
 */
class TriangleLossFixtureTest {

    static final double DOUBLE_TOLERANCE = 1e-9;
    static final double FLOAT_TOLERANCE = 1e-4;

    static Stream<Arguments> cases(String form) {
        return LossFixtures.load("triangle-loss", form).stream()
                .flatMap(c -> Stream.of(DataType.DOUBLE, DataType.FLOAT).map(t -> Arguments.of(c, t)));
    }

    static Stream<Arguments> localCases() {
        return cases("local");
    }

    static Stream<Arguments> gatheredCases() {
        return cases("gathered");
    }

    static ContrastiveScore score(Case c) {
        return ContrastiveScore.fromCliName(c.row().get("score"));
    }

    static Temperature temperature(Case c) {
        double value = Double.parseDouble(c.row().get("value"));
        return c.row().get("param").equals("logit_scale") ? Temperature.fromLogitScale(value) : Temperature.of(value);
    }

    static double smoothing(Case c) {
        return Double.parseDouble(c.row().get("label_smoothing"));
    }

    static void assertCommon(Case c, DataType type, LossResult r, double tol) {
        String tag = c + " " + type + " ";
        assertEquals(type, r.gradAnchor().dataType());
        assertRelative(tag + "loss", c.scalar("loss"), r.loss(), tol);
        assertArrayClose(tag + "rows1", r.rowLossesAnchorToCandidate(), c.array("rows1"), tol);
        assertArrayClose(tag + "rows2", r.rowLossesCandidateToAnchor(), c.array("rows2"), tol);
        assertArrayClose(tag + "scores1", r.anchorScores(), c.array("scores1"), tol);
        assertArrayClose(tag + "grad_anchor", r.gradAnchor(), c.array("grad_anchor"), tol);
        assertArrayClose(tag + "grad_input1", r.gradCandidates().get(0), c.array("grad_input1"), tol);
        assertArrayClose(tag + "grad_input2", r.gradCandidates().get(1), c.array("grad_input2"), tol);
        assertRelative(tag + "grad_temperature", c.scalar("grad_temperature"), r.gradTemperature(), tol);
        HardNegatives.Weights w = HardNegatives.of(r, temperature(c), c.offset());
        assertArrayClose(tag + "hn1", w.anchorToCandidate(), c.array("hn1"), tol);
        assertArrayClose(tag + "hn2", w.candidateToAnchor(), c.array("hn2"), tol);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("localCases")
    void oneProcess(Case c, DataType type) {
        double tol = type == DataType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
        GramLoss loss = new GramLoss(smoothing(c), score(c));
        INDArray[] x = {c.array("anchor", type), c.array("input1", type), c.array("input2", type)};
        LossResult r = loss.compute(temperature(c), x[0], x[1], x[2]);
        assertCommon(c, type, r, tol);
        assertNull(r.gradGatheredAnchor());
        assertRelative(c + " value()", c.scalar("loss"), loss.value(temperature(c), x[0], x[1], x[2]), tol);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("gatheredCases")
    void gathered(Case c, DataType type) {
        double tol = type == DataType.DOUBLE ? DOUBLE_TOLERANCE : FLOAT_TOLERANCE;
        GatheredBatches batches = GatheredBatches.of(c.array("anchor", type),
                List.of(c.array("input1", type), c.array("input2", type)), c.array("g_anchor", type),
                List.of(c.array("g_input1", type), c.array("g_input2", type)), c.offset());
        LossResult r = new GramLoss(smoothing(c), score(c)).compute(temperature(c), batches, true);
        assertCommon(c, type, r, tol);
        assertArrayClose(c + " scores2", r.candidateScores(), c.array("scores2"), tol);
        assertArrayClose(c + " g_grad_anchor", r.gradGatheredAnchor(), c.array("g_grad_anchor"), tol);
        assertArrayClose(c + " g_grad_input1", r.gradGatheredCandidates().get(0), c.array("g_grad_input1"), tol);
        assertArrayClose(c + " g_grad_input2", r.gradGatheredCandidates().get(1), c.array("g_grad_input2"), tol);
    }
}
