package io.github.gram4j.loss;

import java.util.List;
import java.util.Locale;
import java.util.function.DoubleSupplier;

import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.HostRows;
import io.github.gram4j.core.internal.Lanes;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;

/**
 * The range in which a contrastive loss on scores {@code S} at temperature {@code τ} stays finite
 * in a computation dtype, and the checks that refuse what lies outside it:
 * <ul>
 *   <li>logits: {@code |S|/τ ≤ Z} and {@code 1/τ ≤ Z} (the gradient of the scores is up to
 *       {@code 1/τ}), {@code Z} = the dtype's largest value / 64 (5.3e36 FLOAT, 2.8e306 DOUBLE),
 *       so that row losses ({@code ≤ 3Z + log N}) and gradients fit the dtype;</li>
 *   <li>{@code ∂L/∂τ = −Σ ∂L/∂z · z / τ}: {@code |S|/τ² ≤ 2.2e307} so that it fits a double.</li>
 * </ul>
 * The checks use the bound on {@code |S|} known from the row norms before any GEMM work; only
 * when that bound is too loose do they read the computed scores' largest magnitude. A final check
 * refuses any non-finite loss or gradient that extreme but accepted values could still produce.
 */
final class LogitRange {

    private LogitRange() {
    }

    /** {@code Z} for a computation dtype: its largest finite value / 64. */
    static double logitLimit(DataType type) {
        return (type == DataType.DOUBLE ? Double.MAX_VALUE : Float.MAX_VALUE) / 64;
    }

    /** The limit on {@code |S|/τ²} ({@code ∂L/∂τ} in double). */
    static final double TAU_GRADIENT_LIMIT = Double.MAX_VALUE / 8;

    /**
     * Refuses a temperature too small for any score in {@code type} (before any work).
     *
     * @throws IllegalArgumentException if {@code 1/τ} exceeds {@link #logitLimit}
     */
    static void requireTemperature(double tau, DataType type) {
        if (1 / tau > logitLimit(type)) {
            throw new IllegalArgumentException("temperature tau = " + tau + " is too small for " + type
                    + ": the score gradients 1/tau = " + fmt(1 / tau) + " exceed the " + type + " limit "
                    + fmt(logitLimit(type)) + "; use a larger tau" + (type == DataType.DOUBLE ? "" : " or DOUBLE"));
        }
    }

    /**
     * Refuses scores whose logits {@code |S|/τ} (or {@code |S|/τ²}) leave the range.
     *
     * @param what the scores, for the message ("volumes", "similarities")
     * @param log2Bound {@code log₂} of a bound on {@code |S|} from the row norms
     * @param largest the largest {@code |S|} actually computed, read only when the bound is too loose
     */
    static void requireLogits(String what, double tau, DataType type, double log2Bound, DoubleSupplier largest) {
        double bound = Math.pow(2, log2Bound);
        if (within(bound, tau, type)) {
            return;
        }
        double v = largest.getAsDouble();
        if (!within(v, tau, type)) {
            throw new IllegalArgumentException("temperature tau = " + tau + " and the largest |" + what + "| = " + fmt(v)
                    + " give logits |" + what + "|/tau = " + fmt(v / tau) + " and |" + what + "|/tau^2 = "
                    + fmt(v / tau / tau) + ", beyond the " + type + " limits (" + fmt(logitLimit(type)) + ", "
                    + fmt(TAU_GRADIENT_LIMIT) + "); normalise the rows (the scores scale with the row norms), use a larger tau"
                    + (type == DataType.DOUBLE ? "" : " or DOUBLE"));
        }
    }

    private static boolean within(double score, double tau, DataType type) {
        return score / tau <= logitLimit(type) && score / tau / tau <= TAU_GRADIENT_LIMIT;
    }

    /** The largest magnitude in {@code scores}, as a supplier for {@link #requireLogits}. */
    static DoubleSupplier largestOf(INDArray... scores) {
        return () -> {
            double max = 0;
            for (INDArray s : scores) {
                max = Math.max(max, s.amaxNumber().doubleValue());
            }
            return max;
        };
    }

    /** A bound on every score of the batches: the volume bound (Cauchy–Schwarz for k = 2). */
    static double log2Bound(ModalityBatches... batches) {
        double bound = Double.NEGATIVE_INFINITY;
        for (ModalityBatches b : batches) {
            bound = Math.max(bound, b.log2VolumeBound());
        }
        return bound;
    }

    /**
     * The last line of defence: refuses a result with a non-finite loss, {@code ∂L/∂τ} or gradient
     * entry (a value range the checks above accept can still overflow an intermediate of the
     * gradients in FLOAT for extreme row norms).
     *
     * @throws IllegalArgumentException naming the first non-finite part, τ and the remedies
     */
    static LossResult requireFinite(LossResult r, double tau, DataType type) {
        return requireFinite(r, tau, type, false);
    }

    /**
     * As {@link #requireFinite(LossResult, double, DataType)}.
     *
     * @param localChecked the anchor and candidate gradients were already checked finite where they
     *     were written ({@link io.github.gram4j.core.fast.VolumeGradients#checkedFinite()}): not
     *     scanned again
     */
    static LossResult requireFinite(LossResult r, double tau, DataType type, boolean localChecked) {
        // the loss, the row losses and ∂L/∂τ are bounded by the logit checks; the input gradients
        // carry products of norms and 1/τ that extreme FLOAT inputs can still overflow
        String bad = null;
        if (!Double.isFinite(r.loss()) || !Double.isFinite(r.gradTemperature())) {
            bad = "the loss or its temperature gradient";
        } else if (!localChecked && !finite(r.gradAnchor())) {
            bad = "the anchor gradient";
        } else if (!localChecked && !allFinite(r.gradCandidates())) {
            bad = "a candidate gradient";
        } else if (r.gradGatheredAnchor() != null && !finite(r.gradGatheredAnchor())) {
            bad = "the gathered anchor gradient";
        } else if (!allFinite(r.gradGatheredCandidates())) {
            bad = "a gathered candidate gradient";
        }
        if (bad != null) {
            throw new IllegalArgumentException(bad + " overflows " + type + " at temperature tau = " + tau
                    + " (largest |score| " + fmt(Math.max(r.anchorScores().amaxNumber().doubleValue(),
                            r.candidateScores().amaxNumber().doubleValue()))
                    + "); normalise the rows, use a larger tau" + (type == DataType.DOUBLE ? "" : " or DOUBLE"));
        }
        return r;
    }

    private static boolean allFinite(List<INDArray> arrays) {
        for (INDArray a : arrays) {
            if (!finite(a)) {
                return false;
            }
        }
        return true;
    }

    /** Whether every entry of {@code x} is finite: a host scan on the CPU backend, one ND4J op elsewhere. */
    static boolean finite(INDArray x) {
        boolean host = HostArray.available() && (x.dataType() == DataType.FLOAT || x.dataType() == DataType.DOUBLE)
                && x.ordering() == 'c' && x.elementWiseStride() == 1;
        if (!host) {
            return Nd4j.getExecutioner().exec(new MatchCondition(x, Conditions.notFinite())).getInt(0) == 0;
        }
        HostArray values = HostArray.of(x);
        int chunk = 4096;
        int chunks = (int) ((values.length() + chunk - 1) / chunk);
        Lanes lanes = Lanes.get();
        java.util.concurrent.atomic.AtomicBoolean finite = new java.util.concurrent.atomic.AtomicBoolean(true);
        HostRows.forEach(chunks, () -> new double[chunk], (c, row) -> {
            long from = (long) c * chunk;
            int n = (int) Math.min(chunk, values.length() - from);
            values.read(from, row, n);
            if (!lanes.allFinite(row, n)) {
                finite.set(false);
            }
        });
        return finite.get();
    }

    static String fmt(double x) {
        return String.format(Locale.ROOT, "%.3g", x);
    }

    /**
     * The last line of defence for a loss value alone ({@code value} methods).
     *
     * @throws IllegalArgumentException if {@code loss} is not finite, naming τ and the remedies
     */
    static double requireFiniteLoss(double loss, double tau, DataType type) {
        if (!Double.isFinite(loss)) {
            throw new IllegalArgumentException("the loss overflows " + type + " at temperature tau = " + tau
                    + "; normalise the rows or use a larger tau" + (type == DataType.DOUBLE ? "" : " or DOUBLE"));
        }
        return loss;
    }
}
