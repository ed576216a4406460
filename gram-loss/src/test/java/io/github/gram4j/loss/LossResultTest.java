package io.github.gram4j.loss;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link LossResult#release()}: every array of a step's result is freed, a shared one once. */
class LossResultTest {

    @Test
    void releaseFreesEveryArrayOnceAndLeavesTheInputsAlone() {
        Nd4j.getRandom().setSeed(3);
        INDArray anchor = Nd4j.randn(DataType.FLOAT, 6, 5);
        INDArray video = Nd4j.randn(DataType.FLOAT, 6, 5);
        INDArray audio = Nd4j.randn(DataType.FLOAT, 6, 5);
        LossResult r = new GramLoss().compute(Temperature.of(0.07), anchor, video, audio);
        assertSame(r.anchorScores(), r.candidateScores(), "one process: one score matrix held twice");
        assertFalse(r.gradAnchor().wasClosed());
        r.release();
        assertTrue(r.anchorScores().wasClosed());
        assertTrue(r.gradAnchor().wasClosed());
        assertTrue(r.gradCandidates().stream().allMatch(INDArray::wasClosed));
        assertTrue(r.rowLossesAnchorToCandidate().wasClosed() && r.rowLossesCandidateToAnchor().wasClosed());
        assertFalse(anchor.wasClosed() || video.wasClosed() || audio.wasClosed(), "inputs are the caller's");
        r.release(); // a second release is harmless
    }
}
