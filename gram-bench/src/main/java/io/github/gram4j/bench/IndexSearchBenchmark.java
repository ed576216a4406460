package io.github.gram4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.github.gram4j.index.GramIndex;
import io.github.gram4j.index.IndexChunk;
import io.github.gram4j.index.IndexSearch;
import io.github.gram4j.index.IndexWriter;
import io.github.gram4j.index.SearchResults;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Exact index search ({@link IndexSearch}: K GEMMs per chunk slice, the FAST epilogue and the
 * per-query top-k) next to its GEMM floor: the same K GEMMs of the same query block against the same
 * memory-mapped bases, in the same slices, into reused scratch. Report {@link #search} as a ratio to
 * {@link #gemmFloor}; queries per second = {@code queries} / time.
 *
 * <p>{@code indexDir}: an existing index (e.g. the million-item one of the README); empty builds a
 * synthetic FLOAT index of {@code items} items (d = 512, K = 2) in a temporary directory.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 3, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g", "--add-modules", "jdk.incubator.vector"})
public class IndexSearchBenchmark {

    @Param({""})
    public String indexDir;

    @Param({"131072"})
    public int items;

    @Param({"256"})
    public int queries;

    private Path built;
    private GramIndex index;
    private INDArray q;
    private List<INDArray> scratch;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path dir;
        if (indexDir.isEmpty()) {
            built = Files.createTempDirectory("gram4j-index-bench");
            dir = built.resolve("index");
            Nd4j.getRandom().setSeed(1);
            try (IndexWriter w = IndexWriter.create(dir, DataType.FLOAT, 512, 2, IndexWriter.DEFAULT_CHUNK_SIZE)) {
                for (int r0 = 0; r0 < items; r0 += IndexWriter.DEFAULT_CHUNK_SIZE) {
                    int n = Math.min(IndexWriter.DEFAULT_CHUNK_SIZE, items - r0);
                    List<String> ids = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        ids.add(Integer.toString(r0 + i));
                    }
                    INDArray x1 = Nd4j.randn(DataType.FLOAT, n, 512);
                    INDArray x2 = Nd4j.randn(DataType.FLOAT, n, 512);
                    w.add(List.of(x1, x2), ids);
                    x1.close(); // off-heap memory goes back now, not at the next GC (-Xmx1g)
                    x2.close();
                }
                w.commit();
            }
        } else {
            dir = Paths.get(indexDir);
        }
        index = GramIndex.open(dir);
        index.verifyAll();
        Nd4j.getRandom().setSeed(2);
        q = Nd4j.randn(index.dataType(), queries, index.dim());
        long maxItems = index.manifest().chunks().stream().mapToLong(c -> c.items()).max().orElse(1);
        int cols = colsOf(maxItems);
        scratch = new ArrayList<>();
        for (int m = 0; m < index.modalities(); m++) {
            scratch.add(Nd4j.createUninitialized(index.dataType(), new long[] {Math.min(queries, 256), cols}, 'c'));
        }
    }

    /** The slice width of {@code IndexSearch}: {@code K · rows · cols ≤ 2^24}. */
    private int colsOf(long maxItems) {
        long rows = Math.min(queries, 256);
        return (int) Math.max(1, Math.min(maxItems, (1L << 24) / (index.modalities() * rows)));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (built != null) {
            try (Stream<Path> s = Files.walk(built)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The exact top-10 of every query over the whole index. */
    @Benchmark
    public SearchResults search() throws IOException {
        return IndexSearch.search(index, q, 10);
    }

    /** The K GEMMs of the search alone (same blocks, same mapped bases): the floor. */
    @Benchmark
    public INDArray gemmFloor() throws IOException {
        int rowsPerBlock = Math.min(queries, 256);
        long maxItems = index.manifest().chunks().stream().mapToLong(c -> c.items()).max().orElse(1);
        int cols = colsOf(maxItems);
        INDArray last = null;
        for (int c = 0; c < index.chunkCount(); c++) {
            IndexChunk chunk = index.chunk(c);
            for (long c0 = 0; c0 < chunk.items(); c0 += cols) {
                long width = Math.min(cols, chunk.items() - c0);
                for (int q0 = 0; q0 < queries; q0 += rowsPerBlock) {
                    int rows = Math.min(rowsPerBlock, queries - q0);
                    INDArray a = q.get(NDArrayIndex.interval(q0, q0 + rows), NDArrayIndex.all());
                    for (int m = 0; m < index.modalities(); m++) {
                        INDArray b = chunk.basis(m).get(NDArrayIndex.interval(c0, c0 + width), NDArrayIndex.all());
                        INDArray w = Nd4j.create(scratch.get(m).data(), new long[] {rows, width},
                                new long[] {width, 1}, 0, 'c', index.dataType());
                        Nd4j.gemm(a, b, w, false, true, 1.0, 0.0);
                        last = w;
                    }
                }
            }
        }
        return last;
    }
}
