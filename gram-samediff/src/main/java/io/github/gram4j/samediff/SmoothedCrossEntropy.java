package io.github.gram4j.samediff;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The bidirectional cross-entropy with PyTorch's label smoothing that GRAM and open_clip train
 * with, on logits {@code sign·score/τ}: per query {@code −(1−ε)·log p_target − ε·mean_c log p_c}
 * (PyTorch's {@code (1−ε)·onehot + ε/C} targets), averaged over queries, then
 * {@code ½(anchor→candidate + candidate→anchor)}.
 *
 * <p>The cross-entropy runs in DOUBLE whatever the scores' dtype, and the loss is cast back: as
 * gram-loss does on the host. In FLOAT, ND4J's whole-array reductions (the means here, and the
 * sum over all pairs that gives {@code ∂L/∂τ}, whose terms nearly cancel) lose several digits at
 * {@code B ≥ 1024}; the extra cost is a few elementwise passes over {@code B1 × B2}.
 */
final class SmoothedCrossEntropy {

    private SmoothedCrossEntropy() {
    }

    /**
     * One process: {@code scores} is {@code B × B}; anchors query the rows, candidates the
     * columns, and the target of query {@code i} is {@code i}.
     */
    static SDVariable paired(SameDiff sd, SDVariable scores, SDVariable tau, double sign, double labelSmoothing) {
        SDVariable logits = logits(scores, tau, sign);
        SDVariable rows = logSoftmax(sd, logits, 1);
        SDVariable columns = logSoftmax(sd, logits, 0);
        SDVariable forward = term(sd, rows, sd.math.diagPart(rows), labelSmoothing);
        SDVariable backward = term(sd, columns, sd.math.diagPart(columns), labelSmoothing);
        return inType(forward.add(backward).mul(0.5), scores.dataType());
    }

    /**
     * Gathered form on one rank: {@code scores1} is {@code bs × N} (local anchors against gathered
     * candidates, targets at columns {@code offset + i}); {@code scores2} is {@code N × bs}
     * (gathered anchors against local candidates, queried by column, targets at rows
     * {@code offset + j}).
     */
    static SDVariable gathered(SameDiff sd, SDVariable scores1, SDVariable scores2, SDVariable tau, double sign, int bs,
            int offset, double labelSmoothing) {
        SDVariable logits1 = logits(scores1, tau, sign);
        SDVariable logits2 = logits(scores2, tau, sign);
        SDVariable rows = logSoftmax(sd, logits1, 1);
        SDVariable columns = logSoftmax(sd, logits2, 0);
        SDVariable rowTargets = sd.math.diagPart(sd.slice(rows, new int[] {0, offset}, bs, bs));
        SDVariable columnTargets = sd.math.diagPart(sd.slice(columns, new int[] {offset, 0}, bs, bs));
        SDVariable forward = term(sd, rows, rowTargets, labelSmoothing);
        SDVariable backward = term(sd, columns, columnTargets, labelSmoothing);
        return inType(forward.add(backward).mul(0.5), scores1.dataType());
    }

    /** {@code sign·scores/τ} in DOUBLE (a product with {@code 1/τ}: see {@link SameDiffTemperatures#inverse}). */
    private static SDVariable logits(SDVariable scores, SDVariable tau, double sign) {
        SDVariable wide = scores.dataType() == DataType.DOUBLE ? scores : scores.castTo(DataType.DOUBLE);
        return wide.mul(SameDiffTemperatures.inverse(tau, DataType.DOUBLE)).mul(sign);
    }

    private static SDVariable inType(SDVariable loss, DataType type) {
        return loss.dataType() == type ? loss : loss.castTo(type);
    }

    /**
     * {@code x − max − log Σ exp(x − max)} along {@code dimension}, built from elementwise ops:
     * stable for logits of any size (ND4J's fused log-softmax overflows along dimension 0 and its
     * gradient op cannot be configured for it in this version). The max is a constant for the
     * gradient; the result's gradient does not depend on it.
     */
    private static SDVariable logSoftmax(SameDiff sd, SDVariable x, int dimension) {
        SDVariable shifted = x.sub(SameDiffVolumes.stop(sd, sd.max(x, true, dimension)));
        return shifted.sub(sd.math.log(sd.sum(sd.math.exp(shifted), true, dimension)));
    }

    /** {@code −(1−ε)·mean(targets) − ε·mean(all)}: the mean over queries of the smoothed CE. */
    private static SDVariable term(SameDiff sd, SDVariable logProbabilities, SDVariable targets, double labelSmoothing) {
        SDVariable hit = sd.mean(targets).mul(-(1 - labelSmoothing));
        return labelSmoothing == 0 ? hit : hit.sub(sd.mean(logProbabilities).mul(labelSmoothing));
    }
}
