package io.github.gram4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.github.gram4j.metrics.DirectionMetrics;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.train.AlignmentTrainer;
import io.github.gram4j.train.AlignmentTrainer.Objective;
import io.github.gram4j.train.SyntheticModalities;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram demo}: GRAM alignment end to end on synthetic multimodal features. Trains one linear
 * head per modality with the GRAM loss, then the same heads from the same start with the cosine
 * InfoNCE baseline on text–video only, and, with three modalities, with TRIANGLE's loss (the
 * same loss on the rootless triangle score); compares test retrieval (text → the other
 * modalities) before and after, each method ranking by its own score.
 */
@Command(name = "demo",
        sortOptions = false,
        headerHeading = "%n",
        header = "Train GRAM alignment on synthetic multimodal data and compare with cosine InfoNCE.",
        description = "Synthetic items share a latent concept that each modality sees through its own random map,"
                + " nuisance and noise. Linear heads per modality are trained with the GRAM loss (label"
                + " smoothing 0.1, learned temperature from 0.07, Adam), then with the cosine InfoNCE baseline on"
                + " text-video only, and with 3 modalities with TRIANGLE's area loss; test R@1/5/10 of text -> the"
                + " other modalities is reported before and after.",
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n")
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--modalities", defaultValue = "3", paramLabel = "K", description = "Modalities, 2..5 (default 3).")
    int modalities;

    @Option(names = "--items", defaultValue = "4000", paramLabel = "N", description = "Items, 20%% held out (default 4000).")
    int items;

    @Option(names = "--steps", defaultValue = "300", paramLabel = "S", description = "Training steps per method (default 300).")
    int steps;

    @Option(names = "--batch", defaultValue = "256", paramLabel = "B", description = "Items per step (default 256).")
    int batch;

    @Option(names = "--dim", defaultValue = "256", paramLabel = "D", description = "Shared embedding dimension (default 256).")
    int dim;

    @Option(names = "--seed", defaultValue = "7", paramLabel = "SEED", description = "Seed of data and training (default 7).")
    long seed;

    @Option(names = "--eval-every", paramLabel = "E", description = "Evaluate every E steps (default: steps / 6).")
    Integer evalEvery;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Write loss and R@1 curves of both methods as a PNG.")
    Path plot;

    @Option(names = "--plot-size", defaultValue = "1200x500", paramLabel = "WxH", description = "PNG size (default 1200x500).")
    String plotSize;

    @Option(names = "--csv", paramLabel = "FILE.csv", description = "Write the per-step numbers as CSV.")
    Path csv;

    /** One training step's numbers; recall is NaN where the step was not evaluated. */
    record StepRecord(String method, int step, double loss, double temperature, double r1, double r5, double r10) {
    }

    @Override
    public Integer call() throws Exception {
        if (modalities < 2 || modalities > SyntheticModalities.NAMES.size()) {
            throw new ParameterException(spec.commandLine(), "--modalities must be 2..5, got " + modalities);
        }
        if (items < 20 || steps < 1 || batch < 2 || dim < 1) {
            throw new ParameterException(spec.commandLine(), "need --items >= 20, --steps >= 1, --batch >= 2, --dim >= 1;"
                    + " got " + items + ", " + steps + ", " + batch + ", " + dim);
        }
        int every = evalEvery == null ? Math.max(1, steps / 6) : evalEvery;
        if (every < 1) {
            throw new ParameterException(spec.commandLine(), "--eval-every must be >= 1, got " + every);
        }
        int[] size = plotSize(plotSize);
        try (OutputFile plotFile = plot == null ? null : OutputFile.reserve(plot, "--plot", 0, List.of());
                OutputFile csvFile = csv == null ? null : OutputFile.reserve(csv, "--csv", 0, List.of())) {
            if (plotFile != null && csvFile != null && plotFile.target().toAbsolutePath().normalize()
                    .equals(csvFile.target().toAbsolutePath().normalize())) {
                throw new ParameterException(spec.commandLine(), "--plot and --csv name the same file " + plot);
            }
            run(every, size, plotFile, csvFile);
        }
        return 0;
    }

    private void run(int every, int[] size, OutputFile plotFile, OutputFile csvFile) {

        PrintWriter out = spec.commandLine().getOut();
        long start = System.nanoTime();
        SyntheticModalities.Dataset data = SyntheticModalities.generate(
                SyntheticModalities.Config.of(items, modalities, seed));
        String names = String.join(", ", data.names());
        out.printf(Locale.ROOT, "gram demo: %d items (%d train / %d test), modalities %s, heads -> %d dims%n", items,
                data.train().items(), data.test().items(), names, dim);
        out.printf(Locale.ROOT, "chance R@1 = %.2f %% (1 of %d test items)%n%n", 100.0 / data.test().items(),
                data.test().items());

        List<StepRecord> records = new ArrayList<>();
        AlignmentTrainer gram = trainer(data, Objective.GRAM);
        RetrievalMetrics before = gram.evaluate(data.test());
        RetrievalMetrics afterGram = train("GRAM", gram, data, every, records, out);
        AlignmentTrainer cosine = trainer(data, Objective.COSINE);
        RetrievalMetrics afterCosine = train("cosine", cosine, data, every, records, out);
        RetrievalMetrics afterTriangle = modalities == 3
                ? train("TRIANGLE", trainer(data, Objective.TRIANGLE), data, every, records, out) : null;

        out.println();
        out.printf(Locale.ROOT, "test retrieval, text -> %s (%d queries)%n", names.substring(names.indexOf(',') + 2),
                data.test().features().get(0).rows());
        out.printf(Locale.ROOT, "%-36s %8s %8s %8s%n", "", "R@1", "R@5", "R@10");
        row(out, "before training (GRAM volume)", before.anchorToCandidate());
        row(out, "after GRAM (volume, all modalities)", afterGram.anchorToCandidate());
        row(out, "after cosine InfoNCE (text-video)", afterCosine.anchorToCandidate());
        if (afterTriangle != null) {
            row(out, "after TRIANGLE (3 modalities)", afterTriangle.anchorToCandidate());
        }
        out.printf(Locale.ROOT, "%nwall time %.1f s%n", (System.nanoTime() - start) / 1e9);
        out.flush();

        if (csvFile != null) {
            csvFile.writeText(csv(records));
        }
        if (plotFile != null) {
            plotFile.writePng(DemoChart.image(records, size[0], size[1]));
        }
    }

    private AlignmentTrainer trainer(SyntheticModalities.Dataset data, Objective objective) {
        return new AlignmentTrainer(data.dims(), new AlignmentTrainer.Config(dim, batch, 1e-2, 0.1, 0.07, objective, seed));
    }

    /** Trains, printing a progress line (overwritten in place on a terminal) and the evaluations. */
    private RetrievalMetrics train(String method, AlignmentTrainer trainer, SyntheticModalities.Dataset data, int every,
            List<StepRecord> records, PrintWriter out) {
        boolean terminal = System.console() != null;
        long t0 = System.nanoTime();
        RetrievalMetrics last = null;
        for (int step = 1; step <= steps; step++) {
            double loss = trainer.step(data.train());
            double elapsed = (System.nanoTime() - t0) / 1e9;
            double rate = step / elapsed;
            boolean evaluate = step % every == 0 || step == steps;
            String progress = String.format(Locale.ROOT, "%-6s [%-30s] step %4d/%d  loss %.4f  tau %.4f  %.1f steps/s  ETA %.0f s",
                    method, "=".repeat((int) (30L * step / steps)), step, steps, loss, trainer.temperature(), rate,
                    (steps - step) / rate);
            if (evaluate) {
                last = trainer.evaluate(data.test());
                DirectionMetrics d = last.anchorToCandidate();
                out.printf(Locale.ROOT, "%s%s  test R@1 %.1f  R@5 %.1f  R@10 %.1f%n", terminal ? "\r" : "", progress,
                        d.recallAt1(), d.recallAt5(), d.recallAt10());
                records.add(new StepRecord(method, step, loss, trainer.temperature(), d.recallAt1(), d.recallAt5(),
                        d.recallAt10()));
            } else {
                if (terminal) {
                    out.print("\r" + progress);
                }
                records.add(new StepRecord(method, step, loss, trainer.temperature(), Double.NaN, Double.NaN, Double.NaN));
            }
            out.flush();
        }
        return last;
    }

    private static void row(PrintWriter out, String label, DirectionMetrics d) {
        out.printf(Locale.ROOT, "%-36s %8.1f %8.1f %8.1f%n", label, d.recallAt1(), d.recallAt5(), d.recallAt10());
    }

    private int[] plotSize(String value) {
        String[] parts = value.toLowerCase(Locale.ROOT).split("x");
        try {
            int w = Integer.parseInt(parts[0].strip());
            int h = Integer.parseInt(parts[1].strip());
            if (parts.length == 2 && w >= 200 && h >= 150 && w <= 8000 && h <= 8000) {
                return new int[] {w, h};
            }
        } catch (RuntimeException ignored) {
            // reported below
        }
        throw new ParameterException(spec.commandLine(), "--plot-size must be WIDTHxHEIGHT within 200x150..8000x8000,"
                + " got '" + value + "'");
    }

    private static String csv(List<StepRecord> records) {
        StringBuilder text = new StringBuilder("method,step,loss,temperature,r_at_1,r_at_5,r_at_10\n");
        for (StepRecord r : records) {
            text.append(String.format(Locale.ROOT, "%s,%d,%.6f,%.6f,%s,%s,%s%n", r.method(), r.step(), r.loss(),
                    r.temperature(), cell(r.r1()), cell(r.r5()), cell(r.r10())));
        }
        return text.toString();
    }

    private static String cell(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.4f", value);
    }
}
