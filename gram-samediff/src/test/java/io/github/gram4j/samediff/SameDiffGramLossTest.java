package io.github.gram4j.samediff;

import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static io.github.gram4j.core.testing.ArrayAssert.assertRelative;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.loss.CosineInfoNce;
import io.github.gram4j.loss.GatheredBatches;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The SameDiff graph pieces against gram-core's volumes and gram-loss's values and analytic
 * gradients (themselves checked against PyTorch autograd fixtures and finite differences in
 * gram-loss): DOUBLE to 1e-9 relative, FLOAT to 1e-4 (relative to the largest entry).
 */
class SameDiffGramLossTest {

    static double tolerance(DataType type) {
        return type == DataType.DOUBLE ? 1e-9 : 1e-4;
    }

    /** Rows scaled to norm ≈ 1, as embeddings usually are, so logits stay in a realistic range. */
    static INDArray embeddings(Random random, int rows, int d, DataType type) {
        return RandomArrays.gaussian(random, rows, d, type).divi(Math.sqrt(d));
    }

    static INDArray[] embeddingBatches(Random random, int count, int rows, int d, DataType type) {
        INDArray[] batches = new INDArray[count];
        for (int m = 0; m < count; m++) {
            batches[m] = embeddings(random, rows, d, type);
        }
        return batches;
    }

    /** A graph whose inputs are trainable variables, so SameDiff differentiates with respect to all of them. */
    static final class Graph {
        final SameDiff sd = SameDiff.create();
        final List<String> inputs = new ArrayList<>();

        SDVariable input(String name, INDArray value) {
            inputs.add(name);
            return sd.var(name, value.dup());
        }

        SDVariable[] inputs(String prefix, INDArray... values) {
            SDVariable[] vars = new SDVariable[values.length];
            for (int m = 0; m < values.length; m++) {
                vars[m] = input(prefix + m, values[m]);
            }
            return vars;
        }

        INDArray output(String name) {
            return sd.output(new HashMap<>(), name).get(name);
        }

        Map<String, INDArray> gradients(SDVariable loss) {
            sd.setLossVariables(loss);
            return sd.calculateGradients(new HashMap<>(), inputs);
        }
    }

    @ParameterizedTest(name = "k = {0}, {1}")
    @CsvSource({"2, DOUBLE", "3, DOUBLE", "4, DOUBLE", "5, DOUBLE", "2, FLOAT", "3, FLOAT", "4, FLOAT", "5, FLOAT"})
    void oneProcessLossAndGradientsEqualGramLoss(int k, DataType type) {
        Random random = new Random(100 + k);
        INDArray anchor = embeddings(random, 12, 16, type);
        INDArray[] candidates = embeddingBatches(random, k - 1, 12, 16, type);

        Graph graph = new Graph();
        SDVariable a = graph.input("anchor", anchor);
        SDVariable[] xs = graph.inputs("candidate", candidates);
        SDVariable tau = graph.input("tau", Nd4j.scalar(type, 0.07));
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", tau, a, xs);
        assertEquals("loss", loss.name());
        assertEquals(type, loss.dataType());

        LossResult expected = new GramLoss().compute(Temperature.of(0.07), anchor, candidates);
        assertRelative("loss", expected.loss(), graph.output("loss").getDouble(0), tolerance(type));
        Map<String, INDArray> grads = graph.gradients(loss);
        assertArrayClose("dL/danchor", grads.get("anchor"), expected.gradAnchor(), tolerance(type));
        for (int m = 0; m < k - 1; m++) {
            assertArrayClose("dL/dcandidate" + m, grads.get("candidate" + m), expected.gradCandidates().get(m), tolerance(type));
        }
        assertRelative("dL/dtau", expected.gradTemperature(), grads.get("tau").getDouble(0), tolerance(type));
    }

    @ParameterizedTest(name = "k = {0}, {1}")
    @CsvSource({"2, DOUBLE", "3, DOUBLE", "5, DOUBLE", "2, FLOAT", "3, FLOAT", "5, FLOAT"})
    void rawGaussianRowsAndLargeLogits(int k, DataType type) {
        // unnormalised rows and τ = 0.3: logits in the hundreds, the log-softmax must stay stable
        Random random = new Random(200 + k);
        INDArray anchor = RandomArrays.gaussian(random, 9, 16, type);
        INDArray[] candidates = RandomArrays.gaussianBatches(random, k - 1, 9, 16, type);
        Graph graph = new Graph();
        SDVariable a = graph.input("anchor", anchor);
        SDVariable[] xs = graph.inputs("candidate", candidates);
        SDVariable tau = graph.input("tau", Nd4j.scalar(type, 0.3));
        SDVariable loss = new SameDiffGramLoss(0.25).loss(graph.sd, "loss", tau, a, xs);
        LossResult expected = new GramLoss(0.25).compute(Temperature.of(0.3), anchor, candidates);
        assertRelative("loss", expected.loss(), graph.output("loss").getDouble(0), tolerance(type));
        Map<String, INDArray> grads = graph.gradients(loss);
        assertArrayClose("dL/danchor", grads.get("anchor"), expected.gradAnchor(), tolerance(type));
        assertArrayClose("dL/dcandidate0", grads.get("candidate0"), expected.gradCandidates().get(0), tolerance(type));
        assertRelative("dL/dtau", expected.gradTemperature(), grads.get("tau").getDouble(0), tolerance(type));
    }

    @Test
    void floatLossAndTemperatureGradientStayAccurateAtLargeBatch() {
        // ∂L/∂τ is a sum over all B² pairs whose terms nearly cancel, and the loss averages B² log
        // probabilities of about −log B. With a FLOAT cross-entropy this case measured relative
        // errors of 8.5e-6 (loss) and 6.1e-4 (∂L/∂τ); with the DOUBLE one 3.3e-8 and 7.0e-8.
        Random random = new Random(77);
        int b = 1024;
        INDArray anchor = embeddings(random, b, 512, DataType.FLOAT);
        INDArray[] candidates = embeddingBatches(random, 2, b, 512, DataType.FLOAT);
        Graph graph = new Graph();
        SDVariable a = graph.input("anchor", anchor);
        SDVariable[] xs = graph.inputs("candidate", candidates);
        SDVariable tau = graph.input("tau", Nd4j.scalar(DataType.FLOAT, 0.07));
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", tau, a, xs);
        LossResult expected = new GramLoss().compute(Temperature.of(0.07), anchor, candidates);
        assertRelative("loss", expected.loss(), graph.output("loss").getDouble(0), 1e-6);
        Map<String, INDArray> grads = graph.gradients(loss);
        assertRelative("dL/dtau", expected.gradTemperature(), grads.get("tau").getDouble(0), 1e-5);
        assertArrayClose("dL/danchor", grads.get("anchor"), expected.gradAnchor(), tolerance(DataType.FLOAT));
        assertArrayClose("dL/dcandidate1", grads.get("candidate1"), expected.gradCandidates().get(1), tolerance(DataType.FLOAT));
    }

    @ParameterizedTest(name = "k = {0}, {1}")
    @CsvSource({"2, DOUBLE", "3, DOUBLE", "4, DOUBLE", "5, DOUBLE", "3, FLOAT", "5, FLOAT"})
    void volumesOfRectangularBatchesEqualGramCore(int k, DataType type) {
        Random random = new Random(300 + k);
        INDArray anchor = RandomArrays.gaussian(random, 7, 24, type);
        INDArray[] candidates = RandomArrays.gaussianBatches(random, k - 1, 11, 24, type);
        Graph graph = new Graph();
        SDVariable v = SameDiffVolumes.volumes(graph.sd, "volumes", graph.input("anchor", anchor),
                graph.inputs("candidate", candidates));
        INDArray actual = graph.output("volumes");
        assertEquals("volumes", v.name());
        assertArrayClose("V", actual, GramVolumes.pairwise(anchor, candidates), tolerance(type));
        assertEquals(List.of(7L, 11L), Arrays.stream(actual.shape()).boxed().toList());
    }

    @ParameterizedTest(name = "k = {0}, {1}")
    @CsvSource({"2, DOUBLE", "3, DOUBLE", "4, DOUBLE", "5, DOUBLE", "2, FLOAT", "3, FLOAT", "5, FLOAT"})
    void gatheredLossLocalAndGatheredGradientsEqualGramLoss(int k, DataType type) {
        Random random = new Random(400 + k);
        int bs = 4;
        int world = 3;
        int rank = 1;
        int d = 12;
        INDArray gatheredAnchor = embeddings(random, bs * world, d, type);
        INDArray[] gatheredCandidates = embeddingBatches(random, k - 1, bs * world, d, type);
        INDArray localAnchor = rows(gatheredAnchor, rank * bs, bs);
        List<INDArray> localCandidates = Arrays.stream(gatheredCandidates).map(x -> rows(x, rank * bs, bs)).toList();

        Graph graph = new Graph();
        SDVariable la = graph.input("localAnchor", localAnchor);
        List<SDVariable> lx = List.of(graph.inputs("localCandidate", localCandidates.toArray(INDArray[]::new)));
        SDVariable ga = graph.input("gatheredAnchor", gatheredAnchor);
        List<SDVariable> gx = List.of(graph.inputs("gatheredCandidate", gatheredCandidates));
        SDVariable tau = graph.input("tau", Nd4j.scalar(type, 0.1));
        GatheredVariables batches = GatheredVariables.of(graph.sd, la, lx, ga, gx, rank * bs);
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", tau, batches);

        LossResult expected = new GramLoss().compute(Temperature.of(0.1),
                GatheredBatches.of(localAnchor, localCandidates, gatheredAnchor, List.of(gatheredCandidates), rank * bs),
                true);
        assertRelative("loss", expected.loss(), graph.output("loss").getDouble(0), tolerance(type));
        Map<String, INDArray> grads = graph.gradients(loss);
        assertArrayClose("dL/dlocalAnchor", grads.get("localAnchor"), expected.gradAnchor(), tolerance(type));
        assertArrayClose("dL/dgatheredAnchor", grads.get("gatheredAnchor"), expected.gradGatheredAnchor(), tolerance(type));
        for (int m = 0; m < k - 1; m++) {
            assertArrayClose("dL/dlocalCandidate" + m, grads.get("localCandidate" + m), expected.gradCandidates().get(m),
                    tolerance(type));
            assertArrayClose("dL/dgatheredCandidate" + m, grads.get("gatheredCandidate" + m),
                    expected.gradGatheredCandidates().get(m), tolerance(type));
        }
        assertRelative("dL/dtau", expected.gradTemperature(), grads.get("tau").getDouble(0), tolerance(type));
    }

    @ParameterizedTest
    @EnumSource(names = {"DOUBLE", "FLOAT"})
    void gatheredPlaceholdersGiveGramsLocalGradients(DataType type) {
        // GRAM's concat_all_gather has no gradient: fed as placeholders, the gathered tensors are constants
        Random random = new Random(41);
        int bs = 3;
        INDArray gatheredAnchor = embeddings(random, 4 * bs, 10, type);
        INDArray[] gatheredCandidates = embeddingBatches(random, 2, 4 * bs, 10, type);
        int offset = 2 * bs;
        INDArray localAnchor = rows(gatheredAnchor, offset, bs);
        List<INDArray> localCandidates = Arrays.stream(gatheredCandidates).map(x -> rows(x, offset, bs)).toList();

        Graph graph = new Graph();
        SDVariable la = graph.input("localAnchor", localAnchor);
        List<SDVariable> lx = List.of(graph.inputs("localCandidate", localCandidates.toArray(INDArray[]::new)));
        SDVariable ga = graph.sd.placeHolder("gatheredAnchor", type, -1, 10);
        List<SDVariable> gx = List.of(graph.sd.placeHolder("gathered0", type, -1, 10),
                graph.sd.placeHolder("gathered1", type, -1, 10));
        SDVariable tau = graph.sd.constant(Nd4j.scalar(type, 0.07));
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", tau, GatheredVariables.of(graph.sd, la, lx, ga, gx, offset));
        graph.sd.setLossVariables(loss);
        Map<String, INDArray> feed = new HashMap<>(Map.of("gatheredAnchor", gatheredAnchor, "gathered0",
                gatheredCandidates[0], "gathered1", gatheredCandidates[1]));
        Map<String, INDArray> grads = graph.sd.calculateGradients(feed, graph.inputs);

        LossResult expected = new GramLoss().compute(Temperature.of(0.07),
                GatheredBatches.of(localAnchor, localCandidates, gatheredAnchor, List.of(gatheredCandidates), offset), false);
        assertRelative("loss", expected.loss(), graph.sd.output(feed, "loss").get("loss").getDouble(0), tolerance(type));
        assertArrayClose("dL/dlocalAnchor", grads.get("localAnchor"), expected.gradAnchor(), tolerance(type));
        assertArrayClose("dL/dlocalCandidate1", grads.get("localCandidate1"), expected.gradCandidates().get(1), tolerance(type));
    }

    @ParameterizedTest
    @EnumSource(names = {"DOUBLE", "FLOAT"})
    void cosineInfoNceBothFormsEqualGramLoss(DataType type) {
        Random random = new Random(51);
        int bs = 5;
        INDArray gatheredAnchor = embeddings(random, 2 * bs, 8, type);
        INDArray gatheredCandidate = embeddings(random, 2 * bs, 8, type);
        INDArray anchor = rows(gatheredAnchor, bs, bs);
        INDArray candidate = rows(gatheredCandidate, bs, bs);

        Graph graph = new Graph();
        SDVariable a = graph.input("anchor", anchor);
        SDVariable x = graph.input("candidate", candidate);
        SDVariable tau = graph.input("tau", Nd4j.scalar(type, 0.05));
        SDVariable loss = new SameDiffCosineInfoNce(0.1).loss(graph.sd, "clip", tau, a, x);
        LossResult expected = new CosineInfoNce(0.1).compute(Temperature.of(0.05), anchor, candidate);
        assertRelative("loss", expected.loss(), graph.output("clip").getDouble(0), tolerance(type));
        Map<String, INDArray> grads = graph.gradients(loss);
        assertArrayClose("dL/danchor", grads.get("anchor"), expected.gradAnchor(), tolerance(type));
        assertArrayClose("dL/dcandidate", grads.get("candidate"), expected.gradCandidates().get(0), tolerance(type));
        assertRelative("dL/dtau", expected.gradTemperature(), grads.get("tau").getDouble(0), tolerance(type));

        Graph gathered = new Graph();
        SDVariable ga = gathered.input("gatheredAnchor", gatheredAnchor);
        SDVariable gx = gathered.input("gatheredCandidate", gatheredCandidate);
        SDVariable t = gathered.input("tau", Nd4j.scalar(type, 0.05));
        SDVariable gatheredLoss = new SameDiffCosineInfoNce(0.1).loss(gathered.sd, "clip", t, GatheredVariables.of(gathered.sd,
                gathered.input("anchor", anchor), List.of(gathered.input("candidate", candidate)), ga, List.of(gx), bs));
        LossResult expectedGathered = new CosineInfoNce(0.1).compute(Temperature.of(0.05),
                GatheredBatches.of(anchor, List.of(candidate), gatheredAnchor, List.of(gatheredCandidate), bs), true);
        assertRelative("gathered loss", expectedGathered.loss(), gathered.output("clip").getDouble(0), tolerance(type));
        Map<String, INDArray> gatheredGrads = gathered.gradients(gatheredLoss);
        assertArrayClose("dL/danchor (gathered)", gatheredGrads.get("anchor"), expectedGathered.gradAnchor(), tolerance(type));
        assertArrayClose("dL/dgatheredCandidate", gatheredGrads.get("gatheredCandidate"),
                expectedGathered.gradGatheredCandidates().get(0), tolerance(type));
    }

    @ParameterizedTest(name = "s = {0}")
    @CsvSource({"2.659260036932778", "3.0", "5.0"})
    void logitScaleTemperatureEqualsGramLoss(double logitScale) {
        // log(1/0.07), an unclamped value, and a clamped one (exp(5) > 100: gradient 0)
        Random random = new Random(61);
        INDArray anchor = embeddings(random, 6, 8, DataType.DOUBLE);
        INDArray[] candidates = embeddingBatches(random, 2, 6, 8, DataType.DOUBLE);
        Graph graph = new Graph();
        SDVariable s = graph.input("s", Nd4j.scalar(DataType.DOUBLE, logitScale));
        SDVariable tau = SameDiffTemperatures.fromLogitScale(graph.sd, "tau", s);
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", tau, graph.input("anchor", anchor),
                graph.inputs("candidate", candidates));
        LossResult expected = new GramLoss().compute(Temperature.fromLogitScale(logitScale), anchor, candidates);
        assertRelative("tau", Temperature.fromLogitScale(logitScale).tau(), graph.output("tau").getDouble(0), 1e-15);
        assertRelative("loss", expected.loss(), graph.output("loss").getDouble(0), 1e-9);
        double ds = graph.gradients(loss).get("s").getDouble(0);
        if (Math.exp(logitScale) > SameDiffTemperatures.MAX_LOGIT_SCALE) {
            assertEquals(0.0, ds, 0.0, "clamped logit scale");
            assertEquals(0.0, expected.gradTemperature(), 0.0);
        } else {
            assertRelative("dL/ds", expected.gradTemperature(), ds, 1e-9);
        }
    }

    @ParameterizedTest
    @EnumSource(names = {"DOUBLE", "FLOAT"})
    void fixedTemperatureIsAConstantInTheLossScope(DataType type) {
        Random random = new Random(81);
        INDArray anchor = embeddings(random, 7, 9, type);
        INDArray[] candidates = embeddingBatches(random, 2, 7, 9, type);
        Graph graph = new Graph();
        SDVariable a = graph.input("anchor", anchor);
        SDVariable[] xs = graph.inputs("candidate", candidates);
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", 0.07, a, xs);
        SDVariable clip = new SameDiffCosineInfoNce(0.1).loss(graph.sd, "clip", 0.05, a, xs[0]);
        assertEquals(0.07, graph.sd.getVariable("loss/tau").getArr().getDouble(0), type == DataType.DOUBLE ? 0 : 1e-8);
        assertEquals(type, graph.sd.getVariable("clip/tau").dataType());

        LossResult expected = new GramLoss().compute(Temperature.of(0.07), anchor, candidates);
        assertRelative("loss", expected.loss(), graph.output("loss").getDouble(0), tolerance(type));
        assertArrayClose("dL/danchor", graph.gradients(loss).get("anchor"), expected.gradAnchor(), tolerance(type));
        assertRelative("cosine loss", new CosineInfoNce(0.1).compute(Temperature.of(0.05), anchor, candidates[0]).loss(),
                graph.output("clip").getDouble(0), tolerance(type));
        assertEquals("clip", clip.name());
    }

    @Test
    void floatTemperatureWithDoubleEmbeddingsIsCast() {
        Random random = new Random(71);
        INDArray anchor = embeddings(random, 5, 6, DataType.DOUBLE);
        INDArray candidate = embeddings(random, 5, 6, DataType.DOUBLE);
        Graph graph = new Graph();
        SDVariable loss = new SameDiffGramLoss().loss(graph.sd, "loss", graph.sd.constant(Nd4j.scalar(DataType.FLOAT, 0.25f)),
                graph.input("anchor", anchor), graph.input("candidate", candidate));
        assertEquals(DataType.DOUBLE, loss.dataType());
        assertRelative("loss",
                new GramLoss().value(Temperature.of(0.25), anchor, candidate), graph.output("loss").getDouble(0), 1e-9);
    }

    static INDArray rows(INDArray x, int from, int count) {
        return x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, from + count),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).dup();
    }
}
