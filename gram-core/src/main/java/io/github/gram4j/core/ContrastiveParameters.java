package io.github.gram4j.core;

/**
 * The parameters GRAM's contrastive losses share, their defaults and their checks, in one place
 * for gram-loss (analytic gradients) and gram-samediff (graphs).
 */
public final class ContrastiveParameters {

    /** GRAM's label smoothing {@code ε}: 0.1. */
    public static final double DEFAULT_LABEL_SMOOTHING = 0.1;

    /** GRAM's initial temperature {@code τ}: 0.07 (CLIP's too). */
    public static final double DEFAULT_TEMPERATURE = 0.07;

    /** CLIP's clamp of the logit scale: {@code τ = 1/min(exp(s), 100)}. */
    public static final double MAX_LOGIT_SCALE = 100.0;

    private ContrastiveParameters() {
    }

    /**
     * Checks a label smoothing {@code ε} (PyTorch's {@code cross_entropy(…, label_smoothing=ε)}).
     *
     * @param labelSmoothing {@code ε}
     * @return {@code labelSmoothing}, if it is in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise (NaN included), naming the argument and the value
     */
    public static double requireLabelSmoothing(double labelSmoothing) {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 1], got " + labelSmoothing);
        }
        return labelSmoothing;
    }
}
