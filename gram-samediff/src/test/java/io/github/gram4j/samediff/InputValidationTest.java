package io.github.gram4j.samediff;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Bad graph arguments fail when the graph is built, naming the argument and its shape or dtype, and add nothing. */
class InputValidationTest {

    private final SameDiff sd = SameDiff.create();
    private final SDVariable anchor = sd.placeHolder("anchor", DataType.FLOAT, -1, 8);
    private final SDVariable video = sd.placeHolder("video", DataType.FLOAT, -1, 8);
    private final SDVariable tau = sd.constant("tau", Nd4j.scalar(0.07f));

    private static void assertMessage(Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message '" + e.getMessage() + "' should contain '" + part + "'");
        }
    }

    @Test
    void embeddingDimensionsMustAgree() {
        SDVariable audio = sd.placeHolder("audio", DataType.FLOAT, -1, 9);
        int before = sd.ops().length;
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", anchor, video, audio), "candidates[1]", "'audio'", "[-1, 9]",
                "[-1, 8]", "embedding dimension d");
        assertTrue(sd.ops().length == before, "no op was added");
    }

    @Test
    void dtypesMustBeFloatingAndShared() {
        SDVariable doubles = sd.placeHolder("doubles", DataType.DOUBLE, -1, 8);
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", anchor, doubles), "candidates[0]", "DOUBLE", "FLOAT",
                "one dtype");
        SDVariable ints = sd.placeHolder("ints", DataType.INT, -1, 8);
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", ints, video), "anchor", "'ints'", "FLOAT or DOUBLE", "INT");
    }

    @Test
    void ranksAndCountsAreChecked() {
        SDVariable vector = sd.placeHolder("vector", DataType.FLOAT, 8);
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", vector, video), "anchor", "rank-2", "[8]");
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", anchor), "candidates", "at least one");
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", anchor, (SDVariable) null), "candidates[0]", "null");
        assertMessage(() -> SameDiffVolumes.volumes(null, "V", anchor, video), "sd");
        assertMessage(() -> SameDiffVolumes.volumes(sd, "", anchor, video), "name");
        SDVariable three = sd.placeHolder("three", DataType.FLOAT, 3, 8);
        SDVariable four = sd.placeHolder("four", DataType.FLOAT, 4, 8);
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", anchor, three, four), "candidates[1]", "[4, 8]", "[3, 8]");
        assertMessage(() -> new SameDiffGramLoss().loss(sd, "L", tau, four, three), "anchor", "[4, 8]", "[3, 8]",
                "pairs anchor row i");
    }

    @Test
    void variablesOfAnotherGraphAreRejected() {
        SDVariable foreign = SameDiff.create().placeHolder("foreign", DataType.FLOAT, -1, 8);
        assertMessage(() -> SameDiffVolumes.volumes(sd, "V", anchor, foreign), "candidates[0]", "'foreign'",
                "another SameDiff");
        SDVariable foreignTau = SameDiff.create().constant(Nd4j.scalar(0.07f));
        assertMessage(() -> new SameDiffGramLoss().loss(sd, "L", foreignTau, anchor, video), "tau", "another SameDiff");
    }

    @Test
    void temperatureMustBeAFloatingScalar() {
        SDVariable vectorTau = sd.constant("vectorTau", Nd4j.createFromArray(0.1f, 0.2f));
        assertMessage(() -> new SameDiffGramLoss().loss(sd, "L", vectorTau, anchor, video), "tau", "'vectorTau'", "scalar",
                "[2]");
        assertMessage(() -> new SameDiffGramLoss().loss(sd, "L", null, anchor, video), "tau", "null");
        SDVariable intScale = sd.constant("intScale", Nd4j.scalar(3));
        assertMessage(() -> SameDiffTemperatures.fromLogitScale(sd, "t", intScale), "logitScale", "floating point");
    }

    @Test
    void fixedTemperatureMustBeFinitePositiveAndAddsNothingWhenRejected() {
        int before = sd.variables().size();
        assertMessage(() -> new SameDiffGramLoss().loss(sd, "L", -0.07, anchor, video), "tau", "> 0", "-0.07");
        assertMessage(() -> new SameDiffGramLoss().loss(sd, "L", Double.POSITIVE_INFINITY, anchor, video), "tau",
                "Infinity");
        assertMessage(() -> new SameDiffCosineInfoNce().loss(sd, "clip", 0.0, anchor, video), "tau", "got 0.0");
        assertTrue(sd.variables().size() == before, "no variable was added");
    }

    @Test
    void labelSmoothingMustBeInUnitInterval() {
        assertMessage(() -> new SameDiffGramLoss(1.5), "labelSmoothing", "1.5");
        assertMessage(() -> new SameDiffCosineInfoNce(-0.1), "labelSmoothing", "-0.1");
        assertMessage(() -> new SameDiffGramLoss(Double.NaN), "labelSmoothing", "NaN");
    }

    @Test
    void gatheredFormNeedsAKnownLocalBatchAndAValidOffset() {
        SDVariable gatheredAnchor = sd.placeHolder("gatheredAnchor", DataType.FLOAT, 12, 8);
        SDVariable gatheredVideo = sd.placeHolder("gatheredVideo", DataType.FLOAT, 12, 8);
        assertMessage(() -> GatheredVariables.of(sd, anchor, List.of(video), gatheredAnchor, List.of(gatheredVideo), 0),
                "localAnchor", "row count bs known", "[-1, 8]");
        SDVariable localAnchor = sd.placeHolder("localAnchor", DataType.FLOAT, 4, 8);
        SDVariable localVideo = sd.placeHolder("localVideo", DataType.FLOAT, 4, 8);
        assertMessage(() -> GatheredVariables.of(sd, localAnchor, List.of(localVideo), gatheredAnchor, List.of(gatheredVideo), 9),
                "offset", "0..8", "got 9");
        assertMessage(() -> GatheredVariables.of(sd, localAnchor, List.of(localVideo), gatheredAnchor,
                List.of(gatheredVideo, gatheredVideo), 0), "same number of batches", "1 and 2");
        GatheredVariables two = GatheredVariables.of(sd, localAnchor, List.of(localVideo, localVideo), gatheredAnchor,
                List.of(gatheredVideo, gatheredVideo), 4);
        assertMessage(() -> new SameDiffCosineInfoNce().loss(sd, "clip", tau, two), "exactly one candidate batch", "got 2");
        GatheredVariables other = GatheredVariables.of(sd, localAnchor, List.of(localVideo), gatheredAnchor,
                List.of(gatheredVideo), 8);
        assertMessage(() -> new SameDiffGramLoss().loss(SameDiff.create(), "L", 0.07, other), "batches",
                "another SameDiff");
    }
}
