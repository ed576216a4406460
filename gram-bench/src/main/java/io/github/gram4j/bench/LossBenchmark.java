package io.github.gram4j.bench;

import java.util.concurrent.TimeUnit;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The GRAM loss, forward and backward (one process), next to the forward volume alone and the
 * {@code 3(k − 1)} GEMMs that forward + backward need, in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class LossBenchmark {

    @Param({"1024"})
    public int batch;

    @Param({"512"})
    public int dim;

    @Param({"3"})
    public int k;

    @Param({"FLOAT"})
    public String dtype;

    private INDArray anchor;
    private INDArray[] candidates;
    private INDArray square;
    private INDArray tall;
    private final GramLoss loss = new GramLoss();
    private final Temperature temperature = Temperature.of(Temperature.GRAM_DEFAULT);

    @Setup(Level.Trial)
    public void setUp() {
        DataType type = DataType.valueOf(dtype);
        Nd4j.getRandom().setSeed(7);
        anchor = Nd4j.randn(type, batch, dim);
        candidates = new INDArray[k - 1];
        for (int m = 0; m < candidates.length; m++) {
            candidates[m] = Nd4j.randn(type, batch, dim);
        }
        square = Nd4j.createUninitialized(type, new long[] {batch, batch}, 'c');
        tall = Nd4j.createUninitialized(type, new long[] {batch, dim}, 'c');
    }

    /** Loss value and every gradient. */
    @Benchmark
    public LossResult lossForwardBackward() {
        return loss.compute(temperature, anchor, candidates);
    }

    /** The forward volume matrix alone (FAST). */
    @Benchmark
    public INDArray volumeForward() {
        return GramVolumes.pairwise(anchor, candidates);
    }

    /** The 3(k − 1) GEMMs of forward + backward: the floor for {@link #lossForwardBackward}. */
    @Benchmark
    public INDArray gemmFloor() {
        for (INDArray x : candidates) {
            Nd4j.gemm(anchor, x, square, false, true, 1.0, 0.0);
            Nd4j.gemm(square, x, tall, false, false, 1.0, 0.0);
            Nd4j.gemm(square, anchor, tall, true, false, 1.0, 0.0);
        }
        return tall;
    }
}
