package io.github.gram4j.loss;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.gram4j.core.RowNormalization;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The README's training-step example, run: two linear heads (text 32 → 16, video 24 → 16) on
 * frozen features, L2-normalised outputs, the GRAM loss, its analytic gradients back through the
 * normalisation ({@link RowNormalization}) and the heads, and an Adam update of the heads and of τ.
 */
class TrainingStepExampleTest {

    @Test
    void trainingStepsLowerTheLoss() {
        Nd4j.getRandom().setSeed(1);
        INDArray text = Nd4j.randn(DataType.FLOAT, 64, 32);                  // frozen text features
        INDArray video = text.mmul(Nd4j.randn(DataType.FLOAT, 32, 24))        // frozen video features:
                .addi(Nd4j.randn(DataType.FLOAT, 64, 24).muli(2));            // related, not aligned
        INDArray wText = Nd4j.randn(DataType.FLOAT, 32, 16).muli(0.1);        // the two heads
        INDArray wVideo = Nd4j.randn(DataType.FLOAT, 24, 16).muli(0.1);
        Adam adam = new Adam(1e-2);
        GradientUpdater<?> upText = adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(wText.length())), true);
        GradientUpdater<?> upVideo = adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(wVideo.length())), true);
        double tau = Temperature.GRAM_DEFAULT;
        GramLoss loss = new GramLoss();                                       // label smoothing 0.1

        double first = Double.NaN;
        double last = Double.NaN;
    // --- README example begins ---
        for (int step = 0; step < 60; step++) {
            INDArray zText = text.mmul(wText);
            INDArray zVideo = video.mmul(wVideo);
            INDArray eText = RowNormalization.forward(zText);
            INDArray eVideo = RowNormalization.forward(zVideo);
            LossResult r = loss.compute(Temperature.of(tau), eText, eVideo);  // forward + backward

            INDArray gText = text.transpose().mmul(RowNormalization.backward(zText, eText, r.gradAnchor()));
            INDArray gVideo = video.transpose().mmul(RowNormalization.backward(zVideo, eVideo, r.gradCandidates().get(0)));
            upText.applyUpdater(gText, step, 0);                              // gradient -> Adam step, in place
            upVideo.applyUpdater(gVideo, step, 0);
            wText.subi(gText);
            wVideo.subi(gVideo);
            tau = Math.max(0.01, tau - 1e-3 * r.gradTemperature());           // τ is learned too
    // --- README example ends ---
            if (step == 0) {
                first = r.loss();
            }
            last = r.loss();
        }
        assertTrue(last < 0.3 * first, "loss should fall by 70% in 60 steps (measured 4.51 -> 0.78): " + first + " -> " + last);
    }
}
