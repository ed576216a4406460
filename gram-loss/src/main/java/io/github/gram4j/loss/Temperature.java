package io.github.gram4j.loss;

import io.github.gram4j.core.ContrastiveParameters;

/**
 * The temperature {@code τ} of a contrastive loss (logits {@code = ±score / τ}), in one of two
 * parametrisations, and the chain rule from {@code ∂L/∂τ} to the gradient of its parameter:
 * <ul>
 *   <li>{@link #of(double)}: GRAM's plain learnable {@code τ} (initialised at 0.07); the gradient
 *       reported is {@code ∂L/∂τ};</li>
 *   <li>{@link #fromLogitScale(double)}: CLIP's log-scale {@code s} with
 *       {@code τ = 1 / min(exp(s), 100)}; the gradient reported is {@code ∂L/∂s}, which is 0 while
 *       the clamp is active ({@code exp(s) > 100}).</li>
 * </ul>
 * Immutable.
 */
public final class Temperature {

    /** GRAM's initial temperature. */
    public static final double GRAM_DEFAULT = ContrastiveParameters.DEFAULT_TEMPERATURE;

    /** The largest logit scale {@code 1/τ} the CLIP parametrisation allows. */
    public static final double MAX_LOGIT_SCALE = ContrastiveParameters.MAX_LOGIT_SCALE;

    private final double tau;
    private final double logitScale;
    private final boolean logParametrised;

    private Temperature(double tau, double logitScale, boolean logParametrised) {
        this.tau = tau;
        this.logitScale = logitScale;
        this.logParametrised = logParametrised;
    }

    /**
     * The smallest accepted {@code τ}: {@link Double#MIN_NORMAL} (2.2e-308); subnormal values have
     * lost precision and their reciprocal overflows.
     */
    public static final double MIN_TAU = Double.MIN_NORMAL;

    /**
     * The smallest accepted logit scale {@code s}: {@code ln(Double.MIN_NORMAL)} ≈ −708.4; below
     * it {@code τ = 1/exp(s)} is beyond {@code 1/MIN_NORMAL}, and from about −745 it is infinite.
     */
    public static final double MIN_LOGIT_SCALE = Math.log(Double.MIN_NORMAL);

    /**
     * A plain temperature.
     *
     * <p>The data-dependent limits (logits {@code V/τ} within the dtype) are checked when a loss is
     * computed, with a message naming {@code τ} and the largest score; in FLOAT, {@code 1/τ} must
     * stay below 5.3e36, in DOUBLE below 2.8e306.
     *
     * @param tau {@code τ}
     * @return the temperature
     * @throws IllegalArgumentException unless {@code tau} is finite and at least
     *     {@link #MIN_TAU} (NaN, infinities, zero, negative and subnormal values are refused)
     */
    public static Temperature of(double tau) {
        if (!(tau >= MIN_TAU) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("temperature must be finite and >= " + MIN_TAU
                    + " (Double.MIN_NORMAL; a subnormal or non-positive tau breaks the logits), got " + tau);
        }
        return new Temperature(tau, Math.log(1 / tau), false);
    }

    /**
     * A CLIP-style log-scale parameter {@code s}: {@code τ = 1 / min(exp(s), 100)}.
     *
     * @param logitScale {@code s}
     * @return the temperature {@code 1 / min(exp(s), 100)}
     * @throws IllegalArgumentException unless {@code logitScale} is finite and at least
     *     {@link #MIN_LOGIT_SCALE} (below it {@code τ} is no longer a normal finite double)
     */
    public static Temperature fromLogitScale(double logitScale) {
        if (!Double.isFinite(logitScale)) {
            throw new IllegalArgumentException("logit scale must be finite, got " + logitScale);
        }
        if (logitScale < MIN_LOGIT_SCALE) {
            throw new IllegalArgumentException("logit scale must be >= " + MIN_LOGIT_SCALE
                    + " (tau = 1/exp(s) overflows below it), got " + logitScale);
        }
        return new Temperature(1 / Math.min(Math.exp(logitScale), MAX_LOGIT_SCALE), logitScale, true);
    }

    /** {@return {@code τ}, the value the logits are divided by} */
    public double tau() {
        return tau;
    }

    /** {@return whether this is the CLIP log-scale parametrisation} */
    public boolean isLogitScale() {
        return logParametrised;
    }

    /** {@return the learnable parameter: {@code τ} itself, or {@code s} for the log-scale form} */
    public double parameter() {
        return logParametrised ? logitScale : tau;
    }

    /** {@code ∂L/∂parameter} from {@code ∂L/∂τ}. */
    double chain(double gradTau) {
        if (!logParametrised) {
            return gradTau;
        }
        return Math.exp(logitScale) > MAX_LOGIT_SCALE ? 0.0 : -tau * gradTau;
    }

    @Override
    public String toString() {
        return logParametrised ? "Temperature[logitScale=" + logitScale + ", tau=" + tau + "]" : "Temperature[tau=" + tau + "]";
    }
}
