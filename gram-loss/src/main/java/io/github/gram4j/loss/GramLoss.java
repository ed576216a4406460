package io.github.gram4j.loss;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.ContrastiveParameters;
import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.fast.ResultMemory;
import io.github.gram4j.core.fast.ScoreTape;
import io.github.gram4j.core.fast.VolumeGradients;
import io.github.gram4j.core.internal.HostArray;
import io.github.gram4j.core.internal.Transposes;
import io.github.gram4j.core.internal.Workspaces;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GRAM's bidirectional volume-based contrastive loss (the seed README; {@code forward_ret} in
 * {@code model/gram.py} of ispamm/GRAM):
 * <pre>
 *   L = ½ [ CE(−V₁/τ, t; ε) + CE(−V₂ᵀ/τ, t; ε) ]
 * </pre>
 * with {@code V₁ = vol(anchors, candidates…)} ({@code bs × N}), {@code V₂ = vol(gathered
 * anchors, local candidates…)} ({@code N × bs}), targets {@code t_i = offset + i}, cross-entropy
 * with PyTorch's label smoothing {@code ε} (default 0.1) and temperature {@code τ} (GRAM learns it
 * from 0.07). On one process {@code V₁ = V₂ = V} is computed once and the gradients are those of
 * full autograd through both terms (the README's formula). In the gathered form the gathered
 * tensors are constants for the local gradients, as GRAM's {@code concat_all_gather} makes them.
 *
 * <p>Gradients for every input and for the temperature parameter come from the analytic
 * identities of {@link io.github.gram4j.core.fast.VolumeTape}: {@code 3K} GEMMs for forward and backward ({@code 4K} for very
 * large batches, whose tape is recomputed in blocks to bound memory), never the
 * {@code (B1, B2, k, k)} tensor. Degenerate tuples give finite gradients (see the floor there).
 *
 * <p>Range: finite accepted input never gives an infinite or NaN loss or gradient. Refused with an
 * {@link IllegalArgumentException} naming the values and the remedy: volumes that may exceed the
 * dtype (before any work; see {@link io.github.gram4j.core.GramVolumes}), a temperature with
 * {@code 1/τ} beyond the dtype's largest value / 64 (before any work), logits {@code V/τ} beyond
 * that limit or {@code V/τ²} beyond {@code Double.MAX_VALUE/8} (after the forward pass, naming
 * {@code τ} and the largest {@code V}; only read when the bound from the row norms does not
 * already exclude it), and, as a last check, any gradient that still overflows the dtype. The
 * loss does not rescale rows as the volume methods do: rows whose squared norms are subnormal in
 * the dtype give finite but less accurate values (normalise the embeddings, as GRAM does).
 *
 * <p><b>Score choice.</b> The same loss, gradients, gathered form and hard negatives serve every
 * {@link ContrastiveScore}: {@link ContrastiveScore#GRAM_VOLUME} (the default) or TRIANGLE's
 * {@link ContrastiveScore#TRIANGLE} (the rootless score {@code (|u|²|w|² − (u·w)²)/2} that
 * ispamm/TRIANGLE's {@code model/triangle.py} trains with: {@code L = ½ [CE(−area/τ, t; 0.1) +
 * CE(−areaᵀ/τ, t; 0.1)]}) and {@link ContrastiveScore#TRIANGLE_AREA} (the geometric area, its
 * square root over 2), both for exactly three modalities (see
 * {@link io.github.gram4j.core.fast.TriangleTape} for their gradients and the area's floor).
 *
 * <p>Immutable and thread-safe; each call uses a per-thread workspace for its scratch.
 */
public final class GramLoss {

    /** GRAM's label smoothing, 0.1 ({@link ContrastiveParameters#DEFAULT_LABEL_SMOOTHING}). */
    public static final double DEFAULT_LABEL_SMOOTHING = ContrastiveParameters.DEFAULT_LABEL_SMOOTHING;

    static final String WORKSPACE = "gram4j.loss";

    private final double labelSmoothing;
    private final ContrastiveScore score;

    /** The loss with GRAM's label smoothing, 0.1. */
    public GramLoss() {
        this(DEFAULT_LABEL_SMOOTHING);
    }

    /**
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise
     */
    public GramLoss(double labelSmoothing) {
        this(labelSmoothing, ContrastiveScore.GRAM_VOLUME);
    }

    /**
     * The loss on another score, e.g. {@code new GramLoss(0.1, ContrastiveScore.TRIANGLE)} for
     * TRIANGLE's training loss.
     *
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @param score the pairwise score whose negatives are the logits (times {@code 1/τ})
     * @throws IllegalArgumentException if {@code ε} is outside {@code [0, 1]} or {@code score} is null
     */
    public GramLoss(double labelSmoothing, ContrastiveScore score) {
        if (score == null) {
            throw new IllegalArgumentException("score must not be null");
        }
        this.labelSmoothing = ContrastiveParameters.requireLabelSmoothing(labelSmoothing);
        this.score = score;
    }

    /** {@return the score the loss ranks by} */
    public ContrastiveScore score() {
        return score;
    }

    /**
     * {@code log₂} of a bound on every score from the row norms, for the logit range check: the
     * volume bound for GRAM; none ({@code +∞}: the computed scores are read) for TRIANGLE, whose
     * own overflow check runs when it is recorded.
     */
    private double log2Bound(ModalityBatches... batches) {
        return score == ContrastiveScore.GRAM_VOLUME ? LogitRange.log2Bound(batches) : Double.POSITIVE_INFINITY;
    }

    /** {@return {@code ε}} */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * The one-process loss value alone (no gradients): the forward pass, for evaluation and
     * logging. Same arguments and errors as {@link #compute(Temperature, INDArray, INDArray...)}.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param anchor {@code bs × d}
     * @param candidates {@code K ≥ 1} batches of {@code bs × d}
     * @return the loss {@code L}
     */
    public double value(Temperature temperature, INDArray anchor, INDArray... candidates) {
        ModalityBatches batches = ModalityBatches.of(anchor, candidates);
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            requirePairedRows(batches);
            requireTemperature(temperature, batches);
            INDArray v = score.pairwise(batches);
            LogitRange.requireLogits("V", temperature.tau(), batches.dataType(), log2Bound(batches),
                    LogitRange.largestOf(v));
            return LogitRange.requireFiniteLoss(BidirectionalCrossEntropy.pairedLoss(v, -1, temperature.tau(),
                    labelSmoothing), temperature.tau(), batches.dataType());
        } finally {
            batches.release();
        }
    }

    /**
     * The one-process loss and all its gradients.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param anchor {@code bs × d}
     * @param candidates {@code K ≥ 1} batches of {@code bs × d}; row {@code i} of every batch is
     *     the positive of anchor row {@code i}
     * @return the loss, per-row losses, volumes and gradients
     * @throws IllegalArgumentException for invalid batches (see {@link ModalityBatches}) or
     *     candidate batches with another row count than the anchor
     */
    public LossResult compute(Temperature temperature, INDArray anchor, INDArray... candidates) {
        ModalityBatches batches = ModalityBatches.of(anchor, candidates);
        ResultMemory results = ResultMemory.ofCaller();
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            requirePairedRows(batches);
            requireTemperature(temperature, batches);
            // on the CPU backend the cross-entropy's forward pass rides on the pass that writes V
            BidirectionalCrossEntropy.SharedExponential.Forward forward = HostArray.available()
                    ? new BidirectionalCrossEntropy.SharedExponential.Forward((int) batches.anchorRows(),
                            batches.dataType(), -1, temperature.tau(), labelSmoothing) : null;
            // V and the gradients written where the caller wants them (no copy out of the scratch)
            ScoreTape tape = forward == null ? score.record(batches) : score.record(batches, forward, results);
            INDArray v = tape.scores();
            LogitRange.requireLogits("V", temperature.tau(), batches.dataType(), log2Bound(batches),
                    LogitRange.largestOf(v));
            BidirectionalCrossEntropy.SharedExponential shared = forward == null ? null : forward.result();
            double loss;
            INDArray rowLosses1;
            INDArray rowLosses2;
            double gradTau;
            VolumeGradients grads;
            if (shared != null) {
                // ∂L/∂V row by row inside the tape's pass over the pairs: never stored
                grads = tape.backward(shared, true, true);
                loss = shared.loss;
                rowLosses1 = shared.rowLosses1();
                rowLosses2 = shared.rowLosses2();
                gradTau = shared.gradTau();
            } else {
                BidirectionalCrossEntropy ce = BidirectionalCrossEntropy.paired(v, -1, temperature.tau(), labelSmoothing);
                grads = tape.backward(ce.gradScores1, true, true);
                loss = ce.loss;
                rowLosses1 = ce.rowLosses1;
                rowLosses2 = ce.rowLosses2;
                gradTau = ce.gradTau;
            }
            INDArray volumes = results.keep(v);
            return LogitRange.requireFinite(new LossResult(loss, results.keep(rowLosses1), results.keep(rowLosses2),
                    volumes, volumes, results.keep(grads.anchor()), keep(results, grads.candidates()),
                    temperature.chain(gradTau), null, List.of()), temperature.tau(), batches.dataType(),
                    grads.checkedFinite());
        } finally {
            batches.release();
        }
    }

    /**
     * The gathered (distributed) loss on one rank.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param batches this rank's local and gathered tensors and offset
     * @param gatheredGradients also compute {@code ∂L/∂gathered…} (for engines that gather with
     *     gradient and reduce the gradients back to their ranks); costs {@code 2K} more GEMMs
     * @return the loss, per-row losses, volumes and this rank's gradients (and the gathered ones if asked)
     */
    public LossResult compute(Temperature temperature, GatheredBatches batches, boolean gatheredGradients) {
        ModalityBatches local = batches.local();
        ModalityBatches gathered = batches.gathered();
        ModalityBatches anchorsVsGathered = ModalityBatches.pair(local, gathered);
        ModalityBatches gatheredVsCandidates = ModalityBatches.pair(gathered, local);
        requireTemperature(temperature, local);
        ResultMemory results = ResultMemory.ofCaller();
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            ScoreTape tape1 = score.record(anchorsVsGathered);
            ScoreTape tape2 = score.record(gatheredVsCandidates);
            INDArray v1 = tape1.scores();
            INDArray v2 = tape2.scores();
            LogitRange.requireLogits("V", temperature.tau(), local.dataType(),
                    log2Bound(anchorsVsGathered, gatheredVsCandidates), LogitRange.largestOf(v1, v2));
            BidirectionalCrossEntropy ce = BidirectionalCrossEntropy.compute(v1, Transposes.transposed(v2), -1,
                    temperature.tau(), labelSmoothing, batches.offset());
            VolumeGradients grads1 = tape1.backward(ce.gradScores1, true, gatheredGradients);
            VolumeGradients grads2 = tape2.backward(Transposes.transposed(ce.gradScores2), gatheredGradients, true);
            return LogitRange.requireFinite(new LossResult(ce.loss, results.keep(ce.rowLosses1),
                    results.keep(ce.rowLosses2), results.keep(v1), results.keep(v2), results.keep(grads1.anchor()),
                    keep(results, grads2.candidates()), temperature.chain(ce.gradTau),
                    gatheredGradients ? results.keep(grads2.anchor()) : null, keep(results, grads1.candidates())),
                    temperature.tau(), local.dataType());
        }
    }

    /**
     * The gathered loss value on one rank alone (no gradients): the two volume matrices and the
     * cross-entropy, no tape and no backward, for evaluation, logging and finite differences.
     * Same arguments and errors as {@link #compute(Temperature, GatheredBatches, boolean)}.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param batches this rank's local and gathered tensors and offset
     * @return the loss {@code L}, the same as {@code compute(temperature, batches, false).loss()}
     */
    public double value(Temperature temperature, GatheredBatches batches) {
        ModalityBatches anchorsVsGathered = ModalityBatches.pair(batches.local(), batches.gathered());
        ModalityBatches gatheredVsCandidates = ModalityBatches.pair(batches.gathered(), batches.local());
        requireTemperature(temperature, batches.local());
        try (MemoryWorkspace ignored = Workspaces.open(WORKSPACE)) {
            INDArray v1 = score.pairwise(anchorsVsGathered);
            INDArray v2 = score.pairwise(gatheredVsCandidates);
            LogitRange.requireLogits("V", temperature.tau(), batches.local().dataType(),
                    log2Bound(anchorsVsGathered, gatheredVsCandidates), LogitRange.largestOf(v1, v2));
            return LogitRange.requireFiniteLoss(BidirectionalCrossEntropy.compute(v1, Transposes.transposed(v2), -1,
                    temperature.tau(), labelSmoothing, batches.offset()).loss, temperature.tau(),
                    batches.local().dataType());
        }
    }

    static void requireTemperature(Temperature temperature, ModalityBatches batches) {
        if (temperature == null) {
            throw new IllegalArgumentException("temperature must not be null");
        }
        LogitRange.requireTemperature(temperature.tau(), batches.dataType());
    }

    static void requirePairedRows(ModalityBatches batches) {
        if (batches.anchorRows() != batches.candidateRows()) {
            throw new IllegalArgumentException("anchor has " + batches.anchorRows() + " rows but candidates[0] has "
                    + batches.candidateRows() + " (shapes " + java.util.Arrays.toString(batches.anchor().shape()) + " and "
                    + java.util.Arrays.toString(batches.candidate(0).shape())
                    + "); the loss pairs anchor row i with candidate row i");
        }
    }

    /** {@link ResultMemory#keep} of every array. */
    static List<INDArray> keep(ResultMemory results, List<INDArray> arrays) {
        List<INDArray> out = new ArrayList<>(arrays.size());
        for (INDArray a : arrays) {
            out.add(results.keep(a));
        }
        return out;
    }
}
