package io.github.gram4j.samediff;

import java.util.Arrays;
import java.util.List;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * One rank's graph inputs for the gathered (distributed) loss, as gram-loss's
 * {@code GatheredBatches}: local anchors ({@code bs × d}) and local candidate batches, the same
 * all-gathered over every rank ({@code N × d}), and this rank's first row {@code offset} in the
 * gathered tensors. Feed the gathered tensors as placeholders (GRAM's gather has no gradient:
 * the local gradients are then exactly gram-loss's); make them variables to get their gradients
 * too.
 *
 * <p>{@code bs} must be known when the graph is built (the local anchor's placeholder shape
 * {@code [bs, d]}): the targets are the columns {@code offset … offset + bs − 1}. {@code N} may
 * be {@code -1}. Immutable.
 */
public final class GatheredVariables {

    private final SDVariable localAnchor;
    private final List<SDVariable> localCandidates;
    private final SDVariable gatheredAnchor;
    private final List<SDVariable> gatheredCandidates;
    private final int batchSize;
    private final int offset;

    private GatheredVariables(SDVariable localAnchor, List<SDVariable> localCandidates, SDVariable gatheredAnchor,
            List<SDVariable> gatheredCandidates, int batchSize, int offset) {
        this.localAnchor = localAnchor;
        this.localCandidates = localCandidates;
        this.gatheredAnchor = gatheredAnchor;
        this.gatheredCandidates = gatheredCandidates;
        this.batchSize = batchSize;
        this.offset = offset;
    }

    /**
     * @param sd the graph all variables belong to
     * @param localAnchor {@code bs × d}, {@code bs} known
     * @param localCandidates {@code K ≥ 1} batches of {@code bs × d}
     * @param gatheredAnchor {@code N × d}
     * @param gatheredCandidates {@code K} batches of {@code N × d}, in the order of the local ones
     * @param offset this rank's first gathered row ({@code rank · bs}), {@code ≥ 0} and, when
     *     {@code N} is known, {@code ≤ N − bs}
     * @return the checked local and gathered variables with the offset
     * @throws IllegalArgumentException naming the argument and shapes: the checks of
     *     {@link SameDiffVolumes}, different counts of local and gathered batches, an unknown or
     *     mismatched {@code bs}, mismatched known {@code N}, or an offset out of range
     */
    public static GatheredVariables of(SameDiff sd, SDVariable localAnchor, List<SDVariable> localCandidates,
            SDVariable gatheredAnchor, List<SDVariable> gatheredCandidates, int offset) {
        GraphArguments.requireGraph(sd);
        GraphArguments.requireBatch(sd, "localAnchor", localAnchor, null, null);
        GraphArguments.requireCandidates(sd, "localCandidates", localCandidates, localAnchor, "localAnchor");
        GraphArguments.requireBatch(sd, "gatheredAnchor", gatheredAnchor, localAnchor, "localAnchor");
        GraphArguments.requireCandidates(sd, "gatheredCandidates", gatheredCandidates, localAnchor, "localAnchor");
        if (localCandidates.size() != gatheredCandidates.size()) {
            throw new IllegalArgumentException("localCandidates and gatheredCandidates must hold the same number of"
                    + " batches, got " + localCandidates.size() + " and " + gatheredCandidates.size());
        }
        long bs = GraphArguments.rows(localAnchor);
        if (bs < 1) {
            throw new IllegalArgumentException("localAnchor ('" + localAnchor.name() + "') must have its row count bs known"
                    + " when the graph is built (e.g. a placeholder of shape [bs, d]), got shape "
                    + Arrays.toString(localAnchor.getShape()));
        }
        long localRows = GraphArguments.rows(localCandidates.get(0));
        if (localRows >= 0 && localRows != bs) {
            throw new IllegalArgumentException("localAnchor has shape " + Arrays.toString(localAnchor.getShape())
                    + " but localCandidates[0] has shape " + Arrays.toString(localCandidates.get(0).getShape())
                    + "; a rank's local batches pair row i with row i");
        }
        long n = GraphArguments.rows(gatheredAnchor);
        long gatheredRows = GraphArguments.rows(gatheredCandidates.get(0));
        if (n >= 0 && gatheredRows >= 0 && n != gatheredRows) {
            throw new IllegalArgumentException("gatheredAnchor has shape " + Arrays.toString(gatheredAnchor.getShape())
                    + " but gatheredCandidates[0] has shape " + Arrays.toString(gatheredCandidates.get(0).getShape()));
        }
        long knownN = Math.max(n, gatheredRows);
        if (offset < 0 || (knownN >= 0 && offset + bs > knownN)) {
            throw new IllegalArgumentException("offset must be in 0.." + (knownN >= 0 ? String.valueOf(knownN - bs) : "N - bs")
                    + " (local bs = " + bs + ", gathered N = " + (knownN >= 0 ? knownN : "unknown") + "), got " + offset);
        }
        return new GatheredVariables(localAnchor, List.copyOf(localCandidates), gatheredAnchor,
                List.copyOf(gatheredCandidates), (int) bs, offset);
    }

    /** {@return {@code bs × d}} */
    public SDVariable localAnchor() {
        return localAnchor;
    }

    /** {@return {@code K} batches of {@code bs × d}} */
    public List<SDVariable> localCandidates() {
        return localCandidates;
    }

    /** {@return {@code N × d}} */
    public SDVariable gatheredAnchor() {
        return gatheredAnchor;
    }

    /** {@return {@code K} batches of {@code N × d}} */
    public List<SDVariable> gatheredCandidates() {
        return gatheredCandidates;
    }

    /** {@return {@code bs}, the local row count} */
    public int batchSize() {
        return batchSize;
    }

    /** {@return this rank's first row in the gathered tensors} */
    public int offset() {
        return offset;
    }

    SameDiff graph() {
        return localAnchor.getSameDiff();
    }
}
