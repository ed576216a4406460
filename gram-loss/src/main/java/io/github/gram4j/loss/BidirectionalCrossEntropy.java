package io.github.gram4j.loss;

import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.fast.GradientRows;
import io.github.gram4j.core.fast.RowVisitor;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.Lanes;
import io.github.gram4j.core.internal.RowOps;
import io.github.gram4j.core.internal.Transposes;
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

    /**
     * The one-process case, {@code S₁ = S₂ = S} ({@code B × B}): anchors query the rows of
     * {@code S}, candidates its columns. {@link #gradScores1} holds {@code ∂L/∂S} of both terms
     * together; {@link #gradScores2} is null.
     *
     * <p>On the CPU backend one exponential per pair serves both directions: with
     * {@code e_ij = exp(z_ij − rowmax_i)} (stored in the gradient array), the row sums are
     * {@code Σ_j e_ij} and the column sums {@code Σ_i e_ij·exp(rowmax_i − M)}, {@code M} the
     * largest logit, so neither a transposed copy of {@code S} nor a second exponential is
     * needed. That column rescaling is safe while every column's largest logit is within
     * {@link #SHARED_RANGE_FLOAT} (FLOAT) or {@link #SHARED_RANGE_DOUBLE} (DOUBLE) of {@code M};
     * otherwise, and off the CPU backend, this is {@link #compute} on {@code S} and its transpose.
     *
     * @param sign {@code −1} (volumes) or {@code +1} (similarities)
     */
    static BidirectionalCrossEntropy paired(INDArray scores, double sign, double tau, double labelSmoothing) {
        if (HostArray.available()) {
            BidirectionalCrossEntropy shared = pairedOnHost(scores, sign, tau, labelSmoothing);
            if (shared != null) {
                return shared;
            }
        }
        BidirectionalCrossEntropy ce = compute(scores, Transposes.transposed(scores), sign, tau, labelSmoothing, 0);
        return new BidirectionalCrossEntropy(ce.loss, ce.rowLosses1, ce.rowLosses2,
                Transposes.addTransposed(ce.gradScores1, ce.gradScores2), null, ce.gradTau);
    }

    /** The loss of {@link #paired} alone: on the CPU backend one pass over {@code S}, no gradient. */
    static double pairedLoss(INDArray scores, double sign, double tau, double labelSmoothing) {
        if (HostArray.available()) {
            SharedExponential shared = SharedExponential.of(scores, sign, tau, labelSmoothing);
            if (shared != null) {
                return shared.loss;
            }
        }
        return paired(scores, sign, tau, labelSmoothing).loss;
    }

    /** How far below the largest logit a column's largest logit may lie for the shared exponential (FLOAT). */
    static final double SHARED_RANGE_FLOAT = 60;

    /** The same for DOUBLE. */
    static final double SHARED_RANGE_DOUBLE = 600;

    /** {@link #paired} on host memory with one exponential per pair, or null if the logits' range is too wide. */
    static BidirectionalCrossEntropy pairedOnHost(INDArray scores, double sign, double tau, double epsilon) {
        SharedExponential shared = SharedExponential.of(scores, sign, tau, epsilon);
        if (shared == null) {
            return null;
        }
        INDArray grad = GradientRows.matrix(scores, shared);
        return new BidirectionalCrossEntropy(shared.loss, shared.rowLosses1(), shared.rowLosses2(), grad, null,
                shared.gradTau());
    }

    /**
     * The one-process cross-entropy on host memory with one exponential per pair: its forward
     * statistics from one pass over {@code S}, and {@code ∂L/∂S} row by row
     * ({@link GradientRows}), so that a tape's backward can take each row while the row of
     * {@code S} is in cache instead of reading a stored gradient matrix.
     *
     * <p>The forward pass reads each row once: logits {@code z = σ·S/τ}, the row's maximum and sum,
     * the columns' running maxima and sums, {@code e_ij = exp(z_ij − rowmax_i)} with the row sum,
     * and the column sums of {@code e_ij·exp(rowmax_i − M_c)} relative to the largest row maximum
     * {@code M_c} its chunk of rows has seen so far (rescaled when {@code M_c} grows; the chunks
     * are merged at {@code M}, the largest logit). Each gradient row recomputes its exponentials
     * (vectorised, cheaper than storing and reading them back).
     */
    static final class SharedExponential implements GradientRows {
        final int n;
        final double loss;
        private final DataType type;
        private final double scale;
        private final double tau;
        private final double epsilon;
        private final double top;
        private final double[] rowMax;
        private final double[] rowFactor;
        private final double[] columnFactor;
        private final double[] rowLoss1;
        private final double[] rowLoss2;
        /** Row {@code i}'s part of {@code Σ (∂L/∂z)·z}, written by {@link #fill}. */
        private final double[] rowDots;
        private final Lanes lanes = Lanes.get();

        private SharedExponential(int n, DataType type, double scale, double tau, double epsilon, double top,
                double[] rowMax, double[] rowFactor, double[] columnFactor, double[] rowLoss1, double[] rowLoss2,
                double loss) {
            this.n = n;
            this.type = type;
            this.scale = scale;
            this.tau = tau;
            this.epsilon = epsilon;
            this.top = top;
            this.rowMax = rowMax;
            this.rowFactor = rowFactor;
            this.columnFactor = columnFactor;
            this.rowLoss1 = rowLoss1;
            this.rowLoss2 = rowLoss2;
            this.loss = loss;
            this.rowDots = new double[n];
        }

        /** The forward statistics of {@code scores} ({@code B × B}), or null if the logits' range is too wide. */
        static SharedExponential of(INDArray scores, double sign, double tau, double epsilon) {
            Forward forward = new Forward((int) scores.size(0), scores.dataType(), sign, tau, epsilon);
            RowVisitor.visitAll(scores, forward);
            return forward.result();
        }

        /**
         * The forward pass as a {@link RowVisitor}, so that it can ride on the pass that writes
         * {@code S} ({@link io.github.gram4j.core.ContrastiveScore#record(ModalityBatches, RowVisitor)}).
         */
        static final class Forward implements RowVisitor<Forward.Columns> {
            private final int n;
            private final DataType type;
            private final double scale;
            private final double tau;
            private final double epsilon;
            private final double[] rowMax;
            private final double[] rowSumZ;
            private final double[] rowSumExp;
            private final double[] diagonal;
            private final Lanes lanes = Lanes.get();
            private boolean finished;
            private SharedExponential result;

            /**
             * @param n {@code B}: the scores are {@code B × B}
             * @param type the scores' dtype
             * @param sign {@code −1} (volumes) or {@code +1} (similarities)
             */
            Forward(int n, DataType type, double sign, double tau, double epsilon) {
                this.n = n;
                this.type = type;
                this.scale = sign / tau;
                this.tau = tau;
                this.epsilon = epsilon;
                this.rowMax = new double[n];
                this.rowSumZ = new double[n];
                this.rowSumExp = new double[n];
                this.diagonal = new double[n];
            }

            /** One chunk's column statistics. */
            static final class Columns {
                final double[] e;
                final double[] max;
                final double[] sumZ;
                final double[] sumExp;
                final double[] stats = new double[2];
                /** The largest row maximum of this chunk so far: {@link #sumExp} is relative to it. */
                double top = Double.NEGATIVE_INFINITY;

                Columns(int n) {
                    e = new double[n];
                    max = new double[n];
                    sumZ = new double[n];
                    sumExp = new double[n];
                    java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
                }
            }

            @Override
            public Columns newChunk() {
                return new Columns(n);
            }

            @Override
            public void visit(int i, double[] z, Columns t) {
                lanes.logits(z, scale, t.max, t.sumZ, n, t.stats);
                double shift = t.stats[0];
                rowMax[i] = shift;
                rowSumZ[i] = t.stats[1];
                diagonal[i] = z[i];
                rowSumExp[i] = lanes.expShifted(z, shift, t.e, n);
                if (shift > t.top) {
                    lanes.scale(t.sumExp, Math.exp(t.top - shift), n);
                    t.top = shift;
                }
                lanes.axpy(Math.exp(shift - t.top), t.e, t.sumExp, n);
            }

            @Override
            public void finish(List<Columns> partials) {
                finished = true;
                double top = Double.NEGATIVE_INFINITY;
                for (Columns t : partials) {
                    top = Math.max(top, t.top);
                }
                double[] columnMax = new double[n];
                double[] columnSumZ = new double[n];
                double[] columnSumExp = new double[n];
                java.util.Arrays.fill(columnMax, Double.NEGATIVE_INFINITY);
                for (Columns t : partials) {
                    for (int j = 0; j < n; j++) {
                        columnMax[j] = Math.max(columnMax[j], t.max[j]);
                        columnSumZ[j] += t.sumZ[j];
                    }
                    lanes.axpy(Math.exp(t.top - top), t.sumExp, columnSumExp, n);
                }
                double range = type == DataType.DOUBLE ? SHARED_RANGE_DOUBLE : SHARED_RANGE_FLOAT;
                for (double m : columnMax) {
                    if (!(m - top >= -range)) {
                        return;
                    }
                }
                double half = 0.5 / n;
                double uniform = epsilon / n;
                double[] rowFactor = new double[n];
                double[] columnFactor = new double[n];
                double[] rowLoss1 = new double[n];
                double[] rowLoss2 = new double[n];
                double total = 0;
                for (int i = 0; i < n; i++) {
                    rowFactor[i] = half / rowSumExp[i];
                    columnFactor[i] = half / columnSumExp[i];
                    rowLoss1[i] = Math.log(rowSumExp[i]) + rowMax[i] - (1 - epsilon) * diagonal[i] - uniform * rowSumZ[i];
                    rowLoss2[i] = Math.log(columnSumExp[i]) + top - (1 - epsilon) * diagonal[i] - uniform * columnSumZ[i];
                    total += rowLoss1[i] + rowLoss2[i];
                }
                result = new SharedExponential(n, type, scale, tau, epsilon, top, rowMax, rowFactor, columnFactor,
                        rowLoss1, rowLoss2, 0.5 * total / n);
            }

            /**
             * {@return the statistics, or null if the logits' range is too wide for the shared
             * exponential}
             *
             * @throws IllegalStateException before {@link #finish}
             */
            SharedExponential result() {
                if (!finished) {
                    throw new IllegalStateException("the forward pass has not visited every row");
                }
                return result;
            }
        }

        /**
         * Row {@code i} of {@code ∂L/∂S = (σ/τ)·½ (softmax_row + softmax_column − 2q) / B}.
         *
         * @param i the row
         * @param scores row {@code i} of {@code S}; read only
         * @param gradient receives row {@code i} of {@code ∂L/∂S}
         */
        @Override
        public void fill(int i, double[] scores, double[] gradient) {
            double half = 0.5 / n;
            double offTarget = 2 * (epsilon / n) * half;
            double onTarget = 2 * (1 - epsilon) * half;
            double dot = lanes.softmaxGradient(scores, scale, rowMax[i], rowFactor[i], Math.exp(rowMax[i] - top),
                    columnFactor, offTarget, gradient, n);
            rowDots[i] = dot - onTarget * scores[i] * scale;
            gradient[i] -= onTarget * scale;
        }

        /** {@return {@code ∂L/∂τ}; valid once every row was {@linkplain #fill filled}} */
        double gradTau() {
            double sum = 0;
            for (double d : rowDots) {
                sum += d;
            }
            return -sum / tau;
        }

        INDArray rowLosses1() {
            return RowOps.vector(rowLoss1, type);
        }

        INDArray rowLosses2() {
            return RowOps.vector(rowLoss2, type);
        }
    }

    /** Per-chunk scratch of the host passes: two rows and a running sum. */
    private static final class RowScratch {
        final double[] a;
        final double[] b;
        double gradDotLogits;

        RowScratch(int n) {
            a = new double[n];
            b = new double[n];
        }
    }

    private record Direction(double meanLoss, INDArray rowLosses, INDArray gradLogits, double gradLogitsDotLogits) {
    }

    /** The same as {@link #direction}, one pass per row on host memory, in double. */
    private static Direction directionOnHost(INDArray scores, double scale, double epsilon, int offset) {
        int rows = (int) scores.size(0);
        int classes = (int) scores.size(1);
        DataType type = scores.dataType();
        INDArray grad = Nd4j.createUninitialized(type, new long[] {rows, classes}, 'c');
        HostArray in = HostArray.ofAny(scores);
        HostArray out = HostArray.of(grad);
        double[] rowLoss = new double[rows];
        double uniform = epsilon / classes;
        Lanes lanes = Lanes.get();
        List<RowScratch> partials = HostRows.forEachCollecting(rows, () -> new RowScratch(classes), (i, t) -> {
            double[] z = t.a;
            double[] g = t.b;
            in.read((long) i * classes, z, classes);
            double max = Double.NEGATIVE_INFINITY;
            double sumZ = 0;
            for (int j = 0; j < classes; j++) {
                z[j] *= scale;
                max = Math.max(max, z[j]);
                sumZ += z[j];
            }
            double sumExp = lanes.expShifted(z, max, g, classes);
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
            out.write((long) i * classes, g, classes);
        });
        double total = 0;
        for (double l : rowLoss) {
            total += l;
        }
        double gradDotLogits = 0;
        for (RowScratch t : partials) {
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
