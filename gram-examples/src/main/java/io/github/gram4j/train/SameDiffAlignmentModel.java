package io.github.gram4j.train;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

import io.github.gram4j.core.ContrastiveParameters;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.samediff.SameDiffGramLoss;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GRAM's projection heads and loss as one SameDiff graph, the autodiff counterpart of
 * {@link AlignmentTrainer} with {@link AlignmentTrainer.Objective#GRAM}:
 * <pre>
 *   x_m            placeholder "⟨name_m⟩",            FLOAT [-1, d_m]
 *   W_m            variable    "⟨name_m⟩_head",       FLOAT [d_m, sharedDim], N(0, 1/d_m), seeded
 *   z_m = x_m·W_m
 *   e_m = z_m · 1/sqrt(Σ_j z_m[:, j]² + 1e-12)   "⟨name_m⟩_embedding", FLOAT [-1, sharedDim]
 *   τ              variable    "tau",                 FLOAT scalar, the initial temperature
 *   τ' = max(τ, 0.01)          "temperature"
 *   L  = GRAM loss(τ'; anchor e_0; candidates e_1 … e_{k−1})   "loss", FLOAT scalar
 * </pre>
 * Every op is differentiable in SameDiff. The row normalisation multiplies by the reciprocal of
 * the row norm instead of dividing by it, the form gram-samediff uses throughout (ND4J 1.0.0-M2.1's
 * division backward gets the gradient of a broadcast scalar divisor wrong; a row-norm divisor is
 * fine in this version: {@code SameDiffWorkaroundsTest}); the epsilon only matters for an all-zero
 * projection. The clamp
 * {@code max(τ, 0.01)} keeps the temperature the loss sees at or above
 * {@link #MIN_TEMPERATURE}; while the variable is below it, its gradient is 0 (as with CLIP's
 * clamped logit scale).
 *
 * <p>The loss's variable {@link #LOSS} is set as the graph's loss variable; train it with
 * {@code sd.fit} (see {@link SameDiffAlignmentExample}). The placeholders leave the batch
 * dimension open: training batches are {@code B × d_m} with the same {@code B} for every
 * modality, and embedding ({@link #embed}) takes any row count.
 *
 * <p>Not thread-safe (SameDiff graphs are not): one model per thread.
 */
public final class SameDiffAlignmentModel {

    /** The smallest temperature the loss sees, as {@link AlignmentTrainer#MIN_TEMPERATURE}. */
    public static final double MIN_TEMPERATURE = AlignmentTrainer.MIN_TEMPERATURE;

    /** Added to the squared row norm before its square root in the normalisation. */
    public static final float NORM_EPSILON = 1e-12f;

    /** The loss variable's name. */
    public static final String LOSS = "loss";

    /** The trainable temperature variable's name. */
    public static final String TAU = "tau";

    /** The clamped temperature {@code max(τ, 0.01)} the loss uses. */
    public static final String TEMPERATURE = "temperature";

    private final SameDiff sd;
    private final List<String> modalities;
    private final int[] dims;
    private final int sharedDim;

    private SameDiffAlignmentModel(SameDiff sd, List<String> modalities, int[] dims, int sharedDim) {
        this.sd = sd;
        this.modalities = modalities;
        this.dims = dims;
        this.sharedDim = sharedDim;
    }

    /**
     * Builds the graph.
     *
     * @param modalities the modality names, also the placeholder names; modality 0 is the anchor
     *     (text); at least 2, distinct, non-empty, none equal to {@link #LOSS}, {@link #TAU} or
     *     {@link #TEMPERATURE}
     * @param dims {@code d_m} of every modality, each {@code ≥ 1}
     * @param sharedDim the heads' output dimension, {@code ≥ 1}
     * @param initialTemperature {@code τ} at the start (GRAM: 0.07), finite and
     *     {@code ≥ MIN_TEMPERATURE}
     * @param labelSmoothing {@code ε} in {@code [0, 1]} (GRAM: 0.1)
     * @param seed the seed of the heads' initial weights
     * @throws IllegalArgumentException naming the argument that is out of range
     */
    public static SameDiffAlignmentModel build(List<String> modalities, int[] dims, int sharedDim,
            double initialTemperature, double labelSmoothing, long seed) {
        requireNames(modalities);
        if (dims == null || dims.length != modalities.size()) {
            throw new IllegalArgumentException("dims must give one dimension per modality (" + modalities.size()
                    + "), got " + (dims == null ? "null" : Arrays.toString(dims)));
        }
        for (int m = 0; m < dims.length; m++) {
            if (dims[m] < 1) {
                throw new IllegalArgumentException("dims[" + m + "] must be >= 1, got " + dims[m]);
            }
        }
        if (sharedDim < 1) {
            throw new IllegalArgumentException("sharedDim must be >= 1, got " + sharedDim);
        }
        if (!(initialTemperature >= MIN_TEMPERATURE) || Double.isInfinite(initialTemperature)) {
            throw new IllegalArgumentException("initialTemperature must be finite and >= " + MIN_TEMPERATURE + ", got "
                    + initialTemperature);
        }
        ContrastiveParameters.requireLabelSmoothing(labelSmoothing);

        SameDiff sd = SameDiff.create();
        Random random = new Random(seed);
        SDVariable[] embeddings = new SDVariable[modalities.size()];
        for (int m = 0; m < embeddings.length; m++) {
            String name = modalities.get(m);
            SDVariable x = sd.placeHolder(name, DataType.FLOAT, -1, dims[m]);
            SDVariable head = sd.var(headName(name), gaussianHead(random, dims[m], sharedDim));
            embeddings[m] = normalizeRows(sd, embeddingName(name), x.mmul(head));
        }
        SDVariable tau = sd.var(TAU, Nd4j.scalar(DataType.FLOAT, (float) initialTemperature));
        SDVariable floor = sd.constant("min_temperature", Nd4j.scalar(DataType.FLOAT, (float) MIN_TEMPERATURE));
        SDVariable temperature = sd.math.max(TEMPERATURE, tau, floor);
        SDVariable loss = new SameDiffGramLoss(labelSmoothing).loss(sd, LOSS, temperature, embeddings[0],
                Arrays.copyOfRange(embeddings, 1, embeddings.length));
        sd.setLossVariables(loss);
        return new SameDiffAlignmentModel(sd, List.copyOf(modalities), dims.clone(), sharedDim);
    }

    /** The graph (live: {@code sd.fit} updates its variables in place). */
    public SameDiff sd() {
        return sd;
    }

    /** The modality names, which are also the placeholder names, in order; modality 0 is the anchor. */
    public List<String> modalities() {
        return modalities;
    }

    /** The heads' output dimension. */
    public int sharedDim() {
        return sharedDim;
    }

    /** The name of modality {@code name}'s head variable, {@code ⟨name⟩_head}. */
    public static String headName(String name) {
        return name + "_head";
    }

    /** The name of modality {@code name}'s embedding variable, {@code ⟨name⟩_embedding}. */
    public static String embeddingName(String name) {
        return name + "_embedding";
    }

    /** The temperature the loss currently uses, {@code max(τ, 0.01)}. */
    public double temperature() {
        return sd.output(Map.of(), TEMPERATURE).get(TEMPERATURE).getDouble(0);
    }

    /**
     * Modality {@code m}'s L2-normalised embeddings, computed by the graph.
     *
     * @param m the modality index
     * @param features {@code rows × d_m}, FLOAT
     * @return {@code rows × sharedDim}, FLOAT, unit rows
     * @throws IllegalArgumentException for an {@code m} out of range or features of another shape
     *     or dtype
     */
    public INDArray embed(int m, INDArray features) {
        if (m < 0 || m >= modalities.size()) {
            throw new IllegalArgumentException("m must be in 0.." + (modalities.size() - 1) + ", got " + m);
        }
        requireFeatures("features", features, m);
        String name = modalities.get(m);
        return sd.output(Map.of(name, features), embeddingName(name)).get(embeddingName(name));
    }

    /**
     * The graph's loss on one batch, without training.
     *
     * @param batch one {@code B × d_m} FLOAT matrix per modality, rows paired across modalities
     * @return the GRAM loss at the current heads and temperature
     * @throws IllegalArgumentException for a batch of the wrong count, shapes or dtype
     */
    public double loss(List<INDArray> batch) {
        if (batch == null || batch.size() != modalities.size()) {
            throw new IllegalArgumentException("batch must hold one matrix per modality (" + modalities.size() + "), got "
                    + (batch == null ? "null" : batch.size()));
        }
        Map<String, INDArray> placeholders = new HashMap<>();
        for (int m = 0; m < batch.size(); m++) {
            requireFeatures("batch[" + m + "]", batch.get(m), m);
            if (batch.get(m).rows() != batch.get(0).rows()) {
                throw new IllegalArgumentException("batch[" + m + "] has " + batch.get(m).rows() + " rows but batch[0] has "
                        + batch.get(0).rows() + "; row i of every modality is item i");
            }
            placeholders.put(modalities.get(m), batch.get(m));
        }
        return sd.output(placeholders, LOSS).get(LOSS).getDouble(0);
    }

    /**
     * Retrieval from modality 0 (text) to the others on {@code test}, as
     * {@link AlignmentTrainer#evaluate}: GRAM volume of {@code (text_i, x1_j, …)} (lower is
     * better); a text row's positive is its item.
     *
     * @param test a split with one feature matrix per modality
     * @throws IllegalArgumentException for a split of another modality count or feature shapes
     */
    public RetrievalMetrics evaluate(SyntheticModalities.Split test) {
        if (test == null || test.features().size() != modalities.size()) {
            throw new IllegalArgumentException("test must hold one feature matrix per modality (" + modalities.size()
                    + ")");
        }
        INDArray text = embed(0, test.features().get(0));
        INDArray[] candidates = new INDArray[modalities.size() - 1];
        for (int m = 1; m < modalities.size(); m++) {
            candidates[m - 1] = embed(m, test.features().get(m));
        }
        return AlignmentTrainer.volumeRetrieval(test, text, candidates);
    }

    /** {@code z · 1/sqrt(Σ z² + ε)} row-wise, as the variable {@code name}. */
    private static SDVariable normalizeRows(SameDiff sd, String name, SDVariable z) {
        SDVariable squares = sd.sum(z.mul(z), true, 1);
        SDVariable inverseNorm = sd.math.reciprocal(sd.math.sqrt(squares.add(NORM_EPSILON)));
        return z.mul(name, inverseNorm);
    }

    /** {@code rows × cols} FLOAT, entries {@code N(0, 1/rows)}: unit-variance outputs for unit-variance inputs. */
    private static INDArray gaussianHead(Random random, int rows, int cols) {
        double[][] w = new double[rows][cols];
        for (double[] row : w) {
            for (int j = 0; j < cols; j++) {
                row[j] = random.nextGaussian() / Math.sqrt(rows);
            }
        }
        return Nd4j.create(w).castTo(DataType.FLOAT);
    }

    private void requireFeatures(String argument, INDArray features, int m) {
        if (features == null || features.rank() != 2 || features.columns() != dims[m]
                || features.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException(argument + " must be a FLOAT rows x " + dims[m] + " matrix for modality '"
                    + modalities.get(m) + "', got " + (features == null ? "null"
                            : features.dataType() + " " + Arrays.toString(features.shape())));
        }
    }

    private static void requireNames(List<String> modalities) {
        if (modalities == null || modalities.size() < 2) {
            throw new IllegalArgumentException("modalities must name at least 2 modalities, got " + modalities);
        }
        List<String> reserved = List.of(LOSS, TAU, TEMPERATURE);
        if (new HashSet<>(modalities).size() != modalities.size()) {
            throw new IllegalArgumentException("modalities must be distinct, got " + modalities);
        }
        for (String name : modalities) {
            if (name == null || name.isEmpty() || reserved.contains(name)) {
                throw new IllegalArgumentException("modalities must be non-empty names other than " + reserved + ", got "
                        + modalities);
            }
        }
    }
}
