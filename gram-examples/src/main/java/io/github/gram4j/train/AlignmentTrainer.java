package io.github.gram4j.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.github.gram4j.core.ContrastiveParameters;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.ContrastiveScore;
import io.github.gram4j.core.RowNormalization;
import io.github.gram4j.core.TriangleScores;
import io.github.gram4j.loss.CosineInfoNce;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.metrics.ScoreOrder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Trains one linear projection head per modality (GRAM's {@code Contra_head}: a linear map without
 * bias, {@code d_m → sharedDim}) on frozen features, with L2-normalised outputs, by either
 * <ul>
 *   <li>{@link Objective#GRAM}: the GRAM volume loss over all modalities, or</li>
 *   <li>{@link Objective#COSINE}: the cosine InfoNCE baseline on modalities 0 and 1 only (the
 *       pairwise alignment GRAM replaces),</li>
 * </ul>
 * with label smoothing, a learnable temperature and Adam (ND4J's updater) on heads and temperature.
 * Gradients are gram-loss's analytic ones, back-propagated through the normalisation and the
 * heads. Not thread-safe: one trainer per thread.
 */
public final class AlignmentTrainer {

    /** What the heads are trained for. */
    public enum Objective {
        /** The GRAM volume loss over every modality. */
        GRAM,
        /** CLIP-style InfoNCE between modality 0 and modality 1 only. */
        COSINE,
        /**
         * TRIANGLE's loss (the same bidirectional loss on its rootless triangle score), exactly three
         * modalities.
         */
        TRIANGLE
    }

    /**
     * @param sharedDim the heads' output dimension
     * @param batchSize items per step
     * @param learningRate Adam's step size (heads and temperature)
     * @param labelSmoothing {@code ε}
     * @param initialTemperature {@code τ} at the start (GRAM: 0.07)
     * @param objective GRAM or the cosine baseline
     * @param seed initial heads and batch sampling
     */
    public record Config(int sharedDim, int batchSize, double learningRate, double labelSmoothing,
            double initialTemperature, Objective objective, long seed) {

        /** Checks the ranges. */
        public Config {
            if (sharedDim < 1 || batchSize < 2 || !(learningRate > 0) || !(initialTemperature > 0) || objective == null) {
                throw new IllegalArgumentException("need sharedDim >= 1, batchSize >= 2, learningRate > 0,"
                        + " initialTemperature > 0 and an objective; got " + sharedDim + ", " + batchSize + ", "
                        + learningRate + ", " + initialTemperature + ", " + objective);
            }
            ContrastiveParameters.requireLabelSmoothing(labelSmoothing);
        }
    }

    /** The smallest temperature the trainer lets τ reach. */
    public static final double MIN_TEMPERATURE = 0.01;

    private final Config config;
    private final List<INDArray> heads = new ArrayList<>();
    private final List<GradientUpdater<?>> updaters = new ArrayList<>();
    private final INDArray temperature;
    private final GradientUpdater<?> temperatureUpdater;
    private final Random random;
    private int iteration;

    /**
     * @param dims the feature dimension of every modality (its count is {@code k})
     */
    public AlignmentTrainer(int[] dims, Config config) {
        if (dims.length < 2) {
            throw new IllegalArgumentException("need at least 2 modalities, got " + dims.length);
        }
        if (config.objective() == Objective.TRIANGLE && dims.length != 3) {
            throw new IllegalArgumentException("the TRIANGLE objective needs exactly 3 modalities, got " + dims.length);
        }
        this.config = config;
        this.random = new Random(config.seed());
        Adam adam = new Adam(config.learningRate());
        for (int dim : dims) {
            double[][] w = new double[dim][config.sharedDim()];
            for (double[] row : w) {
                for (int j = 0; j < row.length; j++) {
                    row[j] = random.nextGaussian() / Math.sqrt(dim);
                }
            }
            INDArray head = Nd4j.create(w).castTo(DataType.FLOAT);
            heads.add(head);
            updaters.add(adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(head.length())), true));
        }
        temperature = Nd4j.scalar(DataType.FLOAT, config.initialTemperature()).reshape(1, 1);
        temperatureUpdater = adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(1)), true);
    }

    /** The current temperature {@code τ}. */
    public double temperature() {
        return temperature.getDouble(0);
    }

    /** Head {@code m}, {@code d_m × sharedDim} (live: training updates it in place). */
    public INDArray head(int m) {
        return heads.get(m);
    }

    /** {@code normalize(features · head_m)}: modality {@code m}'s embeddings, {@code rows × sharedDim}. */
    public INDArray embed(int m, INDArray features) {
        return RowNormalization.forward(features.mmul(heads.get(m)));
    }

    /**
     * One optimisation step on a random mini-batch of {@code batchSize} training items.
     *
     * @return the loss of the batch before the update
     */
    public double step(SyntheticModalities.Split train) {
        int batch = Math.min(config.batchSize(), train.items());
        int[] items = sample(train.items(), batch);
        int k = config.objective() == Objective.COSINE ? 2 : heads.size();
        List<INDArray> features = new ArrayList<>(k);
        List<INDArray> projected = new ArrayList<>(k);
        List<INDArray> embeddings = new ArrayList<>(k);
        for (int m = 0; m < k; m++) {
            INDArray x = rows(train.features().get(m), items);
            INDArray z = x.mmul(heads.get(m));
            features.add(x);
            projected.add(z);
            embeddings.add(RowNormalization.forward(z));
        }
        Temperature tau = Temperature.of(temperature());
        LossResult result = config.objective() != Objective.COSINE
                ? new GramLoss(config.labelSmoothing(), config.objective() == Objective.TRIANGLE
                        ? ContrastiveScore.TRIANGLE : ContrastiveScore.GRAM_VOLUME).compute(tau, embeddings.get(0),
                        embeddings.subList(1, k).toArray(INDArray[]::new))
                : new CosineInfoNce(config.labelSmoothing()).compute(tau, embeddings.get(0), embeddings.get(1));
        for (int m = 0; m < k; m++) {
            INDArray gradE = m == 0 ? result.gradAnchor() : result.gradCandidates().get(m - 1);
            INDArray gradHead = features.get(m).transpose().mmul(
                    RowNormalization.backward(projected.get(m), embeddings.get(m), gradE));
            updaters.get(m).applyUpdater(gradHead, iteration, 0);
            heads.get(m).subi(gradHead);
        }
        INDArray gradTau = Nd4j.scalar(DataType.FLOAT, result.gradTemperature()).reshape(1, 1);
        temperatureUpdater.applyUpdater(gradTau, iteration, 0);
        temperature.subi(gradTau);
        if (temperature() < MIN_TEMPERATURE) {
            temperature.assign(MIN_TEMPERATURE);
        }
        iteration++;
        return result.loss();
    }

    /**
     * Retrieval from modality 0 (text) to the others on {@code test}: GRAM volume of
     * {@code (text_i, x1_j, …)} for {@link Objective#GRAM} (lower is better), cosine of
     * {@code (text_i, x1_j)} for {@link Objective#COSINE} (higher is better), TRIANGLE score of
     * {@code (text_i, x1_j, x2_j)} for {@link Objective#TRIANGLE} (lower is better); a text row's
     * positive is its item.
     */
    public RetrievalMetrics evaluate(SyntheticModalities.Split test) {
        INDArray text = embed(0, test.features().get(0));
        if (config.objective() == Objective.COSINE) {
            INDArray scores = text.mmul(embed(1, test.features().get(1)).transpose());
            return RetrievalMetrics.compute(scores, ScoreOrder.HIGHER_IS_BETTER, test.textItems(), itemIds(test));
        }
        INDArray[] candidates = new INDArray[heads.size() - 1];
        for (int m = 1; m < heads.size(); m++) {
            candidates[m - 1] = embed(m, test.features().get(m));
        }
        if (config.objective() == Objective.TRIANGLE) {
            return RetrievalMetrics.compute(TriangleScores.pairwise(text, candidates), ScoreOrder.LOWER_IS_BETTER,
                    test.textItems(), itemIds(test));
        }
        return volumeRetrieval(test, text, candidates);
    }

    /**
     * Text → candidates retrieval on a split by GRAM volume (lower is better): candidate row
     * {@code j} is item {@code j}, text row {@code i}'s positive is {@code test.textItems()[i]}.
     */
    static RetrievalMetrics volumeRetrieval(SyntheticModalities.Split test, INDArray text, INDArray... candidates) {
        return RetrievalMetrics.compute(GramVolumes.pairwise(text, candidates), ScoreOrder.LOWER_IS_BETTER,
                test.textItems(), itemIds(test));
    }

    private static long[] itemIds(SyntheticModalities.Split test) {
        long[] ids = new long[test.items()];
        for (int j = 0; j < ids.length; j++) {
            ids[j] = j;
        }
        return ids;
    }

    private int[] sample(int population, int count) {
        int[] all = new int[population];
        for (int i = 0; i < population; i++) {
            all[i] = i;
        }
        for (int i = 0; i < count; i++) {
            int j = i + random.nextInt(population - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return java.util.Arrays.copyOf(all, count);
    }

    private static INDArray rows(INDArray x, int[] rows) {
        return Nd4j.pullRows(x, 1, rows);
    }
}
