package io.github.gram4j.samediff;

import java.util.Arrays;
import java.util.List;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Build-time checks of the variables handed to the graph builders. Shapes are checked where
 * SameDiff knows them when the graph is built (a placeholder's {@code -1} dimension is unknown and
 * is checked by SameDiff when it runs); data types are always known and checked.
 */
final class GraphArguments {

    private GraphArguments() {
    }

    static void requireGraph(SameDiff sd) {
        if (sd == null) {
            throw new IllegalArgumentException("sd must not be null");
        }
    }

    static void requireName(String name) {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("name must be a non-empty variable name, got " + quoted(name));
        }
    }

    /**
     * Checks an embedding batch: non-null, in {@code sd}, FLOAT or DOUBLE, rank 2 when its shape is
     * known, and of the same dtype and {@code d} as {@code reference} (when given).
     */
    static void requireBatch(SameDiff sd, String argument, SDVariable batch, SDVariable reference, String referenceName) {
        if (batch == null) {
            throw new IllegalArgumentException(argument + " must not be null");
        }
        if (batch.getSameDiff() != sd) {
            throw new IllegalArgumentException(argument + " ('" + batch.name() + "') belongs to another SameDiff instance");
        }
        DataType type = batch.dataType();
        if (type != DataType.FLOAT && type != DataType.DOUBLE) {
            throw new IllegalArgumentException(argument + " ('" + batch.name() + "') must be FLOAT or DOUBLE, got " + type);
        }
        long[] shape = batch.getShape();
        if (shape != null && shape.length != 2) {
            throw new IllegalArgumentException(argument + " ('" + batch.name() + "') must be a rank-2 batch (rows x d), got shape "
                    + Arrays.toString(shape));
        }
        if (reference == null) {
            return;
        }
        if (type != reference.dataType()) {
            throw new IllegalArgumentException(argument + " ('" + batch.name() + "') is " + type + " but " + referenceName
                    + " ('" + reference.name() + "') is " + reference.dataType() + "; all batches must share one dtype");
        }
        long[] referenceShape = reference.getShape();
        if (shape != null && referenceShape != null && shape[1] >= 0 && referenceShape[1] >= 0
                && shape[1] != referenceShape[1]) {
            throw new IllegalArgumentException(argument + " ('" + batch.name() + "') has shape " + Arrays.toString(shape)
                    + " but " + referenceName + " ('" + reference.name() + "') has shape " + Arrays.toString(referenceShape)
                    + "; all batches must share the embedding dimension d");
        }
    }

    /** Checks {@code K ≥ 1} candidate batches against the anchor. */
    static void requireCandidates(SameDiff sd, String argument, List<SDVariable> candidates, SDVariable anchor,
            String anchorName) {
        if (candidates == null || candidates.isEmpty()) {
            throw new IllegalArgumentException(argument + " must hold at least one candidate batch (k >= 2 modalities)");
        }
        SDVariable first = candidates.get(0);
        for (int m = 0; m < candidates.size(); m++) {
            requireBatch(sd, argument + "[" + m + "]", candidates.get(m), anchor, anchorName);
            long rows = rows(candidates.get(m));
            if (m > 0 && rows >= 0 && rows(first) >= 0 && rows != rows(first)) {
                throw new IllegalArgumentException(argument + "[" + m + "] has shape " + Arrays.toString(candidates.get(m).getShape())
                        + " but " + argument + "[0] has shape " + Arrays.toString(first.getShape())
                        + "; the candidate batches pair row j with row j");
            }
        }
    }

    /** Checks a temperature: non-null, in {@code sd}, a scalar (or one element) when its shape is known. */
    static void requireTemperature(SameDiff sd, SDVariable tau) {
        if (tau == null) {
            throw new IllegalArgumentException("tau must not be null (use sd.constant(0.07) for GRAM's fixed value)");
        }
        if (tau.getSameDiff() != sd) {
            throw new IllegalArgumentException("tau ('" + tau.name() + "') belongs to another SameDiff instance");
        }
        if (!tau.dataType().isFPType()) {
            throw new IllegalArgumentException("tau ('" + tau.name() + "') must be floating point, got " + tau.dataType());
        }
        long[] shape = tau.getShape();
        if (shape != null && Arrays.stream(shape).reduce(1, (a, b) -> a * b) != 1) {
            throw new IllegalArgumentException("tau ('" + tau.name() + "') must be a scalar, got shape " + Arrays.toString(shape));
        }
    }

    /** Row count if known when the graph is built, else {@code -1}. */
    static long rows(SDVariable batch) {
        long[] shape = batch.getShape();
        return shape == null ? -1 : shape[0];
    }

    private static String quoted(String s) {
        return s == null ? "null" : "'" + s + "'";
    }
}
