package io.github.gram4j.reliability;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

import io.github.gram4j.core.Gram4jConcurrency;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.VolumeMethod;
import io.github.gram4j.core.testing.RandomArrays;
import io.github.gram4j.loss.CosineInfoNce;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.LossResult;
import io.github.gram4j.loss.Temperature;
import io.github.gram4j.reliability.AdversarialCases.Case;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The opt-in reliability suite ({@code mvn -B -ntp -Preliability -pl gram-loss -am test}): the
 * probes of issue 10 kept as tests. Each prints its counts. Nothing may crash (an exception other
 * than a clear {@link IllegalArgumentException}) or come back non-finite from finite input.
 */
@Tag("reliability")
class ReliabilitySuiteTest {

    /** Outcome counts of the adversarial cases. */
    static final class Tally {
        final Map<String, Integer> counts = new TreeMap<>();
        final Map<String, Map<String, Integer>> byOperation = new TreeMap<>();
        final List<String> failures = new ArrayList<>();

        void add(String outcome, String detail, boolean failure) {
            counts.merge(outcome, 1, Integer::sum);
            String operation = detail.substring(detail.indexOf(" / ") + 3).split(":")[0];
            byOperation.computeIfAbsent(operation, o -> new TreeMap<>()).merge(outcome, 1, Integer::sum);
            if (failure && failures.size() < 40) {
                failures.add(outcome + ": " + detail);
            }
        }

        int get(String outcome) {
            return counts.getOrDefault(outcome, 0);
        }
    }

    @Test
    void adversarialNumericCasesPassOrAreRefusedClearly() {
        List<Case> cases = AdversarialCases.all(20261130L);
        Tally tally = new Tally();
        int tried = 0;
        for (Case c : cases) {
            Truth truth = Truth.of(c);
            tried += runVolume(c, truth, "FAST", () -> GramVolumes.pairwise(VolumeMethod.FAST, c.anchor(), c.candidates()), tally);
            tried += runVolume(c, truth, "REFERENCE",
                    () -> GramVolumes.pairwise(VolumeMethod.REFERENCE, c.anchor(), c.candidates()), tally);
            tried += runVolume(c, truth, "pairwiseInto", () -> GramVolumes.pairwiseInto(Nd4j.zeros(
                    c.type() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT, AdversarialCases.ROWS, AdversarialCases.ROWS),
                    c.anchor(), c.candidates()), tally);
            tried += runVolume(c, truth.firstPair(), "tuple", () -> {
                INDArray[] rows = new INDArray[c.k()];
                rows[0] = c.anchor().getRow(0, true);
                for (int m = 0; m < c.k() - 1; m++) {
                    rows[m + 1] = c.candidates()[m].getRow(0, true);
                }
                return Nd4j.scalar(GramVolumes.tuple(Nd4j.vstack(rows))).reshape(1, 1);
            }, tally);
            tried += runLoss(c, "GramLoss", () -> new GramLoss().compute(Temperature.of(0.07), c.anchor(), c.candidates()),
                    tally);
            if (c.k() == 2) {
                tried += runLoss(c, "CosineInfoNce",
                        () -> new CosineInfoNce(0.1).compute(Temperature.of(0.07), c.anchor(), c.candidates()[0]), tally);
            }
        }
        int passed = tally.get("passed");
        int refused = tally.get("refused, clear error");
        int crashed = tally.get("crashed");
        int nonFinite = tally.get("silently non-finite");
        System.out.printf("reliability: adversarial cases: %d inputs, %d calls tried, %d passed, %d refused with a clear error,"
                + " %d crashed, %d silently non-finite, %d inaccurate, %d wrongly accepted, %d refused without cause%n",
                cases.size(), tried, passed, refused, crashed, nonFinite, tally.get("inaccurate"),
                tally.get("wrongly accepted"), tally.get("refused without cause"));
        tally.byOperation.forEach((operation, counts) -> System.out.println("  " + operation + ": " + counts));
        tally.failures.forEach(f -> System.out.println("  " + f));
        assertEquals(tried, passed + refused, "every call passes or is refused clearly: " + tally.counts);
        assertEquals(0, crashed + nonFinite);
    }

    private static int runVolume(Case c, Truth truth, String op, Supplier<INDArray> call, Tally tally) {
        String what = c.type() + " k=" + c.k() + " " + c.name() + " / " + op;
        try {
            INDArray v = call.get();
            if (c.mustRefuse()) {
                tally.add("wrongly accepted", what, true);
                return 1;
            }
            double[][] values = v.castTo(DataType.DOUBLE).toDoubleMatrix();
            String problem = truth.check(values, c.type() == DataType.DOUBLE ? DataType.DOUBLE : DataType.FLOAT);
            if (problem == null) {
                tally.add("passed", what, false);
            } else if (problem.startsWith("non-finite")) {
                tally.add("silently non-finite", what + ": " + problem, true);
            } else {
                tally.add("inaccurate", what + ": " + problem, true);
            }
        } catch (IllegalArgumentException e) {
            classifyRefusal(c, truth.refusalJustified(c.type()), what, e, tally);
        } catch (Throwable e) {
            tally.add("crashed", what + ": " + e, true);
        }
        return 1;
    }

    private static int runLoss(Case c, String op, Supplier<LossResult> call, Tally tally) {
        String what = c.type() + " k=" + c.k() + " " + c.name() + " / " + op;
        try {
            LossResult r = call.get();
            if (c.mustRefuse()) {
                tally.add("wrongly accepted", what, true);
                return 1;
            }
            boolean finite = Double.isFinite(r.loss()) && Double.isFinite(r.gradTemperature()) && finite(r.gradAnchor())
                    && finite(r.rowLossesAnchorToCandidate()) && finite(r.rowLossesCandidateToAnchor())
                    && r.gradCandidates().stream().allMatch(ReliabilitySuiteTest::finite);
            tally.add(finite ? "passed" : "silently non-finite", what, !finite);
        } catch (IllegalArgumentException e) {
            // whether the loss's range is exceeded depends on τ and the volumes: any clear refusal counts
            classifyRefusal(c, true, what, e, tally);
        } catch (Throwable e) {
            tally.add("crashed", what + ": " + e, true);
        }
        return 1;
    }

    private static void classifyRefusal(Case c, boolean justified, String what, IllegalArgumentException e, Tally tally) {
        String message = e.getMessage();
        boolean clear = message != null && message.length() > 20;
        if (!clear) {
            tally.add("crashed", what + ": unclear refusal " + message, true);
        } else if (!c.mustRefuse() && !justified) {
            tally.add("refused without cause", what + ": " + message, true);
        } else {
            tally.add("refused, clear error", what, false);
        }
    }

    static boolean finite(INDArray x) {
        for (double v : x.castTo(DataType.DOUBLE).dup('c').data().asDouble()) {
            if (!Double.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Resident set size of this process, from /proc (Linux). */
    static long rssBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return -1;
    }

    @Test
    void tenThousandPairwiseIntoCallsKeepMemoryFlat() {
        Random random = new Random(5);
        INDArray anchor = RandomArrays.gaussian(random, 256, 64, DataType.FLOAT);
        INDArray[] xs = RandomArrays.gaussianBatches(random, 2, 256, 64, DataType.FLOAT);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, new long[] {256, 256}, 'c');
        for (int i = 0; i < 2000; i++) {
            GramVolumes.pairwiseInto(out, anchor, xs);
        }
        long[] rss = new long[3];
        rss[0] = settledRss();
        long start = System.nanoTime();
        for (int i = 1; i <= 10_000; i++) {
            GramVolumes.pairwiseInto(out, anchor, xs);
            if (i == 5_000) {
                rss[1] = settledRss();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        rss[2] = settledRss();
        System.out.printf("reliability: 10,000 pairwiseInto calls (B = 256, d = 64, k = 3, FLOAT) in %.1f s: RSS %d MB after"
                + " warm-up, %d MB after 5,000 calls, %d MB after 10,000%n", seconds, rss[0] >> 20, rss[1] >> 20, rss[2] >> 20);
        // flat: no per-call growth over the second 5,000 calls (a leak of 6 KB a call would show)
        assertTrue(rss[2] - rss[1] < 32L << 20, "RSS grew by " + ((rss[2] - rss[1]) >> 20) + " MB over 5,000 calls");
        assertTrue(rss[2] - rss[0] < 128L << 20, "RSS grew by " + ((rss[2] - rss[0]) >> 20) + " MB over 10,000 calls");
    }

    /** RSS after a garbage collection and a pause for ND4J's deallocator thread. */
    private static long settledRss() {
        System.gc();
        try {
            Thread.sleep(300);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return rssBytes("VmRSS");
    }

    @Test
    void eightThreadsGiveBitIdenticalResults() throws Exception {
        Random random = new Random(8);
        List<Supplier<double[]>> problems = new ArrayList<>();
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            INDArray anchor = RandomArrays.gaussian(random, 96, 48, type);
            INDArray[] xs = RandomArrays.gaussianBatches(random, 2, 96, 48, type);
            problems.add(() -> GramVolumes.pairwise(anchor, xs).castTo(DataType.DOUBLE).dup('c').data().asDouble());
            problems.add(() -> GramVolumes.pairwise(VolumeMethod.REFERENCE, anchor, xs).castTo(DataType.DOUBLE).dup('c').data()
                    .asDouble());
            problems.add(() -> {
                LossResult r = new GramLoss().compute(Temperature.of(0.07), anchor, xs);
                double[] g = r.gradAnchor().castTo(DataType.DOUBLE).dup('c').data().asDouble();
                double[] all = java.util.Arrays.copyOf(g, g.length + 2);
                all[g.length] = r.loss();
                all[g.length + 1] = r.gradTemperature();
                return all;
            });
        }
        List<double[]> serial = problems.stream().map(Supplier::get).toList();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        int compared = 0;
        try {
            List<Future<double[]>> futures = new ArrayList<>();
            for (int n = 0; n < 8 * 6; n++) {
                futures.add(pool.submit(problems.get(n % problems.size())::get));
            }
            for (int n = 0; n < futures.size(); n++) {
                assertArrayEquals(serial.get(n % problems.size()), futures.get(n).get(), 0.0, "problem " + n % problems.size());
                compared++;
            }
        } finally {
            pool.shutdown();
        }
        int saved = Gram4jConcurrency.getMaxThreads();
        try {
            for (int threads : new int[] {1, 8}) {
                Gram4jConcurrency.setMaxThreads(threads);
                for (int p = 0; p < problems.size(); p++) {
                    assertArrayEquals(serial.get(p), problems.get(p).get(), 0.0, "problem " + p + " with " + threads + " threads");
                    compared++;
                }
            }
        } finally {
            Gram4jConcurrency.setMaxThreads(saved);
        }
        System.out.printf("reliability: 8 threads: %d results compared, all bit-identical to the serial ones%n", compared);
    }

    @Test
    void aResultOverTwoGigabytesIsComputedWithoutCrashing() {
        if (!Boolean.parseBoolean(System.getProperty("gram4j.reliability.large", "true"))) {
            System.out.println("reliability: large-size boundary skipped (-Dgram4j.reliability.large=false)");
            return;
        }
        // B1·B2 = 23,171² = 536,895,241 FLOATs: just over 2^29 (a 2.15 GB result, past one NIO buffer's 2^31 − 1 bytes)
        int b = 23_171;
        Random random = new Random(23);
        INDArray anchor = RandomArrays.gaussian(random, b, 4, DataType.FLOAT);
        INDArray x = RandomArrays.gaussian(random, b, 4, DataType.FLOAT);
        long start = System.nanoTime();
        INDArray v = GramVolumes.pairwise(anchor, x);
        double seconds = (System.nanoTime() - start) / 1e9;
        int checked = 0;
        for (long i : new long[] {0, 1, 11_585, 23_000, b - 1}) {
            for (long j : new long[] {0, 7, 18_000, b - 1}) {
                double[] a = anchor.getRow(i).castTo(DataType.DOUBLE).toDoubleVector();
                double[] y = x.getRow(j).castTo(DataType.DOUBLE).toDoubleVector();
                double aa = 0;
                double yy = 0;
                double ay = 0;
                for (int c = 0; c < 4; c++) {
                    aa += a[c] * a[c];
                    yy += y[c] * y[c];
                    ay += a[c] * y[c];
                }
                double expected = Math.sqrt(Math.max(aa * yy - ay * ay, 0));
                assertEquals(expected, v.getDouble(i, j), 1e-4 * Math.sqrt(aa * yy), "V(" + i + ", " + j + ")");
                checked++;
            }
        }
        System.out.printf("reliability: large-size boundary: B1 = B2 = %d FLOAT (%d elements, %.2f GB) in %.1f s, %d entries"
                + " checked, peak RSS %.2f GB%n", b, v.length(), v.length() * 4 / 1e9, seconds, checked,
                rssBytes("VmHWM") / 1e9);
        v.close();
    }
}
