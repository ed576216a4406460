package io.github.gram4j.bench;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import io.github.gram4j.samediff.SameDiffGramLoss;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * GRAM's loss as a SameDiff graph (gram-samediff's {@link SameDiffGramLoss}, differentiated by
 * SameDiff's autodiff) next to gram-loss's analytic forward + backward ({@link GramLoss#compute}),
 * on the same {@link Embeddings}, in the same run: read the SameDiff cost as a ratio to
 * {@link #analyticLossForwardBackward}.
 *
 * <p>The iterations are shorter than the other classes' to keep the default run short (the
 * SameDiff backward takes seconds at the default point); pass {@code -wi 3 -w 2s -i 5 -r 2s} for
 * the other classes' settings.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g", "--add-modules", "jdk.incubator.vector"})
public class SameDiffLossBenchmark {

    private final GramLoss analytic = new GramLoss();
    private final Temperature temperature = Temperature.of(Temperature.GRAM_DEFAULT);

    /**
     * One SameDiff graph per trial: the anchor, the {@code k − 1} candidate batches and
     * {@code τ} = 0.07 are variables holding copies of the trial's arrays (ND4J 1.0.0-M2.1's
     * {@code calculateGradients} silently returns no gradient for a placeholder, so they cannot be
     * placeholders), the loss is the graph's loss variable. The setup checks the graph against
     * gram-loss and fails the trial otherwise, so a broken graph is never timed.
     */
    @State(Scope.Thread)
    public static class Graph {

        private static final String LOSS = "loss";
        private static final String TAU = "tau";

        /** No placeholders: every input is a variable. */
        private final Map<String, INDArray> noPlaceholders = new HashMap<>();
        private SameDiff sd;
        /** The anchor, the candidates and τ: the variables whose gradients forward + backward computes. */
        private List<String> inputs;

        @Setup(Level.Trial)
        public void setUp(Embeddings e) {
            DataType type = e.anchor.dataType();
            sd = SameDiff.create();
            SDVariable anchor = sd.var("anchor", e.anchor.dup());
            SDVariable[] candidates = new SDVariable[e.candidates.length];
            inputs = new ArrayList<>(List.of("anchor"));
            for (int m = 0; m < candidates.length; m++) {
                candidates[m] = sd.var("candidate" + m, e.candidates[m].dup());
                inputs.add("candidate" + m);
            }
            SDVariable tau = sd.var(TAU, Nd4j.scalar(type, Temperature.GRAM_DEFAULT));
            inputs.add(TAU);
            sd.setLossVariables(new SameDiffGramLoss().loss(sd, LOSS, tau, anchor, candidates));
            validate(e, type == DataType.DOUBLE);
        }

        /**
         * Collects garbage before every call, outside the timing. ND4J 1.0.0-M2.1's SameDiff
         * frees the arrays of a call (~600 MB off-heap for forward + backward at B = 1024,
         * d = 512, k = 3) only when the Java GC collects their small on-heap handles: without a
         * collection the process grew to 12 GB RSS in 20 calls, and each call took ~1.8 s instead
         * of ~0.32 s (fresh pages fault in). The benchmark measures the computation; README and
         * docs/performance.md describe the memory behaviour.
         */
        @Setup(Level.Invocation)
        public void releaseLastCall() {
            System.gc();
        }

        /** The forward pass to the loss scalar. */
        INDArray loss() {
            return sd.output(noPlaceholders, LOSS).get(LOSS);
        }

        /** Forward and backward: the gradients for the anchor, the candidates and τ. */
        Map<String, INDArray> gradients() {
            return sd.calculateGradients(noPlaceholders, inputs);
        }

        /**
         * Fails unless the graph's loss and gradients match gram-loss's: the loss within a relative
         * 1e-5 (FLOAT) or 1e-9 (DOUBLE), the anchor and candidate gradients within 1e-3 (FLOAT) or
         * 1e-9 (DOUBLE) in Frobenius norm, {@code ∂L/∂τ} within 1e-4 (FLOAT) or 1e-9 (DOUBLE).
         */
        private void validate(Embeddings e, boolean isDouble) {
            LossResult expected = new GramLoss().compute(Temperature.of(Temperature.GRAM_DEFAULT), e.anchor,
                    e.candidates);
            requireClose("loss", loss().getDouble(0), expected.loss(), isDouble ? 1e-9 : 1e-5);
            // ND4J 1.0.0-M2.1 prints a line per differentiated op to System.out when it first
            // builds the gradient graph; keep that out of JMH's output.
            Map<String, INDArray> gradients = quietly(this::gradients);
            for (String input : inputs) {
                INDArray gradient = gradients.get(input);
                if (gradient == null || gradient.isInfinite().any() || gradient.isNaN().any()) {
                    throw new IllegalStateException("the SameDiff graph does not match gram-loss: no finite gradient"
                            + " for '" + input + "' (got " + gradient + " among " + gradients.keySet() + ")");
                }
            }
            double tolerance = isDouble ? 1e-9 : 1e-3;
            requireClose("dL/danchor", gradients.get("anchor"), expected.gradAnchor(), tolerance);
            for (int m = 0; m < e.candidates.length; m++) {
                requireClose("dL/dcandidate" + m, gradients.get("candidate" + m), expected.gradCandidates().get(m),
                        tolerance);
            }
            requireClose("dL/dtau", gradients.get(TAU).getDouble(0), expected.gradTemperature(), isDouble ? 1e-9 : 1e-4);
        }

        private static void requireClose(String what, INDArray actual, INDArray expected, double tolerance) {
            double error = actual.castTo(DataType.DOUBLE).sub(expected.castTo(DataType.DOUBLE)).norm2Number()
                    .doubleValue();
            double scale = expected.norm2Number().doubleValue();
            if (!(error <= tolerance * scale)) {
                throw new IllegalStateException("the SameDiff graph does not match gram-loss: " + what
                        + " relative error (Frobenius) " + error / scale + " > " + tolerance);
            }
        }

        private static void requireClose(String what, double actual, double expected, double tolerance) {
            double error = Math.abs(actual - expected);
            if (!(error <= tolerance * Math.abs(expected))) {
                throw new IllegalStateException("the SameDiff graph does not match gram-loss: " + what + " = " + actual
                        + ", gram-loss " + expected + " (relative error " + error / Math.abs(expected) + " > "
                        + tolerance + ")");
            }
        }

        private static <T> T quietly(Supplier<T> action) {
            PrintStream out = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                return action.get();
            } finally {
                System.setOut(out);
            }
        }
    }

    /** The SameDiff graph's forward pass to the loss scalar. */
    @Benchmark
    public INDArray samediffLossForward(Graph graph) {
        return graph.loss();
    }

    /** The SameDiff graph's forward and backward passes: the gradients for the anchor, the candidates and τ. */
    @Benchmark
    public Map<String, INDArray> samediffLossForwardBackward(Graph graph) {
        return graph.gradients();
    }

    /**
     * gram-loss's analytic loss value and every gradient (as {@code LossBenchmark.lossForwardBackward}):
     * the reference for {@link #samediffLossForwardBackward}.
     */
    @Benchmark
    public LossResult analyticLossForwardBackward(Embeddings e) {
        return analytic.compute(temperature, e.anchor, e.candidates);
    }
}
