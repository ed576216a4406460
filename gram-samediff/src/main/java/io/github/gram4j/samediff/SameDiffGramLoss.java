package io.github.gram4j.samediff;

import java.util.List;

import io.github.gram4j.core.ContrastiveParameters;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * GRAM's bidirectional volume-based contrastive loss as a differentiable SameDiff scalar, the
 * graph counterpart of gram-loss's {@code GramLoss} (same numbers, same gradients):
 * <pre>
 *   L = ½ [ CE(−V₁/τ, t; ε) + CE(−V₂ᵀ/τ, t; ε) ]
 * </pre>
 * with the volumes of {@link SameDiffVolumes}, PyTorch's label smoothing {@code ε} (GRAM: 0.1)
 * and a temperature {@code τ}: a scalar variable (GRAM learns it from 0.07; see
 * {@link SameDiffTemperatures} for CLIP's log-scale form) or a fixed value. On one process
 * {@code V₁ = V₂ = V} and SameDiff differentiates through both terms; in the gathered form
 * ({@link #loss(SameDiff, String, SDVariable, GatheredVariables)}) the gradients follow the graph:
 * feed the gathered tensors as placeholders for GRAM's (gather without gradient).
 *
 * <p>The cross-entropy runs in DOUBLE (cast back to the embeddings' dtype), as gram-loss's does.
 * Use the result as the loss of a SameDiff model: {@code sd.setLossVariables(loss)} and
 * {@code sd.fit(…)}, or {@code sd.calculateGradients(…)}. Immutable and thread-safe (SameDiff
 * instances themselves are not).
 */
public final class SameDiffGramLoss extends ContrastiveGraphLoss {

    /** GRAM's label smoothing, 0.1 ({@link ContrastiveParameters#DEFAULT_LABEL_SMOOTHING}). */
    public static final double DEFAULT_LABEL_SMOOTHING = ContrastiveParameters.DEFAULT_LABEL_SMOOTHING;

    /** The loss with GRAM's label smoothing, 0.1. */
    public SameDiffGramLoss() {
        this(DEFAULT_LABEL_SMOOTHING);
    }

    /**
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise
     */
    public SameDiffGramLoss(double labelSmoothing) {
        super(labelSmoothing);
    }

    /**
     * Adds the one-process loss to {@code sd}.
     *
     * @param sd the graph
     * @param name the loss variable's name (a scalar); intermediates go in the name scope
     *     {@code name}
     * @param tau the temperature, a scalar variable, constant or placeholder (cast to DOUBLE for
     *     the cross-entropy)
     * @param anchor {@code B × d}, FLOAT or DOUBLE
     * @param candidates {@code K ≥ 1} batches of {@code B × d}; row {@code i} of every batch is the
     *     positive of anchor row {@code i}
     * @return the loss, a scalar of the embeddings' dtype
     * @throws IllegalArgumentException for the argument errors of {@link SameDiffVolumes}, a
     *     null, foreign or non-scalar {@code tau}, or known row counts of anchor and candidates
     *     that differ
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, SDVariable anchor, SDVariable... candidates) {
        List<SDVariable> list = checkPairs(sd, name, anchor, "candidates", candidates);
        GraphArguments.requireTemperature(sd, tau);
        return oneProcess(sd, name, FixedOrVariable.variable(tau), anchor, list);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, SDVariable, SDVariable...)} with a fixed
     * temperature: a constant {@code ⟨name⟩/tau} in the embeddings' dtype (GRAM's value is
     * {@code 0.07}; make {@code τ} a variable to learn it as GRAM does).
     *
     * @param sd the graph
     * @param name the loss variable's name
     * @param tau {@code τ}, finite and positive
     * @param anchor {@code B1 × d}, FLOAT or DOUBLE
     * @param candidates {@code K ≥ 1} batches of {@code B2 × d}
     * @return the scalar loss variable {@code name}
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, SDVariable anchor, SDVariable... candidates) {
        List<SDVariable> list = checkPairs(sd, name, anchor, "candidates", candidates);
        return oneProcess(sd, name, FixedOrVariable.fixed(tau), anchor, list);
    }

    @Override
    SDVariable scores(SameDiff sd, SDVariable anchor, List<SDVariable> candidates) {
        return SameDiffVolumes.build(sd, anchor, candidates);
    }

    @Override
    double sign() {
        return -1;
    }

    @Override
    void checkCandidateCount(List<SDVariable> candidates) {
        // any K ≥ 1, checked by GatheredVariables
    }
}
