package io.github.gram4j.samediff;

import java.util.Arrays;
import java.util.List;

import org.nd4j.autodiff.samediff.NameScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * GRAM's bidirectional volume-based contrastive loss as a differentiable SameDiff scalar, the
 * graph counterpart of gram-loss's {@code GramLoss} (same numbers, same gradients):
 * <pre>
 *   L = ½ [ CE(−V₁/τ, t; ε) + CE(−V₂ᵀ/τ, t; ε) ]
 * </pre>
 * with the volumes of {@link SameDiffVolumes}, PyTorch's label smoothing {@code ε} (GRAM: 0.1)
 * and a temperature variable {@code τ} (GRAM learns it from 0.07; see
 * {@link SameDiffTemperatures} for CLIP's log-scale form). On one process {@code V₁ = V₂ = V}
 * and SameDiff differentiates through both terms; in the gathered form the gradients follow the
 * graph: feed the gathered tensors as placeholders for GRAM's (gather without gradient).
 *
 * <p>Use it as the loss of a SameDiff model: {@code sd.setLossVariables(loss)} and
 * {@code sd.fit(…)}, or {@code sd.calculateGradients(…)}. Immutable and thread-safe (SameDiff
 * instances themselves are not).
 */
public final class SameDiffGramLoss {

    /** GRAM's label smoothing. */
    public static final double DEFAULT_LABEL_SMOOTHING = 0.1;

    private final double labelSmoothing;

    /** The loss with GRAM's label smoothing, 0.1. */
    public SameDiffGramLoss() {
        this(DEFAULT_LABEL_SMOOTHING);
    }

    /**
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise
     */
    public SameDiffGramLoss(double labelSmoothing) {
        GraphArguments.requireLabelSmoothing(labelSmoothing);
        this.labelSmoothing = labelSmoothing;
    }

    /** {@code ε}. */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * Adds the one-process loss to {@code sd}.
     *
     * @param sd the graph
     * @param name the loss variable's name (a scalar); intermediates go in the name scope
     *     {@code name}
     * @param tau the temperature, a scalar variable, constant or placeholder (cast to the
     *     embeddings' dtype)
     * @param anchor {@code B × d}, FLOAT or DOUBLE
     * @param candidates {@code K ≥ 1} batches of {@code B × d}; row {@code i} of every batch is the
     *     positive of anchor row {@code i}
     * @return the loss, a scalar of the embeddings' dtype
     * @throws IllegalArgumentException for the argument errors of {@link SameDiffVolumes}, a
     *     null, foreign or non-scalar {@code tau}, or known row counts of anchor and candidates
     *     that differ
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, SDVariable anchor, SDVariable... candidates) {
        List<SDVariable> list = checkedPairs(sd, name, anchor, candidates);
        GraphArguments.requireTemperature(sd, tau);
        return oneProcess(sd, name, FixedOrVariable.variable(tau), anchor, list);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, SDVariable, SDVariable...)} with a fixed
     * temperature: a constant {@code ⟨name⟩/tau} in the embeddings' dtype (GRAM's value is
     * {@code 0.07}; make {@code τ} a variable to learn it as GRAM does).
     *
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, SDVariable anchor, SDVariable... candidates) {
        List<SDVariable> list = checkedPairs(sd, name, anchor, candidates);
        return oneProcess(sd, name, FixedOrVariable.fixed(tau), anchor, list);
    }

    /**
     * Adds one rank's gathered loss to {@code sd}: {@code V₁ = vol(local anchors, gathered
     * candidates)} ({@code bs × N}) and {@code V₂ = vol(gathered anchors, local candidates)}
     * ({@code N × bs}), targets {@code offset + i}.
     *
     * @param sd the graph
     * @param name the loss variable's name
     * @param tau the temperature, a scalar
     * @param batches the local and gathered inputs and the offset
     * @throws IllegalArgumentException for a null, foreign or non-scalar {@code tau}, or
     *     {@code batches} of another graph
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, GatheredVariables batches) {
        checkedGathered(sd, name, batches);
        GraphArguments.requireTemperature(sd, tau);
        return gathered(sd, name, FixedOrVariable.variable(tau), batches);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, GatheredVariables)} with a fixed temperature
     * (a constant {@code ⟨name⟩/tau}).
     *
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, GatheredVariables batches) {
        checkedGathered(sd, name, batches);
        return gathered(sd, name, FixedOrVariable.fixed(tau), batches);
    }

    private SDVariable oneProcess(SameDiff sd, String name, FixedOrVariable tau, SDVariable anchor,
            List<SDVariable> candidates) {
        SDVariable t = tau.in(sd, name, anchor.dataType());
        SDVariable loss;
        try (NameScope ignored = sd.withNameScope(name)) {
            loss = SmoothedCrossEntropy.paired(sd, SameDiffVolumes.build(sd, anchor, candidates), t, -1, labelSmoothing);
        }
        return loss.rename(name);
    }

    private SDVariable gathered(SameDiff sd, String name, FixedOrVariable tau, GatheredVariables batches) {
        SDVariable t = tau.in(sd, name, batches.localAnchor().dataType());
        SDVariable loss;
        try (NameScope ignored = sd.withNameScope(name)) {
            SDVariable v1 = SameDiffVolumes.build(sd, batches.localAnchor(), batches.gatheredCandidates());
            SDVariable v2 = SameDiffVolumes.build(sd, batches.gatheredAnchor(), batches.localCandidates());
            loss = SmoothedCrossEntropy.gathered(sd, v1, v2, t, -1, batches.batchSize(),
                    batches.offset(), labelSmoothing);
        }
        return loss.rename(name);
    }

    /** Checks the one-process arguments other than {@code τ}; returns the candidates as a list. */
    static List<SDVariable> checkedPairs(SameDiff sd, String name, SDVariable anchor, SDVariable... candidates) {
        List<SDVariable> list = candidates == null ? null : Arrays.asList(candidates);
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        GraphArguments.requireBatch(sd, "anchor", anchor, null, null);
        GraphArguments.requireCandidates(sd, "candidates", list, anchor, "anchor");
        requirePairedRows(anchor, list.get(0), "anchor", "candidates[0]");
        return list;
    }

    /** Checks the gathered-form arguments other than {@code τ}. */
    static void checkedGathered(SameDiff sd, String name, GatheredVariables batches) {
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        requireSameGraph(sd, batches);
    }

    static void requireSameGraph(SameDiff sd, GatheredVariables batches) {
        if (batches == null) {
            throw new IllegalArgumentException("batches must not be null");
        }
        if (batches.graph() != sd) {
            throw new IllegalArgumentException("batches belong to another SameDiff instance");
        }
    }

    static void requirePairedRows(SDVariable anchor, SDVariable candidate, String anchorName, String candidateName) {
        long rows = GraphArguments.rows(anchor);
        long candidateRows = GraphArguments.rows(candidate);
        if (rows >= 0 && candidateRows >= 0 && rows != candidateRows) {
            throw new IllegalArgumentException(anchorName + " has shape " + Arrays.toString(anchor.getShape()) + " but "
                    + candidateName + " has shape " + Arrays.toString(candidate.getShape())
                    + "; the loss pairs anchor row i with candidate row i");
        }
    }
}
