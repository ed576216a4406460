package io.github.gram4j.samediff;

import static io.github.gram4j.samediff.ArrayAssert.assertClose;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The SameDiff graph pieces against gram-core's volumes and gram-loss's values and analytic gradients. */
class SameDiffGramLossTest {

    /** One graph: every embedding batch and τ a trainable variable. */
    private record Graph(SameDiff sd, SDVariable volumes, SDVariable loss, List<String> inputs) {

        static Graph of(double tau, INDArray anchor, INDArray... candidates) {
            SameDiff sd = SameDiff.create();
            SDVariable a = sd.var("anchor", anchor.dup());
            SDVariable[] xs = new SDVariable[candidates.length];
            List<String> inputs = new ArrayList<>(List.of("anchor"));
            for (int m = 0; m < candidates.length; m++) {
                xs[m] = sd.var("candidate" + m, candidates[m].dup());
                inputs.add("candidate" + m);
            }
            SDVariable t = sd.var("tau", Nd4j.scalar(anchor.dataType(), tau));
            inputs.add("tau");
            SDVariable volumes = SameDiffVolumes.volumes(sd, "volumes", a, xs);
            SDVariable loss = new SameDiffGramLoss().loss(sd, "loss", t, a, xs);
            sd.setLossVariables(loss);
            return new Graph(sd, volumes, loss, inputs);
        }

        INDArray output(String name) {
            return sd.output(new HashMap<>(), name).get(name);
        }

        Map<String, INDArray> gradients() {
            return sd.calculateGradients(new HashMap<>(), inputs);
        }
    }

    @ParameterizedTest(name = "k = {0}, {1}")
    @CsvSource({"2, DOUBLE", "3, DOUBLE", "4, DOUBLE", "5, DOUBLE", "2, FLOAT", "3, FLOAT", "4, FLOAT", "5, FLOAT"})
    void volumesLossAndGradientsEqualGramLoss(int k, DataType type) {
        Random random = new Random(100 + k);
        int b = 12;
        int d = 16;
        INDArray anchor = RandomArrays.gaussian(random, b, d, type);
        INDArray[] candidates = RandomArrays.gaussianBatches(random, k - 1, b, d, type);
        double tolerance = type == DataType.DOUBLE ? 1e-9 : 1e-4;

        Graph graph = Graph.of(0.3, anchor, candidates);
        INDArray expectedVolumes = GramVolumes.pairwise(anchor, candidates);
        assertClose("V", graph.output("volumes"), expectedVolumes, tolerance);

        LossResult expected = new GramLoss().compute(Temperature.of(0.3), anchor, candidates);
        assertClose("loss", graph.output("loss").getDouble(0), expected.loss(), tolerance);
        Map<String, INDArray> grads = graph.gradients();
        assertClose("dL/danchor", grads.get("anchor"), expected.gradAnchor(), tolerance);
        for (int m = 0; m < k - 1; m++) {
            assertClose("dL/dcandidate" + m, grads.get("candidate" + m), expected.gradCandidates().get(m), tolerance);
        }
        assertClose("dL/dtau", grads.get("tau").getDouble(0), expected.gradTemperature(), tolerance);
    }
}
