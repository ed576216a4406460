package io.github.gram4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import io.github.gram4j.core.ContrastiveParameters;
import io.github.gram4j.metrics.RetrievalMetrics;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Loss;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.listeners.records.History;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * GRAM trained end to end by SameDiff: the example of gram-samediff's loss in a model that
 * {@code sd.fit} trains, on {@link SyntheticModalities} data.
 *
 * <ol>
 *   <li>Generate the synthetic dataset (text, video, audio, … features; a train and a test split).</li>
 *   <li>Build the {@link SameDiffAlignmentModel}: one FLOAT placeholder {@code [-1, d_m]} per
 *       modality, a bias-free linear head per modality, L2-normalised rows, a learned temperature
 *       clamped at 0.01, and {@code SameDiffGramLoss} with text as the anchor.</li>
 *   <li>Evaluate text → (other modalities) retrieval on the test split (the untrained baseline).</li>
 *   <li>Train with {@code sd.fit}: Adam, the placeholders fed from the features of each
 *       {@link ShuffledBatches} mini-batch, no labels, minimising {@code "loss"}; a listener
 *       records the loss of every step (by its own forward pass: SameDiff 1.0.0-M2.1's loss
 *       records read 0 for this graph, see {@code StepLosses}).</li>
 *   <li>Evaluate again, exactly as {@link AlignmentTrainer#evaluate} does (gram-core's volumes,
 *       gram-loss's retrieval metrics).</li>
 * </ol>
 *
 * <p>{@link #run(Config)} returns the numbers as an immutable {@link Result}; {@link #main} runs
 * {@link Config#defaults()} and prints them. Running needs an ND4J backend on the class path
 * (gram-train depends on nd4j-api only; its tests use nd4j-native).
 */
public final class SameDiffAlignmentExample {

    /**
     * The example's settings.
     *
     * @param data the synthetic dataset (its modality count is {@code k})
     * @param sharedDim the heads' output dimension, {@code ≥ 1}
     * @param batchSize rows per training batch, {@code ≥ 2} and at most the training items
     *     (checked by {@link #run}); the last partial batch of every epoch is dropped
     * @param epochs passes over the training split, {@code ≥ 1}
     * @param learningRate Adam's step size (heads and temperature), finite and {@code > 0}
     * @param labelSmoothing {@code ε} in {@code [0, 1]} (GRAM: 0.1)
     * @param initialTemperature {@code τ} at the start (GRAM: 0.07), finite and {@code ≥ 0.01}
     * @param seed the heads' initial weights; the batch shuffles use {@code seed + 1}
     */
    public record Config(SyntheticModalities.Config data, int sharedDim, int batchSize, int epochs,
            double learningRate, double labelSmoothing, double initialTemperature, long seed) {

        /** @throws IllegalArgumentException naming the first argument out of range */
        public Config {
            if (data == null) {
                throw new IllegalArgumentException("data must not be null");
            }
            if (sharedDim < 1) {
                throw new IllegalArgumentException("sharedDim must be >= 1, got " + sharedDim);
            }
            if (batchSize < 2) {
                throw new IllegalArgumentException("batchSize must be >= 2 (a contrastive batch), got " + batchSize);
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
            }
            if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
                throw new IllegalArgumentException("learningRate must be finite and > 0, got " + learningRate);
            }
            ContrastiveParameters.requireLabelSmoothing(labelSmoothing);
            if (!(initialTemperature >= SameDiffAlignmentModel.MIN_TEMPERATURE) || Double.isInfinite(initialTemperature)) {
                throw new IllegalArgumentException("initialTemperature must be finite and >= "
                        + SameDiffAlignmentModel.MIN_TEMPERATURE + ", got " + initialTemperature);
            }
        }

        /**
         * 1000 items (800 train, 200 test) in text, video and audio; 32-d shared space, batches
         * of 64, 30 epochs (360 steps), Adam at 0.01, GRAM's {@code ε = 0.1} and {@code τ₀ = 0.07}.
         */
        public static Config defaults() {
            return new Config(SyntheticModalities.Config.of(1000, 3, 5), 32, 64, 30, 1e-2, 0.1, 0.07, 3);
        }
    }

    /**
     * What a run measured.
     *
     * @param stepLosses the loss of every training step's batch, before that step's update, in
     *     order ({@code epochs × ⌊trainItems / batchSize⌋} values)
     * @param epochLosses the mean of every epoch's step losses
     * @param before test retrieval (text → the other modalities) of the untrained heads
     * @param after test retrieval after training
     * @param temperature the temperature the loss uses after training, {@code max(τ, 0.01)}
     * @param chanceRecallAt1 R@1 of a random ranking, {@code 100 / test items} percent
     */
    public record Result(List<Double> stepLosses, List<Double> epochLosses, RetrievalMetrics before,
            RetrievalMetrics after, double temperature, double chanceRecallAt1) {

        /** Copies the lists. */
        public Result {
            stepLosses = List.copyOf(stepLosses);
            epochLosses = List.copyOf(epochLosses);
        }

        /** The first step's loss: the untrained heads on the first batch. */
        public double initialLoss() {
            return stepLosses.get(0);
        }

        /** The last epoch's mean loss. */
        public double finalLoss() {
            return epochLosses.get(epochLosses.size() - 1);
        }

        /** Text → candidates R@1 (percent) before training. */
        public double recallAt1Before() {
            return before.anchorToCandidate().recallAt1();
        }

        /** Text → candidates R@1 (percent) after training. */
        public double recallAt1After() {
            return after.anchorToCandidate().recallAt1();
        }
    }

    private SameDiffAlignmentExample() {
    }

    /**
     * Generates the data, builds the model, evaluates, trains with {@code sd.fit} and evaluates
     * again.
     *
     * @throws IllegalArgumentException if {@code config} is null or its {@code batchSize} exceeds
     *     the training split's item count
     */
    public static Result run(Config config) {
        if (config == null) {
            throw new IllegalArgumentException("config must not be null");
        }
        SyntheticModalities.Dataset data = SyntheticModalities.generate(config.data());
        SyntheticModalities.Split train = data.train();
        if (config.batchSize() > train.items()) {
            throw new IllegalArgumentException("batchSize must be at most the " + train.items() + " training items, got "
                    + config.batchSize());
        }
        SameDiffAlignmentModel model = SameDiffAlignmentModel.build(data.names(), data.dims(), config.sharedDim(),
                config.initialTemperature(), config.labelSmoothing(), config.seed());
        RetrievalMetrics before = model.evaluate(data.test());

        SameDiff sd = model.sd();
        sd.setTrainingConfig(TrainingConfig.builder()
                .updater(new Adam(config.learningRate()))
                .dataSetFeatureMapping(model.modalities())
                .markLabelsUnused()
                .minimize(SameDiffAlignmentModel.LOSS)
                .build());
        ShuffledBatches batches = new ShuffledBatches(train.features(), config.batchSize(), config.seed() + 1);
        StepLosses steps = new StepLosses(model);
        sd.fit(batches, config.epochs(), steps);

        return new Result(steps.losses, steps.epochMeans(batches.batchesPerEpoch()), before,
                model.evaluate(data.test()), model.temperature(), 100.0 / data.test().items());
    }

    /**
     * Runs {@link Config#defaults()} and prints the loss curve and the retrieval before and after.
     * (ND4J 1.0.0-M2.1 itself prints an "Added differentiated op" line per op to standard output
     * when {@code sd.fit} first builds the gradient graph.)
     *
     * @param args none
     */
    public static void main(String[] args) {
        if (args.length != 0) {
            throw new IllegalArgumentException("SameDiffAlignmentExample takes no arguments, got " + args.length);
        }
        Result result = run(Config.defaults());
        List<Double> epochs = result.epochLosses();
        for (int e = 0; e < epochs.size(); e++) {
            System.out.printf("epoch %3d  mean loss %.4f%n", e + 1, epochs.get(e));
        }
        System.out.printf("loss: first step %.4f -> last epoch %.4f%n", result.initialLoss(), result.finalLoss());
        System.out.printf("text -> others R@1: %.1f %% -> %.1f %% (chance %.2f %%), R@5 %.1f %%, R@10 %.1f %%%n",
                result.recallAt1Before(), result.recallAt1After(), result.chanceRecallAt1(),
                result.after().anchorToCandidate().recallAt5(), result.after().anchorToCandidate().recallAt10());
        System.out.printf("temperature: %.4f%n", result.temperature());
    }

    /**
     * Records the loss of every training step: the loss of the step's batch at the parameters
     * before the step's update, from one extra forward pass ({@code sd.output}) when the step
     * starts.
     *
     * <p>Why not the {@link Loss} SameDiff hands to {@code iterationDone}, or the loss curve of
     * the {@link History} {@code sd.fit} returns: ND4J 1.0.0-M2.1's training session computes only
     * the variables the gradients need and seeds the backward pass with a constant 1, so the op
     * that outputs the loss (a product by ½, whose backward does not read its output) never runs
     * and both report 0 for every step; asking for the loss through
     * {@code Listener.requiredVariables}' training variables does not change that in this
     * version.
     */
    private static final class StepLosses extends BaseListener {

        private final SameDiffAlignmentModel model;
        private final List<Double> losses = new ArrayList<>();

        StepLosses(SameDiffAlignmentModel model) {
            this.model = model;
        }

        @Override
        public boolean isActive(Operation operation) {
            return operation == Operation.TRAINING;
        }

        @Override
        public void iterationStart(SameDiff sd, At at, MultiDataSet batch, long etlTimeMs) {
            losses.add(model.loss(Arrays.asList(batch.getFeatures())));
        }

        /** The mean step loss of each epoch of {@code stepsPerEpoch} steps. */
        List<Double> epochMeans(int stepsPerEpoch) {
            List<Double> means = new ArrayList<>();
            for (int start = 0; start + stepsPerEpoch <= losses.size(); start += stepsPerEpoch) {
                means.add(losses.subList(start, start + stepsPerEpoch).stream().mapToDouble(Double::doubleValue)
                        .average().orElseThrow());
            }
            return means;
        }
    }
}
