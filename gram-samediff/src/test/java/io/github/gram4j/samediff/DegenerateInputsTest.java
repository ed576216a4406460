package io.github.gram4j.samediff;

import static io.github.gram4j.core.testing.ArrayAssert.assertAllFinite;
import static io.github.gram4j.core.testing.ArrayAssert.assertRelative;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.testing.VolumeAssert;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Degenerate tuples, where {@code det G = 0} and the textbook gradient is 0/0: the volumes and the
 * loss still equal gram-core's and gram-loss's (the floor touches gradients only), and every
 * gradient is finite and bounded.
 */
class DegenerateInputsTest {

    enum Case {
        ZERO_CANDIDATE_ROW, DUPLICATED_MODALITY, COLLINEAR_CANDIDATES, ANCHOR_IN_CANDIDATE_SPAN, ZERO_ANCHOR_ROW
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"ZERO_CANDIDATE_ROW, DOUBLE", "DUPLICATED_MODALITY, DOUBLE", "COLLINEAR_CANDIDATES, DOUBLE",
            "ANCHOR_IN_CANDIDATE_SPAN, DOUBLE", "ZERO_ANCHOR_ROW, DOUBLE", "ZERO_CANDIDATE_ROW, FLOAT",
            "DUPLICATED_MODALITY, FLOAT", "COLLINEAR_CANDIDATES, FLOAT", "ANCHOR_IN_CANDIDATE_SPAN, FLOAT",
            "ZERO_ANCHOR_ROW, FLOAT"})
    void valuesExactGradientsFinite(Case degenerate, DataType type) {
        Random random = new Random(7);
        int b = 6;
        int d = 10;
        INDArray anchor = SameDiffGramLossTest.embeddings(random, b, d, type);
        INDArray[] candidates = SameDiffGramLossTest.embeddingBatches(random, 2, b, d, type);
        switch (degenerate) {
            case ZERO_CANDIDATE_ROW -> row(candidates[1], 2).assign(0);
            case DUPLICATED_MODALITY -> candidates[1].assign(candidates[0]);
            case COLLINEAR_CANDIDATES -> row(candidates[1], 3).assign(row(candidates[0], 3).mul(-2));
            case ANCHOR_IN_CANDIDATE_SPAN ->
                    row(anchor, 1).assign(row(candidates[0], 1).mul(0.3).add(row(candidates[1], 1).mul(-0.7)));
            case ZERO_ANCHOR_ROW -> row(anchor, 4).assign(0);
            default -> throw new AssertionError(degenerate);
        }
        SameDiffGramLossTest.Graph graph = new SameDiffGramLossTest.Graph();
        SDVariable a = graph.input("anchor", anchor);
        SDVariable[] xs = graph.inputs("candidate", candidates);
        SDVariable tau = graph.input("tau", org.nd4j.linalg.factory.Nd4j.scalar(type, 0.07));
        SameDiffVolumes.volumes(graph.sd, "volumes", a, xs);
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", tau, a, xs);

        INDArray expectedVolumes = GramVolumes.pairwise(anchor, candidates);
        // At det G = 0 every implementation returns V = sqrt(rounding error of s) ~ sqrt(ulp)·scale
        // (scale = |a|·Π|x|): 1.5e-8 in DOUBLE, 3.5e-4 in FLOAT, where gram-core also orthonormalises
        // in double and the graph in float. A zero vector must give exactly 0 (scale 0).
        double volumeTolerance = type == DataType.DOUBLE ? 1e-7 : 2e-3;
        VolumeAssert.assertClose("V", graph.output("volumes"), expectedVolumes,
                VolumeAssert.scales(anchor, List.of(candidates)), volumeTolerance);
        assertRelative("loss", new GramLoss().value(Temperature.of(0.07), anchor, candidates),
                graph.output("loss").getDouble(0), type == DataType.DOUBLE ? 1e-9 : 1e-4);

        Map<String, INDArray> grads = graph.gradients(loss);
        for (String input : graph.inputs) {
            INDArray g = grads.get(input);
            assertAllFinite("dL/d" + input, g);
            double largest = g.amaxNumber().doubleValue();
            assertTrue(largest < 1e4, "dL/d" + input + " is bounded, max |g| = " + largest);
        }
    }

    static INDArray row(INDArray x, int r) {
        return x.get(NDArrayIndex.point(r), NDArrayIndex.all());
    }
}
