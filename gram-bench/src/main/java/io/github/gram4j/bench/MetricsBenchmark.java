package io.github.gram4j.bench;

import java.util.concurrent.TimeUnit;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.metrics.ScoreOrder;
import org.nd4j.linalg.api.ndarray.INDArray;
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

/** Retrieval metrics (both directions, identity ids) of a {@code batch × batch} volume matrix. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class MetricsBenchmark {

    private INDArray volumes;

    @Setup(Level.Trial)
    public void setUp(Embeddings e) {
        volumes = GramVolumes.pairwise(e.anchor, e.candidates);
    }

    @Benchmark
    public RetrievalMetrics retrievalMetrics() {
        return RetrievalMetrics.compute(volumes, ScoreOrder.LOWER_IS_BETTER);
    }
}
