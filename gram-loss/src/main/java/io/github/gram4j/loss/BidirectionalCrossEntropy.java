package io.github.gram4j.loss;

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
        Direction d1 = direction(scores1, sign / tau, labelSmoothing, offset);
        Direction d2 = direction(scores2, sign / tau, labelSmoothing, offset);
        double loss = 0.5 * (d1.meanLoss + d2.meanLoss);
        // ∂L/∂z = ½ (softmax − q) / bs; z = (σ/τ)·S, so ∂L/∂S = (σ/τ)·∂L/∂z and ∂L/∂τ = −(1/τ) Σ ∂L/∂z · z
        double gradTau = -(d1.gradLogitsDotLogits + d2.gradLogitsDotLogits) / tau;
        return new BidirectionalCrossEntropy(loss, d1.rowLosses, d2.rowLosses, d1.gradLogits.muli(sign / tau),
                d2.gradLogits.muli(sign / tau), gradTau);
    }

    private record Direction(double meanLoss, INDArray rowLosses, INDArray gradLogits, double gradLogitsDotLogits) {
    }

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
