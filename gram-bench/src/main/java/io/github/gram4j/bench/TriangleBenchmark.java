package io.github.gram4j.bench;

import java.util.concurrent.TimeUnit;

import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.TriangleScores;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * TRIANGLE (anchor {@code B × d} against two candidate batches {@code B × d}): the rootless score,
 * the area, and the loss forward + backward, next to their GEMM floors in the same run: the two
 * forward GEMMs ({@code T·Aᵀ}, {@code T·Êᵀ}) for the scores and the six GEMMs of forward + backward
 * for the loss (the same count and shapes as {@link Embeddings#forwardBackwardGemms} at
 * {@code k = 3}), and GRAM's volume and loss on the same inputs for comparison. Needs {@code k ≥ 3};
 * with {@code k > 3} it uses the first two candidate batches.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class TriangleBenchmark {

    private final GramLoss triangleLoss = new GramLoss(GramLoss.DEFAULT_LABEL_SMOOTHING, ContrastiveScore.TRIANGLE);
    private final GramLoss gramLoss = new GramLoss();
    private final Temperature temperature = Temperature.of(Temperature.GRAM_DEFAULT);
    private INDArray v;
    private INDArray a;

    @Setup(Level.Trial)
    public void setUp(Embeddings e) {
        if (e.candidates.length < 2) {
            throw new IllegalStateException("TriangleBenchmark needs k >= 3 (an anchor and two candidate batches), got k = "
                    + e.k);
        }
        v = e.candidates[0];
        a = e.candidates[1];
    }

    /** The rootless TRIANGLE score matrix (the training score). */
    @Benchmark
    public INDArray triangleScore(Embeddings e) {
        return TriangleScores.pairwise(e.anchor, v, a);
    }

    /** The triangle areas (the rooted variant). */
    @Benchmark
    public INDArray triangleArea(Embeddings e) {
        return TriangleScores.areas(e.anchor, v, a);
    }

    /** The two forward GEMMs into a reused result: the floor for the scores. */
    @Benchmark
    public INDArray scoreGemmFloor(Embeddings e) {
        Nd4j.gemm(e.anchor, v, e.square, false, true, 1.0, 0.0);
        return Nd4j.gemm(e.anchor, a, e.square, false, true, 1.0, 0.0);
    }

    /** TRIANGLE's loss and every gradient (one process). */
    @Benchmark
    public LossResult triangleLossForwardBackward(Embeddings e) {
        return triangleLoss.compute(temperature, e.anchor, v, a);
    }

    /** The six GEMMs of forward + backward: the floor for {@link #triangleLossForwardBackward}. */
    @Benchmark
    public INDArray lossGemmFloor(Embeddings e) {
        for (INDArray x : new INDArray[] {v, a}) {
            Nd4j.gemm(e.anchor, x, e.square, false, true, 1.0, 0.0);
            Nd4j.gemm(e.square, x, e.tall, false, false, 1.0, 0.0);
            Nd4j.gemm(e.square, e.anchor, e.tall, true, false, 1.0, 0.0);
        }
        return e.tall;
    }

    /** GRAM's volume on the same three batches, for comparison. */
    @Benchmark
    public INDArray gramVolume(Embeddings e) {
        return GramVolumes.pairwise(e.anchor, v, a);
    }

    /** GRAM's loss and every gradient on the same three batches, for comparison. */
    @Benchmark
    public LossResult gramLossForwardBackward(Embeddings e) {
        return gramLoss.compute(temperature, e.anchor, v, a);
    }
}
