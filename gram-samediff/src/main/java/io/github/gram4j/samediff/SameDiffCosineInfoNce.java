package io.github.gram4j.samediff;

import org.nd4j.autodiff.samediff.NameScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The CLIP-style InfoNCE baseline as a SameDiff scalar, the graph counterpart of gram-loss's
 * {@code CosineInfoNce}: {@code L = ½ [CE(S₁/τ, t; ε) + CE(S₂ᵀ/τ, t; ε)]} with
 * {@code S = anchors·candidatesᵀ}. The embeddings are used as given: L2-normalise the rows in the
 * graph for cosine similarity, as open_clip does. Two modalities. Immutable and thread-safe.
 */
public final class SameDiffCosineInfoNce {

    private final double labelSmoothing;

    /** No label smoothing (CLIP's default). */
    public SameDiffCosineInfoNce() {
        this(0.0);
    }

    /**
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise
     */
    public SameDiffCosineInfoNce(double labelSmoothing) {
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
     * @param name the loss variable's name (a scalar)
     * @param tau the temperature, a scalar
     * @param anchor {@code B × d}, FLOAT or DOUBLE
     * @param candidate {@code B × d}; row {@code i} is the positive of anchor row {@code i}
     * @throws IllegalArgumentException as {@link SameDiffGramLoss#loss(SameDiff, String, SDVariable,
     *     SDVariable, SDVariable...)}
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, SDVariable anchor, SDVariable candidate) {
        checkedPair(sd, name, anchor, candidate);
        GraphArguments.requireTemperature(sd, tau);
        return oneProcess(sd, name, FixedOrVariable.variable(tau), anchor, candidate);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, SDVariable, SDVariable)} with a fixed
     * temperature (a constant {@code ⟨name⟩/tau}; CLIP starts from 0.07 and learns it).
     *
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, SDVariable anchor, SDVariable candidate) {
        checkedPair(sd, name, anchor, candidate);
        return oneProcess(sd, name, FixedOrVariable.fixed(tau), anchor, candidate);
    }

    /**
     * Adds one rank's gathered loss to {@code sd}; {@code batches} must hold one candidate batch.
     *
     * @throws IllegalArgumentException for a null, foreign or non-scalar {@code tau}, batches of
     *     another graph, or more than one candidate batch
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, GatheredVariables batches) {
        checkedGathered(sd, name, batches);
        GraphArguments.requireTemperature(sd, tau);
        return gathered(sd, name, FixedOrVariable.variable(tau), batches);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, GatheredVariables)} with a fixed temperature.
     *
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, GatheredVariables batches) {
        checkedGathered(sd, name, batches);
        return gathered(sd, name, FixedOrVariable.fixed(tau), batches);
    }

    private SDVariable oneProcess(SameDiff sd, String name, FixedOrVariable tau, SDVariable anchor, SDVariable candidate) {
        SDVariable t = tau.in(sd, name, anchor.dataType());
        SDVariable loss;
        try (NameScope ignored = sd.withNameScope(name)) {
            loss = SmoothedCrossEntropy.paired(sd, similarity(sd, anchor, candidate), t, 1, labelSmoothing);
        }
        return loss.rename(name);
    }

    private SDVariable gathered(SameDiff sd, String name, FixedOrVariable tau, GatheredVariables batches) {
        SDVariable t = tau.in(sd, name, batches.localAnchor().dataType());
        SDVariable loss;
        try (NameScope ignored = sd.withNameScope(name)) {
            SDVariable s1 = similarity(sd, batches.localAnchor(), batches.gatheredCandidates().get(0));
            SDVariable s2 = similarity(sd, batches.gatheredAnchor(), batches.localCandidates().get(0));
            loss = SmoothedCrossEntropy.gathered(sd, s1, s2, t, 1, batches.batchSize(),
                    batches.offset(), labelSmoothing);
        }
        return loss.rename(name);
    }

    private static void checkedPair(SameDiff sd, String name, SDVariable anchor, SDVariable candidate) {
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        GraphArguments.requireBatch(sd, "anchor", anchor, null, null);
        GraphArguments.requireBatch(sd, "candidate", candidate, anchor, "anchor");
        SameDiffGramLoss.requirePairedRows(anchor, candidate, "anchor", "candidate");
    }

    private static void checkedGathered(SameDiff sd, String name, GatheredVariables batches) {
        SameDiffGramLoss.checkedGathered(sd, name, batches);
        if (batches.localCandidates().size() != 1) {
            throw new IllegalArgumentException("the cosine InfoNCE loss takes exactly one candidate batch, got "
                    + batches.localCandidates().size());
        }
    }

    private static SDVariable similarity(SameDiff sd, SDVariable anchor, SDVariable candidate) {
        return sd.mmul(anchor, candidate, false, true, false);
    }
}
