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
     * A plain temperature.
     *
     * @param tau {@code τ}
     * @return the temperature
     * @throws IllegalArgumentException unless {@code tau} is finite and positive
     */
    public static Temperature of(double tau) {
        if (!(tau > 0) || Double.isInfinite(tau)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, got " + tau);
        }
        return new Temperature(tau, Math.log(1 / tau), false);
    }

    /**
     * A CLIP-style log-scale parameter {@code s}: {@code τ = 1 / min(exp(s), 100)}.
     *
     * @param logitScale {@code s}
     * @return the temperature {@code 1 / min(exp(s), 100)}
     * @throws IllegalArgumentException unless {@code logitScale} is finite
     */
    public static Temperature fromLogitScale(double logitScale) {
        if (!Double.isFinite(logitScale)) {
            throw new IllegalArgumentException("logit scale must be finite, got " + logitScale);
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
