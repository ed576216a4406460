package io.github.gram4j.loss;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * GRAM's hard-negative sampling weights ({@code model/gram.py} of ispamm/GRAM): per row,
 * {@code softmax(−V/τ) + 1e-4} with the positive's entry set to 0, for both directions. The rows
 * are not renormalised (GRAM hands them to {@code torch.multinomial}, which normalises). No
 * gradient flows through them.
 */
public final class HardNegatives {

    /** The constant GRAM adds to every weight before zeroing the positives. */
    public static final double EPSILON = 1e-4;

    /**
     * @param anchorToCandidate {@code bs × N}: for each local anchor, weights over the gathered candidates
     * @param candidateToAnchor {@code bs × N}: for each local candidate, weights over the gathered anchors
     */
    public record Weights(INDArray anchorToCandidate, INDArray candidateToAnchor) {
    }

    private HardNegatives() {
    }

    /**
     * The weights from a {@link GramLoss} result (its volumes) at the same temperature and offset.
     *
     * @param result a {@link GramLoss} result
     * @param temperature the temperature of that loss
     * @param offset this rank's first row in the gathered tensors (0 on one process)
     * @return the sampling weights of both directions
     */
    public static Weights of(LossResult result, Temperature temperature, int offset) {
        return fromVolumes(result.anchorScores(), result.candidateScores(), temperature, offset);
    }

    /**
     * @param temperature the temperature {@code τ}
     * @param anchorVolumes {@code bs × N}: local anchors against gathered candidates
     * @param candidateVolumes {@code N × bs}: gathered anchors against local candidates
     * @param offset this rank's first row in the gathered tensors (0 on one process)
     * @return the sampling weights of both directions
     * @throws IllegalArgumentException if the shapes do not fit each other and the offset, if a
     *     volume is NaN or infinite, or if {@code |V|/τ} leaves the dtype's range (see
     *     {@link GramLoss}: normalise the rows or use a larger {@code τ})
     */
    public static Weights fromVolumes(INDArray anchorVolumes, INDArray candidateVolumes, Temperature temperature,
            int offset) {
        if (anchorVolumes == null || candidateVolumes == null || anchorVolumes.rank() != 2 || candidateVolumes.rank() != 2
                || anchorVolumes.size(0) != candidateVolumes.size(1) || anchorVolumes.size(1) != candidateVolumes.size(0)
                || offset < 0 || offset + anchorVolumes.size(0) > anchorVolumes.size(1)) {
            throw new IllegalArgumentException("anchorVolumes must be bs x N and candidateVolumes N x bs with 0 <= offset"
                    + " <= N - bs; got " + shape(anchorVolumes) + ", " + shape(candidateVolumes) + ", offset " + offset);
        }
        for (INDArray v : new INDArray[] {anchorVolumes, candidateVolumes}) {
            String name = v == anchorVolumes ? "anchorVolumes" : "candidateVolumes";
            if (!v.dataType().isFPType()) {
                throw new IllegalArgumentException(name + " must be FLOAT or DOUBLE, got " + v.dataType());
            }
            if (!LogitRange.finite(v)) {
                throw new IllegalArgumentException(name + " (shape " + shape(v) + ") contains NaN or infinite values");
            }
            DataType type = v.dataType() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT;
            LogitRange.requireTemperature(temperature.tau(), type);
            LogitRange.requireLogits(name, temperature.tau(), type, Double.POSITIVE_INFINITY, LogitRange.largestOf(v));
        }
        return new Weights(rowWeights(anchorVolumes, temperature.tau(), offset),
                rowWeights(candidateVolumes.transpose(), temperature.tau(), offset));
    }

    private static INDArray rowWeights(INDArray volumes, double tau, int offset) {
        int rows = (int) volumes.size(0);
        INDArray logits = volumes.mul(-1 / tau);
        INDArray max = logits.max(1).reshape(rows, 1);
        INDArray weights = Transforms.exp(logits.subiColumnVector(max), false);
        weights.diviColumnVector(weights.sum(1).reshape(rows, 1)).addi(EPSILON);
        for (int i = 0; i < rows; i++) {
            weights.putScalar(i, offset + i, 0.0);
        }
        return weights;
    }

    private static String shape(INDArray x) {
        return x == null ? "null" : java.util.Arrays.toString(x.shape());
    }
}
