package io.github.gram4j.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.testing.RandomArrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a loss puts its results: in ordinary memory when called outside any workspace, in the
 * caller's workspace when called inside one (a training loop's workspace recycles them step after
 * step), with the same values either way, every step.
 */
class LossResultMemoryTest {

    private static final WorkspaceConfiguration LOOP = WorkspaceConfiguration.builder()
            .policyAllocation(AllocationPolicy.STRICT)
            .policyLearning(LearningPolicy.FIRST_LOOP)
            .build();

    private static List<INDArray> arrays(LossResult r) {
        List<INDArray> all = new ArrayList<>();
        all.add(r.rowLossesAnchorToCandidate());
        all.add(r.rowLossesCandidateToAnchor());
        all.add(r.anchorScores());
        all.add(r.candidateScores());
        all.add(r.gradAnchor());
        all.addAll(r.gradCandidates());
        if (r.gradGatheredAnchor() != null) {
            all.add(r.gradGatheredAnchor());
        }
        all.addAll(r.gradGatheredCandidates());
        return all;
    }

    private static List<double[]> values(LossResult r) {
        List<double[]> out = new ArrayList<>();
        for (INDArray x : arrays(r)) {
            out.add(x.castTo(DataType.DOUBLE).dup('c').data().asDouble());
        }
        return out;
    }

    /**
     * The loss outside any workspace (ordinary memory), then three steps inside a reused workspace:
     * every result array lives in that workspace, and each step's values equal the first ones.
     */
    private static void check(String name, Supplier<LossResult> loss) {
        LossResult outside = loss.get();
        for (INDArray x : arrays(outside)) {
            assertFalse(x.isAttached(), name + ": outside a workspace results are ordinary memory");
        }
        List<double[]> expected = values(outside);
        for (int step = 0; step < 3; step++) {
            try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(LOOP, "test.loop")) {
                LossResult inside = loss.get();
                List<INDArray> got = arrays(inside);
                for (int n = 0; n < got.size(); n++) {
                    assertEquals("test.loop", got.get(n).isAttached() ? got.get(n).data().getParentWorkspace().getId()
                            : null, name + ", step " + step + ", result " + n + " lives in the caller's workspace");
                }
                assertEquals(outside.loss(), inside.loss(), 0.0, name);
                assertEquals(outside.gradTemperature(), inside.gradTemperature(), 0.0, name);
                List<double[]> actual = values(inside);
                for (int n = 0; n < actual.size(); n++) {
                    assertArrayEquals(expected.get(n), actual.get(n), 0.0, name + ", step " + step + ", result " + n);
                }
                inside.release(); // harmless: workspace arrays are left to the workspace
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"FLOAT", "DOUBLE"})
    void everyLossPutsItsResultsInTheCallersMemory(DataType type) {
        Random random = new Random(12);
        INDArray anchor = RandomArrays.gaussian(random, 8, 6, type);
        INDArray[] xs = RandomArrays.gaussianBatches(random, 2, 8, 6, type);
        INDArray gatheredAnchor = RandomArrays.gaussian(random, 16, 6, type);
        INDArray[] gathered = RandomArrays.gaussianBatches(random, 2, 16, 6, type);
        gatheredAnchor.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(8, 16)).assign(anchor);
        for (int m = 0; m < 2; m++) {
            gathered[m].get(org.nd4j.linalg.indexing.NDArrayIndex.interval(8, 16)).assign(xs[m]);
        }
        Temperature tau = Temperature.of(0.5);
        for (ContrastiveScore score : ContrastiveScore.values()) {
            GramLoss loss = new GramLoss(0.1, score);
            check(score + " one process", () -> loss.compute(tau, anchor, xs));
            GatheredBatches batches = GatheredBatches.of(anchor, List.of(xs), gatheredAnchor, List.of(gathered), 8);
            check(score + " gathered", () -> loss.compute(tau, batches, true));
        }
        CosineInfoNce cosine = new CosineInfoNce(0.1);
        check("cosine one process", () -> cosine.compute(tau, anchor, xs[0]));
        GatheredBatches pair = GatheredBatches.of(anchor, List.of(xs[0]), gatheredAnchor, List.of(gathered[0]), 8);
        check("cosine gathered", () -> cosine.compute(tau, pair, true));
    }
}
