package io.github.gram4j.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The README's gram-core quickstart, run as written, with its claims checked. */
class ReadmeQuickstartTest {

    @Test
    void quickstartRunsAndGivesWhatItSays() {
        INDArray text  = Nd4j.randn(DataType.FLOAT, 32, 512);   // anchor batch, B1 × d
        INDArray video = Nd4j.randn(DataType.FLOAT, 48, 512);   // candidate batches, B2 × d each
        INDArray audio = Nd4j.randn(DataType.FLOAT, 48, 512);
        INDArray v = GramVolumes.pairwise(text, video, audio);   // 32 × 48: vol(text_i, video_j, audio_j)
        double one = GramVolumes.tuple(Nd4j.vstack(text.getRow(0, true), video.getRow(0, true)));

        assertArrayEquals(new long[] {32, 48}, v.shape());
        assertEquals(DataType.FLOAT, v.dataType());
        double a = text.getRow(0).norm2Number().doubleValue();
        double x = video.getRow(0).norm2Number().doubleValue();
        double cos = text.getRow(0).mul(video.getRow(0)).sumNumber().doubleValue() / (a * x);
        assertEquals(a * x * Math.sqrt(1 - cos * cos), one, 1e-4 * a * x, "k = 2: |a|·|x|·sin θ");
        INDArray single = GramVolumes.pairwise(text.getRow(5, true), video.getRow(7, true), audio.getRow(7, true));
        assertEquals(single.getDouble(0, 0), v.getDouble(5, 7), 1e-5 * v.getDouble(5, 7), "pair (5, 7)");
    }
}
