package io.github.gram4j.bench;

import java.util.concurrent.TimeUnit;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
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

/**
 * The pairwise volume matrix (anchor {@code B × d} against {@code k − 1} candidate batches
 * {@code B × d}) by both methods, next to its GEMM floor: the {@code k − 1} GEMMs that FAST
 * cannot avoid, timed in the same run. Report FAST as a ratio to {@link #gemmFloor}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class VolumeBenchmark {

    private ModalityBatches batches;

    @Setup(Level.Trial)
    public void setUp(Embeddings e) {
        batches = ModalityBatches.of(e.anchor, e.candidates);
    }

    /** The {@code k − 1} GEMMs alone, into a reused c-order result: the floor for FAST. */
    @Benchmark
    public INDArray gemmFloor(Embeddings e) {
        return e.forwardGemms();
    }

    /** FAST on pre-validated batches: the kernel alone. */
    @Benchmark
    public INDArray fastKernel() {
        return GramVolumes.pairwise(VolumeMethod.FAST, batches);
    }

    /** FAST through the public entry point, validation (shape, dtype, finiteness) included. */
    @Benchmark
    public INDArray fast(Embeddings e) {
        return GramVolumes.pairwise(VolumeMethod.FAST, e.anchor, e.candidates);
    }

    /** FAST through the public entry point into a reused result ({@code GramVolumes.pairwiseInto}). */
    @Benchmark
    public INDArray fastInto(Embeddings e) {
        return GramVolumes.pairwiseInto(e.volumes, e.anchor, e.candidates);
    }

    /** REFERENCE: the explicit Gram tensor and a determinant per pair. */
    @Benchmark
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 2)
    public INDArray reference(Embeddings e) {
        return GramVolumes.pairwise(VolumeMethod.REFERENCE, e.anchor, e.candidates);
    }
}
