package io.github.gram4j.loss;

import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.ModalityBatches;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One rank's view of a distributed batch, as GRAM and open_clip use it: this rank's local anchors
 * ({@code bs × d}) and local candidate batches ({@code bs × d} each), and the same tensors
 * all-gathered over every rank ({@code N × d}, {@code N = world size · bs}), with this rank's
 * rows at {@code offset … offset + bs − 1} of the gathered ones.
 *
 * <p>How an engine plugs in: after each rank computes its local embeddings, all-gather them (any
 * engine: NCCL, MPI, Spark, Aeron…) into the gathered tensors, build this value with
 * {@code offset = rank · bs}, and call the loss. The local gradients are what GRAM trains with
 * (its gather has no gradient). If your engine gathers with gradient (open_clip's
 * {@code gather_with_grad}), also request the gathered gradients and reduce-scatter them back: the
 * rows {@code offset …} of every rank's gathered gradient, summed over ranks, add to this rank's
 * local gradients.
 *
 * <p>The gathered rows at {@code offset} are expected to equal the local tensors; that is not
 * checked. Immutable; holds references to the caller's arrays.
 */
public final class GatheredBatches {

    private final ModalityBatches local;
    private final ModalityBatches gathered;
    private final int offset;

    private GatheredBatches(ModalityBatches local, ModalityBatches gathered, int offset) {
        this.local = local;
        this.gathered = gathered;
        this.offset = offset;
    }

    /**
     * Validates one rank's local and gathered tensors.
     *
     * @param localAnchor {@code bs × d}
     * @param localCandidates {@code K ≥ 1} batches of {@code bs × d}
     * @param gatheredAnchor {@code N × d}
     * @param gatheredCandidates {@code K} batches of {@code N × d}, same order as the local ones
     * @param offset this rank's first row in the gathered tensors ({@code rank · bs})
     * @return the validated local and gathered batches with the offset
     * @throws IllegalArgumentException naming the argument and shapes: any {@link ModalityBatches}
     *     error, local and gathered batches of different count, {@code d} or dtype, local anchors
     *     and candidates of different {@code bs}, gathered anchors and candidates of different
     *     {@code N}, or {@code offset} outside {@code 0 … N − bs}
     */
    public static GatheredBatches of(INDArray localAnchor, List<INDArray> localCandidates, INDArray gatheredAnchor,
            List<INDArray> gatheredCandidates, int offset) {
        if (localCandidates == null || gatheredCandidates == null || localCandidates.size() != gatheredCandidates.size()) {
            throw new IllegalArgumentException("localCandidates and gatheredCandidates must hold the same number of"
                    + " batches, got " + size(localCandidates) + " and " + size(gatheredCandidates));
        }
        ModalityBatches local = ModalityBatches.named("localAnchor", localAnchor, names("localCandidates", localCandidates.size()),
                localCandidates);
        ModalityBatches gathered = ModalityBatches.named("gatheredAnchor", gatheredAnchor,
                names("gatheredCandidates", gatheredCandidates.size()), gatheredCandidates);
        if (local.dim() != gathered.dim() || local.dataType() != gathered.dataType()) {
            throw new IllegalArgumentException("local and gathered batches must share d and dtype: localAnchor "
                    + shape(localAnchor) + " " + local.dataType() + ", gatheredAnchor " + shape(gatheredAnchor) + " "
                    + gathered.dataType());
        }
        if (local.anchorRows() != local.candidateRows()) {
            throw new IllegalArgumentException("localAnchor has " + local.anchorRows() + " rows but localCandidates[0] has "
                    + local.candidateRows() + " (shapes " + shape(localAnchor) + " and " + shape(localCandidates.get(0))
                    + "); a rank's local batches pair row i with row i");
        }
        if (gathered.anchorRows() != gathered.candidateRows()) {
            throw new IllegalArgumentException("gatheredAnchor has " + gathered.anchorRows()
                    + " rows but gatheredCandidates[0] has " + gathered.candidateRows() + " (shapes "
                    + shape(gatheredAnchor) + " and " + shape(gatheredCandidates.get(0)) + ")");
        }
        long bs = local.anchorRows();
        long n = gathered.anchorRows();
        if (offset < 0 || offset + bs > n) {
            throw new IllegalArgumentException("offset must be in 0.." + (n - bs) + " (local bs = " + bs
                    + ", gathered N = " + n + "), got " + offset);
        }
        return new GatheredBatches(local, gathered, offset);
    }

    /** {@return the local batches ({@code bs} rows each)} */
    public ModalityBatches local() {
        return local;
    }

    /** {@return the gathered batches ({@code N} rows each)} */
    public ModalityBatches gathered() {
        return gathered;
    }

    /** {@return this rank's first row in the gathered tensors; the targets are {@code offset + i}} */
    public int offset() {
        return offset;
    }

    private static List<String> names(String prefix, int count) {
        List<String> names = new ArrayList<>(count);
        for (int m = 0; m < count; m++) {
            names.add(prefix + "[" + m + "]");
        }
        return names;
    }

    private static String size(List<?> list) {
        return list == null ? "null" : String.valueOf(list.size());
    }

    private static String shape(INDArray x) {
        return java.util.Arrays.toString(x.shape());
    }
}
