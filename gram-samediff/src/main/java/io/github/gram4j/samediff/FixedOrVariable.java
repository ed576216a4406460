package io.github.gram4j.samediff;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A temperature given as a graph variable or as a fixed value. The constant for a fixed value is
 * only added when the loss is built (after every argument was checked), named
 * {@code ⟨loss name⟩/tau}.
 */
final class FixedOrVariable {

    private final SDVariable variable;
    private final double value;

    private FixedOrVariable(SDVariable variable, double value) {
        this.variable = variable;
        this.value = value;
    }

    static FixedOrVariable variable(SDVariable tau) {
        return new FixedOrVariable(tau, Double.NaN);
    }

    /** @throws IllegalArgumentException unless {@code tau} is finite and positive */
    static FixedOrVariable fixed(double tau) {
        if (!(tau > 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("tau must be finite and > 0, got " + tau);
        }
        return new FixedOrVariable(null, tau);
    }

    /** The variable, or a new constant {@code ⟨lossName⟩/tau} of {@code type}. */
    SDVariable in(SameDiff sd, String lossName, DataType type) {
        return variable != null ? variable : sd.constant(lossName + "/tau", Nd4j.scalar(type, value));
    }
}
