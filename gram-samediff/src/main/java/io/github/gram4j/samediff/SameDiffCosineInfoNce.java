package io.github.gram4j.samediff;

import java.util.List;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * The CLIP-style InfoNCE baseline as a SameDiff scalar, the graph counterpart of gram-loss's
 * {@code CosineInfoNce}: {@code L = ½ [CE(S₁/τ, t; ε) + CE(S₂ᵀ/τ, t; ε)]} with
 * {@code S = anchors·candidatesᵀ}, one-process or gathered
 * ({@link #loss(SameDiff, String, SDVariable, GatheredVariables)}, one candidate batch). The
 * embeddings are used as given: L2-normalise the rows in the graph for cosine similarity, as
 * open_clip does. Two modalities. Immutable and thread-safe.
 */
public final class SameDiffCosineInfoNce extends ContrastiveGraphLoss {

    /** No label smoothing (CLIP's default). */
    public SameDiffCosineInfoNce() {
        this(0.0);
    }

    /**
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise
     */
    public SameDiffCosineInfoNce(double labelSmoothing) {
        super(labelSmoothing);
    }

    /**
     * Adds the one-process loss to {@code sd}.
     *
     * @param sd the graph
     * @param name the loss variable's name (a scalar)
     * @param tau the temperature, a scalar
     * @param anchor {@code B × d}, FLOAT or DOUBLE
     * @param candidate {@code B × d}; row {@code i} is the positive of anchor row {@code i}
     * @return the scalar loss variable {@code name}
     * @throws IllegalArgumentException as {@link SameDiffGramLoss#loss(SameDiff, String, SDVariable,
     *     SDVariable, SDVariable...)}
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, SDVariable anchor, SDVariable candidate) {
        List<SDVariable> list = checkPairs(sd, name, anchor, "candidate", candidate);
        GraphArguments.requireTemperature(sd, tau);
        return oneProcess(sd, name, FixedOrVariable.variable(tau), anchor, list);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, SDVariable, SDVariable)} with a fixed
     * temperature (a constant {@code ⟨name⟩/tau}; CLIP starts from 0.07 and learns it).
     *
     * @param sd the graph
     * @param name the loss variable's name
     * @param tau {@code τ}, finite and positive
     * @param anchor {@code B × d}, FLOAT or DOUBLE
     * @param candidate {@code B × d}; row {@code i} is the positive of anchor row {@code i}
     * @return the scalar loss variable {@code name}
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, SDVariable anchor, SDVariable candidate) {
        List<SDVariable> list = checkPairs(sd, name, anchor, "candidate", candidate);
        return oneProcess(sd, name, FixedOrVariable.fixed(tau), anchor, list);
    }

    @Override
    SDVariable scores(SameDiff sd, SDVariable anchor, List<SDVariable> candidates) {
        return sd.mmul(anchor, candidates.get(0), false, true, false);
    }

    @Override
    double sign() {
        return 1;
    }

    @Override
    void checkCandidateCount(List<SDVariable> candidates) {
        if (candidates.size() != 1) {
            throw new IllegalArgumentException("the cosine InfoNCE loss takes exactly one candidate batch, got "
                    + candidates.size());
        }
    }
}
