package io.github.gram4j.bench;

import java.util.List;
import java.util.concurrent.TimeUnit;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.internal.Workspaces;
import io.github.gram4j.loss.GatheredBatches;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
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
 * The GRAM loss — forward, forward + backward, and the gathered form of one rank out of four —
 * next to the forward volume alone and the {@code 3(k − 1)} GEMMs that forward + backward need,
 * in the same run.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class LossBenchmark {

    private final GramLoss loss = new GramLoss();
    private final Temperature temperature = Temperature.of(Temperature.GRAM_DEFAULT);
    private GatheredBatches rankOfFour;

    @Setup(Level.Trial)
    public void setUp(Embeddings e) {
        int bs = e.batch / 4;
        INDArray localAnchor = rows(e.anchor, bs);
        List<INDArray> local = java.util.Arrays.stream(e.candidates).map(x -> rows(x, bs)).toList();
        rankOfFour = GatheredBatches.of(localAnchor, local, e.anchor, List.of(e.candidates), bs);
    }

    private static INDArray rows(INDArray x, int bs) {
        return x.get(NDArrayIndex.interval(bs, 2 * bs), NDArrayIndex.all()).dup('c');
    }

    /** The loss value alone. */
    @Benchmark
    public double lossForward(Embeddings e) {
        return loss.value(temperature, e.anchor, e.candidates);
    }

    /** Loss value and every gradient (one process). */
    @Benchmark
    public LossResult lossForwardBackward(Embeddings e) {
        return loss.compute(temperature, e.anchor, e.candidates);
    }

    /**
     * Loss value and every gradient, in a training loop that frees each step's results before
     * the next step (ND4J frees off-heap memory only when the garbage collector finds its handles:
     * without this, every step writes its 10 MB of results into fresh memory).
     */
    @Benchmark
    public LossResult lossForwardBackwardReleased(Embeddings e) {
        if (previous != null) {
            previous.release();
        }
        previous = loss.compute(temperature, e.anchor, e.candidates);
        return previous;
    }

    private LossResult previous;


    /**
     * Loss value and every gradient, called inside a per-step ND4J workspace as a training loop
     * runs it: the results are written into that workspace's recycled memory (no fresh memory, no
     * copies). Returns the loss and one gradient entry, read before the step's scope closes.
     */
    @Benchmark
    public double lossForwardBackwardInWorkspace(Embeddings e) {
        try (MemoryWorkspace step = Workspaces.open("gram4j.bench.step")) {
            LossResult r = loss.compute(temperature, e.anchor, e.candidates);
            return r.loss() + r.gradAnchor().getDouble(0);
        }
    }

    /** Rank 1 of 4: local batch B/4 against the gathered B, local gradients only. */
    @Benchmark
    public LossResult lossGatheredForwardBackward() {
        return loss.compute(temperature, rankOfFour, false);
    }

    /** The forward volume matrix alone (FAST). */
    @Benchmark
    public INDArray volumeForward(Embeddings e) {
        return GramVolumes.pairwise(e.anchor, e.candidates);
    }

    /** The 3(k − 1) GEMMs of forward + backward: the floor for {@link #lossForwardBackward}. */
    @Benchmark
    public INDArray gemmFloor(Embeddings e) {
        return e.forwardBackwardGemms();
    }
}
