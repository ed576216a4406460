package io.github.gram4j.samediff;

import java.util.Arrays;
import java.util.List;

import io.github.gram4j.core.ContrastiveParameters;
import org.nd4j.autodiff.samediff.NameScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * What GRAM's loss and the cosine baseline share as SameDiff graphs: the bidirectional smoothed
 * cross-entropy on {@code sign·score/τ} ({@link SmoothedCrossEntropy}), its one-process and
 * gathered forms, and a temperature given as a variable or a fixed value. A subclass says how a
 * batch of anchors scores against a batch of candidate tuples.
 */
abstract sealed class ContrastiveGraphLoss permits SameDiffGramLoss, SameDiffCosineInfoNce {

    private final double labelSmoothing;

    ContrastiveGraphLoss(double labelSmoothing) {
        this.labelSmoothing = ContrastiveParameters.requireLabelSmoothing(labelSmoothing);
    }

    /** {@return {@code ε}} */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * Adds one rank's gathered loss to {@code sd}: scores of the local anchors against the
     * gathered candidates ({@code bs × N}) and of the gathered anchors against the local candidates
     * ({@code N × bs}), targets {@code offset + i}.
     *
     * @param sd the graph
     * @param name the loss variable's name (a scalar); intermediates go in the name scope
     *     {@code name}
     * @param tau the temperature, a scalar variable, constant or placeholder
     * @param batches the local and gathered inputs and the offset
     * @return the loss, a scalar of the embeddings' dtype
     * @throws IllegalArgumentException for a null {@code sd} or {@code name}, {@code batches} of
     *     another graph or with a candidate count this loss does not take, or a null, foreign or
     *     non-scalar {@code tau}
     */
    public SDVariable loss(SameDiff sd, String name, SDVariable tau, GatheredVariables batches) {
        checkGathered(sd, name, batches);
        GraphArguments.requireTemperature(sd, tau);
        return gathered(sd, name, FixedOrVariable.variable(tau), batches);
    }

    /**
     * As {@link #loss(SameDiff, String, SDVariable, GatheredVariables)} with a fixed temperature:
     * a constant {@code ⟨name⟩/tau} in the embeddings' dtype.
     *
     * @param sd the graph
     * @param name the loss variable's name
     * @param tau {@code τ}, finite and positive
     * @param batches this rank's local and gathered variables and offset
     * @return the scalar loss variable {@code name}
     * @throws IllegalArgumentException as the variable-{@code τ} form, or for a {@code tau} that
     *     is not finite and positive
     */
    public SDVariable loss(SameDiff sd, String name, double tau, GatheredVariables batches) {
        checkGathered(sd, name, batches);
        return gathered(sd, name, FixedOrVariable.fixed(tau), batches);
    }

    /** The {@code rows(anchor) × rows(candidates)} scores of checked inputs, in the current name scope. */
    abstract SDVariable scores(SameDiff sd, SDVariable anchor, List<SDVariable> candidates);

    /** {@code +1} when a higher score means a better match, {@code −1} when lower does (volumes). */
    abstract double sign();

    /** Checks the candidate count of gathered inputs. */
    abstract void checkCandidateCount(List<SDVariable> candidates);

    /** Checks the one-process arguments other than {@code τ}; returns the candidates as a list. */
    static List<SDVariable> checkPairs(SameDiff sd, String name, SDVariable anchor, String candidatesName,
            SDVariable... candidates) {
        List<SDVariable> list = candidates == null ? null : Arrays.asList(candidates);
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        GraphArguments.requireBatch(sd, "anchor", anchor, null, null);
        GraphArguments.requireCandidates(sd, candidatesName, list, anchor, "anchor");
        long rows = GraphArguments.rows(anchor);
        long candidateRows = GraphArguments.rows(list.get(0));
        if (rows >= 0 && candidateRows >= 0 && rows != candidateRows) {
            throw new IllegalArgumentException("anchor has shape " + Arrays.toString(anchor.getShape()) + " but "
                    + candidatesName + "[0] has shape " + Arrays.toString(list.get(0).getShape())
                    + "; the loss pairs anchor row i with candidate row i");
        }
        return list;
    }

    /** The one-process loss of checked inputs. */
    SDVariable oneProcess(SameDiff sd, String name, FixedOrVariable tau, SDVariable anchor, List<SDVariable> candidates) {
        SDVariable t = tau.in(sd, name, anchor.dataType());
        SDVariable loss;
        try (NameScope ignored = sd.withNameScope(name)) {
            loss = SmoothedCrossEntropy.paired(sd, scores(sd, anchor, candidates), t, sign(), labelSmoothing);
        }
        return loss.rename(name);
    }

    private SDVariable gathered(SameDiff sd, String name, FixedOrVariable tau, GatheredVariables batches) {
        SDVariable t = tau.in(sd, name, batches.localAnchor().dataType());
        SDVariable loss;
        try (NameScope ignored = sd.withNameScope(name)) {
            SDVariable s1 = scores(sd, batches.localAnchor(), batches.gatheredCandidates());
            SDVariable s2 = scores(sd, batches.gatheredAnchor(), batches.localCandidates());
            loss = SmoothedCrossEntropy.gathered(sd, s1, s2, t, sign(), batches.batchSize(), batches.offset(),
                    labelSmoothing);
        }
        return loss.rename(name);
    }

    private void checkGathered(SameDiff sd, String name, GatheredVariables batches) {
        GraphArguments.requireGraph(sd);
        GraphArguments.requireName(name);
        if (batches == null) {
            throw new IllegalArgumentException("batches must not be null");
        }
        if (batches.graph() != sd) {
            throw new IllegalArgumentException("batches belong to another SameDiff instance");
        }
        checkCandidateCount(batches.localCandidates());
    }
}
