package io.github.gram4j.bench;

import io.github.gram4j.core.RowNormalization;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The inputs every benchmark shares: an anchor batch and {@code k − 1} candidate batches of
 * L2-normalised random rows ({@code batch × dim}, {@code dtype}), plus reusable GEMM outputs for
 * the floors. The defaults are one point; pass a grid with JMH's {@code -p}, e.g.
 * {@code -p batch=32,256,1024,4096 -p dim=256,512,1024 -p k=2,3,4,5 -p dtype=FLOAT,DOUBLE}.
 */
@State(Scope.Thread)
public class Embeddings {

    @Param({"1024"})
    public int batch;

    @Param({"512"})
    public int dim;

    @Param({"3"})
    public int k;

    @Param({"FLOAT"})
    public String dtype;

    INDArray anchor;
    INDArray[] candidates;
    /** {@code batch × batch}, c-order: the output of a forward GEMM. */
    INDArray square;
    /** {@code batch × dim}, c-order: the output of a backward GEMM. */
    INDArray tall;
    /** {@code batch × batch}, c-order, in the computation dtype: a reused volume matrix. */
    INDArray volumes;

    @Setup(Level.Trial)
    public void setUp() {
        DataType type = DataType.valueOf(dtype);
        Nd4j.getRandom().setSeed(42);
        anchor = RowNormalization.forward(Nd4j.randn(type, batch, dim));
        candidates = new INDArray[k - 1];
        for (int m = 0; m < candidates.length; m++) {
            candidates[m] = RowNormalization.forward(Nd4j.randn(type, batch, dim));
        }
        square = Nd4j.createUninitialized(type, new long[] {batch, batch}, 'c');
        tall = Nd4j.createUninitialized(type, new long[] {batch, dim}, 'c');
        volumes = Nd4j.createUninitialized(type, new long[] {batch, batch}, 'c');
    }

    /** The {@code k − 1} forward GEMMs ({@code batch × dim} by {@code dim × batch}). */
    INDArray forwardGemms() {
        for (INDArray x : candidates) {
            Nd4j.gemm(anchor, x, square, false, true, 1.0, 0.0);
        }
        return square;
    }

    /** The {@code 3(k − 1)} GEMMs of forward + backward. */
    INDArray forwardBackwardGemms() {
        for (INDArray x : candidates) {
            Nd4j.gemm(anchor, x, square, false, true, 1.0, 0.0);
            Nd4j.gemm(square, x, tall, false, false, 1.0, 0.0);
            Nd4j.gemm(square, anchor, tall, true, false, 1.0, 0.0);
        }
        return tall;
    }
}
