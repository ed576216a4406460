package io.github.gram4j.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

import io.github.gram4j.core.GramVolumes;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Streamed search equals ranking the full {@code GramVolumes.pairwise} matrix with a stable sort. */
class IndexSearchTest {

    @TempDir
    Path tmp;

    /** Random candidates with some exact duplicates (items 3 and 17, 5 and 40) to make ties. */
    static List<INDArray> gallery(int n, int d, int kk, DataType type, long seed) {
        Nd4j.getRandom().setSeed(seed);
        List<INDArray> xs = new ArrayList<>();
        for (int m = 0; m < kk; m++) {
            INDArray x = Nd4j.randn(DataType.DOUBLE, n, d).castTo(type);
            x.getRow(17).assign(x.getRow(3));
            x.getRow(40).assign(x.getRow(5));
            xs.add(x);
        }
        return xs;
    }

    static List<String> ids(int n) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("item-" + i);
        }
        return ids;
    }

    /** Builds an index of {@code xs} in chunks of {@code chunk}, half in the first add, half appended. */
    static GramIndex build(Path dir, List<INDArray> xs, List<String> ids, DataType type, int chunk) throws Exception {
        int n = (int) xs.get(0).size(0);
        int half = n / 2;
        try (IndexWriter w = IndexWriter.create(dir, type, (int) xs.get(0).size(1), xs.size(), chunk)) {
            w.add(rows(xs, 0, half), ids.subList(0, half));
            w.commit();
        }
        try (IndexWriter w = IndexWriter.append(dir, chunk)) {
            w.add(rows(xs, half, n), ids.subList(half, n));
            w.commit();
        }
        return GramIndex.open(dir);
    }

    static List<INDArray> rows(List<INDArray> xs, int from, int to) {
        return xs.stream().map(x -> x.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).dup()).toList();
    }

    /** Stable argsort of one row: the expected order. */
    static Integer[] stableOrder(double[] row) {
        Integer[] order = IntStream.range(0, row.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(j -> row[j]));
        return order;
    }

    @ParameterizedTest(name = "{0} K={1}")
    @CsvSource({"FLOAT,1", "FLOAT,2", "FLOAT,3", "DOUBLE,1", "DOUBLE,2", "DOUBLE,3"})
    void topKEqualsStableSortOfPairwise(DataType type, int kk) throws Exception {
        int n = 157;
        int d = 24;
        List<INDArray> xs = gallery(n, d, kk, type, 11 + kk);
        GramIndex index = build(tmp.resolve("idx"), xs, ids(n), type, 20);
        assertTrue(index.chunkCount() >= 8, "several chunks");
        INDArray queries = Nd4j.randn(DataType.DOUBLE, 37, d).castTo(type);
        queries.getRow(2).assign(xs.get(0).getRow(9)); // a query inside an item's span: volume 0
        INDArray full = GramVolumes.pairwise(queries, xs.toArray(INDArray[]::new));
        double tol = type == DataType.FLOAT ? 2e-5 : 1e-12;
        for (int k : new int[] {1, 10, n + 5}) {
            SearchResults r = IndexSearch.search(index, queries, k);
            int kEff = Math.min(k, n);
            assertEquals(kEff, r.k());
            for (int i = 0; i < 37; i++) {
                double[] row = full.getRow(i).castTo(DataType.DOUBLE).toDoubleVector();
                Integer[] order = stableOrder(row);
                for (int p = 0; p < kEff; p++) {
                    assertEquals((long) order[p], r.item(i, p), "query " + i + " rank " + p);
                    assertEquals(row[order[p]], r.volume(i, p), tol * Math.max(1, Math.abs(row[order[p]])));
                }
            }
        }
    }

    @Test
    void duplicatesTieInItemOrder() throws Exception {
        int n = 60;
        int d = 8;
        List<INDArray> xs = gallery(n, d, 2, DataType.FLOAT, 5);
        GramIndex index = build(tmp.resolve("dup"), xs, ids(n), DataType.FLOAT, 16);
        // item 3 is duplicated at 17: a query equal to a point near item 3 puts 3 and 17 first, in that order
        INDArray query = xs.get(0).getRow(3).reshape(1, d).mul(0.5).add(xs.get(1).getRow(3).reshape(1, d).mul(0.25));
        SearchResults r = IndexSearch.search(index, query, 3);
        assertEquals(3, r.item(0, 0));
        assertEquals(17, r.item(0, 1));
        assertEquals(r.volume(0, 0), r.volume(0, 1), 0.0);
    }

    @Test
    void partitionsMergeToTheWholeSearch() throws Exception {
        int n = 100;
        List<INDArray> xs = gallery(n, 16, 2, DataType.FLOAT, 3);
        GramIndex index = build(tmp.resolve("m"), xs, ids(n), DataType.FLOAT, 12);
        INDArray queries = Nd4j.randn(DataType.FLOAT, 9, 16);
        SearchResults whole = IndexSearch.search(index, queries, 7);
        int c = index.chunkCount();
        SearchResults a = IndexSearch.search(index, queries, 7, new int[] {0, 2, 4, 6, 8}, null);
        SearchResults b = IndexSearch.search(index, queries, 7,
                IntStream.range(0, c).filter(x -> x % 2 == 1 || x > 8).toArray(), null);
        assertEquals(whole, a.merge(b, 7));
        assertEquals(whole, b.merge(a, 7));
    }

    @Test
    void badQueriesAreRefused() throws Exception {
        List<INDArray> xs = gallery(45, 8, 2, DataType.FLOAT, 1);
        GramIndex index = build(tmp.resolve("b"), xs, ids(45), DataType.FLOAT, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IndexSearch.search(index, Nd4j.rand(DataType.FLOAT, 3, 9), 5));
        assertTrue(e.getMessage().contains("d = 9") && e.getMessage().contains("d = 8"), e.getMessage());
        INDArray nan = Nd4j.rand(DataType.FLOAT, 3, 8);
        nan.putScalar(1, 2, Float.NaN);
        e = assertThrows(IllegalArgumentException.class, () -> IndexSearch.search(index, nan, 5));
        assertTrue(e.getMessage().contains("queries") && e.getMessage().contains("row 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> IndexSearch.search(index, Nd4j.rand(DataType.FLOAT, 3, 8), 0));
        assertTrue(e.getMessage().contains("k must be at least 1"), e.getMessage());
    }

    @Test
    void storedBasesAreOrthonormalNpyArrays() throws Exception {
        List<INDArray> xs = gallery(50, 6, 3, DataType.DOUBLE, 2);
        GramIndex index = build(tmp.resolve("o"), xs, ids(50), DataType.DOUBLE, 16);
        IndexChunk c = index.chunk(0);
        assertEquals(16, c.items());
        INDArray q0 = c.basis(0);
        INDArray q2 = c.basis(2);
        assertArrayEquals(new long[] {16, 6}, q0.shape());
        INDArray dots = q0.mul(q2).sum(1);
        assertEquals(0.0, dots.maxNumber().doubleValue(), 1e-12);
        assertEquals(1.0, q0.mul(q0).sum(1).minNumber().doubleValue(), 1e-12);
        NpyFormat.Header h = NpyFormat.read(index.directory().resolve(index.manifest().chunks().get(0).bases().file()));
        assertArrayEquals(new long[] {3, 16, 6}, h.shape());
        assertEquals(0, h.dataOffset() % 64);
    }
}
