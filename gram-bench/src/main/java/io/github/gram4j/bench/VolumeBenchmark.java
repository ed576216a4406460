package io.github.gram4j.bench;

import java.util.concurrent.TimeUnit;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.VolumeMethod;
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
 * The pairwise volume matrix (anchor {@code B × d} against {@code k − 1} candidate batches
 * {@code B × d}) by both methods, next to its GEMM floor: the {@code k − 1} GEMMs
 * ({@code B × d} by {@code d × B}) that FAST cannot avoid, timed in the same run. Report FAST as a
 * ratio to {@link #gemmFloor}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class VolumeBenchmark {

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
    private ModalityBatches batches;
    private INDArray gemmOut;

    @Setup(Level.Trial)
    public void setUp() {
        DataType type = DataType.valueOf(dtype);
        Nd4j.getRandom().setSeed(42);
        anchor = Nd4j.randn(type, batch, dim);
        candidates = new INDArray[k - 1];
        for (int m = 0; m < candidates.length; m++) {
            candidates[m] = Nd4j.randn(type, batch, dim);
        }
        batches = ModalityBatches.of(anchor, candidates);
        gemmOut = Nd4j.createUninitialized(type, new long[] {batch, batch}, 'c');
    }

    /** The {@code k − 1} GEMMs alone, into a reused c-order result: the floor for FAST. */
    @Benchmark
    public INDArray gemmFloor() {
        for (INDArray x : candidates) {
            Nd4j.gemm(anchor, x, gemmOut, false, true, 1.0, 0.0);
        }
        return gemmOut;
    }

    /** FAST on pre-validated batches: the kernel alone. */
    @Benchmark
    public INDArray fastKernel() {
        return GramVolumes.pairwise(VolumeMethod.FAST, batches);
    }

    /** FAST through the public entry point, validation (shape, dtype, finiteness) included. */
    @Benchmark
    public INDArray fast() {
        return GramVolumes.pairwise(VolumeMethod.FAST, anchor, candidates);
    }

    /** REFERENCE: the explicit Gram tensor and a determinant per pair. */
    @Benchmark
    @Warmup(iterations = 1, time = 2)
    @Measurement(iterations = 3, time = 2)
    public INDArray reference() {
        return GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor, candidates);
    }
}
