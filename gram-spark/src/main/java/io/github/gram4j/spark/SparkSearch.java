package io.github.gram4j.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

import io.github.gram4j.index.GramIndex;
import io.github.gram4j.index.IndexSearch;
import io.github.gram4j.index.NpyMatrixFile;
import io.github.gram4j.index.ResultFiles;
import io.github.gram4j.index.SearchResults;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Exact top-k search of a GRAM index as an Apache Spark job: the index's chunks are partitioned
 * across the executors, each task opens its chunks from the shared index directory and runs
 * {@link IndexSearch} on them, and the per-partition top-k lists are merged into the global top-k
 * ({@code treeReduce} with {@link SearchResults#merge}). The result equals the single-machine search
 * exactly: each volume is computed by the same code on the same chunk and query block.
 *
 * <p>As a program ({@code bin/gram-spark search …}, or the jar's main class under
 * {@code spark-submit}): {@code --index DIR --queries Q.npy --top-k K --out PREFIX
 * [--partitions N] [--master URL]}. The master defaults to {@code spark.master} when set (as
 * {@code spark-submit} does), else embedded {@code local[*]}. The index directory must be readable at
 * the same path on every executor (a shared file system); the queries are read and the results
 * written on the driver (the same files as {@code gram search}: {@link ResultFiles}).
 */
@Command(name = "gram-spark search", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Exact top-k search of a GRAM index as a Spark job (local mode by default).")
public final class SparkSearch implements Callable<Integer> {

    @Option(names = "--index", required = true, paramLabel = "DIR",
            description = "The index directory, at the same path on every executor.")
    Path index;

    @Option(names = "--queries", required = true, paramLabel = "Q.npy",
            description = "Query embeddings, Q x d, float32 or float64 .npy (read on the driver).")
    Path queries;

    @Option(names = "--top-k", defaultValue = "10", paramLabel = "K", description = "Results per query.")
    int topK;

    @Option(names = "--out", required = true, paramLabel = "PREFIX",
            description = "Writes PREFIX.items.npy, PREFIX.volumes.npy and PREFIX.tsv on the driver.")
    Path out;

    @Option(names = "--partitions", paramLabel = "N",
            description = "Spark partitions (tasks); default: one per chunk.")
    Integer partitions;

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master; default spark.master if set (spark-submit), else local[*].")
    String master;

    /** The queries as shipped to the executors: values in the index's dtype, exact as doubles. */
    record Queries(int rows, int cols, DataType dataType, double[] values) implements Serializable {
        INDArray array() {
            return Nd4j.create(values, new long[] {rows, cols}, 'c').castTo(dataType);
        }
    }

    /**
     * The top {@code k} items of every query over the index at {@code indexDir}, computed by Spark.
     *
     * @param sc a running Spark context
     * @param indexDir the index directory, readable at this path on every executor
     * @param queries {@code Q × d}, floating point, finite
     * @param partitions how many tasks to split the chunks into, at least 1
     * @throws IllegalArgumentException if the queries do not fit the index (checked on the driver)
     */
    public static SearchResults search(JavaSparkContext sc, String indexDir, INDArray queries, int k, int partitions)
            throws IOException {
        GramIndex index = GramIndex.open(Paths.get(indexDir));
        INDArray cast = queries.castTo(index.dataType());
        IndexSearch.search(index, cast, k, new int[0], null); // checks the queries and k on the driver
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be at least 1, got " + partitions);
        }
        Broadcast<Queries> shipped = sc.broadcast(new Queries((int) cast.size(0), (int) cast.size(1),
                index.dataType(), cast.castTo(DataType.DOUBLE).dup('c').data().asDouble()));
        List<Integer> chunks = IntStream.range(0, index.chunkCount()).boxed().toList();
        JavaRDD<SearchResults> perPartition = sc.parallelize(chunks, Math.min(partitions, chunks.size()))
                .mapPartitions(it -> {
                    List<Integer> mine = new ArrayList<>();
                    it.forEachRemaining(mine::add);
                    if (mine.isEmpty()) {
                        return Collections.emptyIterator();
                    }
                    GramIndex local = GramIndex.open(Paths.get(indexDir));
                    int[] numbers = mine.stream().mapToInt(Integer::intValue).toArray();
                    return List.of(IndexSearch.search(local, shipped.value().array(), k, numbers, null)).iterator();
                });
        return perPartition.treeReduce((a, b) -> a.merge(b, k));
    }

    @Override
    public Integer call() throws IOException {
        for (Path p : ResultFiles.paths(out)) {
            Path parent = p.toAbsolutePath().getParent();
            if (parent == null || !java.nio.file.Files.isDirectory(parent)) {
                throw new IllegalArgumentException("--out " + p + ": directory " + parent + " does not exist");
            }
        }
        ResultFiles.requireNotInputs(out, queries, index);
        GramIndex opened = GramIndex.open(index);
        INDArray q;
        try (NpyMatrixFile f = NpyMatrixFile.open(queries, "--queries " + queries)) {
            q = f.rows(0, f.rowCount()).dup();
        }
        IndexSearch.search(opened, q, topK, new int[0], null); // bad queries fail before Spark starts
        SparkConf conf = new SparkConf().setAppName("gram4j index search");
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        long start = System.nanoTime();
        SearchResults results;
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.setLogLevel("WARN");
            results = search(sc, index.toAbsolutePath().toString(), q, topK,
                    partitions == null ? opened.chunkCount() : partitions);
        }
        ResultFiles.write(opened, results, out);
        System.err.printf(java.util.Locale.ROOT, "gram-spark search: %d queries x %d items, top %d, %.1f s%n",
                results.queries(), opened.size(), results.k(), (System.nanoTime() - start) / 1e9);
        return 0;
    }

    /** Runs the command; returns the exit code (2 with one {@code error:} line on bad input). */
    public static int run(String[] args, PrintWriter err) {
        CommandLine cl = new CommandLine(new SparkSearch());
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            IllegalArgumentException bad = badInput(ex);
            if (bad != null) {
                err.println("error: " + String.valueOf(bad.getMessage()).strip().replaceAll("\\s*[\\r\\n]+\\s*", "; "));
                err.flush();
                return 2;
            }
            throw ex;
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("error: " + ex.getMessage().strip().replaceAll("\\s*[\\r\\n]+\\s*", "; ")
                    + " (see gram-spark search --help)");
            err.flush();
            return 2;
        });
        return cl.execute(args);
    }

    /**
     * The bad-input exception behind {@code t}: itself, or the cause an executor's failure carries
     * back to the driver (a corrupted chunk found by a task arrives wrapped in Spark's job failure).
     */
    static IllegalArgumentException badInput(Throwable t) {
        Throwable c = t;
        for (int depth = 0; c != null && depth < 32; depth++, c = c.getCause()) {
            if (c instanceof IllegalArgumentException e) {
                return e;
            }
        }
        return null;
    }

    /** {@code gram-spark search …} (the first argument {@code search} is optional). */
    public static void main(String[] args) {
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
        String[] rest = args.length > 0 && args[0].equals("search") ? java.util.Arrays.copyOfRange(args, 1, args.length)
                : args;
        System.exit(run(rest, new PrintWriter(System.err, true)));
    }
}
