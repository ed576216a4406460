package io.github.gram4j.loss;

import java.util.List;

import io.github.gram4j.core.ContrastiveParameters;
import io.github.gram4j.core.ModalityBatches;
import io.github.gram4j.core.fast.ResultMemory;
import io.github.gram4j.core.internal.Transposes;
import io.github.gram4j.core.internal.Workspaces;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CLIP-style InfoNCE baseline that GRAM replaces, with the same options and forms as
 * {@link GramLoss}: {@code L = ½ [CE(S₁/τ, t; ε) + CE(S₂ᵀ/τ, t; ε)]} with
 * {@code S₁ = anchors·candidatesᵀ} and {@code S₂ = gathered anchors·local candidatesᵀ} (open_clip's
 * {@code ClipLoss}). The embeddings are used as given: pass L2-normalised rows for cosine
 * similarity, as open_clip does. Two modalities only. Immutable and thread-safe.
 *
 * <p>Range: as {@link GramLoss}, with the similarities {@code |S| ≤ |a|·|x|} in place of the
 * volumes: finite accepted input never gives an infinite or NaN loss or gradient; temperatures
 * and logits outside the dtype's range are refused with an {@link IllegalArgumentException}.
 */
public final class CosineInfoNce {

    private final double labelSmoothing;

    /** No label smoothing (CLIP's default). */
    public CosineInfoNce() {
        this(0.0);
    }

    /**
     * @param labelSmoothing {@code ε} in {@code [0, 1]}
     * @throws IllegalArgumentException otherwise
     */
    public CosineInfoNce(double labelSmoothing) {
        this.labelSmoothing = ContrastiveParameters.requireLabelSmoothing(labelSmoothing);
    }

    /**
     * The one-process loss and its gradients.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param anchor {@code bs × d}
     * @param candidate {@code bs × d}; row {@code i} is the positive of anchor row {@code i}
     * @return the loss, per-row losses, cosine scores and gradients
     */
    public LossResult compute(Temperature temperature, INDArray anchor, INDArray candidate) {
        ModalityBatches batches = ModalityBatches.of(anchor, candidate);
        INDArray a = batches.anchor();
        INDArray x = batches.candidate(0);
        ResultMemory results = ResultMemory.ofCaller();
        try (MemoryWorkspace ignored = Workspaces.open(GramLoss.WORKSPACE)) {
            GramLoss.requirePairedRows(batches);
            GramLoss.requireTemperature(temperature, batches);
            INDArray s = Nd4j.gemm(a, x, false, true);
            LogitRange.requireLogits("S", temperature.tau(), batches.dataType(), batches.log2VolumeBound(),
                    LogitRange.largestOf(s));
            BidirectionalCrossEntropy ce = BidirectionalCrossEntropy.paired(s, 1, temperature.tau(), labelSmoothing);
            INDArray g = ce.gradScores1;
            INDArray gradAnchor = Nd4j.gemm(g, x, false, false);
            INDArray gradCandidate = Nd4j.gemm(g, a, true, false);
            INDArray scores = results.keep(s);
            return LogitRange.requireFinite(new LossResult(ce.loss, results.keep(ce.rowLosses1),
                    results.keep(ce.rowLosses2), scores, scores, results.keep(gradAnchor),
                    List.of(results.keep(gradCandidate)), temperature.chain(ce.gradTau), null, List.of()),
                    temperature.tau(), batches.dataType());
        } finally {
            batches.release();
        }
    }

    /**
     * The one-process loss value alone (no gradients), for evaluation, logging and finite
     * differences. Same arguments and errors as {@link #compute(Temperature, INDArray, INDArray)}.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param anchor {@code bs × d}
     * @param candidate {@code bs × d}; row {@code i} is the positive of anchor row {@code i}
     * @return the loss {@code L}, the same as {@code compute(temperature, anchor, candidate).loss()}
     */
    public double value(Temperature temperature, INDArray anchor, INDArray candidate) {
        ModalityBatches batches = ModalityBatches.of(anchor, candidate);
        try (MemoryWorkspace ignored = Workspaces.open(GramLoss.WORKSPACE)) {
            GramLoss.requirePairedRows(batches);
            GramLoss.requireTemperature(temperature, batches);
            INDArray s = Nd4j.gemm(batches.anchor(), batches.candidate(0), false, true);
            LogitRange.requireLogits("S", temperature.tau(), batches.dataType(), batches.log2VolumeBound(),
                    LogitRange.largestOf(s));
            return LogitRange.requireFiniteLoss(BidirectionalCrossEntropy.paired(s, 1, temperature.tau(),
                    labelSmoothing).loss, temperature.tau(), batches.dataType());
        } finally {
            batches.release();
        }
    }

    /**
     * The gathered loss value on one rank alone (no gradients). Same arguments and errors as
     * {@link #compute(Temperature, GatheredBatches, boolean)}.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param batches this rank's local and gathered tensors and offset, one candidate batch
     * @return the loss {@code L}, the same as {@code compute(temperature, batches, false).loss()}
     */
    public double value(Temperature temperature, GatheredBatches batches) {
        requireOneCandidateBatch(batches);
        GramLoss.requireTemperature(temperature, batches.local());
        try (MemoryWorkspace ignored = Workspaces.open(GramLoss.WORKSPACE)) {
            INDArray s1 = Nd4j.gemm(batches.local().anchor(), batches.gathered().candidate(0), false, true);
            INDArray s2 = Nd4j.gemm(batches.gathered().anchor(), batches.local().candidate(0), false, true);
            LogitRange.requireLogits("S", temperature.tau(), batches.local().dataType(),
                    LogitRange.log2Bound(ModalityBatches.pair(batches.local(), batches.gathered()),
                            ModalityBatches.pair(batches.gathered(), batches.local())),
                    LogitRange.largestOf(s1, s2));
            return LogitRange.requireFiniteLoss(BidirectionalCrossEntropy.compute(s1, Transposes.transposed(s2), 1,
                    temperature.tau(), labelSmoothing, batches.offset()).loss, temperature.tau(),
                    batches.local().dataType());
        }
    }

    private static void requireOneCandidateBatch(GatheredBatches batches) {
        if (batches.local().candidateModalities() != 1) {
            throw new IllegalArgumentException("the cosine InfoNCE loss takes exactly one candidate batch, got "
                    + batches.local().candidateModalities());
        }
    }

    /**
     * The gathered (distributed) loss on one rank; {@code batches} must hold one candidate batch.
     *
     * @param temperature {@code τ} (or its log-scale parametrisation)
     * @param batches this rank's local and gathered tensors and offset, one candidate batch
     * @param gatheredGradients also compute the gradients of the gathered tensors
     * @return the loss, per-row losses, cosine scores and this rank's gradients
     */
    public LossResult compute(Temperature temperature, GatheredBatches batches, boolean gatheredGradients) {
        requireOneCandidateBatch(batches);
        INDArray a = batches.local().anchor();
        INDArray x = batches.local().candidate(0);
        INDArray ga = batches.gathered().anchor();
        INDArray gx = batches.gathered().candidate(0);
        GramLoss.requireTemperature(temperature, batches.local());
        ResultMemory results = ResultMemory.ofCaller();
        try (MemoryWorkspace ignored = Workspaces.open(GramLoss.WORKSPACE)) {
            INDArray s1 = Nd4j.gemm(a, gx, false, true);
            INDArray s2 = Nd4j.gemm(ga, x, false, true);
            LogitRange.requireLogits("S", temperature.tau(), batches.local().dataType(),
                    LogitRange.log2Bound(ModalityBatches.pair(batches.local(), batches.gathered()),
                            ModalityBatches.pair(batches.gathered(), batches.local())),
                    LogitRange.largestOf(s1, s2));
            BidirectionalCrossEntropy ce = BidirectionalCrossEntropy.compute(s1, Transposes.transposed(s2), 1,
                    temperature.tau(), labelSmoothing, batches.offset());
            INDArray g1 = ce.gradScores1;
            INDArray g2 = ce.gradScores2;
            INDArray gradAnchor = Nd4j.gemm(g1, gx, false, false);
            INDArray gradCandidate = Nd4j.gemm(g2, ga, false, false);
            INDArray gradGatheredAnchor = gatheredGradients ? results.keep(Nd4j.gemm(g2, x, true, false)) : null;
            List<INDArray> gradGatheredCandidates = gatheredGradients
                    ? List.of(results.keep(Nd4j.gemm(g1, a, true, false))) : List.of();
            return LogitRange.requireFinite(new LossResult(ce.loss, results.keep(ce.rowLosses1),
                    results.keep(ce.rowLosses2), results.keep(s1), results.keep(s2), results.keep(gradAnchor),
                    List.of(results.keep(gradCandidate)),
                    temperature.chain(ce.gradTau), gradGatheredAnchor, gradGatheredCandidates), temperature.tau(),
                    batches.local().dataType());
        }
    }
}
