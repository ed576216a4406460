package io.github.gram4j.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import io.github.gram4j.core.GramVolumes;
import io.github.gram4j.metrics.RetrievalMetrics;
import io.github.gram4j.metrics.RetrievalRanks;
import io.github.gram4j.metrics.ScoreOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Streamed ranks and metrics equal {@link RetrievalRanks} on the full volume matrix. */
class StreamedRetrievalTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @EnumSource(value = DataType.class, names = {"FLOAT", "DOUBLE"})
    void equalsRetrievalRanksOnTheFullMatrix(DataType type) throws Exception {
        int n = 90;
        int d = 12;
        List<INDArray> xs = IndexSearchTest.gallery(n, d, 2, type, 21);
        // ids: items 10..19 share id "g1" (many-to-one), the rest are unique
        List<String> itemIds = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            itemIds.add(j >= 10 && j < 20 ? "g1" : "v" + j);
        }
        GramIndex index = IndexSearchTest.build(tmp.resolve("e" + type), xs, itemIds, type, 16);
        // queries: a noisy copy of each item's first modality (so ranks are spread), two per id of g1
        int q = n - 9 + 2;
        INDArray queries = Nd4j.create(type, q, d);
        List<String> queryIds = new ArrayList<>();
        long[] qGroup = new long[q];
        int r = 0;
        for (int j = 0; j < n; j++) {
            if (j >= 11 && j < 20) {
                continue;
            }
            queries.getRow(r).assign(xs.get(0).getRow(j).add(Nd4j.randn(type, 1, d).reshape(d).mul(1.5)));
            queryIds.add(itemIds.get(j));
            r++;
        }
        queries.getRow(r).assign(xs.get(1).getRow(12));
        queryIds.add("g1");
        r++;
        queries.getRow(r).assign(queries.getRow(0)); // duplicate query: ties between queries
        queryIds.add(queryIds.get(0));
        StreamedRetrieval.Ranks ranks = StreamedRetrieval.evaluate(index, queries, queryIds, null);

        INDArray full = GramVolumes.pairwise(queries, xs.toArray(INDArray[]::new));
        java.util.Map<String, Long> number = new java.util.HashMap<>();
        long[] cIds = new long[n];
        for (int j = 0; j < n; j++) {
            cIds[j] = number.computeIfAbsent(itemIds.get(j), s -> (long) number.size());
        }
        for (int i = 0; i < q; i++) {
            qGroup[i] = number.get(queryIds.get(i));
        }
        RetrievalRanks expected = RetrievalRanks.compute(full, ScoreOrder.LOWER_IS_BETTER, qGroup, cIds);
        assertArrayEquals(expected.anchorToCandidate(), ranks.anchorToCandidate());
        assertArrayEquals(expected.candidateToAnchor(), ranks.candidateToAnchor());
        assertEquals(n, ranks.candidateItems().length);
        RetrievalMetrics m = RetrievalMetrics.compute(full, ScoreOrder.LOWER_IS_BETTER, qGroup, cIds);
        assertEquals(m, ranks.metrics());
        assertTrue(m.anchorToCandidate().meanRank() > 1.5, "ranks are spread: " + m);
    }

    @Test
    void itemsWithoutQueriesOnlyCountAsNegatives() throws Exception {
        int n = 50;
        List<INDArray> xs = IndexSearchTest.gallery(n, 8, 2, DataType.DOUBLE, 8);
        GramIndex index = IndexSearchTest.build(tmp.resolve("x"), xs, IndexSearchTest.ids(n), DataType.DOUBLE, 16);
        INDArray queries = xs.get(0).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(20, 30),
                org.nd4j.linalg.indexing.NDArrayIndex.all()).add(Nd4j.randn(DataType.DOUBLE, 10, 8));
        List<String> qIds = IndexSearchTest.ids(n).subList(20, 30);
        StreamedRetrieval.Ranks ranks = StreamedRetrieval.evaluate(index, queries, qIds, null);
        INDArray full = GramVolumes.pairwise(queries, xs.toArray(INDArray[]::new));
        for (int i = 0; i < 10; i++) {
            double[] row = full.getRow(i).toDoubleVector();
            Integer[] order = IndexSearchTest.stableOrder(row);
            int pos = java.util.Arrays.asList(order).indexOf(20 + i);
            assertEquals(pos + 1, ranks.anchorToCandidate()[i]);
        }
        assertArrayEquals(java.util.stream.LongStream.range(20, 30).toArray(), ranks.candidateItems());
        INDArray cols = full.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(20, 30));
        assertArrayEquals(RetrievalRanks.compute(cols.dup(), ScoreOrder.LOWER_IS_BETTER).candidateToAnchor(),
                ranks.candidateToAnchor());
    }

    @Test
    void aQueryIdWithoutItemIsRefused() throws Exception {
        List<INDArray> xs = IndexSearchTest.gallery(45, 8, 2, DataType.FLOAT, 1);
        GramIndex index = IndexSearchTest.build(tmp.resolve("q"), xs, IndexSearchTest.ids(45), DataType.FLOAT, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StreamedRetrieval.evaluate(
                index, Nd4j.rand(DataType.FLOAT, 2, 8), List.of("item-1", "nope"), null));
        assertTrue(e.getMessage().contains("queryIds[1] = 'nope'"), e.getMessage());
    }
}
