package io.github.gram4j.samediff;

import static io.github.gram4j.core.testing.ArrayAssert.assertAllFinite;
import static io.github.gram4j.core.testing.ArrayAssert.assertRelative;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;

import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.weightinit.impl.XavierInitScheme;

/** The README's SameDiff snippet, run as written, with its claims checked against gram-loss. */
class ReadmeSameDiffExampleTest {

    static SDVariable unitRows(SameDiff sd, SDVariable x) {
        return x.mul(sd.math.rsqrt(sd.sum(x.mul(x), true, 1).add(1e-12)));
    }

    @Test
    void snippetRunsAndMatchesGramLoss() {
        Random random = new Random(11);
        INDArray textBatch = RandomArrays.gaussian(random, 16, 48, DataType.FLOAT);
        INDArray videoBatch = RandomArrays.gaussian(random, 16, 60, DataType.FLOAT);
        INDArray audioBatch = RandomArrays.gaussian(random, 16, 72, DataType.FLOAT);

        // --- README snippet ---
        SameDiff sd = SameDiff.create();
        SDVariable textIn  = sd.placeHolder("text",  DataType.FLOAT, -1, 48);   // per-modality features
        SDVariable videoIn = sd.placeHolder("video", DataType.FLOAT, -1, 60);
        SDVariable audioIn = sd.placeHolder("audio", DataType.FLOAT, -1, 72);
        SDVariable text  = unitRows(sd, textIn.mmul(sd.var("wText",  new XavierInitScheme('c', 48, 32), DataType.FLOAT, 48, 32)));
        SDVariable video = unitRows(sd, videoIn.mmul(sd.var("wVideo", new XavierInitScheme('c', 60, 32), DataType.FLOAT, 60, 32)));
        SDVariable audio = unitRows(sd, audioIn.mmul(sd.var("wAudio", new XavierInitScheme('c', 72, 32), DataType.FLOAT, 72, 32)));
        SDVariable tau  = sd.var("tau", Nd4j.scalar(0.07f));                   // learned, as GRAM does
        SDVariable loss = new SameDiffGramLoss().loss(sd, "loss", tau, text, video, audio);
        sd.setLossVariables(loss);
        Map<String, INDArray> grads = sd.calculateGradients(
                Map.of("text", textBatch, "video", videoBatch, "audio", audioBatch), "wText", "wVideo", "wAudio", "tau");
        // --- end of snippet ---

        Map<String, INDArray> feed = Map.of("text", textBatch, "video", videoBatch, "audio", audioBatch);
        Map<String, INDArray> out = sd.output(feed, text.name(), video.name(), audio.name(), "loss");
        LossResult expected = new GramLoss().compute(Temperature.of(0.07), out.get(text.name()), out.get(video.name()),
                out.get(audio.name()));
        assertRelative("loss", expected.loss(), out.get("loss").getDouble(0), 1e-4);
        assertRelative("dL/dtau", expected.gradTemperature(), grads.get("tau").getDouble(0), 1e-3);
        for (String w : new String[] {"wText", "wVideo", "wAudio"}) {
            assertAllFinite("dL/d" + w, grads.get(w));
            assertTrue(grads.get(w).norm2Number().doubleValue() > 1e-3, w + " receives a gradient");
        }
    }
}
