package io.github.gram4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.NoSuchElementException;

import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.Temperature;
import io.github.gram4j.train.SameDiffAlignmentExample.Config;
import io.github.gram4j.train.SameDiffAlignmentExample.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class SameDiffAlignmentExampleTest {

    /** 600 items (480 train, 120 test), 3 modalities; batches of 64 (7 steps per epoch), 14 epochs, Adam at 0.02. */
    private static Config small() {
        return new Config(SyntheticModalities.Config.of(600, 3, 5), 32, 64, 14, 2e-2, 0.1, 0.07, 3);
    }

    @Test
    void sdFitLowersTheLossAndLiftsRecallFarAboveChance() {
        Config config = small();
        Result result = SameDiffAlignmentExample.run(config);
        System.out.println("SameDiff example: loss " + result.initialLoss() + " -> " + result.finalLoss() + ", epochs "
                + result.epochLosses() + ", R@1 " + result.recallAt1Before() + " -> " + result.recallAt1After()
                + " (chance " + result.chanceRecallAt1() + "), tau " + result.temperature());

        int stepsPerEpoch = 480 / 64;
        assertEquals(config.epochs() * stepsPerEpoch, result.stepLosses().size(), "one loss per step");
        assertEquals(config.epochs(), result.epochLosses().size());
        for (int e = 0; e < config.epochs(); e++) {
            double mean = result.stepLosses().subList(stepsPerEpoch * e, stepsPerEpoch * (e + 1)).stream()
                    .mapToDouble(Double::doubleValue).average().orElseThrow();
            assertEquals(mean, result.epochLosses().get(e), 1e-12, "epoch " + e + " mean loss");
        }
        // the first recorded loss is the untrained model's loss on the first shuffled batch
        SyntheticModalities.Dataset data = SyntheticModalities.generate(config.data());
        SameDiffAlignmentModel untrained = SameDiffAlignmentModel.build(data.names(), data.dims(), config.sharedDim(),
                config.initialTemperature(), config.labelSmoothing(), config.seed());
        MultiDataSet firstBatch = new ShuffledBatches(data.train().features(), config.batchSize(), config.seed() + 1).next();
        assertEquals(untrained.loss(List.of(firstBatch.getFeatures())), result.initialLoss(), 1e-6);

        assertTrue(result.finalLoss() < 0.7 * result.initialLoss(),
                "loss " + result.initialLoss() + " -> " + result.finalLoss());
        assertTrue(result.recallAt1After() > 10 * result.chanceRecallAt1(),
                "R@1 " + result.recallAt1After() + " vs chance " + result.chanceRecallAt1());
        assertTrue(result.recallAt1After() > result.recallAt1Before() + 10,
                "R@1 " + result.recallAt1Before() + " -> " + result.recallAt1After());
        assertTrue(Double.isFinite(result.temperature()) && result.temperature() >= SameDiffAlignmentModel.MIN_TEMPERATURE,
                "tau " + result.temperature());
        assertTrue(Math.abs(result.temperature() - 0.07) > 1e-3, "the temperature is learned: " + result.temperature());
    }

    @Test
    void graphLossEqualsGramLossOnTheGraphsOwnEmbeddings() {
        SyntheticModalities.Dataset data = SyntheticModalities.generate(SyntheticModalities.Config.of(200, 3, 8));
        SameDiffAlignmentModel model = SameDiffAlignmentModel.build(data.names(), data.dims(), 16, 0.2, 0.1, 4);
        List<INDArray> batch = new ArrayList<>();
        for (INDArray x : data.train().features()) {
            batch.add(x.get(NDArrayIndex.interval(0, 24),
                    NDArrayIndex.all()).dup());
        }
        assertGraphLossIsGramLoss(model, batch, 0.2);

        // below the floor, the loss uses tau = 0.01
        model.sd().getVariable(SameDiffAlignmentModel.TAU).getArr().assign(0.004);
        assertEquals(0.01, model.temperature(), 1e-7);
        assertGraphLossIsGramLoss(model, batch, 0.01);
    }

    private static void assertGraphLossIsGramLoss(SameDiffAlignmentModel model, List<INDArray> batch, double tau) {
        assertEquals(tau, model.temperature(), 1e-7);
        INDArray[] embeddings = new INDArray[batch.size()];
        for (int m = 0; m < batch.size(); m++) {
            embeddings[m] = model.embed(m, batch.get(m));
            assertEquals(24, embeddings[m].rows());
            assertEquals(16, embeddings[m].columns());
            INDArray norms = embeddings[m].norm2(1);
            assertEquals(0.0, norms.sub(1.0).amaxNumber().doubleValue(), 1e-5, "unit rows");
        }
        double expected = new GramLoss(0.1).value(Temperature.of(tau), embeddings[0], embeddings[1], embeddings[2]);
        double actual = model.loss(batch);
        assertEquals(expected, actual, 1e-4 * Math.abs(expected), "graph loss vs gram-loss at tau " + tau);
    }

    @Test
    void batchesAreFullShuffledAndCoverTheItemsOncePerEpoch() {
        INDArray ids = Nd4j.arange(10).castTo(DataType.FLOAT).reshape(10, 1);
        ShuffledBatches batches = new ShuffledBatches(List.of(ids, ids.mul(2)), 4, 7);
        assertEquals(2, batches.batchesPerEpoch());
        List<Integer> first = drain(batches);
        batches.reset();
        List<Integer> second = drain(batches);
        assertEquals(8, first.size(), "two full batches, the partial third dropped");
        assertEquals(8, new HashSet<>(first).size(), "no item twice in an epoch");
        assertFalse(first.equals(second), "every epoch reshuffles");
        assertThrows(NoSuchElementException.class, batches::next);
    }

    private static List<Integer> drain(ShuffledBatches batches) {
        List<Integer> items = new ArrayList<>();
        while (batches.hasNext()) {
            MultiDataSet batch = batches.next();
            assertEquals(2, batch.getFeatures().length);
            assertEquals(4, batch.getFeatures(0).rows());
            for (int r = 0; r < 4; r++) {
                int item = batch.getFeatures(0).getInt(r, 0);
                assertEquals(2.0 * item, batch.getFeatures(1).getDouble(r, 0), "rows stay paired across modalities");
                items.add(item);
            }
        }
        return items;
    }

    @Test
    void badSettingsNameTheArgument() {
        SyntheticModalities.Config data = SyntheticModalities.Config.of(100, 3, 1);
        assertMessage("sharedDim", () -> new Config(data, 0, 32, 1, 1e-2, 0.1, 0.07, 1));
        assertMessage("batchSize", () -> new Config(data, 8, 1, 1, 1e-2, 0.1, 0.07, 1));
        assertMessage("epochs", () -> new Config(data, 8, 8, 0, 1e-2, 0.1, 0.07, 1));
        assertMessage("learningRate", () -> new Config(data, 8, 8, 1, Double.NaN, 0.1, 0.07, 1));
        assertMessage("labelSmoothing", () -> new Config(data, 8, 8, 1, 1e-2, 1.5, 0.07, 1));
        assertMessage("initialTemperature", () -> new Config(data, 8, 8, 1, 1e-2, 0.1, 0.005, 1));
        assertMessage("batchSize", () -> SameDiffAlignmentExample.run(new Config(data, 8, 81, 1, 1e-2, 0.1, 0.07, 1)));
        assertMessage("modalities", () -> SameDiffAlignmentModel.build(List.of("text", "text"), new int[] {4, 4}, 8,
                0.07, 0.1, 1));
        assertMessage("dims", () -> SameDiffAlignmentModel.build(List.of("text", "video"), new int[] {4}, 8, 0.07, 0.1,
                1));
        SameDiffAlignmentModel model = SameDiffAlignmentModel.build(List.of("text", "video"), new int[] {4, 6}, 8, 0.07,
                0.1, 1);
        assertMessage("features", () -> model.embed(1, Nd4j.rand(DataType.FLOAT, 3, 4)));
        assertMessage("batchSize", () -> new ShuffledBatches(List.of(Nd4j.rand(5, 2)), 6, 1));
    }

    private static void assertMessage(String argument, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(argument), "message names " + argument + ": " + e.getMessage());
    }
}
