package io.github.gram4j.samediff;

import io.github.gram4j.core.ContrastiveParameters;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Temperature variables for the SameDiff losses, as gram-loss's {@code Temperature}: GRAM learns
 * {@code τ} itself (a scalar variable initialised to 0.07); CLIP learns a log-scale {@code s} with
 * {@code τ = 1/min(exp(s), 100)}, whose gradient is 0 while clamped.
 */
public final class SameDiffTemperatures {

    /** CLIP's clamp of the logit scale {@code exp(s)}. */
    public static final double MAX_LOGIT_SCALE = ContrastiveParameters.MAX_LOGIT_SCALE;

    private SameDiffTemperatures() {
    }

    /**
     * {@code τ = 1/min(exp(logitScale), 100)}.
     *
     * @param sd the graph
     * @param name the temperature variable's name
     * @param logitScale a scalar variable (CLIP initialises it to {@code log(1/0.07)})
     * @return the variable {@code name} holding {@code τ}
     * @throws IllegalArgumentException for a null, foreign, non-floating-point or non-scalar
     *     {@code logitScale}
     */
    public static SDVariable fromLogitScale(SameDiff sd, String name, SDVariable logitScale) {
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        try {
            GraphArguments.requireTemperature(sd, logitScale);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace("tau", "logitScale"), e);
        }
        SDVariable scale = sd.math.min(sd.math.exp(logitScale), sd.constant(MAX_LOGIT_SCALE).castTo(logitScale.dataType()));
        return sd.math.reciprocal(name, scale);
    }

    /**
     * {@code 1/τ} computed in {@code type}, to multiply logits with: ND4J 1.0.0-M2.1's division backward
     * gets the gradient of a broadcast scalar divisor wrong (it is not the sum over the broadcast),
     * its multiplication backward gets it right.
     */
    static SDVariable inverse(SDVariable tau, DataType type) {
        return tau.getSameDiff().math.reciprocal(tau.dataType() == type ? tau : tau.castTo(type));
    }
}
