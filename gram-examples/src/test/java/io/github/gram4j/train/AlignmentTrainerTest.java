package io.github.gram4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.train.AlignmentTrainer.Objective;
import io.github.gram4j.train.SyntheticModalities.Config;
import io.github.gram4j.train.SyntheticModalities.Dataset;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class AlignmentTrainerTest {

    static AlignmentTrainer.Config config(Objective objective) {
        return new AlignmentTrainer.Config(32, 64, 1e-2, 0.1, 0.07, objective, 3);
    }

    @Test
    void trainerConfigChecksItsRanges() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new AlignmentTrainer.Config(32, 64, 1e-2, 1.5, 0.07, Objective.GRAM, 3));
        assertEquals("labelSmoothing must be in [0, 1], got 1.5", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new AlignmentTrainer.Config(32, 1, 1e-2, 0.1, 0.07, Objective.GRAM, 3));
        assertTrue(e.getMessage().contains("batchSize >= 2"), e.getMessage());
    }

    @Test
    void syntheticDataIsDeterministicShapedAndSplit() {
        Config c = new Config(200, 3, 16, 24, 1.5, 0.3, 2, 0.2, 11);
        Dataset a = SyntheticModalities.generate(c);
        Dataset b = SyntheticModalities.generate(c);
        assertEquals(java.util.List.of("text", "video", "audio"), a.names());
        assertEquals(160, a.train().items());
        assertEquals(40, a.test().items());
        assertEquals(160, a.train().features().get(0).rows(), "one caption per training item");
        assertEquals(80, a.test().features().get(0).rows(), "two captions per test item");
        assertEquals(40, a.test().features().get(2).rows());
        for (int m = 0; m < 3; m++) {
            assertEquals(a.dims()[m], a.train().features().get(m).columns());
            assertEquals(a.train().features().get(m), b.train().features().get(m), "same seed, same data");
        }
        assertArrayEquals(new long[] {0, 0, 1, 1}, java.util.Arrays.copyOf(a.test().textItems(), 4));
        Dataset other = SyntheticModalities.generate(new Config(200, 3, 16, 24, 1.5, 0.3, 2, 0.2, 12));
        assertTrue(!other.train().features().get(0).equals(a.train().features().get(0)), "another seed, other data");
        assertThrows(IllegalArgumentException.class, () -> new Config(200, 6, 16, 24, 1.5, 0.3, 1, 0.2, 1));
    }

    @Test
    void gramTrainingLowersTheLossAndLiftsRecallFarAboveChance() {
        Dataset data = SyntheticModalities.generate(SyntheticModalities.Config.of(600, 3, 5));
        AlignmentTrainer trainer = new AlignmentTrainer(data.dims(), config(Objective.GRAM));
        RetrievalMetrics before = trainer.evaluate(data.test());
        double first = trainer.step(data.train());
        double last = first;
        for (int step = 1; step < 150; step++) {
            last = trainer.step(data.train());
        }
        RetrievalMetrics after = trainer.evaluate(data.test());
        double chance = 100.0 / data.test().items();
        // measured: loss 4.41 -> 0.83, text -> (video, audio) R@1 0 -> 55.8 % with chance at 0.83 %
        assertTrue(last < 0.3 * first, "loss " + first + " -> " + last);
        assertTrue(after.anchorToCandidate().recallAt1() > 30 * chance,
                "R@1 " + before.anchorToCandidate().recallAt1() + " -> " + after.anchorToCandidate().recallAt1()
                        + " (chance " + chance + ")");
        assertTrue(after.anchorToCandidate().recallAt1() > before.anchorToCandidate().recallAt1() + 20);
        assertTrue(before.anchorToCandidate().recallAt1() <= 3 * chance, "untrained heads retrieve at chance: "
                + before.anchorToCandidate().recallAt1());
        assertTrue(trainer.temperature() >= AlignmentTrainer.MIN_TEMPERATURE);
    }

    @Test
    void cosineBaselineTrainsOnlyTheFirstTwoHeads() {
        Dataset data = SyntheticModalities.generate(SyntheticModalities.Config.of(300, 3, 6));
        AlignmentTrainer trainer = new AlignmentTrainer(data.dims(), config(Objective.COSINE));
        INDArray audioHead = trainer.head(2).dup();
        INDArray textHead = trainer.head(0).dup();
        for (int step = 0; step < 20; step++) {
            trainer.step(data.train());
        }
        assertEquals(audioHead, trainer.head(2), "the cosine baseline never touches modality 2");
        assertTrue(!textHead.equals(trainer.head(0)), "but trains the text head");
        RetrievalMetrics m = trainer.evaluate(data.test());
        assertTrue(m.anchorToCandidate().recallAt1() > 100.0 / data.test().items(), "above chance");
    }
}
