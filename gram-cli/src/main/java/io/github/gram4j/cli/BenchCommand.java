package io.github.gram4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.core.internal.Workspaces;
import io.github.gram4j.loss.GramLoss;
import io.github.gram4j.loss.Temperature;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code gram bench}: "how fast is this on my machine?" — times the hot operations on random
 * L2-normalised embeddings in this process, next to the GEMMs each one needs (the floor), timed
 * in the same process. A quick look, not a substitute for the JMH suite in gram-bench.
 */
@Command(name = "bench",
        sortOptions = false,
        headerHeading = "%n",
        header = "Time volume and loss on this machine against the GEMM floor.",
        description = "Warms up, then times each operation --repeats times (median, min, max), each run followed"
                + " by a run of the GEMMs it needs (the floor: k-1 GEMMs of B x d by d x B for volume and loss,"
                + " 3(k-1) for loss-backward), so that the machine's drift hits both alike. Each operation runs"
                + " as a loop would run it: volume into one reused result (pairwiseInto), loss-backward in a"
                + " per-step ND4J workspace that recycles its results. Prints a table, or one JSON object per"
                + " operation with --json; --plot draws time against B.",
        descriptionHeading = "%n",
        optionListHeading = "%nOptions:%n")
public final class BenchCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();



    /** The timed operations. */
    enum Op {
        VOLUME("volume", 1),
        LOSS("loss", 1),
        LOSS_BACKWARD("loss-backward", 3);

        final String label;
        /** GEMMs per candidate modality. */
        final int gemmsPerModality;

        Op(String label, int gemmsPerModality) {
            this.label = label;
            this.gemmsPerModality = gemmsPerModality;
        }
    }

    /** The values of {@code --op}: one operation or all; picocli matches the labels case-insensitively. */
    enum OpChoice {
        VOLUME("volume"),
        LOSS("loss"),
        LOSS_BACKWARD("loss-backward"),
        ALL("all");

        private final String label;

        OpChoice(String label) {
            this.label = label;
        }

        List<Op> ops() {
            return this == ALL ? List.of(Op.values()) : List.of(Op.valueOf(name()));
        }

        @Override
        public String toString() {
            return label;
        }
    }

    @Spec
    CommandSpec spec;

    @Option(names = "--op", defaultValue = "all", paramLabel = "OP",
            description = "volume, loss (forward), loss-backward (forward + backward) or all (default).")
    OpChoice op;

    @Option(names = "--batch", defaultValue = "1024", split = ",", paramLabel = "B",
            description = "Batch size B, or several: 256,512,1024 (default 1024).")
    List<Integer> batches;

    @Option(names = "--dim", defaultValue = "512", paramLabel = "D", description = "Embedding dimension d (default 512).")
    int dim;

    @Option(names = "--k", defaultValue = "3", paramLabel = "K", description = "Modalities per tuple, >= 2 (default 3).")
    int k;

    @Option(names = "--dtype", defaultValue = "float32", paramLabel = "DTYPE", description = "float32 (default) or float64.")
    EmbeddingOptions.Dtype dtypeChoice;

    private DataType dtype;

    @Option(names = "--repeats", defaultValue = "20", paramLabel = "N", description = "Timed runs per operation (default 20).")
    int repeats;

    @Option(names = "--warmup", defaultValue = "2", paramLabel = "SECONDS",
            description = "Minimum warm-up per timed operation, after at least 5 runs (default 2 s, so that the"
                    + " JIT has compiled the host loops).")
    double warmup;

    @Option(names = "--json", description = "One JSON object per operation instead of a table.")
    boolean json;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Also draw median and floor time against B (log-log) as a PNG.")
    Path plot;

    /** Timings of one operation at one batch size and of its floor, in milliseconds. */
    record Result(Op op, int batch, double medianMs, double minMs, double maxMs, double floorMs, double gflops) {
    }

    @Override
    public Integer call() throws Exception {
        List<Op> ops = op.ops();
        dtype = dtypeChoice.dataType();
        for (int batch : batches) {
            if (batch < 2) {
                throw new ParameterException(spec.commandLine(), "--batch must be >= 2, got " + batch);
            }
        }
        if (dim < 1) {
            throw new ParameterException(spec.commandLine(), "--dim must be >= 1, got " + dim);
        }
        if (k < 2) {
            throw new ParameterException(spec.commandLine(), "--k must be >= 2 (an anchor and a candidate), got " + k);
        }
        if (!(warmup >= 0) || warmup > 3600) {
            throw new ParameterException(spec.commandLine(), "--warmup must be in 0..3600 seconds, got " + warmup);
        }
        if (repeats < 1) {
            throw new ParameterException(spec.commandLine(), "--repeats must be >= 1, got " + repeats);
        }
        for (int batch : batches) {
            MemoryCheck.require(estimate(ops, batch), "bench at --batch " + batch);
        }
        try (OutputFile plotFile = plot == null ? null
                : OutputFile.reserve(plot, "--plot", ScalingChart.MIN_BYTES, List.of())) {
            List<Result> results = new ArrayList<>();
            for (int batch : batches) {
                results.addAll(measure(ops, batch));
            }
            print(results);
            if (plotFile != null) {
                plotFile.writePng(ScalingChart.image(results, dim, k, EmbeddingFiles.npyName(dtype)));
            }
        }
        return 0;
    }

    private List<Result> measure(List<Op> ops, int batch) {
        Nd4j.getRandom().setSeed(42);
        INDArray anchor = normalizedRows(Nd4j.randn(dtype, batch, dim));
        INDArray[] candidates = new INDArray[k - 1];
        for (int m = 0; m < candidates.length; m++) {
            candidates[m] = normalizedRows(Nd4j.randn(dtype, batch, dim));
        }
        INDArray square = Nd4j.createUninitialized(dtype, new long[] {batch, batch}, 'c');
        INDArray tall = Nd4j.createUninitialized(dtype, new long[] {batch, dim}, 'c');
        INDArray volumes = Nd4j.createUninitialized(dtype, new long[] {batch, batch}, 'c');
        GramLoss loss = new GramLoss();
        Temperature temperature = Temperature.of(Temperature.GRAM_DEFAULT);

        List<Result> results = new ArrayList<>();
        for (Op o : ops) {
            // as a loop runs them: ND4J frees the off-heap memory of a fresh result only when the
            // garbage collector finds its handle, so fresh results every run would time the page
            // faults of a growing process; the volume reuses one result, the loss's results are
            // recycled by a per-step workspace, as in a training loop
            Runnable run = switch (o) {
                case VOLUME -> () -> GramVolumes.pairwiseInto(volumes, anchor, candidates);
                case LOSS -> () -> loss.value(temperature, anchor, candidates);
                case LOSS_BACKWARD -> () -> {
                    try (MemoryWorkspace step = Workspaces.open("gram4j.bench.step")) {
                        loss.compute(temperature, anchor, candidates);
                    }
                };
            };
            Runnable floor = () -> {
                for (INDArray x : candidates) {
                    Nd4j.gemm(anchor, x, square, false, true, 1.0, 0.0);
                    if (o.gemmsPerModality == 3) {
                        Nd4j.gemm(square, x, tall, false, false, 1.0, 0.0);
                        Nd4j.gemm(square, anchor, tall, true, false, 1.0, 0.0);
                    }
                }
            };
            double[][] times = time(run, floor);
            double floorMs = median(times[1]);
            double flops = 2.0 * batch * batch * dim * (k - 1) * o.gemmsPerModality;
            double medianMs = median(times[0]);
            results.add(new Result(o, batch, medianMs, times[0][0], times[0][repeats - 1], floorMs,
                    flops / (medianMs * 1e6)));
        }
        return results;
    }

    /**
     * A lower bound of the bytes one batch size needs: the k batches, the GEMM floor's scratch and
     * the largest operation's score matrices (the loss-backward keeps about {@code 2k} of them).
     */
    private long estimate(List<Op> ops, int batch) {
        double square = (double) batch * batch;
        double matrices = ops.contains(Op.LOSS_BACKWARD) ? 2.0 * k : ops.contains(Op.LOSS) ? 2 : 1;
        return MemoryCheck.bytes((double) k * batch * dim + (double) batch * dim + square * (1 + matrices),
                dtypeChoice.dataType().width());
    }

    /**
     * Warm-up (at least 5 runs of each and at least {@code --warmup} seconds, so that the JIT has
     * compiled the host loops), then {@code repeats} timed runs of {@code op}, each followed by
     * one of {@code floor}: both sorted, in milliseconds.
     */
    private double[][] time(Runnable op, Runnable floor) {
        long warmupEnd = System.nanoTime() + (long) (warmup * 1e9);
        for (int i = 0; i < 5 || (System.nanoTime() < warmupEnd && i < 1000); i++) {
            op.run();
            floor.run();
        }
        double[][] ms = new double[2][repeats];
        for (int i = 0; i < repeats; i++) {
            ms[0][i] = timed(op);
            ms[1][i] = timed(floor);
        }
        Arrays.sort(ms[0]);
        Arrays.sort(ms[1]);
        return ms;
    }

    private static double timed(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static INDArray normalizedRows(INDArray x) {
        return x.diviColumnVector(x.norm2(1).reshape(x.size(0), 1));
    }

    private void print(List<Result> results) throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        String dtypeName = EmbeddingFiles.npyName(dtype);
        if (json) {
            for (Result r : results) {
                ObjectNode o = JSON.createObjectNode();
                o.put("op", r.op.label);
                o.put("batch", r.batch);
                o.put("dim", dim);
                o.put("k", k);
                o.put("dtype", dtypeName);
                o.put("median_ms", r.medianMs);
                o.put("floor_ms", r.floorMs);
                o.put("ratio", r.medianMs / r.floorMs);
                o.put("min_ms", r.minMs);
                o.put("max_ms", r.maxMs);
                o.put("gflops", r.gflops);
                out.println(JSON.writeValueAsString(o));
            }
        } else {
            out.printf(Locale.ROOT, "%-14s %-28s %10s %9s %9s %9s %7s %9s%n", "op", "shape", "median ms", "min ms",
                    "max ms", "floor ms", "ratio", "GFLOP/s");
            for (Result r : results) {
                String shape = String.format(Locale.ROOT, "B=%d d=%d k=%d %s", r.batch, dim, k, dtypeName);
                out.printf(Locale.ROOT, "%-14s %-28s %10.2f %9.2f %9.2f %9.2f %7.2f %9.1f%n", r.op.label, shape,
                        r.medianMs, r.minMs, r.maxMs, r.floorMs, r.medianMs / r.floorMs, r.gflops);
            }
            out.printf(Locale.ROOT, "(%d runs each after warm-up; floor = the GEMMs the operation needs, timed here;"
                    + " GFLOP/s counts those GEMMs' flops over the operation's median)%n", repeats);
        }
        out.flush();
    }
}
