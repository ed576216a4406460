package io.github.gram4j.loss;

import java.util.List;

import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@code L = ½ [CE(σ·S₁/τ, t) + CE(σ·S₂/τ, t)]} for two {@code bs × N} score matrices with targets
 * {@code t_i = offset + i}, with PyTorch's label smoothing: the target distribution is
 * {@code (1 − ε)·onehot(t) + ε/N} on every one of the {@code N} classes, and each CE is the mean
 * over rows of {@code −Σ q·log softmax}. {@code σ = −1} for volumes (smaller is closer),
 * {@code +1} for similarities. Gives the loss, the per-row losses and
 * {@code ∂L/∂S₁, ∂L/∂S₂, ∂L/∂τ}. Arrays are allocated in the current workspace.
 */
final class BidirectionalCrossEntropy {

    final double loss;
    final INDArray rowLosses1;
    final INDArray rowLosses2;
    final INDArray gradScores1;
    final INDArray gradScores2;
    final double gradTau;

    private BidirectionalCrossEntropy(double loss, INDArray rowLosses1, INDArray rowLosses2, INDArray gradScores1,
            INDArray gradScores2, double gradTau) {
        this.loss = loss;
        this.rowLosses1 = rowLosses1;
        this.rowLosses2 = rowLosses2;
        this.gradScores1 = gradScores1;
        this.gradScores2 = gradScores2;
        this.gradTau = gradTau;
    }

    /**
     * @param scores1 {@code bs × N}
     * @param scores2 {@code bs × N}
     * @param sign {@code −1} (volumes) or {@code +1} (similarities)
     */
    static BidirectionalCrossEntropy compute(INDArray scores1, INDArray scores2, double sign, double tau,
            double labelSmoothing, int offset) {
        return compute(scores1, scores2, sign, tau, labelSmoothing, offset, HostArray.available());
    }

    /** @param onHost one fused host pass per row (CPU backend), or ND4J ops (any backend) */
    static BidirectionalCrossEntropy compute(INDArray scores1, INDArray scores2, double sign, double tau,
            double labelSmoothing, int offset, boolean onHost) {
        Direction d1 = onHost ? directionOnHost(scores1, sign / tau, labelSmoothing, offset)
                : direction(scores1, sign / tau, labelSmoothing, offset);
        Direction d2 = onHost ? directionOnHost(scores2, sign / tau, labelSmoothing, offset)
                : direction(scores2, sign / tau, labelSmoothing, offset);
        double loss = 0.5 * (d1.meanLoss + d2.meanLoss);
        // ∂L/∂z = ½ (softmax − q) / bs; z = (σ/τ)·S, so ∂L/∂S = (σ/τ)·∂L/∂z and ∂L/∂τ = −(1/τ) Σ ∂L/∂z · z
        double gradTau = -(d1.gradLogitsDotLogits + d2.gradLogitsDotLogits) / tau;
        return new BidirectionalCrossEntropy(loss, d1.rowLosses, d2.rowLosses, d1.gradLogits.muli(sign / tau),
                d2.gradLogits.muli(sign / tau), gradTau);
    }

    private record Direction(double meanLoss, INDArray rowLosses, INDArray gradLogits, double gradLogitsDotLogits) {
    }

    /** The same as {@link #direction}, one pass per row on host memory, in double. */
    private static Direction directionOnHost(INDArray scores, double scale, double epsilon, int offset) {
        int rows = (int) scores.size(0);
        int classes = (int) scores.size(1);
        DataType type = scores.dataType();
        INDArray contiguous = scores.ordering() == 'c' && scores.elementWiseStride() == 1 ? scores : scores.dup('c');
        INDArray grad = Nd4j.createUninitialized(type, new long[] {rows, classes}, 'c');
        HostArray in = HostArray.of(contiguous);
        HostArray out = HostArray.of(grad);
        double[] rowLoss = new double[rows];
        double uniform = epsilon / classes;
        final class Scratch {
            final double[] z = new double[classes];
            final double[] g = new double[classes];
            double gradDotLogits;
        }
        List<Scratch> partials = HostRows.forEachCollecting(rows, Scratch::new, (i, t) -> {
            double[] z = t.z;
            double[] g = t.g;
            in.read(i * classes, z, classes);
            double max = Double.NEGATIVE_INFINITY;
            double sumZ = 0;
            for (int j = 0; j < classes; j++) {
                z[j] *= scale;
                max = Math.max(max, z[j]);
                sumZ += z[j];
            }
            double sumExp = 0;
            for (int j = 0; j < classes; j++) {
                g[j] = Math.exp(z[j] - max);
                sumExp += g[j];
            }
            int target = offset + i;
            rowLoss[i] = Math.log(sumExp) + max - (1 - epsilon) * z[target] - uniform * sumZ;
            double half = 0.5 / rows;
            double dot = 0;
            for (int j = 0; j < classes; j++) {
                g[j] = (g[j] / sumExp - uniform) * half;
                dot += g[j] * z[j];
            }
            g[target] -= (1 - epsilon) * half;
            dot -= (1 - epsilon) * half * z[target];
            t.gradDotLogits += dot;
            out.write(i * classes, g, classes);
        });
        double total = 0;
        for (double l : rowLoss) {
            total += l;
        }
        double gradDotLogits = 0;
        for (Scratch t : partials) {
            gradDotLogits += t.gradDotLogits;
        }
        return new Direction(total / rows, Nd4j.createFromArray(rowLoss).castTo(type), grad, gradDotLogits);
    }

    /** Cross-entropy of one direction with ND4J ops (any backend). */
    private static Direction direction(INDArray scores, double scale, double epsilon, int offset) {
        int rows = (int) scores.size(0);
        int classes = (int) scores.size(1);
        DataType type = scores.dataType();
        INDArray logits = scores.mul(scale);
        double[] max = logits.max(1).castTo(DataType.DOUBLE).toDoubleVector();
        INDArray exp = logits.subColumnVector(Nd4j.createFromArray(max).castTo(type).reshape(rows, 1));
        Transforms.exp(exp, false);
        double[] sumExp = exp.sum(1).castTo(DataType.DOUBLE).toDoubleVector();
        double[] sumLogits = logits.sum(1).castTo(DataType.DOUBLE).toDoubleVector();
        double[] rowLoss = new double[rows];
        double total = 0;
        for (int i = 0; i < rows; i++) {
            double logSumExp = Math.log(sumExp[i]) + max[i];
            rowLoss[i] = logSumExp - (1 - epsilon) * logits.getDouble(i, offset + i) - epsilon / classes * sumLogits[i];
            total += rowLoss[i];
        }
        // softmax − q, over rows, halved (two directions)
        INDArray grad = exp.diviColumnVector(Nd4j.createFromArray(sumExp).castTo(type).reshape(rows, 1));
        grad.subi(epsilon / classes);
        for (int i = 0; i < rows; i++) {
            grad.putScalar(i, offset + i, grad.getDouble(i, offset + i) - (1 - epsilon));
        }
        grad.muli(0.5 / rows);
        double gradDotLogits = grad.mul(logits).sumNumber().doubleValue();
        return new Direction(total / rows, Nd4j.createFromArray(rowLoss).castTo(type), grad, gradDotLogits);
    }
}
