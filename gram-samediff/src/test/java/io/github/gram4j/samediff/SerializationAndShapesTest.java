package io.github.gram4j.samediff;

import static io.github.gram4j.core.testing.ArrayAssert.assertArrayClose;
import static io.github.gram4j.core.testing.ArrayAssert.assertRelative;

import java.io.File;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Placeholders with an open batch dimension, and SameDiff's own save/load of a graph holding the loss. */
class SerializationAndShapesTest {

    static SameDiff graph(int d) {
        SameDiff sd = SameDiff.create();
        SDVariable a = sd.placeHolder("text", DataType.DOUBLE, -1, d);
        SDVariable v = sd.placeHolder("video", DataType.DOUBLE, -1, d);
        SDVariable au = sd.placeHolder("audio", DataType.DOUBLE, -1, d);
        SDVariable tau = sd.var("tau", Nd4j.scalar(DataType.DOUBLE, 0.07));
        SDVariable loss = new SameDiffGramLoss().loss(sd, "loss", tau, a, v, au);
        SameDiffVolumes.volumes(sd, "volumes", a, v, au);
        sd.setLossVariables(loss);
        return sd;
    }

    static Map<String, INDArray> feed(Random random, int b, int d) {
        Map<String, INDArray> feed = new HashMap<>();
        for (String name : List.of("text", "video", "audio")) {
            feed.put(name, SameDiffGramLossTest.embeddings(random, b, d, DataType.DOUBLE));
        }
        return feed;
    }

    static LossResult expected(Map<String, INDArray> feed, double tau) {
        return new GramLoss().compute(Temperature.of(tau), feed.get("text"), feed.get("video"), feed.get("audio"));
    }

    @Test
    void oneGraphServesAnyBatchSize() {
        SameDiff sd = graph(8);
        Random random = new Random(3);
        for (int b : new int[] {3, 10, 17}) {
            Map<String, INDArray> feed = feed(random, b, 8);
            LossResult expected = expected(feed, 0.07);
            assertRelative("loss, B = " + b, expected.loss(), sd.output(feed, "loss").get("loss").getDouble(0), 1e-9);
            assertRelative("dL/dtau, B = " + b, expected.gradTemperature(),
                    sd.calculateGradients(feed, "tau").get("tau").getDouble(0), 1e-9);
        }
    }

    @Test
    void savedAndLoadedGraphGivesTheSameLossAndGradients(@TempDir Path dir) throws Exception {
        SameDiff sd = graph(8);
        sd.getVariable("tau").setArray(Nd4j.scalar(DataType.DOUBLE, 0.123));
        File file = dir.resolve("gram.sd").toFile();
        sd.save(file, true);
        SameDiff loaded = SameDiff.load(file, true);

        Map<String, INDArray> feed = feed(new Random(5), 9, 8);
        LossResult expected = expected(feed, 0.123);
        Map<String, INDArray> outputs = loaded.output(feed, "loss", "volumes");
        assertRelative("loss after load", expected.loss(), outputs.get("loss").getDouble(0), 1e-9);
        assertRelative("loss before = after",
                sd.output(feed, "loss").get("loss").getDouble(0), outputs.get("loss").getDouble(0), 1e-15);
        assertArrayClose("V after load", outputs.get("volumes"), expected.anchorScores(), 1e-9);
        assertRelative("dL/dtau after load",
                expected.gradTemperature(), loaded.calculateGradients(feed, "tau").get("tau").getDouble(0), 1e-9);
    }
}
